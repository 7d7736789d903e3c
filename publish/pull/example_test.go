package pull_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/pull"
	"github.com/codeset/codeset/publish/server"
	"github.com/codeset/codeset/publish/snapshot"
)

// Download fetches the snapshot a pointer names, checks it against the
// release's manifest and puts it in place. The tree here is published and
// served in-process; in use Base is the address of any host that serves a
// codeset tree.
func ExampleClient_Download() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pull-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rel := &codeset.Release{System: codeset.CPT, Label: "2026", Effective: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Codes: []codeset.Code{{Code: "00100", Category: codeset.CategoryI, Long: "Anesthesia for procedures on salivary glands"}}}
	snap := filepath.Join(dir, "data", "cpt", "2026.sqlite")
	if err := snapshot.Write(ctx, snap, rel); err != nil {
		log.Fatal(err)
	}
	out := filepath.Join(dir, "public")
	if _, err := publish.PublishAt(ctx, out, snap, rel, diff.Compare(nil, rel, nil), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(server.New(out))
	defer srv.Close()

	c := &pull.Client{Base: srv.URL}
	res, err := c.Download(ctx, codeset.CPT, "current", filepath.Join(dir, "cpt.sqlite"))
	if err != nil {
		log.Fatal(err)
	}
	info, err := snapshot.ReadInfo(ctx, res.Path)
	if err != nil {
		log.Fatal(err)
	}
	// Download returns only once the file's size and SHA-256 match the
	// manifest's.
	fmt.Printf("downloaded %s %s to %s: %d code\n", res.Release.System, res.Release.Label, filepath.Base(res.Path), info.Codes)
	// Output: downloaded cpt 2026 to cpt.sqlite: 1 code
}
