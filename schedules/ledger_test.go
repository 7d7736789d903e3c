package schedules

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/dbfile"
)

// TestLedgerKeepsEveryChangeKind records a run with a count of every change
// kind and reads it back whole, discontinued codes included.
func TestLedgerKeepsEveryChangeKind(t *testing.T) {
	ctx := context.Background()
	l, err := OpenLedger(ctx, filepath.Join(t.TempDir(), "ledger.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Run{Job: "hcpcs", Trigger: TriggerManual, Started: start}
	if err := l.begin(ctx, r); err != nil {
		t.Fatal(err)
	}
	want := codeset.Summary{Added: 706, Deleted: 3, Revised: 176, ShortTitle: 11, Cosmetic: 29, Reactivated: 2, Discontinued: 49, Unchanged: 6000}
	r.Outcome, r.Changes, r.Ended = OutcomePublished, want, start.Add(time.Second)
	if err := l.finish(ctx, r); err != nil {
		t.Fatal(err)
	}
	runs, err := l.Runs(ctx, "hcpcs", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Changes != want {
		t.Fatalf("runs = %+v, want one with changes %+v", runs, want)
	}
}

// TestLedgerFromBefore opens a ledger made before the changes column: it
// gains the column, and its old rows read from their per-kind columns.
func TestLedgerFromBefore(t *testing.T) {
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
		error TEXT NOT NULL DEFAULT '', started TEXT NOT NULL, ended TEXT NOT NULL DEFAULT '');
		INSERT INTO runs (job, trigger, outcome, added, deleted, revised, started) VALUES ('cpt', 'manual', 'published', 8, 2, 4, '2025-01-01T00:00:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l, err := OpenLedger(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	runs, err := l.Runs(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (codeset.Summary{Added: 8, Deleted: 2, Revised: 4}); len(runs) != 1 || runs[0].Changes != want {
		t.Fatalf("runs = %+v, want one with changes %+v", runs, want)
	}
}
