package main

import (
	"context"
	"fmt"

	"github.com/codeset/codeset/publish"
)

func (m *Main) licenceCommand(ctx context.Context, args []string) error {
	fs := m.flags("licence", "[full|codes-only]",
		"Show or fix the licence mode of the published tree in --out. A codes-only tree publishes\n"+
			"codes, categories, statuses, change kinds and dates but no descriptor text in any file\n"+
			"(snapshots, changelogs, CodeSystem, history, search). Fix the mode before the first\n"+
			"release is published: a tree never mixes modes. Keep a full tree for internal use and a\n"+
			"codes-only tree to redistribute, e.g. codeset --out public licence codes-only.")
	if err := parse(fs, args); err != nil {
		return err
	}
	hint := "run 'codeset licence --help' for usage"
	switch fs.NArg() {
	case 0:
		mode, err := publish.TreeLicence(m.OutDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s: %s\n", m.OutDir, mode)
		return nil
	case 1:
		if err := publish.SetLicence(ctx, m.OutDir, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s: %s\n", m.OutDir, fs.Arg(0))
		return nil
	}
	return usagef(hint, "unexpected arguments: %v", fs.Args()[1:])
}
