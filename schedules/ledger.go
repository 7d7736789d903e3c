package schedules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/codeset/codeset/publish/dbfile"
)

// ledgerSchema is the run ledger. Times are ledgerTime text, which sorts
// in time order.
const ledgerSchema = `
-- One row per run of a job, inserted when the run starts.
CREATE TABLE IF NOT EXISTS runs (
	id          INTEGER PRIMARY KEY,
	job         TEXT NOT NULL,
	trigger     TEXT NOT NULL,              -- schedule, manual, catch-up
	source      TEXT NOT NULL DEFAULT '',   -- file path or URL the run read
	sha256      TEXT NOT NULL DEFAULT '',   -- of the source file
	label       TEXT NOT NULL DEFAULT '',   -- release label published, or the one refused
	outcome     TEXT NOT NULL,              -- running, published, unchanged, failed, abandoned
	codes       INTEGER NOT NULL DEFAULT 0,
	added       INTEGER NOT NULL DEFAULT 0,
	deleted     INTEGER NOT NULL DEFAULT 0,
	revised     INTEGER NOT NULL DEFAULT 0,
	cosmetic    INTEGER NOT NULL DEFAULT 0,
	reactivated INTEGER NOT NULL DEFAULT 0,
	changes     TEXT NOT NULL DEFAULT '',   -- codeset.Summary as JSON: every change kind; '' in ledgers from before it
	reconciliation TEXT NOT NULL DEFAULT '', -- RunReconciliation as JSON; '' when the run had no publisher's list, or in ledgers from before it
	error       TEXT NOT NULL DEFAULT '',
	started     TEXT NOT NULL,
	ended       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_job ON runs (job, started);
-- When the service first knew each job: the start of its schedule for
-- catch-up when it has never run.
CREATE TABLE IF NOT EXISTS jobs (
	job   TEXT PRIMARY KEY,
	since TEXT NOT NULL
);
-- Validators of the last good fetch of each URL source, for conditional GET.
CREATE TABLE IF NOT EXISTS source_state (
	job           TEXT NOT NULL,
	url           TEXT NOT NULL,
	etag          TEXT NOT NULL,
	last_modified TEXT NOT NULL,
	PRIMARY KEY (job, url)
);
`

// ledgerTime is RFC 3339 in UTC with a fixed nine-digit fraction, so that
// text order is time order.
const ledgerTime = "2006-01-02T15:04:05.000000000Z"

// Ledger is the SQLite run ledger: every run of every job, with its trigger,
// source, outcome and counts, plus the state sources keep between runs.
// Several processes may share one ledger file.
type Ledger struct {
	db   *sql.DB
	path string
}

// OpenLedger opens the ledger at path, creating it when missing. Several
// processes may open it at once: a first open that finds the file busy
// (another process creating it or switching it to WAL) is retried.
func OpenLedger(ctx context.Context, path string) (*Ledger, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	// busy_timeout makes a writer wait for another process rather than
	// fail; _txlock=immediate takes the write lock when a transaction
	// begins, so two writers never deadlock upgrading read locks.
	db, err := dbfile.Open(path, "_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		err = initLedger(ctx, db)
		if err == nil || !dbfile.IsBusy(err) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(10+rand.IntN(40)) * time.Millisecond):
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return &Ledger{db: db, path: path}, nil
}

// initLedger switches the file to WAL, which lets readers work while a run
// is recorded and persists in the file, and creates the schema.
func initLedger(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err = tx.ExecContext(ctx, ledgerSchema); err != nil {
		return err
	}
	// A ledger made before a column gets it, empty: its old rows keep
	// their per-kind columns, which Runs reads when changes is empty, and
	// show no reconciliation.
	for _, col := range []string{"changes", "reconciliation"} {
		var has int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('runs') WHERE name = ?`, col).Scan(&has); err != nil {
			return err
		}
		if has == 0 {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE runs ADD COLUMN `+col+` TEXT NOT NULL DEFAULT ''`); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// Close closes the ledger.
func (l *Ledger) Close() error { return l.db.Close() }

// Path returns the ledger file's path.
func (l *Ledger) Path() string { return l.path }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(ledgerTime)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(ledgerTime, s)
}

