package schedules

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/dbfile"
	"github.com/codeset/codeset/schedules/release"
)

// icdZip builds a CDC-style ICD-10-CM zip: a codes file and, when addenda
// is not empty, a codes addenda, members named for year.
func icdZip(t *testing.T, year string, codes []string, addenda string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add := func(name, text string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	var codesFile strings.Builder
	for _, c := range codes {
		code, title, _ := strings.Cut(c, " ")
		fmt.Fprintf(&codesFile, "%-7s %s\r\n", code, title)
	}
	add("icd10cm_codes_"+year+".txt", codesFile.String())
	if addenda != "" {
		add("icd10cm_codes_addenda_"+year+".txt", addenda)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var (
	fy2024 = []string{"A000 Cholera due to Vibrio cholerae 01, biovar cholerae", "A001 Cholera due to Vibrio cholerae 01, biovar eltor",
		"A009 Cholera, unspecified", "B001 Eczema herpeticum"}
	fy2025 = []string{"A000 Cholera due to Vibrio cholerae 01, biovar cholerae, revised", "A009 Cholera, unspecified",
		"A011 Typhoid fever, unspecified", "B001 Eczema herpeticum"}
	// The addenda declares the three changes the files show, and adds a
	// code the codes file lacks: one unexplained disagreement.
	fy2025Addenda = "Revise from: A000    Cholera due to Vibrio cholerae 01, biovar cholerae\r\n" +
		"Revise to:   A000    Cholera due to Vibrio cholerae 01, biovar cholerae, revised\r\n" +
		"Delete:      A001    Cholera due to Vibrio cholerae 01, biovar eltor\r\n" +
		"Add:         A011    Typhoid fever, unspecified\r\n" +
		"Add:         C000    Malignant neoplasm of external upper lip\r\n" +
		"\r\nCodes\r\n      4 codes in icd10cm_order_2024.txt\r\n      4 codes in icd10cm_order_2025.txt\r\n" +
		"      2 additions\r\n      1 deletions\r\n      1 revisions\r\n"
)

// TestRunRecordsReconciliation runs a job on FY2024, then on FY2025 with
// an addenda that disagrees with its codes file once: the reconciliation
// reaches the run, the ledger, the jobs API body and the service log.
func TestRunRecordsReconciliation(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	e.runner.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	src := &fakeSource{}
	job := &Job{Name: "icd", System: codeset.ICD10CM, Source: src, Guards: release.Guards{AllowMassDelete: true}}
	src.set("icd10cm_2024.zip", icdZip(t, "2024", fy2024, ""))
	if run := e.run(t, job); run.Outcome != OutcomePublished || run.Reconciliation != nil {
		t.Fatalf("FY2024 run = %+v, want published without a reconciliation (no addenda)", run)
	}
	src.set("icd10cm_2025.zip", icdZip(t, "2025", fy2025, fy2025Addenda))
	run := e.run(t, job)
	if run.Outcome != OutcomePublished || run.Label != "FY2025" {
		t.Fatalf("FY2025 run = %+v", run)
	}
	want := &RunReconciliation{
		System: codeset.ICD10CM, Source: run.Result.Changelog.Reconciliation.Source,
		Declared: 4, Agreed: 3, Disagreements: 1, Unexplained: 1,
		First: []RunDisagreement{{Code: "C000", Declared: run.Result.Changelog.Reconciliation.Disagreements[0].Declared, Computed: "absent",
			Reason: run.Result.Changelog.Reconciliation.Disagreements[0].Reason}},
	}
	if got, _ := json.Marshal(run.Reconciliation); string(got) != string(mustJSON(t, want)) {
		t.Errorf("run reconciliation %s\nwant %s", got, mustJSON(t, want))
	}
	if !strings.Contains(want.First[0].Reason, "not in FY2025") {
		t.Errorf("reason %q: want the code not in FY2025", want.First[0].Reason)
	}

	// The ledger keeps it.
	runs, err := e.ledger.Runs(context.Background(), "icd", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, runs[0].Reconciliation); string(got) != string(mustJSON(t, want)) {
		t.Errorf("ledger reconciliation %s\nwant %s", got, mustJSON(t, want))
	}

	// The jobs API body of the run carries it.
	rec := httptest.NewRecorder()
	replyRun(rec, run, nil)
	var body struct {
		Run struct {
			Reconciliation *RunReconciliation `json:"reconciliation"`
		} `json:"run"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if got := mustJSON(t, body.Run.Reconciliation); string(got) != string(mustJSON(t, want)) {
		t.Errorf("API body reconciliation %s\nwant %s", got, mustJSON(t, want))
	}
	for _, key := range []string{`"declared": 4`, `"agreed": 3`, `"disagreements": 1`, `"unexplained": 1`, `"code": "C000"`} {
		if !strings.Contains(rec.Body.String(), key) {
			t.Errorf("API body lacks %s:\n%s", key, rec.Body)
		}
	}

	// The service log's line at the end of the run says it.
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "run done" && m["release"] == "FY2025" {
			line = m
		}
	}
	r, _ := line["reconciliation"].(map[string]any)
	if r == nil || r["declared"] != 4.0 || r["agreed"] != 3.0 || r["disagreements"] != 1.0 || r["unexplained"] != 1.0 ||
		!strings.HasPrefix(fmt.Sprint(r["first"]), "C00.0: declared ") {
		t.Errorf("log line %v: want a reconciliation group with declared 4, agreed 3, 1 disagreement, 1 unexplained, first C00.0", line)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLedgerKeepsReconciliation records runs with and without a
// reconciliation and reads them back whole.
func TestLedgerKeepsReconciliation(t *testing.T) {
	ctx := context.Background()
	l, err := OpenLedger(ctx, filepath.Join(t.TempDir(), "ledger.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := &RunReconciliation{System: codeset.HCPCS, Source: "ACTION CD", Declared: 301, Agreed: 299, Disagreements: 3, Unexplained: 1,
		First: []RunDisagreement{
			{Code: "J1234", Declared: "A", Computed: "unchanged", Reason: "declared added, but already in 2024: not explained by the record"},
			{Code: "G0001", Computed: "revised", Reason: "whitespace", Explained: true},
		}}
	for i, rc := range []*RunReconciliation{want, nil} {
		r := &Run{Job: "hcpcs", Trigger: TriggerManual, Started: start.Add(time.Duration(i) * time.Hour)}
		if err := l.begin(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Outcome, r.Reconciliation, r.Ended = OutcomePublished, rc, r.Started.Add(time.Second)
		if err := l.finish(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := l.Runs(ctx, "hcpcs", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Reconciliation != nil || string(mustJSON(t, runs[1].Reconciliation)) != string(mustJSON(t, want)) {
		t.Fatalf("runs = %+v, want the newest without a reconciliation, the older with %+v", runs, want)
	}
}

// TestLedgerBeforeReconciliation opens a ledger made with the changes
// column but before the reconciliation column: it gains the column, its
// old rows read with no reconciliation, and new runs record theirs.
func TestLedgerBeforeReconciliation(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.sqlite")
	db, err := dbfile.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE runs (id INTEGER PRIMARY KEY, job TEXT NOT NULL, trigger TEXT NOT NULL,
		source TEXT NOT NULL DEFAULT '', sha256 TEXT NOT NULL DEFAULT '', label TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL,
		codes INTEGER NOT NULL DEFAULT 0, added INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,
		revised INTEGER NOT NULL DEFAULT 0, cosmetic INTEGER NOT NULL DEFAULT 0, reactivated INTEGER NOT NULL DEFAULT 0,
		changes TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '', started TEXT NOT NULL, ended TEXT NOT NULL DEFAULT '');
		INSERT INTO runs (job, trigger, outcome, added, changes, started) VALUES ('icd', 'manual', 'published', 8, '{"added":8,"discontinued":1}', '2025-01-01T00:00:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l, err := OpenLedger(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := &Run{Job: "icd", Trigger: TriggerManual, Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := l.begin(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Outcome, r.Reconciliation = OutcomePublished, &RunReconciliation{System: codeset.ICD10CM, Declared: 301, Agreed: 301}
	if err := l.finish(ctx, r); err != nil {
		t.Fatal(err)
	}
	runs, err := l.Runs(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Reconciliation == nil || runs[0].Reconciliation.Agreed != 301 ||
		runs[1].Reconciliation != nil || runs[1].Changes != (codeset.Summary{Added: 8, Discontinued: 1}) {
		t.Fatalf("runs = %+v", runs)
	}
}
