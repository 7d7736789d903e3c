package codeset

import "context"

// ProgressFunc hears how far a long step has come: stage names the step
// ("reading", "storing", "publishing"), done counts what is finished and
// total is what there is to do, or 0 when that is not known in advance.
type ProgressFunc func(stage string, done, total int)

type progressKey struct{}

// WithProgress returns a context whose long steps report to fn. The
// terminal's progress bar listens this way; nothing else needs to.
func WithProgress(ctx context.Context, fn ProgressFunc) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// ReportProgress tells the listener of ctx, if any, how far stage has come.
// It costs a context lookup when nobody listens, so callers in tight loops
// report every few hundred items.
func ReportProgress(ctx context.Context, stage string, done, total int) {
	if fn, ok := ctx.Value(progressKey{}).(ProgressFunc); ok && fn != nil {
		fn(stage, done, total)
	}
}
