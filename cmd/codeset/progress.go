package main

import (
	"context"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/codeset/codeset"
)

// stageText is what the bar says of each stage the packages below report
// (codeset.ReportProgress).
var stageText = map[string]string{
	"reading":    "reading codes",
	"storing":    "storing snapshot",
	"publishing": "publishing files",
}

// isTerminal reports whether w is a terminal, where progress is shown.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress is a bar per stage on stderr, one after the other.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	stage string
	bar   *progressbar.ProgressBar
}

// withProgress returns ctx with a progress bar on stderr listening, when
// stderr is a terminal and the user did not ask for --quiet, and a
// function that clears the bar before the summary is printed.
func (m *Main) withProgress(ctx context.Context) (context.Context, func()) {
	if m.Quiet || !isTerminal(m.Stderr) {
		return ctx, func() {}
	}
	p := &progress{w: m.Stderr}
	return codeset.WithProgress(ctx, p.report), p.finish
}

func (p *progress) report(stage string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if stage != p.stage {
		p.finishLocked()
		p.stage = stage
		text := stageText[stage]
		if text == "" {
			text = stage
		}
		max := total
		if max <= 0 {
			max = -1 // a spinner with the count
		}
		p.bar = progressbar.NewOptions(max,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(text),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionClearOnFinish(),
		)
	}
	if total > 0 && p.bar.GetMax() != total {
		p.bar.ChangeMax(total)
	}
	p.bar.Set(done)
}

func (p *progress) finishLocked() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishLocked()
}
