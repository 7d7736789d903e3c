package release

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/publish"
	"github.com/codeset/codeset/publish/snapshot"
)

// release makes a CPT release of n codes 10000.., each with a short and a
// long descriptor unless a field is dropped.
func release(label string, n int, drop string) *codeset.Release {
	r := &codeset.Release{System: codeset.CPT, Label: label}
	for i := 0; i < n; i++ {
		c := codeset.Code{Code: strconv.Itoa(10000 + i), Short: "short", Long: "long text"}
		switch drop {
		case "short":
			c.Short = ""
		case "shift":
			c.Code = strconv.Itoa(20000 + i)
		}
		r.Codes = append(r.Codes, c)
	}
	return r
}

func TestGuards(t *testing.T) {
	old := release("2025", 100, "")
	tests := []struct {
		name  string
		new   *codeset.Release
		g     Guards
		guard string // "" when the release passes
		msg   string
	}{
		{"same", release("2026", 100, ""), Guards{}, "", ""},
		{"few deletions", release("2026", 96, ""), Guards{}, "", ""},
		{"mass delete", release("2026", 90, ""), Guards{}, "mass-delete",
			"cpt 2026 would delete 10 of the 100 codes of 2025 (10.0%), more than the 5.0% allowed"},
		{"mass delete allowed", release("2026", 90, ""), Guards{AllowMassDelete: true}, "", ""},
		{"higher threshold", release("2026", 90, ""), Guards{MaxDeleteShare: 0.2}, "", ""},
		{"every code replaced", release("2026", 100, "shift"), Guards{}, "mass-delete", "would delete 100 of the 100 codes"},
		{"shrink", release("2026", 70, ""), Guards{AllowMassDelete: true}, "shrink",
			"cpt 2026 has 70 codes, 2025 had 100: fewer than 80% of them"},
		{"lost field", release("2026", 100, "short"), Guards{}, "lost-field",
			"field short was filled for 100 of the 100 codes of 2025 and is empty for all 100 codes of cpt 2026: the file may have lost a column"},
		{"lost field allowed", release("2026", 100, "short"), Guards{AllowLostField: true}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := diff.Compare(old, tt.new, nil)
			err := tt.g.check(old, tt.new, l)
			if tt.guard == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ge *GuardError
			if !errors.As(err, &ge) || ge.Guard != tt.guard || !errors.Is(err, ErrRefused) {
				t.Fatalf("err = %v, want the %s guard", err, tt.guard)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.msg)
			}
		})
	}
	if err := (Guards{}).check(nil, release("2024", 3, ""), diff.Compare(nil, release("2024", 3, ""), nil)); err != nil {
		t.Errorf("a first release was refused: %v", err)
	}
}

// TestGuardsSparePublished runs a release that was let through a guard
// again, from the same files, without the override: it is already
// published, so the run succeeds and changes nothing.
func TestGuardsSparePublished(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	p := &Pipeline{Store: snapshot.Store{Dir: filepath.Join(dir, "data")}, OutDir: filepath.Join(dir, "public")}
	file := func(year string) []string {
		return []string{filepath.Join("..", "..", "testdata", "demo", "cpt-"+year+".xlsx")}
	}
	if _, err := p.Run(ctx, Request{System: codeset.CPT, Label: "2024", Files: file("2024")}); err != nil {
		t.Fatal(err)
	}
	strict := Request{System: codeset.CPT, Label: "2026", Files: file("2026"), Guards: Guards{MaxDeleteShare: 0.01}}
	if _, err := p.Run(ctx, strict); !errors.Is(err, ErrRefused) {
		t.Fatalf("2024 to 2026 deletes codes: err = %v, want a refusal", err)
	}
	allowed := strict
	allowed.Guards.AllowMassDelete = true
	if _, err := p.Run(ctx, allowed); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(ctx, strict); err != nil {
		t.Errorf("the same files again, without the override: %v", err)
	}
}

