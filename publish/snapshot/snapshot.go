package snapshot

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/dbfile"
	"github.com/codeset/codeset/publish/durable"
)

// SchemaVersion is the snapshot schema version this package writes and reads.
// It is stored both in PRAGMA user_version and in release.schema_version.
//
// Version 3 added codes.hash and headers.hash, the content hash of the
// compared fields (see RowHash). Older snapshots are refused with an error
// that says so: re-ingest their publisher files.
const SchemaVersion = 3

// ApplicationID marks a SQLite file as a codeset snapshot (PRAGMA
// application_id). The value spells "CSET" in ASCII.
const ApplicationID = 0x43534554

// Schema is the SQL that creates an empty snapshot; see the package
// documentation for the meaning of each table.
const Schema = `
-- One row describing the release.
CREATE TABLE release (
	schema_version INTEGER NOT NULL, -- equals PRAGMA user_version
	system         TEXT    NOT NULL, -- codeset.System, e.g. 'cpt'
	label          TEXT    NOT NULL, -- e.g. '2026', '2026Q2', 'FY2026'
	effective      TEXT    NOT NULL, -- ISO date YYYY-MM-DD, or '' when unknown
	tool_version   TEXT    NOT NULL, -- codeset.Version that wrote the file
	code_count     INTEGER NOT NULL, -- rows in codes
	declared_by    TEXT    NOT NULL  -- source of declared_changes, '' when the publisher declares none
);

-- The publisher files the release was read from, in the order given.
CREATE TABLE source_files (
	name   TEXT    NOT NULL,
	sha256 TEXT    NOT NULL, -- lower-case hex
	bytes  INTEGER NOT NULL
);

-- Codes per non-empty category, so listings need not scan codes.
CREATE TABLE category_counts (
	category TEXT    NOT NULL PRIMARY KEY,
	codes    INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per code record.
CREATE TABLE codes (
	code       TEXT NOT NULL PRIMARY KEY, -- kept as text: '00100' stays '00100'
	category   TEXT NOT NULL,             -- CPT: I, II, III or PLA; HCPCS: code or modifier
	short      TEXT NOT NULL,
	medium     TEXT NOT NULL,
	long       TEXT NOT NULL,
	status     TEXT NOT NULL,             -- 'discontinued' when ended but still shipped
	attributes TEXT NOT NULL,             -- JSON object, sorted keys; '{}' when none; compared
	meta       TEXT NOT NULL,             -- JSON object of publisher bookkeeping (action code, dates); not compared
	hash       INTEGER NOT NULL           -- RowHash of the compared fields: equal hashes, equal records
) WITHOUT ROWID;

-- The code and hash of every row of codes, in code order, packed in chunks
-- of up to 4096 entries, each a uvarint length, the code and the hash as 8
-- bytes big-endian: a comparison reads these few rows rather than the
-- whole table.
CREATE TABLE code_hashes (
	chunk   INTEGER PRIMARY KEY, -- from 0
	entries BLOB    NOT NULL
);

-- Rows shipped beside the codes that are not codes, e.g. ICD-10 order-file
-- header rows (flag 0). Same columns as codes; not counted or compared.
CREATE TABLE headers (
	code       TEXT NOT NULL PRIMARY KEY,
	category   TEXT NOT NULL,
	short      TEXT NOT NULL,
	medium     TEXT NOT NULL,
	long       TEXT NOT NULL,
	status     TEXT NOT NULL,
	attributes TEXT NOT NULL,
	meta       TEXT NOT NULL,
	hash       INTEGER NOT NULL
) WITHOUT ROWID;

-- The changes the publisher declares for this release (HCPCS ACTION CD,
-- ICD-10 addenda), as read; see release.declared_by.
CREATE TABLE declared_changes (
	code   TEXT NOT NULL,
	kind   TEXT NOT NULL, -- added, deleted, revised, reactivated or discontinued
	detail TEXT NOT NULL, -- the publisher's word, e.g. 'Revise' or 'C'
	PRIMARY KEY (code, kind)
) WITHOUT ROWID;

-- The publisher's own totals for declared_changes, from the summary block
-- that ends an ICD-10 addenda: one row per part. from_file and from_count
-- name the version the list was made against, which need not be a release
-- that was ingested (a mid-year update, say).
CREATE TABLE declared_counts (
	part       TEXT    NOT NULL PRIMARY KEY, -- 'codes' or 'headers'
	from_file  TEXT    NOT NULL,
	from_count INTEGER NOT NULL,
	to_file    TEXT    NOT NULL,
	to_count   INTEGER NOT NULL,
	added      INTEGER NOT NULL,
	deleted    INTEGER NOT NULL,
	revised    INTEGER NOT NULL
) WITHOUT ROWID;

-- The rows of the publisher's corrections files read with this release
-- (HCPCS errata posted after an annual file), every one as read: evidence
-- the reconciliation cites for a change no list declares, in this release
-- and the next. Added to schema 3 without a version change: a snapshot
-- without the table has none.
CREATE TABLE declared_errata (
	code   TEXT NOT NULL,
	kind   TEXT NOT NULL, -- the change kind the row declares, '' for none ("Do not terminate")
	detail TEXT NOT NULL  -- the publisher's words and the file, e.g. '"Change ASC Ind/ASC eff date" (V4_HCPC2018_Corrections_ANWEB.xlsx)'
);

-- Replacement links the publisher states with this release: the rows of a
-- crosswalk given with it (CDC's conversion tables are cumulative and reach
-- back years) and the codes its own records name (HCPCS XREF of a
-- discontinued code). One row per link as stated: old is the code that
-- goes away, new the code that takes its place. A range not expanded has
-- old_through (or new_through) set and covers old through old_through and
-- the codes below it; changelogs expand it against the releases compared.
CREATE TABLE replacements (
	old         TEXT NOT NULL, -- stored form (no dot)
	old_through TEXT NOT NULL, -- '' unless old starts a range
	new         TEXT NOT NULL,
	new_through TEXT NOT NULL, -- '' unless new starts a range
	source      TEXT NOT NULL, -- base name of the file that states the link
	effective   TEXT NOT NULL, -- YYYY-MM-DD, or '' when the publisher gives no date
	how         TEXT NOT NULL  -- 'direct', 'list' or 'range'
);
`

