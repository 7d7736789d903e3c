package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/dbfile"
	"github.com/codeset/codeset/publish/internal/fixture"
)

// sortedRelease returns r with codes sorted, the form ReadSnapshot gives.
func sortedRelease(r *codeset.Release) *codeset.Release {
	c := *r
	c.Codes = append([]codeset.Code(nil), r.Codes...)
	for i := 1; i < len(c.Codes); i++ {
		for j := i; j > 0 && c.Codes[j].Code < c.Codes[j-1].Code; j-- {
			c.Codes[j], c.Codes[j-1] = c.Codes[j-1], c.Codes[j]
		}
	}
	return &c
}

func TestSnapshotRoundTrip(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		rel  *codeset.Release
	}{
		{"sample", fixture.SampleRelease()},
		{"no date no sources no codes", &codeset.Release{System: codeset.ICD10CM, Label: "FY2026"}},
		{"one code", &codeset.Release{System: codeset.HCPCS, Label: "2026Q2", Codes: []codeset.Code{{Code: "A0021", Long: "Ambulance service, outside state per mile, transport"}}}},
		{"links and declared counts", &codeset.Release{
			System: codeset.ICD10CM, Label: "FY2025", Effective: time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC),
			Codes: []codeset.Code{{Code: "H02101", Long: "Unspecified ectropion of right upper eyelid"}},
			Declared: &codeset.Declaration{
				Source:  "icd10cm_codes_addenda_2025.txt",
				Changes: []codeset.DeclaredChange{{Code: "H02101", Kind: codeset.Added, Detail: "Add"}},
				Counts: []codeset.DeclaredCounts{
					{Part: "codes", FromFile: "icd10cm_codes_2024.txt", From: 74044, ToFile: "icd10cm_codes_2025.txt", To: 74260, Added: 252, Deleted: 36},
					{Part: "headers", FromFile: "a", From: 1, ToFile: "b", To: 2, Revised: 3},
				},
			},
			// Sorted as stored: by old, then the rest.
			Replacements: []codeset.Replacement{
				{Old: "H0210", New: "H02101", NewThrough: "H02106", Source: "conversion-table.xlsx", Effective: time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), How: codeset.StatedRange},
				{Old: "H0211", New: "H02111", Source: "conversion-table.xlsx", How: codeset.StatedList},
			},
		}},
		// A corrections file's rows, kept as evidence: one declaring no
		// change (kind ""), one code twice.
		{"errata", &codeset.Release{
			System: codeset.HCPCS, Label: "2018", Effective: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC),
			Codes: []codeset.Code{{Code: "C9488", Long: "Injection, conivaptan hydrochloride, 1 mg"}},
			Declared: &codeset.Declaration{
				Source:  "ACTION CD; HCPCS corrections file V4_HCPC2018_Corrections_ANWEB.xlsx",
				Changes: []codeset.DeclaredChange{{Code: "C9488", Kind: codeset.Added, Detail: "A"}},
				Errata: []codeset.DeclaredChange{
					{Code: "C9488", Kind: codeset.Revised, Detail: `"Change ASC Ind/ASC eff date" (V4_HCPC2018_Corrections_ANWEB.xlsx)`},
					{Code: "C9488", Kind: codeset.Revised, Detail: `"Change ASC Ind/ASC eff" (V4_HCPC2018_Corrections_ANWEB.prn)`},
					{Code: "G9637", Detail: `"Should not have been updated - revert back to 2017 description" (V4_HCPC2018_Corrections_ANWEB.xlsx)`},
				},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", tt.rel.Label+".sqlite")
			if err := Write(ctx, path, tt.rel); err != nil {
				t.Fatalf("WriteSnapshot: %v", err)
			}
			got, err := Read(ctx, path)
			if err != nil {
				t.Fatalf("ReadSnapshot: %v", err)
			}
			if want := sortedRelease(tt.rel); !reflect.DeepEqual(got, want) {
				t.Errorf("ReadSnapshot:\ngot  %+v\nwant %+v", got, want)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the snapshot", len(entries))
			}
		})
	}
}

