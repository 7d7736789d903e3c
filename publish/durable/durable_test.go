package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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