// Write writes r as a snapshot file at path, creating path's
// directory when missing. It refuses to replace an existing file. The file is
// built under a temporary name in the same directory and appears at path
// only when complete and synced. The same release always gives the same
// bytes.
func Write(ctx context.Context, path string, r *codeset.Release) error {
	p, err := Prepare(ctx, path, r)
	if err != nil {
		return err
	}
	return p.Commit()
}

// Pending is a snapshot written and synced under a temporary name beside
// its path, not yet in place: Commit puts it there, Discard removes it.
// It holds the lock of its directory until then, so it must be ended by
// one or the other.
type Pending struct {
	path, tmp string
	unlock    func()
	done      bool
}

// Prepare is the first half of Write: it writes r under a temporary name
// beside path, which must not exist, and syncs it. A run that decides only
// later whether to store the release (after comparing it, say) prepares
// it meanwhile; a process killed before Commit leaves a temporary file
// the next writer in the directory removes.
func Prepare(ctx context.Context, path string, r *codeset.Release) (_ *Pending, err error) {
	if r == nil {
		return nil, fmt.Errorf("write snapshot %s: nil release", path)
	}
	if r.System == "" {
		return nil, fmt.Errorf("write snapshot %s: release has no system", path)
	}
	if err := codeset.CheckLabel(r.Label); err != nil {
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	codes := sortedCodes(r.Codes)
	for i := 1; i < len(codes); i++ {
		if codes[i].Code == codes[i-1].Code {
			return nil, fmt.Errorf("write snapshot %s: duplicate code %q", path, codes[i].Code)
		}
	}
	dir := filepath.Dir(path)
	if err := durable.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	// Under the lock, temporary snapshots in dir were left by runs that
	// were killed: remove them.
	unlock, err := durable.LockDir(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	if err := durable.RemoveLeftovers(dir, isSnapshotTemp); err != nil {
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("write snapshot %s: %w", path, durable.ErrNoReplace)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*"+snapshotTempExt)
	if err != nil {
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file private; a snapshot is for everyone to read.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}

	if err := fillSnapshot(ctx, tmp, r, codes); err != nil {
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if err := durable.SyncFile(tmp); err != nil {
		return nil, fmt.Errorf("write snapshot %s: %w", path, err)
	}
	return &Pending{path: path, tmp: tmp, unlock: unlock}, nil
}

// Commit puts the prepared snapshot in place, refusing to replace a file
// there, and syncs its directory.
func (p *Pending) Commit() (err error) {
	if p.done {
		return fmt.Errorf("write snapshot %s: already ended", p.path)
	}
	p.done = true
	defer p.unlock()
	defer func() {
		if err != nil {
			os.Remove(p.tmp)
		}
	}()
	if err := durable.LinkNoReplace(p.tmp, p.path); err != nil {
		return fmt.Errorf("write snapshot %s: %w", p.path, err)
	}
	if err := os.Remove(p.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write snapshot %s: %w", p.path, err)
	}
	if err := durable.SyncDir(filepath.Dir(p.path)); err != nil {
		return fmt.Errorf("write snapshot %s: %w", p.path, err)
	}
	return nil
}

// Discard removes the prepared snapshot; after Commit it does nothing.
func (p *Pending) Discard() {
	if p == nil || p.done {
		return
	}
	p.done = true
	os.Remove(p.tmp)
	p.unlock()
}

// snapshotTempExt ends the name of a snapshot being written, which also
// starts with ".": .2026.sqlite-123456.tmp.
const snapshotTempExt = ".tmp"

// isSnapshotTemp reports whether name is a snapshot being written.
func isSnapshotTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, snapshotTempExt)
}

// fillSnapshot creates the schema in the empty SQLite file at tmp and inserts
// the release, codes already sorted and unique.
func fillSnapshot(ctx context.Context, tmp string, r *codeset.Release, codes []codeset.Code) error {
	return dbfile.OnConn(ctx, tmp, dbfile.CreateQuery+"&_txlock=immediate", func(conn *sql.Conn) error {
		return conn.Raw(func(dc any) error { return fillRaw(ctx, dc, r, codes) })
	})
}

// fillRaw is fillSnapshot on the driver's connection dc: the statements
// that write a snapshot go to the driver directly, without database/sql's
// work around each call (argument conversion, connection bookkeeping),
// which is a large share of writing 100,000 rows. It does what
// dbfile.Create and then the inserts would, statement for statement, so
// the bytes written are the same.
func fillRaw(ctx context.Context, dc any, r *codeset.Release, codes []codeset.Code) error {
	tx, err := beginRaw(ctx, dc)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if _, err := tx.ExecContext(ctx, Schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", ApplicationID, SchemaVersion)); err != nil {
		return fmt.Errorf("mark database: %w", err)
	}

	effective := ""
	if !r.Effective.IsZero() {
		effective = r.Effective.Format(codeset.DateLayout)
	}
	declaredBy := ""
	if r.Declared != nil {
		declaredBy = r.Declared.Source
		if declaredBy == "" {
			return fmt.Errorf("declared changes without a source")
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO release (schema_version, system, label, effective, tool_version, code_count, declared_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		SchemaVersion, string(r.System), r.Label, effective, codeset.Version, len(codes), declaredBy); err != nil {
		return fmt.Errorf("insert release: %w", err)
	}
	for _, s := range r.Sources {
		if _, err := tx.ExecContext(ctx, `INSERT INTO source_files (name, sha256, bytes) VALUES (?, ?, ?)`, s.Name, s.SHA256, s.Bytes); err != nil {
			return fmt.Errorf("insert source file %s: %w", s.Name, err)
		}
	}
	for _, c := range sortedCategories(codeset.CategoryCounts(codes)) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO category_counts (category, codes) VALUES (?, ?)`, c.name, c.n); err != nil {
			return fmt.Errorf("insert category count %s: %w", c.name, err)
		}
	}

	bufs := newRowBuffers()
	hashes, err := insertRecords(ctx, tx, "codes", codes, bufs)
	if err != nil {
		return err
	}
	if err := insertHashes(ctx, tx, codes, hashes); err != nil {
		return err
	}
	headers := sortedCodes(r.Headers)
	if _, err := insertRecords(ctx, tx, "headers", headers, bufs); err != nil {
		return err
	}
	if r.Declared != nil {
		for _, d := range r.Declared.Changes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO declared_changes (code, kind, detail) VALUES (?, ?, ?)`, d.Code, string(d.Kind), d.Detail); err != nil {
				return fmt.Errorf("insert declared change %s %s: %w", d.Code, d.Kind, err)
			}
		}
	}
	if r.Declared != nil {
		for _, d := range r.Declared.Errata {
			if _, err := tx.ExecContext(ctx, `INSERT INTO declared_errata (code, kind, detail) VALUES (?, ?, ?)`, d.Code, string(d.Kind), d.Detail); err != nil {
				return fmt.Errorf("insert declared erratum %s: %w", d.Code, err)
			}
		}
		for _, c := range r.Declared.Counts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO declared_counts (part, from_file, from_count, to_file, to_count, added, deleted, revised) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				c.Part, c.FromFile, c.From, c.ToFile, c.To, c.Added, c.Deleted, c.Revised); err != nil {
				return fmt.Errorf("insert declared counts %s: %w", c.Part, err)
			}
		}
	}
	for _, x := range sortedLinks(r.Replacements) {
		eff := ""
		if !x.Effective.IsZero() {
			eff = x.Effective.Format(codeset.DateLayout)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO replacements (old, old_through, new, new_through, source, effective, how) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			x.Old, x.OldThrough, x.New, x.NewThrough, x.Source, eff, string(x.How)); err != nil {
			return fmt.Errorf("insert replacement %s -> %s: %w", x.Old, x.New, err)
		}
	}
	// No VACUUM: the file is new, nothing was ever deleted from it and
	// every table is filled in key order by one transaction, so its pages
	// depend only on the content already.
	if err := tx.commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rawTx is a transaction on a driver connection, with the methods of
