package main

import (
	"context"
	"fmt"

	"github.com/codeset/codeset/ingest"
)

func (m *Main) crosswalkCommand(ctx context.Context, args []string) error {
	hint := "run 'codeset crosswalk add --help' for usage"
	if len(args) == 0 || args[0] != "add" {
		return usagef(hint, "want 'codeset crosswalk add --system S --release R FILE...'")
	}
	fs := m.flags("crosswalk add", "--system S --release R [--profile FILE] FILE...",
		"Attach crosswalk files (the publisher's replacement links, such as CDC's ICD-10-CM\n"+
			"conversion table) to a stored release. Nothing published changes: a release stored\n"+
			"but not published has its snapshot replaced, and publishing it shows the links; a\n"+
			"published release keeps its snapshot and folder, and the links go into a new revision\n"+
			"LABEL-rN, stored and not published, with the same codes (compare it with the release\n"+
			"before with 'codeset diff'). A crosswalk given with the release files to 'codeset run'\n"+
			"needs none of this.")
	sysFlag := fs.String("system", "", "code `system`: "+systemList())
	label := fs.String("release", "", "stored release `label`")
	profile := fs.String("profile", "", "crosswalk profile JSON `file` (default: the system's built-in crosswalk profile)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	sys, err := parseSystem(*sysFlag, hint)
	if err != nil {
		return err
	}
	if *label == "" {
		return usagef(hint, "--release is required")
	}
	if fs.NArg() == 0 {
		return usagef(hint, "no crosswalk files: name them after the flags")
	}
	var cp *ingest.CrosswalkProfile
	if *profile != "" {
		if cp, err = ingest.LoadCrosswalkProfile(*profile); err != nil {
			return err
		}
	}
	res, err := m.pipeline().AddCrosswalk(ctx, sys, *label, cp, fs.Args()...)
	if err != nil {
		return err
	}
	if res.Revision {
		fmt.Fprintf(m.Stdout, "%s %s is published and stays as it is; %d links stored in the new revision %s: %s\n",
			sys.Name(), *label, res.Links, res.Release.Label, res.Snapshot)
		fmt.Fprintf(m.Stdout, "compare it with the release before: codeset diff --system %s --from PREVIOUS --to %s\n", sys, res.Release.Label)
		return nil
	}
	fmt.Fprintf(m.Stdout, "%s %s: %d links attached to the stored snapshot %s (not published yet: codeset publish --system %s --release %s)\n",
		sys.Name(), *label, res.Links, res.Snapshot, sys, *label)
	return nil
}
