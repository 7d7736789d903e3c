package main

import (
	"context"
	"fmt"

	"github.com/codeset/codeset/publish"
)

func (m *Main) reindexCommand(ctx context.Context, args []string) error {
	fs := m.flags("reindex", "",
		"Rebuild the indexes, the latest and current pointers, the history databases and the index\n"+
			"page of the published tree from its release folders. Run it when a release's effective\n"+
			"date passes (daily, say) so that 'current' moves to it.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run 'codeset reindex --help' for usage", "unexpected arguments: %v", fs.Args())
	}
	root, err := publish.Reindex(ctx, m.OutDir, m.now())
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "reindexed %s\n", m.OutDir)
	for _, s := range root.Systems {
		fmt.Fprintf(m.Stdout, "%s: %d releases, latest %s, current %s\n", s.System, len(s.Releases), labelOr(s.Latest), labelOr(s.Current))
	}
	return nil
}

// labelOr returns *label, or "none" when nil.
func labelOr(label *string) string {
	if label == nil {
		return "none"
	}
	return *label
}