// begin records the start of run r, marking any run of the same job still
// recorded as running as abandoned first: the caller holds the job's lock,
// so such a run belongs to a process that died. It sets r.ID.
func (l *Ledger) begin(ctx context.Context, r *Run) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET outcome = ?, error = ?, ended = ? WHERE job = ? AND outcome = ?`,
		OutcomeAbandoned, "the process running it ended before it finished", formatTime(r.Started), r.Job, OutcomeRunning); err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (job, trigger, outcome, started) VALUES (?, ?, ?, ?)`,
		r.Job, r.Trigger, OutcomeRunning, formatTime(r.Started))
	if err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	return nil
}

// finish records how run r ended.
func (l *Ledger) finish(ctx context.Context, r *Run) error {
	changes, err := json.Marshal(r.Changes)
	if err != nil {
		return fmt.Errorf("record run %d: %w", r.ID, err)
	}
	var rec []byte
	if r.Reconciliation != nil {
		if rec, err = json.Marshal(r.Reconciliation); err != nil {
			return fmt.Errorf("record run %d: %w", r.ID, err)
		}
	}
	_, err = l.db.ExecContext(ctx, `UPDATE runs SET source = ?, sha256 = ?, label = ?, outcome = ?, codes = ?,
		added = ?, deleted = ?, revised = ?, cosmetic = ?, reactivated = ?, changes = ?, reconciliation = ?, error = ?, ended = ? WHERE id = ?`,
		r.Source, r.SHA256, r.Label, r.Outcome, r.Codes,
		r.Changes.Added, r.Changes.Deleted, r.Changes.Revised, r.Changes.Cosmetic, r.Changes.Reactivated, string(changes), string(rec),
		r.Error, formatTime(r.Ended), r.ID)
	if err != nil {
		return fmt.Errorf("record run %d: %w", r.ID, err)
	}
	return nil
}

// Runs returns the runs of job (of every job when job is ""), newest
// first, at most limit of them (all when limit <= 0).
func (l *Ledger) Runs(ctx context.Context, job string, limit int) ([]Run, error) {
	q := `SELECT id, job, trigger, source, sha256, label, outcome, codes, added, deleted, revised, cosmetic, reactivated, changes, reconciliation, error, started, ended FROM runs`
	var args []any
	if job != "" {
		q += ` WHERE job = ?`
		args = append(args, job)
	}
	q += ` ORDER BY started DESC, id DESC`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		var r Run
		var started, ended, changes, rec string
		if err := rows.Scan(&r.ID, &r.Job, &r.Trigger, &r.Source, &r.SHA256, &r.Label, &r.Outcome, &r.Codes,
			&r.Changes.Added, &r.Changes.Deleted, &r.Changes.Revised, &r.Changes.Cosmetic, &r.Changes.Reactivated,
			&changes, &rec, &r.Error, &started, &ended); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		if changes != "" {
			if err := json.Unmarshal([]byte(changes), &r.Changes); err != nil {
				return nil, fmt.Errorf("read ledger: run %d: bad changes: %w", r.ID, err)
			}
		}
		if rec != "" {
			r.Reconciliation = new(RunReconciliation)
			if err := json.Unmarshal([]byte(rec), r.Reconciliation); err != nil {
				return nil, fmt.Errorf("read ledger: run %d: bad reconciliation: %w", r.ID, err)
			}
		}
		if r.Started, err = parseTime(started); err == nil {
			r.Ended, err = parseTime(ended)
		}
		if err != nil {
			return nil, fmt.Errorf("read ledger: run %d: %w", r.ID, err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	return runs, nil
}

// ingested reports whether a run of job already published or found
// unchanged a source file with this SHA-256, and the release label that
// run recorded.
func (l *Ledger) ingested(ctx context.Context, job, sha string) (bool, string, error) {
	var label string
	err := l.db.QueryRowContext(ctx, `SELECT label FROM runs WHERE job = ? AND sha256 = ? AND outcome IN (?, ?)
		ORDER BY label = '', started DESC LIMIT 1`, job, sha, OutcomePublished, OutcomeUnchanged).Scan(&label)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("read ledger: %w", err)
	}
	return true, label, nil
}

// lastIngested returns the SHA-256 and label of the latest run of job
// from source that published its file or found it unchanged.
func (l *Ledger) lastIngested(ctx context.Context, job, source string) (sha, label string, err error) {
	err = l.db.QueryRowContext(ctx, `SELECT sha256, label FROM runs WHERE job = ? AND source = ? AND outcome IN (?, ?) AND sha256 != ''
		ORDER BY started DESC LIMIT 1`, job, source, OutcomePublished, OutcomeUnchanged).Scan(&sha, &label)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("read ledger: %w", err)
	}
	return sha, label, nil
}