// *sql.Tx the snapshot writer uses. Its statements run with an unwatched
// context (see dbfile.Unwatched): the writer checks for cancellation
// between batches.
type rawTx struct {
	conn driver.Conn
	tx   driver.Tx
	done bool
}

func beginRaw(ctx context.Context, dc any) (*rawTx, error) {
	conn, ok := dc.(driver.Conn)
	if !ok {
		return nil, fmt.Errorf("snapshot: driver connection %T", dc)
	}
	b, ok := dc.(driver.ConnBeginTx)
	if !ok {
		return nil, fmt.Errorf("snapshot: driver connection %T cannot begin", dc)
	}
	tx, err := b.BeginTx(dbfile.Unwatched(ctx), driver.TxOptions{})
	if err != nil {
		return nil, err
	}
	return &rawTx{conn: conn, tx: tx}, nil
}

func (t *rawTx) commit() error {
	t.done = true
	return t.tx.Commit()
}

func (t *rawTx) rollback() {
	if !t.done {
		t.done = true
		t.tx.Rollback()
	}
}

// ExecContext runs query with args once.
func (t *rawTx) ExecContext(ctx context.Context, query string, args ...any) (driver.Result, error) {
	st, err := t.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.ExecContext(ctx, args...)
}

// PrepareContext prepares query.
func (t *rawTx) PrepareContext(ctx context.Context, query string) (*rawStmt, error) {
	p, ok := t.conn.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("snapshot: driver connection %T cannot prepare", t.conn)
	}
	st, err := p.PrepareContext(dbfile.Unwatched(ctx), query)
	if err != nil {
		return nil, err
	}
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("snapshot: driver statement %T cannot exec", st)
	}
	return &rawStmt{st: st, ex: ex}, nil
}

// rawStmt is a prepared statement of a rawTx.
type rawStmt struct {
	st     driver.Stmt
	ex     driver.StmtExecContext
	args   []driver.NamedValue
	closed bool
}

// ExecContext runs the statement with args, converted as database/sql
// converts them for a driver (integers to int64, say).
func (s *rawStmt) ExecContext(ctx context.Context, args ...any) (driver.Result, error) {
	s.args = s.args[:0]
	for i, a := range args {
		switch a.(type) {
		case string, int64, []byte:
		default:
			v, err := driver.DefaultParameterConverter.ConvertValue(a)
			if err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
			a = v
		}
		s.args = append(s.args, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	return s.ex.ExecContext(dbfile.Unwatched(ctx), s.args)
}

// Close closes the statement; closing it again does nothing.
func (s *rawStmt) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.st.Close()
}

// sortedCodes returns codes sorted by code (stable): codes itself when it
// is sorted already, as ingest and snapshots give it, else a sorted copy.
// The release is never reordered in place.
func sortedCodes(codes []codeset.Code) []codeset.Code {
	if slices.IsSortedFunc(codes, func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) }) {
		return codes
	}
	codes = slices.Clone(codes)
	slices.SortStableFunc(codes, func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) })
	return codes
}

// insertBatch is how many rows one INSERT statement of insertRecords
// carries: a statement's overhead in database/sql and the driver is paid
// once per batch rather than once per row.
const insertBatch = 64

