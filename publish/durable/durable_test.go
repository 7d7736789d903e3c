package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLinkOrCopy(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := WriteNew(src, []byte("snapshot bytes")); err != nil {
		t.Fatal(err)
	}
	if err := LinkOrCopy(dst, src); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(dst); err != nil || string(got) != "snapshot bytes" {
		t.Fatalf("dst holds %q, %v; want the bytes of src", got, err)
	}
	if err := LinkOrCopy(dst, src); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second LinkOrCopy to the same dst: %v, want an error wrapping fs.ErrExist", err)
	}
	if err := LinkOrCopy(filepath.Join(dir, "none"), filepath.Join(dir, "missing")); err == nil {
		t.Fatal("LinkOrCopy of a missing file succeeded")
	}
}

func TestWriteNewFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "SHA256SUMS"), filepath.Join(dir, "manifest.json")
	if err := WriteNewFiles(NewFile{a, []byte("sums\n")}, NewFile{b, []byte("{}\n")}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{a: "sums\n", b: "{}\n"} {
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("%s holds %q, %v; want %q", path, got, err, want)
		}
	}
	// An existing file is never replaced: the call fails and leaves it.
	c := filepath.Join(dir, "new")
	if err := WriteNewFiles(NewFile{c, []byte("c")}, NewFile{a, []byte("other")}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteNewFiles over an existing file: %v, want an error wrapping fs.ErrExist", err)
	}
	if got, err := os.ReadFile(a); err != nil || string(got) != "sums\n" {
		t.Errorf("%s holds %q, %v after the refused write; want it unchanged", a, got, err)
	}
}

func TestReplaceFiles(t *testing.T) {
	dir := t.TempDir()
	if err := WriteNew(filepath.Join(dir, "same.json"), []byte("same\n")); err != nil {
		t.Fatal(err)
	}
	if err := WriteNew(filepath.Join(dir, "old.json"), []byte("old\n")); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(filepath.Join(dir, "same.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFiles(dir, ".tmp-", NewFile{"old.json", []byte("new\n")}, NewFile{"same.json", []byte("same\n")}, NewFile{"fresh.html", []byte("<p>\n")}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"old.json": "new\n", "same.json": "same\n", "fresh.html": "<p>\n"} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != want {
			t.Errorf("%s holds %q, %v; want %q", name, got, err, want)
		}
	}
	// A file whose content is the same is left as it was.
	if after, err := os.Stat(filepath.Join(dir, "same.json")); err != nil || !os.SameFile(before, after) {
		t.Errorf("same.json was replaced (%v)", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d entries in the folder, want the 3 files and no temporary one", len(entries))
	}
	// A file that cannot be renamed into place (a folder there) fails the
	// call: the files before it are replaced, the rest untouched, and no
	// temporary file is left.
	if err := os.Mkdir(filepath.Join(dir, "blocked"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blocked", "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = ReplaceFiles(dir, ".tmp-", NewFile{"old.json", []byte("newer\n")}, NewFile{"blocked", []byte("b")}, NewFile{"fresh.html", []byte("<p>later\n")})
	if err == nil {
		t.Fatal("ReplaceFiles over a folder succeeded")
	}
	for name, want := range map[string]string{"old.json": "newer\n", "fresh.html": "<p>\n"} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != want {
			t.Errorf("after the failure %s holds %q, %v; want %q", name, got, err, want)
		}
	}
	entries, _ = os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left", e.Name())
		}
	}
}
