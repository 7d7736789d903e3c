package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/pull"
)

// pullLicenceName records, in a folder codeset pull writes snapshots to,
// the licence mode of the trees they came from: one folder never mixes a
// full snapshot with a codes-only one, which would look like descriptors
// that vanished.
const pullLicenceName = ".codeset-licence"

// checkPullLicence refuses a snapshot of licence mode into the folder of
// dst when the folder holds snapshots pulled in another mode.
func checkPullLicence(dst, mode string) error {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(dst), pullLicenceName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if have := strings.TrimSpace(string(b)); have != mode {
		return codeset.NewError(codeset.ErrRefused, "pull: %s holds snapshots from a %s tree and this release is published %s: licence modes are not mixed; pull into another folder", filepath.Dir(dst), have, mode)
	}
	return nil
}

// recordPullLicence notes the licence mode of the folder of dst.
func recordPullLicence(dst, mode string) error {
	return durable.Replace(filepath.Dir(dst), pullLicenceName, ".tmp-licence-", []byte(mode+"\n"))
}

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
	// Resolve first: a snapshot of another licence mode than those already
	// pulled into the folder is refused before any byte is fetched.
	rel, err := c.Resolve(ctx, sys, *release)
	if err != nil {
		return err
	}
	if err := checkPullLicence(*out, format.Licence(rel.Manifest.Licence)); err != nil {
		return err
	}
	res, err := c.Download(ctx, sys, *release, *out)
	if err != nil {
		return err
	}
	if err := recordPullLicence(*out, format.Licence(res.Release.Manifest.Licence)); err != nil {
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