// insertRecords inserts records, sorted and unique, into table (codes or
// headers), and returns their row hashes (RowHash), in order.
//
// The rows are made ready for their statements (attributes and meta
// encoded, hashed, put into arguments: a quarter of the work) by a
// goroutine of their own, a few batches ahead of the statements, so
// that on two cores the connection does little but SQLite's own work.
// The statements and their order are the same either way.
func insertRecords(ctx context.Context, tx *rawTx, table string, records []codeset.Code, bufs *rowBuffers) ([]int64, error) {
	// A batch's statement writes a text column empty in all its rows
	// (or an attributes or meta object empty in all) as a literal rather
	// than a parameter, and takes every other text column from one BLOB
	// parameter that holds the batch's text (see fillBatch), cut by
	// offset and length (integers): the driver copies every text or BLOB parameter into C
	// memory and grows a Go slice for each, so 300 text parameters a
	// statement cost more allocation than the text itself. A BLOB cut
	// and cast to TEXT is the same bytes, stored as TEXT, as the text
	// bound, so the values stored are the same either way. Statements
	// are kept by the shape of their rows: '?' a parameter (the hash),
	// 's' a text cut from the BLOB, 'e' '' and 'o' '{}'.
	prepared := map[string]*rawStmt{}
	defer func() {
		for _, st := range prepared {
			st.Close()
		}
	}()
	statement := func(shape []byte) (*rawStmt, bool, error) {
		if st := prepared[string(shape)]; st != nil {
			return st, true, nil
		}
		var q strings.Builder
		q.WriteString(`INSERT INTO ` + table + ` (code, category, short, medium, long, status, attributes, meta, hash) VALUES `)
		for r := 0; r < len(shape); r += rowColumns {
			if r > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for k, b := range shape[r : r+rowColumns] {
				if k > 0 {
					q.WriteString(", ")
				}
				switch b {
				case 'e':
					q.WriteString(`''`)
				case 'o':
					q.WriteString(`'{}'`)
				case 's':
					// ?1 is the BLOB, the first argument.
					q.WriteString(`CAST(substr(?1, ?, ?) AS TEXT)`)
				default:
					q.WriteByte('?')
				}
			}
			q.WriteByte(')')
		}
		st, err := tx.PrepareContext(ctx, q.String())
		if err != nil {
			return nil, false, err
		}
		// Mixed shapes (HCPCS) make a statement per batch: keep a few.
		if len(prepared) < 16 {
			prepared[string(shape)] = st
			return st, true, nil
		}
		return st, false, nil
	}
	hashes := make([]int64, len(records))
	watched := ctx
	ctx = dbfile.Unwatched(ctx)
	ready := make(chan []*rowBatch, chunksAhead)
	stop := make(chan struct{})
	done := make(chan struct{})
	defer func() {
		close(stop)
		<-done // bufs is the next call's
	}()
	go func() {
		defer close(done)
		encodeBatches(table, records, hashes, ready, bufs, stop)
	}()
	for chunk := range ready {
		for _, b := range chunk {
			if err := watched.Err(); err != nil {
				return nil, err
			}
			if b.err != nil {
				return nil, b.err
			}
			batch := records[b.start:b.end]
			if table == "codes" {
				codeset.ReportProgress(watched, "storing", b.end, len(records))
			}
			stmt, kept, err := statement(b.shape)
			if err != nil {
				return nil, fmt.Errorf("prepare %s insert: %w", table, err)
			}
			_, err = stmt.ExecContext(ctx, b.args...)
			if !kept {
				stmt.Close()
			}
			if err != nil {
				return nil, fmt.Errorf("insert %s %s..%s: %w", table, batch[0].Code, batch[len(batch)-1].Code, err)
			}
			// The driver has copied the arguments: the batch can be
			// filled again.
			clear(b.args)
		}
		select {
		case bufs.free <- chunk:
		default:
		}
	}
	return hashes, nil
}

// rowBuffers is what the batches of insertRecords are made in, kept from
// one table to the next: the chunks of batches the statements are done
// with, and the integers of their arguments. One insertRecords uses it
// at a time.
type rowBuffers struct {
	free chan []*rowBatch
	ints boxedInts
}

func newRowBuffers() *rowBuffers {
	return &rowBuffers{free: make(chan []*rowBatch, chunksAhead+2)}
}

// rowColumns is the number of columns of a row of codes or headers.
const rowColumns = 9

// chunkBatches is how many batches of rows encodeBatches hands over at a
// time, and chunksAhead how many such chunks it makes ready before the
// statements take them: a hand-over per batch would cost more in waking
// goroutines than it saves, and more batches at a time hold more memory
// (a batch of HCPCS rows holds ~50 KB: its text and arguments).
const (
	chunkBatches = 8
	chunksAhead  = 2
)

// rowBatch is the rows records[start:end] of insertRecords ready for
// their statement: its shape (see insertRecords) and its arguments, or
// the error that stopped their encoding.
type rowBatch struct {
	start, end int
	shape      []byte
	args       []any
	// text is the batch's text columns, one after the other: the BLOB
	// its statement cuts them from, its first argument.
	text []byte
	keys []string // room to sort a map's keys in (appendAttrs)
	err  error
}

// encodeBatches makes the rows of records ready for insertRecords,
// insertBatch at a time and in order, sending them to ready chunkBatches
// batches at a time, and sets hashes[i] to the row hash of records[i].
// It ends, closing ready, after the last batch or a batch that carries
// an error, or when stop is closed. Chunks the statements are done with
// come back on free.
func encodeBatches(table string, records []codeset.Code, hashes []int64, ready chan<- []*rowBatch, bufs *rowBuffers, stop <-chan struct{}) {
	defer close(ready)
	var chunk []*rowBatch
	n := 0 // batches of chunk filled
	for start := 0; start < len(records); start += insertBatch {
		if chunk == nil {
			select {
			case chunk = <-bufs.free:
			default:
				chunk = make([]*rowBatch, 0, chunkBatches)
			}
			n = 0
		}
		if n == len(chunk) {
			chunk = append(chunk, &rowBatch{})
		}
		b := chunk[n]
		n++
		b.start, b.end = start, min(start+insertBatch, len(records))
		b.err = fillBatch(table, records, hashes, b, &bufs.ints)
		if n == chunkBatches || b.err != nil || b.end == len(records) {
			select {
			case ready <- chunk[:n]:
			case <-stop:
				return
			}
			if b.err != nil {
				return
			}
			chunk = nil
		}
	}
}