// lastActivity returns the later of the start of job's latest run and the
// time the service first knew the job; zero when neither is recorded.
func (l *Ledger) lastActivity(ctx context.Context, job string) (time.Time, error) {
	var run, since sql.NullString
	err := l.db.QueryRowContext(ctx, `SELECT max(started) FROM runs WHERE job = ?`, job).Scan(&run)
	if err == nil {
		err = l.db.QueryRowContext(ctx, `SELECT since FROM jobs WHERE job = ?`, job).Scan(&since)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("read ledger: %w", err)
	}
	// The fixed-width format sorts as text.
	t, err := parseTime(max(run.String, since.String))
	if err != nil {
		return time.Time{}, fmt.Errorf("read ledger: job %s: %w", job, err)
	}
	return t, nil
}

// register records that the service knows job from now on, unless it knew
// it before.
func (l *Ledger) register(ctx context.Context, job string, now time.Time) error {
	if _, err := l.db.ExecContext(ctx, `INSERT OR IGNORE INTO jobs (job, since) VALUES (?, ?)`, job, formatTime(now)); err != nil {
		return fmt.Errorf("record job %s: %w", job, err)
	}
	return nil
}

// sourceState returns the validators saved for job's url.
func (l *Ledger) sourceState(ctx context.Context, job, url string) (FetchState, error) {
	var st FetchState
	err := l.db.QueryRowContext(ctx, `SELECT etag, last_modified FROM source_state WHERE job = ? AND url = ?`, job, url).
		Scan(&st.ETag, &st.LastModified)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("read ledger: %w", err)
	}
	return st, nil
}

// saveSourceState keeps the validators of the last good fetch of url.
func (l *Ledger) saveSourceState(ctx context.Context, job, url string, st FetchState) error {
	_, err := l.db.ExecContext(ctx, `INSERT INTO source_state (job, url, etag, last_modified) VALUES (?, ?, ?, ?)
		ON CONFLICT (job, url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified`,
		job, url, st.ETag, st.LastModified)
	if err != nil {
		return fmt.Errorf("record source state: %w", err)
	}
	return nil
}

// running returns the jobs that have a run recorded as running.
func (l *Ledger) running(ctx context.Context) ([]string, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT DISTINCT job FROM runs WHERE outcome = ? ORDER BY job`, OutcomeRunning)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	var jobs []string
	for rows.Next() {
		var j string
		if err := rows.Scan(&j); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// abandon marks the runs of job still recorded as running as abandoned;
// the caller holds the job's lock, so their process is gone.
func (l *Ledger) abandon(ctx context.Context, job string, now time.Time) (int64, error) {
	res, err := l.db.ExecContext(ctx, `UPDATE runs SET outcome = ?, error = ?, ended = ? WHERE job = ? AND outcome = ?`,
		OutcomeAbandoned, "the process running it ended before it finished", formatTime(now), job, OutcomeRunning)
	if err != nil {
		return 0, fmt.Errorf("record run: %w", err)
	}
	return res.RowsAffected()
}
