package snapshot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/internal/fixture"
)

// catalogueStore writes a store of n CPT releases with sources and
// categories.
func catalogueStore(t testing.TB, n int) Store {
	t.Helper()
	ctx := context.Background()
	s := Store{Dir: t.TempDir()}
	for i := range n {
		label := fmt.Sprint(2001 + i)
		r := &codeset.Release{
			System: codeset.CPT, Label: label, Effective: fixture.Day(2001+i, 1, 1),
			Sources: []codeset.SourceFile{{Name: "cpt" + label + ".xlsx", SHA256: fmt.Sprintf("%064d", i), Bytes: int64(100 + i)}},
		}
		if i == 0 {
			r.Effective, r.Sources = time.Time{}, nil
		}
		for k := range 20 + i {
			r.Codes = append(r.Codes, codeset.Code{Code: fmt.Sprintf("%05d", k), Category: fmt.Sprint("I", k%3), Long: "code"})
		}
		if i == 1 {
			r.Declared = &codeset.Declaration{Source: "addenda.txt", Changes: []codeset.DeclaredChange{{Code: "00001", Kind: codeset.Added, Detail: "Add"}}}
		}
		if err := Write(ctx, s.Path(r.System, r.Label), r); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestCatalogue checks that listing a store from its catalogue gives what
// opening every snapshot gives; that a catalogued snapshot is not opened
// while it is the same file (same inode, size and time), and is read again
// as soon as it is not (touched, or replaced by another file); that a
// damaged catalogue is ignored; and that Remember rewrites the catalogue
// only when it changes.
func TestCatalogue(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no inodes: the catalogue is not used")
	}
	ctx := context.Background()
	s := catalogueStore(t, 5)
	dir := filepath.Join(s.Dir, "cpt")
	catPath := filepath.Join(dir, CatalogueName)
	opened, err := s.List(ctx, codeset.CPT)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(catPath); err == nil {
		t.Fatal("List wrote a catalogue: only Remember may")
	}
	if err := s.Remember(ctx, codeset.CPT); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(catPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, codeset.CPT)
	if err != nil {
		t.Fatal(err)
	}
	if opened[0].Sources != nil || opened[1].DeclaredBy == "" || !opened[0].Effective.IsZero() {
		t.Fatalf("the store lacks a release without sources or date, or one with declared changes: %+v", opened[:2])
	}
	if !reflect.DeepEqual(got, opened) {
		t.Errorf("listed from the catalogue:\n%+v\nopening the snapshots:\n%+v", got, opened)
	}
	if err := s.Remember(ctx, codeset.CPT); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(catPath); err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("Remember of an unchanged store rewrote the catalogue (%v)", err)
	}

	// A snapshot made unreadable behind the catalogue's back, keeping its
	// inode, size and time: the catalogue is trusted, the file not opened.
	path := s.Path(codeset.CPT, "2003")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, st.Size())
	if err := os.WriteFile(path, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if got, err := s.List(ctx, codeset.CPT); err != nil || !reflect.DeepEqual(got, opened) {
		t.Errorf("a catalogued file was opened (%v)", err)
	}
	// Touched: no longer trusted, so opened, and found not a snapshot.
	if err := os.Chtimes(path, st.ModTime(), st.ModTime().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx, codeset.CPT); err == nil {
		t.Errorf("a changed file was listed from the catalogue")
	}

	// Replaced by another file (a new inode) holding another release of
	// the same label, with the old time: read from the new file.
	r := &codeset.Release{System: codeset.CPT, Label: "2003", Effective: fixture.Day(2003, 6, 1), Codes: []codeset.Code{{Code: "99999", Long: "only"}}}
	tmp := filepath.Join(t.TempDir(), "2003.sqlite")
	if err := Write(ctx, tmp, r); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	got, err = s.List(ctx, codeset.CPT)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range got {
		if in.Label == "2003" && (in.Codes != 1 || !in.Effective.Equal(r.Effective)) {
			t.Errorf("a replaced snapshot listed as %d codes effective %v, want 1 and %v", in.Codes, in.Effective, r.Effective)
		}
	}
	if err := s.Remember(ctx, codeset.CPT); err != nil {
		t.Fatal(err)
	}
	want := got

	// A damaged catalogue, or one of another format, is ignored.
	for _, bad := range []string{"{", `{"format": 99, "snapshots": []}`, ""} {
		if err := os.WriteFile(catPath, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := s.List(ctx, codeset.CPT); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("with the catalogue %q: %v", bad, err)
		}
	}
	// The catalogue is never taken for a release.
	for _, in := range want {
		if in.Label == CatalogueName {
			t.Errorf("the catalogue listed as a release")
		}
	}
	if err := codeset.CheckLabel(CatalogueName[:len(CatalogueName)-len(".json")]); err == nil {
		t.Errorf("%s could be the record of a release", CatalogueName)
	}
}

// BenchmarkStoreList times listing a store of 20 snapshots, opening each
// (NoCatalogue) and from the catalogue Remember wrote (Catalogue).
func BenchmarkStoreList(b *testing.B) {
	ctx := context.Background()
	s := catalogueStore(b, 20)
	b.Run("NoCatalogue", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.List(ctx, codeset.CPT); err != nil {
				b.Fatal(err)
			}
		}
	})
	if err := s.Remember(ctx, codeset.CPT); err != nil {
		b.Fatal(err)
	}
	b.Run("Catalogue", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.List(ctx, codeset.CPT); err != nil {
				b.Fatal(err)
			}
		}
	})
}