// TestStrict refuses, under Guards.Strict, a release whose diff disagrees
// with the publisher's own list for no reason the evidence gives, before
// anything is stored; without Strict the same release passes the guards.
func TestStrict(t *testing.T) {
	old := release("2025", 10, "")
	cur := release("2026", 10, "")
	cur.Codes[3].Long = "long text, revised"
	// The publisher declares nothing for the revised code, and an addition
	// that did not happen.
	cur.Declared = &codeset.Declaration{Source: "addenda.txt", Changes: []codeset.DeclaredChange{{Code: "99999", Kind: codeset.Added, Detail: "Add"}}}
	l := diff.Compare(old, cur, nil)
	if len(l.Reconciliation.Unexplained()) == 0 {
		t.Fatalf("reconciliation %+v: want unexplained disagreements", l.Reconciliation)
	}
	if err := (Guards{}).check(old, cur, l); err != nil {
		t.Errorf("without strict: %v", err)
	}
	err := (Guards{Strict: true}).check(old, cur, l)
	var ge *GuardError
	if !errors.As(err, &ge) || ge.Guard != GuardStrict || !errors.Is(err, codeset.ErrRefused) || !strings.Contains(err.Error(), "unexplained") {
		t.Fatalf("strict: err = %v, want the strict refusal", err)
	}

	// Through the pipeline: a strict run stores and publishes nothing.
	dir := t.TempDir()
	p := &Pipeline{Store: snapshot.Store{Dir: filepath.Join(dir, "data")}, OutDir: filepath.Join(dir, "public")}
	ctx := context.Background()
	file := func(year string) []string {
		return []string{filepath.Join("..", "..", "testdata", "demo", "cpt-"+year+".xlsx")}
	}
	if _, err := p.Run(ctx, Request{System: codeset.CPT, Label: "2024", Files: file("2024"), Guards: Guards{Strict: true}}); err != nil {
		t.Fatalf("a release without declarations under strict: %v", err)
	}
}

// TestLabelGuards refuses the label typos of issue 10: the same files under
// a second label, and a label whose year none of the file names bears;
// each is let through by its Allow field.
func TestLabelGuards(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := &Pipeline{Store: snapshot.Store{Dir: filepath.Join(dir, "data")}, OutDir: filepath.Join(dir, "public")}
	demo := func(year string) []string {
		return []string{filepath.Join("..", "..", "testdata", "demo", "cpt-"+year+".xlsx")}
	}
	if _, err := p.Run(ctx, Request{System: codeset.CPT, Label: "2024", Files: demo("2024")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		req   Request
		guard string
	}{
		{"same files, new label", Request{System: codeset.CPT, Label: "2024-r2", Effective: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Files: demo("2024")}, GuardSameFiles},
		{"label year not in the file name", Request{System: codeset.CPT, Label: "2027", Files: demo("2025")}, GuardLabelYear},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Run(ctx, tt.req)
			var ge *GuardError
			if !errors.As(err, &ge) || ge.Guard != tt.guard || !errors.Is(err, codeset.ErrRefused) {
				t.Fatalf("err = %v, want the %s guard", err, tt.guard)
			}
			if p.Store.Exists(codeset.CPT, tt.req.Label) || publish.Published(p.OutDir, codeset.CPT, tt.req.Label) {
				t.Errorf("a refused label was stored or published")
			}
		})
	}
	allowed := Request{System: codeset.CPT, Label: "2027", Files: demo("2025"), Guards: Guards{AllowLabelYear: true}}
	if _, err := p.Run(ctx, allowed); err != nil {
		t.Errorf("with AllowLabelYear: %v", err)
	}
	if err := labelYear(&codeset.Release{System: codeset.ICD10CM, Label: "FY2026", Sources: []codeset.SourceFile{{Name: "cms_2026_dx.zip"}}}, nil, nil); err != nil {
		t.Errorf("FY2026 from cms_2026_dx.zip: %v", err)
	}
	if err := labelYear(&codeset.Release{System: codeset.ICD10CM, Label: "FY2027", Sources: []codeset.SourceFile{{Name: "cms_2026_dx.zip"}}}, nil, nil); err == nil {
		t.Errorf("FY2027 from cms_2026_dx.zip passed")
	}
	if err := labelYear(&codeset.Release{System: codeset.HCPCS, Label: "2017", Sources: []codeset.SourceFile{{Name: "HCPC17_CONTR_ANWEB.xlsx"}}}, nil, nil); err != nil {
		t.Errorf("a file name without a four-digit year: %v", err)
	}
}

// TestGuardsOverride keeps a job's thresholds unless release-day flags set
// them, and takes every allowance the flags give.
func TestGuardsOverride(t *testing.T) {
	job := Guards{MaxDeleteShare: 0.1, MinKeepShare: 0.9, Strict: true}
	got := job.Override(Guards{AllowMassDelete: true, AllowSameFiles: true, AllowLabelYear: true})
	want := Guards{MaxDeleteShare: 0.1, MinKeepShare: 0.9, Strict: true, AllowMassDelete: true, AllowSameFiles: true, AllowLabelYear: true}
	if got != want {
		t.Errorf("Override = %+v, want %+v", got, want)
	}
	if got := job.Override(Guards{MaxDeleteShare: 0.5}); got.MaxDeleteShare != 0.5 || got.MinKeepShare != 0.9 {
		t.Errorf("Override with a delete share = %+v", got)
	}
}
