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