func TestSnapshotInfo(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "2026.sqlite")
	rel := fixture.SampleRelease()
	if err := Write(ctx, path, rel); err != nil {
		t.Fatal(err)
	}
	got, err := ReadInfo(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{
		System:        codeset.CPT,
		Label:         "2026",
		Effective:     rel.Effective,
		Sources:       rel.Sources,
		Codes:         4,
		Categories:    map[string]int{"I": 2, "II": 1, "PLA": 1},
		ToolVersion:   codeset.Version,
		SchemaVersion: SchemaVersion,
		Path:          path,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadSnapshotInfo:\ngot  %+v\nwant %+v", got, want)
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestSnapshotDeterministic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.sqlite"), filepath.Join(dir, "b.sqlite")
	if err := Write(ctx, a, fixture.SampleRelease()); err != nil {
		t.Fatal(err)
	}
	// The same release with codes in another order must give the same file.
	rel := fixture.SampleRelease()
	for i, j := 0, len(rel.Codes)-1; i < j; i, j = i+1, j-1 {
		rel.Codes[i], rel.Codes[j] = rel.Codes[j], rel.Codes[i]
	}
	if err := Write(ctx, b, rel); err != nil {
		t.Fatal(err)
	}
	if got, want := fileSum(t, b), fileSum(t, a); got != want {
		t.Errorf("second snapshot sha256 = %x, want %x", got, want)
	}
}

func TestSnapshotRefusesOverwrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "2026.sqlite")
	if err := Write(ctx, path, fixture.SampleRelease()); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, path)
	other := fixture.SampleRelease()
	other.Codes = other.Codes[:1]
	err := Write(ctx, path, other)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("second WriteSnapshot error = %v, want one wrapping fs.ErrExist", err)
	}
	if err != nil && !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if after := fileSum(t, path); after != before {
		t.Errorf("snapshot changed by refused write")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after refused write, want 1", len(entries))
	}
}

func TestWriteSnapshotErrorsLeaveNoTemp(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		rel     *codeset.Release
		wantErr string
	}{
		{"duplicate code", &codeset.Release{System: codeset.CPT, Label: "2026", Codes: []codeset.Code{{Code: "1"}, {Code: "1"}}}, `duplicate code "1"`},
		{"bad label", &codeset.Release{System: codeset.CPT, Label: "../x"}, "bad release label"},
		{"no system", &codeset.Release{Label: "2026"}, "no system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := Write(ctx, filepath.Join(dir, "x.sqlite"), tt.rel)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("WriteSnapshot error = %v, want one containing %q", err, tt.wantErr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("directory holds %d entries, want none", len(entries))
			}
		})
	}
}

func TestReadSnapshotRefusesOtherFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	text := filepath.Join(dir, "notes.sqlite")
	if err := os.WriteFile(text, bytes.Repeat([]byte("not a database at all\n"), 50), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.sqlite")
	db, err := sql.Open("sqlite", plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE codes (code TEXT); INSERT INTO codes VALUES ('00100')"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	tests := []struct {
		name, path, want string
	}{
		{"text file", text, "not a codeset snapshot: not a SQLite database"},
		{"plain sqlite", plain, "not a codeset snapshot: SQLite application_id is 0"},
		{"missing", filepath.Join(dir, "missing.sqlite"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(ctx, tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("ReadSnapshot error = %v, want one naming %s and containing %q", err, tt.path, tt.want)
			}
			if _, err := ReadInfo(ctx, tt.path); err == nil {
				t.Errorf("ReadSnapshotInfo error = nil, want one")
			}
		})
	}
}

// A snapshot written before declared_counts and replacements were added
// reads as one without links or counts.
func TestSnapshotWithoutAdditiveTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "2025.sqlite")
	rel := &codeset.Release{System: codeset.HCPCS, Label: "2025", Codes: []codeset.Code{{Code: "C9484", Status: codeset.StatusDiscontinued}},
		Declared:     &codeset.Declaration{Source: "ACTION CD", Counts: []codeset.DeclaredCounts{{Part: "codes"}}},
		Replacements: []codeset.Replacement{{Old: "C9484", New: "J1428", How: codeset.StatedDirect}}}
	if err := Write(ctx, path, rel); err != nil {
		t.Fatal(err)
	}
	db, err := dbfile.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"declared_counts", "replacements"} {
		if _, err := db.ExecContext(ctx, "DROP TABLE "+tbl); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	got, err := Read(ctx, path)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got.Replacements != nil || got.Declared == nil || got.Declared.Counts != nil {
		t.Errorf("Read: replacements %v, declaration %+v; want none and a declaration without counts", got.Replacements, got.Declared)
	}
}
