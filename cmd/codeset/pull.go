package main

import (
	"context"
	"fmt"

	"github.com/codeset/codeset/publish/pull"
)

func (m *Main) pullCommand(ctx context.Context, args []string) error {
	fs := m.flags("pull", "--from URL --system S [--release R|latest|current] -o FILE",
		"Download a release's snapshot from a published tree (codeset serve or any static host),\n"+
			"resuming an interrupted download, check its SHA-256 against the release manifest and\n"+
			"only then replace FILE. On a mismatch FILE is left as it was.")
	from := fs.String("from", "", "base `URL` of the published tree")
	sysFlag := fs.String("system", "", "code `system`: "+systemList())
	release := fs.String("release", "current", "release `label`, or latest or current")
	out := fs.String("o", "", "output `file`")
	if err := parse(fs, args); err != nil {
		return err
	}
	hint := "run 'codeset pull --help' for usage"
	sys, err := parseSystem(*sysFlag, hint)
	if err != nil {
		return err
	}
	if *from == "" {
		return usagef(hint, "--from is required")
	}
	if *out == "" {
		return usagef(hint, "-o is required")
	}
	if fs.NArg() > 0 {
		return usagef(hint, "unexpected arguments: %v", fs.Args())
	}
	c := &pull.Client{Base: *from}
	res, err := c.Download(ctx, sys, *release, *out)
	if err != nil {
		return err
	}
	r := res.Release
	if w := r.Withdrawn; w != nil {
		fmt.Fprintf(m.Stderr, "warning: %s %s was withdrawn on %s: %s\n", sys, r.Label, w.At, w.Reason)
	}
	fmt.Fprintf(m.Stdout, "%s %s: %d bytes, sha256 %s verified, saved to %s", sys, r.Label, r.Bytes, r.SHA256, res.Path)
	if res.Resumed > 0 {
		fmt.Fprintf(m.Stdout, " (resumed after %d bytes)", res.Resumed)
	}
	fmt.Fprintln(m.Stdout)
	return nil
}
