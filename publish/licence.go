package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/history"
)

// ErrLicenceMix reports a change of licence mode in a tree that already
// holds releases published in another.
var ErrLicenceMix = codeset.NewError(codeset.ErrConflict, "licence modes may not be mixed in one tree")

// TreeLicence returns the licence mode of the tree under outDir: the mode
// its licence.json names, full when it has none.
func TreeLicence(outDir string) (string, error) {
	var tl format.TreeLicence
	err := format.ReadJSONFile(os.ReadFile, filepath.Join(outDir, format.LicenceName), "tree licence", &tl)
	if errors.Is(err, fs.ErrNotExist) {
		return format.LicenceFull, nil
	}
	if err != nil {
		return "", err
	}
	if err := format.CheckLicence(tl.Licence); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(outDir, format.LicenceName), err)
	}
	return format.Licence(tl.Licence), nil
}

// SetLicence fixes the licence mode of the tree under outDir, creating it
// when missing. Every release published there afterwards is published in
// that mode. It refuses, with an error wrapping ErrLicenceMix, to change
// the mode of a tree that already holds releases published in another.
func SetLicence(ctx context.Context, outDir, mode string) error {
	if err := format.CheckLicence(mode); err != nil {
		return err
	}
	mode = format.Licence(mode)
	if err := durable.MkdirAll(outDir); err != nil {
		return fmt.Errorf("set licence: %w", err)
	}
	unlock, err := lockTree(ctx, outDir)
	if err != nil {
		return fmt.Errorf("set licence: %w", err)
	}
	defer unlock()
	for _, sys := range codeset.Systems {
		dir := filepath.Join(outDir, string(sys))
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		ms, err := releaseManifests(dir, sys)
		if err != nil {
			return fmt.Errorf("set licence: %w", err)
		}
		for _, m := range ms {
			if format.Licence(m.Licence) != mode {
				return fmt.Errorf("set licence %s on %s: %s %s is published %s: %w; publish into a new tree instead", mode, outDir, sys, m.Label, format.Licence(m.Licence), ErrLicenceMix)
			}
		}
	}
	b, err := json.MarshalIndent(format.TreeLicence{Licence: mode}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(outDir, format.LicenceName, append(b, '\n')); err != nil {
		return fmt.Errorf("set licence: %w", err)
	}
	return nil
}

// withoutText returns rel without descriptor text, as a codes-only tree
// publishes it.
func withoutText(rel *codeset.Release) *codeset.Release {
	out := *rel
	out.Codes = make([]codeset.Code, len(rel.Codes))
	for i, c := range rel.Codes {
		out.Codes[i] = format.WithoutText(c)
	}
	out.Headers = make([]codeset.Code, len(rel.Headers))
	for i, c := range rel.Headers {
		out.Headers[i] = format.WithoutText(c)
	}
	return &out
}

// changelogWithoutText returns l without descriptor text: records lose
// their descriptors, and a changed descriptor keeps its field name (so the
// change and its kind still show) with empty before and after values.
func changelogWithoutText(l *codeset.Changelog) *codeset.Changelog {
	l = l.Holding()
	out := *l
	out.Changes = make([]codeset.Change, len(l.Changes))
	for i, c := range l.Changes {
		c.Record = format.WithoutText(c.Record)
		if c.Fields != nil {
			fields := maps.Clone(c.Fields)
			for _, f := range format.TextFields {
				if _, ok := fields[f]; ok {
					fields[f] = codeset.FieldChange{}
				}
			}
			c.Fields = fields
		}
		out.Changes[i] = c
	}
	return &out
}

// introduced returns, by code, when each code of rel took effect as far as
// the tree under outDir knows: codes added or reactivated by l take effect
// with rel; others when the release that brought them in did, by the
// system's history database (before rel is published). Codes present since
// the oldest release published have no date.
func introduced(ctx context.Context, outDir string, rel *codeset.Release, l *codeset.Changelog) (map[string]string, error) {
	out := map[string]string{}
	hist := filepath.Join(outDir, string(rel.System), format.HistoryName)
	if _, err := os.Stat(hist); err == nil {
		if out, err = history.Introduced(ctx, hist); err != nil {
			return nil, err
		}
	}
	if l.From != "" && !rel.Effective.IsZero() {
		eff := rel.Effective.Format(codeset.DateLayout)
		for c := range l.All() {
			if c.Kind == codeset.Added || c.Kind == codeset.Reactivated {
				out[c.Code] = eff
			}
		}
	}
	return out, nil
}