// fillBatch encodes the rows of b and sets their hashes. The text
// columns go one after the other into b.text, the statement's BLOB (its
// first argument), each cut by its 1-based offset and length. A column
// empty in every row of the batch (or '{}', for attributes and meta) is a
// literal for all of them: the shape is the batch's, not each row's, so
// that batches with an empty column here and there (HCPCS) share a few
// statements rather than each preparing its own.
func fillBatch(table string, records []codeset.Code, hashes []int64, b *rowBatch, ints *boxedInts) error {
	rows := records[b.start:b.end]
	// Which columns are used, and how much room the batch takes: its
	// buffers, kept from batch to batch, grow once.
	var used [rowColumns - 1]bool // all but the hash
	size, columns := 0, 0
	for i := range rows {
		c := &rows[i]
		for k, v := range [...]string{c.Code, c.Category, c.Short, c.Medium, c.Long, c.Status} {
			used[k] = used[k] || k == 0 || v != ""
			size += len(v)
		}
		used[6] = used[6] || len(c.Attrs) > 0
		used[7] = used[7] || len(c.Meta) > 0
		size += 4
		for k, v := range c.Attrs {
			size += len(k) + len(v) + 6
		}
		for _, f := range c.Meta {
			size += len(f.Key) + len(f.Value) + 6
		}
	}
	for _, u := range used {
		if u {
			columns++
		}
	}
	b.text = slices.Grow(b.text[:0], size)
	b.args = slices.Grow(b.args[:0], 1+len(rows)*(2*columns+1))
	b.shape = slices.Grow(b.shape[:0], len(rows)*rowColumns)
	b.args = append(b.args, nil) // b.text, once it holds the batch
	for i := range rows {
		c := &rows[i]
		for k, v := range [...]string{c.Code, c.Category, c.Short, c.Medium, c.Long, c.Status} {
			b.column(used[k], k, len(b.text), len(v), ints)
			b.text = append(b.text, v...)
		}
		at := len(b.text)
		var err error
		if b.text, err = appendAttrs(b.text, c.Attrs, &b.keys); err != nil {
			return fmt.Errorf("%s %s: %w", table, c.Code, err)
		}
		hashes[b.start+i] = rowHash(*c, b.text[at:])
		b.column(used[6], 6, at, len(b.text)-at, ints)
		at = len(b.text)
		if b.text, err = appendMeta(b.text, c.Meta); err != nil {
			return fmt.Errorf("%s %s: %w", table, c.Code, err)
		}
		b.column(used[7], 7, at, len(b.text)-at, ints)
		b.shape = append(b.shape, '?')
		b.args = append(b.args, hashes[b.start+i])
	}
	if b.text == nil {
		b.text = []byte{} // bound as an empty BLOB, not NULL
	}
	b.args[0] = b.text
	return nil
}

// column adds the row's column k, at offset at of b.text and n bytes
// long, to the batch's shape and arguments: cut from the BLOB when the
// batch uses the column, else the literal.
func (b *rowBatch) column(used bool, k, at, n int, ints *boxedInts) {
	switch {
	case used:
		b.shape = append(b.shape, 's')
		b.args = append(b.args, ints.box(at+1), ints.box(n))
	case k < 6:
		b.shape = append(b.shape, 'e')
	default:
		b.shape = append(b.shape, 'o')
	}
}

// boxedInts holds the integers 0, 1, 2 ... up to maxBoxed as driver
// arguments, made once for a writer's batches: an integer put in an
// interface is allocated (above 255), and a batch has two a text column.
type boxedInts []any

// maxBoxed bounds boxedInts: offsets in a batch of ordinary rows are
// below it, and a batch of huge values boxes the rest one by one.
const maxBoxed = 1 << 16

func (bi *boxedInts) box(n int) any {
	if n >= maxBoxed {
		return int64(n)
	}
	for len(*bi) <= n {
		*bi = append(*bi, int64(len(*bi)))
	}
	return (*bi)[n]
}

// hashChunk is the number of entries in a chunk of code_hashes.
const hashChunk = 4096

// insertHashes fills code_hashes from codes, sorted and unique, and their
// row hashes.
func insertHashes(ctx context.Context, tx *rawTx, codes []codeset.Code, hashes []int64) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO code_hashes (chunk, entries) VALUES (?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare code_hashes insert: %w", err)
	}
	defer stmt.Close()
	var buf []byte
	for start := 0; start < len(codes); start += hashChunk {
		buf = buf[:0]
		for i := start; i < min(start+hashChunk, len(codes)); i++ {
			code := codes[i].Code
			buf = binary.AppendUvarint(buf, uint64(len(code)))
			buf = append(buf, code...)
			buf = binary.BigEndian.AppendUint64(buf, uint64(hashes[i]))
		}
		if _, err := stmt.ExecContext(ctx, start/hashChunk, buf); err != nil {
			return fmt.Errorf("insert code hashes: %w", err)
		}
	}
	return stmt.Close()
}

