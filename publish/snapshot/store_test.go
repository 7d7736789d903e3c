package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/internal/fixture"
)

func TestStoreList(t *testing.T) {
	ctx := context.Background()
	s := Store{Dir: t.TempDir()}
	releases := []*codeset.Release{
		{System: codeset.CPT, Label: "2026", Effective: fixture.Day(2026, 1, 1)},
		{System: codeset.CPT, Label: "2025", Effective: fixture.Day(2025, 1, 1)},
		{System: codeset.CPT, Label: "2026Q2", Effective: fixture.Day(2026, 4, 1)},
		{System: codeset.CPT, Label: "2026-b", Effective: fixture.Day(2026, 1, 1)},
		{System: codeset.CPT, Label: "draft"},
		{System: codeset.HCPCS, Label: "2026Q1", Effective: fixture.Day(2026, 1, 1)},
		{System: codeset.ICD10CM, Label: "FY2026", Effective: fixture.Day(2025, 10, 1)},
	}
	for _, r := range releases {
		if err := Write(ctx, s.Path(r.System, r.Label), r); err != nil {
			t.Fatal(err)
		}
	}
	// Leftovers of an interrupted write and unrelated files are not releases.
	for _, name := range []string{".2027.sqlite-123.tmp", ".2027.sqlite", "README.txt"} {
		if err := os.WriteFile(filepath.Join(s.Dir, "cpt", name), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		sys  codeset.System
		want []string
	}{
		{codeset.CPT, []string{"cpt/draft", "cpt/2025", "cpt/2026", "cpt/2026-b", "cpt/2026Q2"}},
		{codeset.HCPCS, []string{"hcpcs/2026Q1"}},
		{codeset.ICD10PCS, nil},
		{"", []string{"cpt/draft", "cpt/2025", "cpt/2026", "cpt/2026-b", "cpt/2026Q2", "hcpcs/2026Q1", "icd10cm/FY2026"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.sys), func(t *testing.T) {
			infos, err := s.List(ctx, tt.sys)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			var got []string
			for _, in := range infos {
				got = append(got, string(in.System)+"/"+in.Label)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List(%q) = %v, want %v", tt.sys, got, tt.want)
			}
		})
	}
}

func TestStoreListMissingDir(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "nowhere")}
	got, err := s.List(context.Background(), "")
	if err != nil || len(got) != 0 {
		t.Errorf("List on missing dir = %v, %v; want empty, nil", got, err)
	}
}

func TestStoreGet(t *testing.T) {
	ctx := context.Background()
	s := Store{Dir: t.TempDir()}
	rel := fixture.SampleRelease()
	if err := Write(ctx, s.Path(rel.System, rel.Label), rel); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Path(codeset.CPT, "2026"), filepath.Join(s.Dir, "cpt", "2026.sqlite"); got != want {
		t.Errorf("Path = %s, want %s", got, want)
	}
	if !s.Exists(codeset.CPT, "2026") {
		t.Errorf("Exists(cpt, 2026) = false, want true")
	}
	if s.Exists(codeset.CPT, "2027") {
		t.Errorf("Exists(cpt, 2027) = true, want false")
	}
	got, err := s.Get(ctx, codeset.CPT, "2026")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if want := sortedRelease(rel); !reflect.DeepEqual(got, want) {
		t.Errorf("Get:\ngot  %+v\nwant %+v", got, want)
	}

	_, err = s.Get(ctx, codeset.CPT, "2027")
	if !errors.Is(err, ErrNoRelease) {
		t.Errorf("Get(missing) error = %v, want ErrNoRelease", err)
	}
	if err != nil && !strings.Contains(err.Error(), "codeset releases --system cpt") {
		t.Errorf("Get(missing) error %q does not point to codeset releases --system cpt", err)
	}
}

func TestStoreRenamedSnapshot(t *testing.T) {
	ctx := context.Background()
	s := Store{Dir: t.TempDir()}
	rel := fixture.SampleRelease()
	if err := Write(ctx, s.Path(rel.System, "2027"), rel); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, codeset.CPT, "2027"); err == nil || !strings.Contains(err.Error(), "holds cpt 2026") {
		t.Errorf("Get of renamed snapshot error = %v, want one saying it holds cpt 2026", err)
	}
	if _, err := s.List(ctx, codeset.CPT); err == nil {
		t.Errorf("List with renamed snapshot error = nil, want one")
	}
}