// readRecords reads table (codes or headers) sorted by code.
func readRecords(ctx context.Context, db *sql.DB, path, table string, n int) ([]codeset.Code, error) {
	rows, err := db.QueryContext(ctx, `SELECT code, category, short, medium, long, status, attributes, meta FROM `+table+` ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	defer rows.Close()
	// n, the count the release row gives, saves the copies of a growing
	// slice: a 1M-code release's records are 107 MB.
	out := make([]codeset.Code, 0, max(n, 0))
	for rows.Next() {
		c, err := scanRecord(rows, path, table)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, nil // as without the room made for n
	}
	return out, nil
}

// sortedLinks returns links sorted and without exact repeats, so that the
// same release always gives the same bytes.
func sortedLinks(links []codeset.Replacement) []codeset.Replacement {
	out := slices.Clone(links)
	key := func(x codeset.Replacement) string {
		return strings.Join([]string{x.Old, x.OldThrough, x.New, x.NewThrough, x.Source, x.Effective.Format(codeset.DateLayout), string(x.How)}, "\x00")
	}
	slices.SortStableFunc(out, func(a, b codeset.Replacement) int { return strings.Compare(key(a), key(b)) })
	return slices.CompactFunc(out, func(a, b codeset.Replacement) bool { return key(a) == key(b) })
}

// readAdditive reads the declared_counts and replacements tables (added
// to schema 2 without a version change; every snapshot of schema 3 has
// them) and the declared_errata table (added to schema 3; older snapshots
// lack it and have no errata).
func readAdditive(ctx context.Context, db *sql.DB, path string, r *codeset.Release) error {
	have := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return fmt.Errorf("read snapshot %s: %w", path, err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("read snapshot %s: %w", path, err)
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read snapshot %s: %w", path, err)
	}
	if have["declared_counts"] && r.Declared != nil {
		rows, err := db.QueryContext(ctx, `SELECT part, from_file, from_count, to_file, to_count, added, deleted, revised FROM declared_counts ORDER BY part`)
		if err != nil {
			return fmt.Errorf("read snapshot %s: %w", path, err)
		}
		defer rows.Close()
		for rows.Next() {
			var c codeset.DeclaredCounts
			if err := rows.Scan(&c.Part, &c.FromFile, &c.From, &c.ToFile, &c.To, &c.Added, &c.Deleted, &c.Revised); err != nil {
				return fmt.Errorf("read snapshot %s: %w", path, err)
			}
			r.Declared.Counts = append(r.Declared.Counts, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read snapshot %s: %w", path, err)
		}
	}
	if have["declared_errata"] && r.Declared != nil {
		rows, err := db.QueryContext(ctx, `SELECT code, kind, detail FROM declared_errata ORDER BY rowid`)
		if err != nil {
			return fmt.Errorf("read snapshot %s: %w", path, err)
		}
		defer rows.Close()
		for rows.Next() {
			var d codeset.DeclaredChange
			if err := rows.Scan(&d.Code, &d.Kind, &d.Detail); err != nil {
				return fmt.Errorf("read snapshot %s: %w", path, err)
			}
			r.Declared.Errata = append(r.Declared.Errata, d)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read snapshot %s: %w", path, err)
		}
	}
	if have["replacements"] {
		rows, err := db.QueryContext(ctx, `SELECT old, old_through, new, new_through, source, effective, how FROM replacements ORDER BY rowid`)
		if err != nil {
			return fmt.Errorf("read snapshot %s: %w", path, err)
		}
		defer rows.Close()
		for rows.Next() {
			var x codeset.Replacement
			var eff, how string
			if err := rows.Scan(&x.Old, &x.OldThrough, &x.New, &x.NewThrough, &x.Source, &eff, &how); err != nil {
				return fmt.Errorf("read snapshot %s: %w", path, err)
			}
			if eff != "" {
				if x.Effective, err = time.Parse(codeset.DateLayout, eff); err != nil {
					return fmt.Errorf("read snapshot %s: replacement %s -> %s: bad effective date %q: want YYYY-MM-DD", path, x.Old, x.New, eff)
				}
			}
			x.How = codeset.Stated(how)
			r.Replacements = append(r.Replacements, x)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read snapshot %s: %w", path, err)
		}
	}
	return nil
}

// scanRecord scans one row of code, category, short, medium, long,
// status, attributes and meta. A *sql.Row without a row gives
// sql.ErrNoRows unwrapped.
func scanRecord(row interface{ Scan(...any) error }, path, table string) (codeset.Code, error) {
	var c codeset.Code
	var attrs, meta string
	err := row.Scan(&c.Code, &c.Category, &c.Short, &c.Medium, &c.Long, &c.Status, &attrs, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return c, err
	}
	if err != nil {
		return c, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	return c, decodeMaps(&c, attrs, meta, path, table)
}

// decodeMaps sets c's attributes and meta from their stored JSON, as
// every reader of a row of codes or headers does.
func decodeMaps(c *codeset.Code, attrs, meta, path, table string) (err error) {
	if c.Attrs, err = DecodeAttrs(attrs); err != nil {
		return fmt.Errorf("read snapshot %s: %s %s: bad attributes: %w", path, table, c.Code, err)
	}
	if c.Meta, err = DecodeMeta(meta); err != nil {
		return fmt.Errorf("read snapshot %s: %s %s: bad meta: %w", path, table, c.Code, err)
	}
	return nil
}

// readDeclared reads the declared changes, sorted by code and kind.
func readDeclared(ctx context.Context, db *sql.DB, path, source string) (*codeset.Declaration, error) {
	d := &codeset.Declaration{Source: source}
	rows, err := db.QueryContext(ctx, `SELECT code, kind, detail FROM declared_changes ORDER BY code, kind`)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c codeset.DeclaredChange
		if err := rows.Scan(&c.Code, &c.Kind, &c.Detail); err != nil {
			return nil, fmt.Errorf("read snapshot %s: %w", path, err)
		}
		d.Changes = append(d.Changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	return d, nil
}

// DecodeAttrs parses a JSON object written by EncodeAttrs; nil when empty.
func DecodeAttrs(s string) (map[string]string, error) {
	if s == "{}" {
		return nil, nil
	}
	if m, ok := decodePlain(s); ok {
		return m, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// DecodeMeta reads a record's meta as DecodeAttrs reads its attributes.
func DecodeMeta(s string) (codeset.Meta, error) {
	m, err := DecodeAttrs(s)
	return codeset.MetaOf(m), err
}

// appendMeta appends m as appendAttrs appends attributes: the same bytes
// as EncodeAttrs writes for the map of its fields.
func appendMeta(buf []byte, m codeset.Meta) ([]byte, error) {
	if len(m) == 0 {
		return append(buf, "{}"...), nil
	}
	for _, f := range m {
		if !plain(f.Key) || !plain(f.Value) {
			s, err := EncodeAttrs(m.Map())
			return append(buf, s...), err
		}
	}
	buf = append(buf, '{')
	for i, f := range m {
		buf = appendPlainField(buf, i == 0, f.Key, f.Value)
	}
	return append(buf, '}'), nil
}

// appendPlainField appends the field k:v of an object of plain strings
// (see plain), after a comma unless it is the first.
func appendPlainField(buf []byte, first bool, k, v string) []byte {
	if !first {
		buf = append(buf, ',')
	}
	buf = append(buf, '"')
	buf = append(buf, k...)
	buf = append(buf, `":"`...)
	buf = append(buf, v...)
	return append(buf, '"')
}

type categoryCount struct {
	name string
	n    int
}

// sortedCategories returns m's entries in category order (see
// compareCategories).
func sortedCategories(m map[string]int) []categoryCount {
	var out []categoryCount
	for k, v := range m {
		out = append(out, categoryCount{k, v})
	}
	slices.SortFunc(out, func(a, b categoryCount) int { return codeset.CompareCategories(a.name, b.name) })
	return out
}

// appendAttrs appends m to buf as EncodeAttrs renders it; keys is room
// to sort the keys in, kept from call to call.
func appendAttrs(buf []byte, m map[string]string, keys *[]string) ([]byte, error) {
	if len(m) == 0 {
		return append(buf, "{}"...), nil
	}
	ks := (*keys)[:0]
	plainAll := true
	for k, v := range m {
		plainAll = plainAll && plain(k) && plain(v)
		ks = append(ks, k)
	}
	*keys = ks
	if !plainAll {
		s, err := EncodeAttrs(m)
		return append(buf, s...), err
	}
	slices.Sort(ks)
	buf = append(buf, '{')
	for i, k := range ks {
		buf = appendPlainField(buf, i == 0, k, m[k])
	}
	return append(buf, '}'), nil
}

// EncodeAttrs renders attributes as a JSON object with sorted keys.
func EncodeAttrs(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	if s, ok := encodePlain(m); ok {
		return s, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Read reads the whole release stored at path, codes sorted by code.
// Attrs is nil for codes without attributes and Sources is nil when the
// release recorded none.
func Read(ctx context.Context, path string) (*codeset.Release, error) {
	// One pass over the file, each page read about once: unmapped, so
	// that the pages read do not stay resident beside the records made
	// of them (a 1M-code snapshot is some 116 MB).
	db, err := openSnapshotWith(ctx, path, dbfile.OpenReadOnlyUnmapped)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	info, err := readInfo(ctx, db, path)
	if err != nil {
		return nil, err
	}
	r := &codeset.Release{
		System:    info.System,
		Label:     info.Label,
		Effective: info.Effective,
		Sources:   info.Sources,
	}
	if r.Codes, err = readRecords(ctx, db, path, "codes", info.Codes); err != nil {
		return nil, err
	}
	if r.Headers, err = readRecords(ctx, db, path, "headers", 0); err != nil {
		return nil, err
	}
	if info.DeclaredBy != "" {
		if r.Declared, err = readDeclared(ctx, db, path, info.DeclaredBy); err != nil {
			return nil, err
		}
	}
	if err := readAdditive(ctx, db, path, r); err != nil {
		return nil, err
	}
	if len(r.Codes) != info.Codes {
		return nil, fmt.Errorf("read snapshot %s: holds %d codes, release row says %d", path, len(r.Codes), info.Codes)
	}
	return r, db.Close()
}

// Info describes a snapshot without its codes.
type Info struct {
	System    codeset.System
	Label     string
	Effective time.Time // zero when the release recorded no date
	Sources   []codeset.SourceFile
	// Codes is the number of code records.
	Codes int
	// Categories counts codes per non-empty category; never nil.
	Categories map[string]int
	// ToolVersion is the codeset version that wrote the snapshot.
	ToolVersion string
	// DeclaredBy names the source of the publisher's declared changes, or
	// is empty when the release has none.
	DeclaredBy    string
	SchemaVersion int
	// Path is the snapshot file the Info was read from.
	Path string
}

// ReadInfo reads the metadata of the snapshot at path without
// loading its codes.
func ReadInfo(ctx context.Context, path string) (Info, error) {
	db, err := openSnapshot(ctx, path)
	if err != nil {
		return Info{}, err
	}
	defer db.Close()
	info, err := readInfo(ctx, db, path)
	if err != nil {
		return Info{}, err
	}
	return info, db.Close()
}

// openSnapshot opens path read-only and checks that it is a codeset snapshot
// of a schema version this package reads.
func openSnapshot(ctx context.Context, path string) (*sql.DB, error) {
	return openSnapshotWith(ctx, path, dbfile.OpenReadOnly)
}

// openSnapshotWith is openSnapshot opening the file with open.
func openSnapshotWith(ctx context.Context, path string, open func(path, what string) (*sql.DB, error)) (*sql.DB, error) {
	db, err := open(path, "snapshot")
	if err != nil {
		return nil, err
	}
	appID, version, err := dbfile.Mark(ctx, db)
	switch {
	case errors.Is(err, dbfile.ErrNotADB):
		err = fmt.Errorf("read snapshot %s: not a codeset snapshot: %w", path, err)
	case err != nil:
		err = fmt.Errorf("read snapshot %s: %w", path, err)
	case appID != ApplicationID:
		err = fmt.Errorf("read snapshot %s: not a codeset snapshot: SQLite application_id is %#x, want %#x", path, appID, ApplicationID)
	case version != SchemaVersion:
		err = fmt.Errorf("read snapshot %s: schema version %d, this codeset reads version %d", path, version, SchemaVersion)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// readInfo reads the release row, source files and category counts.
func readInfo(ctx context.Context, db *sql.DB, path string) (Info, error) {
	info := Info{Path: path, Categories: map[string]int{}}
	var sys, effective string
	err := db.QueryRowContext(ctx, `SELECT schema_version, system, label, effective, tool_version, code_count, declared_by FROM release`).
		Scan(&info.SchemaVersion, &sys, &info.Label, &effective, &info.ToolVersion, &info.Codes, &info.DeclaredBy)
	if errors.Is(err, sql.ErrNoRows) {
		return Info{}, fmt.Errorf("read snapshot %s: no release row", path)
	}
	if err != nil {
		return Info{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	info.System = codeset.System(sys)
	if effective != "" {
		info.Effective, err = time.Parse(codeset.DateLayout, effective)
		if err != nil {
			return Info{}, fmt.Errorf("read snapshot %s: bad effective date %q: want YYYY-MM-DD", path, effective)
		}
	}

	rows, err := db.QueryContext(ctx, `SELECT name, sha256, bytes FROM source_files ORDER BY rowid`)
	if err != nil {
		return Info{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s codeset.SourceFile
		if err := rows.Scan(&s.Name, &s.SHA256, &s.Bytes); err != nil {
			return Info{}, fmt.Errorf("read snapshot %s: %w", path, err)
		}
		info.Sources = append(info.Sources, s)
	}
	if err := rows.Err(); err != nil {
		return Info{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	rows.Close()

	rows, err = db.QueryContext(ctx, `SELECT category, codes FROM category_counts`)
	if err != nil {
		return Info{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var cat string
		var n int
		if err := rows.Scan(&cat, &n); err != nil {
			return Info{}, fmt.Errorf("read snapshot %s: %w", path, err)
		}
		info.Categories[cat] = n
	}
	if err := rows.Err(); err != nil {
		return Info{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	return info, nil
}

// ErrNoCode reports a code that a release (or no release of a system) holds.
var ErrNoCode = codeset.NewError(codeset.ErrNotFound, "no such code")

// ReadCode reads one code record from the snapshot at path. A code the
// release does not hold gives an error wrapping ErrNoCode.
func ReadCode(ctx context.Context, path, code string) (codeset.Code, error) {
	r, err := OpenReader(ctx, path)
	if err != nil {
		return codeset.Code{}, err
	}
	defer r.Close()
	return r.Code(ctx, code)
}

// Reader is a snapshot kept open to look codes up, with its statement
// prepared: for a server answering many requests. It is safe for
// concurrent use.
type Reader struct {
	db     *sql.DB
	path   string
	lookup *sql.Stmt
	// record reads a whole row (with meta) of codes, then of headers.
	record [2]*sql.Stmt
	// parent finds the longest of up to parentPrefixes codes that is a
	// header row and not a code.
	parent *sql.Stmt
}

// parentPrefixes is how many prefixes of a code Parent asks about in one
// query; longer codes are looked up prefix by prefix.
const parentPrefixes = 16

// OpenReader opens the snapshot at path for Code.
func OpenReader(ctx context.Context, path string) (*Reader, error) {
	db, err := openSnapshot(ctx, path)
	if err != nil {
		return nil, err
	}
	stmt, err := db.PrepareContext(ctx, `SELECT code, category, short, medium, long, status, attributes FROM codes WHERE code = ?`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	r := &Reader{db: db, path: path, lookup: stmt}
	// The prefixes are cut by SQLite from the one code bound (codes are
	// ASCII, so its characters are bytes): binding a value costs more
	// than the query itself. A prefix as long as the code is the code,
	// which the length test leaves out.
	in := make([]string, parentPrefixes)
	for i := range in {
		in[i] = fmt.Sprintf("substr(?1, 1, %d)", i+1)
	}
	list := strings.Join(in, ", ")
	if r.parent, err = db.PrepareContext(ctx, `SELECT h.code FROM headers AS h WHERE h.code IN (`+list+`) AND length(h.code) < length(?1) AND NOT EXISTS (SELECT 1 FROM codes WHERE codes.code = h.code) ORDER BY length(h.code) DESC LIMIT 1`); err != nil {
		r.Close()
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	for i, table := range []string{"codes", "headers"} {
		if r.record[i], err = db.PrepareContext(ctx, `SELECT code, category, short, medium, long, status, attributes, meta FROM `+table+` WHERE code = ?`); err != nil {
			r.Close()
			return nil, fmt.Errorf("read snapshot %s: %w", path, err)
		}
	}
	return r, nil
}

// Record reads one record: a code, or a header row (header true) such as
// ICD-10's non-billable categories, with its meta. A code the release
// holds in neither table gives an error wrapping ErrNoCode.
func (r *Reader) Record(ctx context.Context, code string) (c codeset.Code, header bool, err error) {
	for i, table := range []string{"codes", "headers"} {
		c, err := scanRecord(r.record[i].QueryRowContext(ctx, code), r.path, table)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return codeset.Code{}, false, err
		}
		return c, i == 1, nil
	}
	return codeset.Code{}, false, fmt.Errorf("%w: %q", ErrNoCode, code)
}

// Parent returns the header row above code: the longest proper prefix of
// code that the release holds as a header and not as a code, or "" when
// there is none. It is what Record of each prefix, longest first, finds.
func (r *Reader) Parent(ctx context.Context, code string) (string, error) {
	if len(code)-1 > parentPrefixes {
		for n := len(code) - 1; n >= 1; n-- {
			_, header, err := r.Record(ctx, code[:n])
			if errors.Is(err, ErrNoCode) {
				continue
			}
			if err != nil || header {
				return code[:n], err
			}
		}
		return "", nil
	}
	var p string
	err := r.parent.QueryRowContext(ctx, code).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read snapshot %s: %w", r.path, err)
	}
	return p, nil
}

// Code reads one code record. A code the release does not hold gives an
// error wrapping ErrNoCode.
func (r *Reader) Code(ctx context.Context, code string) (codeset.Code, error) {
	var c codeset.Code
	var attrs string
	err := r.lookup.QueryRowContext(ctx, code).Scan(&c.Code, &c.Category, &c.Short, &c.Medium, &c.Long, &c.Status, &attrs)
	if errors.Is(err, sql.ErrNoRows) {
		return codeset.Code{}, fmt.Errorf("%w: %q", ErrNoCode, code)
	}
	if err != nil {
		return codeset.Code{}, fmt.Errorf("read snapshot %s: %w", r.path, err)
	}
	if c.Attrs, err = DecodeAttrs(attrs); err != nil {
		return codeset.Code{}, fmt.Errorf("read snapshot %s: code %s: bad attributes: %w", r.path, code, err)
	}
	return c, nil
}

// Close closes the snapshot.
func (r *Reader) Close() error {
	for _, s := range append([]*sql.Stmt{r.lookup, r.parent}, r.record[:]...) {
		if s != nil {
			s.Close()
		}
	}
	return r.db.Close()
}
