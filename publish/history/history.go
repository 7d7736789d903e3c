package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/dbfile"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/snapshot"
)

// applicationID marks a history database (PRAGMA application_id):
// "CSHI" in ASCII.
const applicationID = 0x43534849

// Schema is the SQL that creates an empty history database.
const Schema = `
-- The releases the history was built from, oldest first.
CREATE TABLE releases (
	seq       INTEGER PRIMARY KEY, -- 1 for the oldest release
	label     TEXT NOT NULL UNIQUE,
	effective TEXT NOT NULL,       -- YYYY-MM-DD or ''
	codes     INTEGER NOT NULL,
	snapshot  TEXT NOT NULL,       -- SHA-256 of the release's snapshot file, lower-case hex
	first_id  INTEGER NOT NULL     -- records.id of the first code the release brought: those it brought have ids from here to the next release's first_id
);

-- Every code ever seen, with the record from the last release that had it.
-- A code keeps its row (and id) for good: a release adds rows for the codes
-- it brings and changes the rows of the codes it changes, so that the
-- history grows by the changes of each release, not by all its codes.
CREATE TABLE records (
	id         INTEGER PRIMARY KEY, -- from 1, in the order codes were first seen (code order within a release); the search rowid
	code       TEXT NOT NULL UNIQUE,
	first_seq  INTEGER NOT NULL,    -- releases.seq of the first release that had the code
	last_seq   INTEGER NOT NULL,    -- releases.seq of the last release that had it; 0 while the latest release has it
	category   TEXT NOT NULL,
	short      TEXT NOT NULL,
	medium     TEXT NOT NULL,
	long       TEXT NOT NULL,
	status     TEXT NOT NULL,
	attributes TEXT NOT NULL -- JSON object, sorted keys
);

-- records with the first and last release that had each code by label.
CREATE VIEW codes AS
SELECT r.id AS id, r.code AS code, f.label AS first_release,
	coalesce(l.label, (SELECT label FROM releases ORDER BY seq DESC LIMIT 1)) AS last_release,
	r.category AS category, r.short AS short, r.medium AS medium, r.long AS long,
	r.status AS status, r.attributes AS attributes
FROM records r JOIN releases f ON f.seq = r.first_seq LEFT JOIN releases l ON l.seq = r.last_seq;

-- Every change of every code: one row per changed field, or one row with
-- field '' for a change without fields (added, deleted).
CREATE TABLE events (
	code    TEXT NOT NULL,
	seq     INTEGER NOT NULL, -- releases.seq of the release that made the change
	release TEXT NOT NULL,
	change  TEXT NOT NULL,    -- added, deleted, revised, cosmetic, reactivated
	field   TEXT NOT NULL,
	before  TEXT NOT NULL,
	after   TEXT NOT NULL,
	PRIMARY KEY (code, seq, field)
) WITHOUT ROWID;

-- The publisher's replacement links as the changelogs show them: for each
-- release, the links of its transition from the release before (ranges
-- expanded, only links that touch a change of that transition). Together
-- they form the graph old -> new across all releases. A link naming a code
-- in neither release of its transition is not kept here but reported in
-- replacement_problems.
CREATE TABLE replacements (
	old       TEXT NOT NULL,
	new       TEXT NOT NULL,
	seq       INTEGER NOT NULL, -- releases.seq of the release whose transition shows the link
	release   TEXT NOT NULL,
	source    TEXT NOT NULL,    -- the file that states the link
	effective TEXT NOT NULL,    -- YYYY-MM-DD or ''
	how       TEXT NOT NULL,    -- direct, list or range
	PRIMARY KEY (old, new, seq, source)
) WITHOUT ROWID;

-- What does not add up in those links, reported rather than kept as links
-- silently: a link naming a code in neither release of its transition
-- (unknown-code), a replacement deleted in the same release
-- (replacement-deleted). Deleted codes without a replacement named are not
-- listed here; the changelogs show them.
CREATE TABLE replacement_problems (
	code    TEXT NOT NULL,    -- the changed code the problem is about
	seq     INTEGER NOT NULL,
	release TEXT NOT NULL,
	problem TEXT NOT NULL,    -- unknown-code or replacement-deleted
	other   TEXT NOT NULL,    -- the other code (or first-last range) of the link
	source  TEXT NOT NULL,
	reason  TEXT NOT NULL
);

-- Full-text index of the descriptors in records (an external-content table:
-- the text itself is stored once, in records), kept up to date row by row.
CREATE VIRTUAL TABLE search USING fts5(short, medium, long, content='records', content_rowid='id');
`

// openHistory opens a history database read-only, memory-mapped.
func openHistory(ctx context.Context, path string) (*sql.DB, error) {
	return openHistoryWith(ctx, path, dbfile.OpenReadOnly)
}

// openHistoryWith is openHistory, opening the file with open
// (dbfile.OpenReadOnly or dbfile.OpenReadOnlyUnmapped).
func openHistoryWith(ctx context.Context, path string, open func(path, what string) (*sql.DB, error)) (*sql.DB, error) {
	db, err := open(path, "history")
	if err != nil {
		return nil, err
	}
	var appID int
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		db.Close()
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	if appID != applicationID {
		db.Close()
		return nil, fmt.Errorf("read history %s: not a codeset history database", path)
	}
	return db, nil
}

// Read returns the history of code from the history database at
// path. A code no release had gives an error wrapping snapshot.ErrNoCode.
func Read(ctx context.Context, path, code string) (*format.CodeHistory, error) {
	r, err := OpenReader(ctx, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Read(ctx, code)
}

// Search finds up to limit codes whose descriptors hold every word
// of query (the last word may be a prefix), best match first, using the
// full-text index of the history database at path.
//
// Every word is a required FTS5 term and the cost grows with their number,
// so a query of more than MaxSearchWords words is refused (an error of kind
// codeset.ErrInvalid), and one search may take at most SearchTimeout: a
// slower one stops and is refused too.
func Search(ctx context.Context, path, query string, limit int) ([]format.SearchHit, error) {
	match, n := ftsQuery(query)
	if n > MaxSearchWords {
		return nil, codeset.NewError(codeset.ErrInvalid, "search: %d words: at most %d", n, MaxSearchWords)
	}
	if match == "" {
		return []format.SearchHit{}, nil
	}
	r, err := OpenReader(ctx, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Search(ctx, query, limit)
}

// Reader is a history database kept open with its statements prepared:
// for a server answering many requests. It is safe for concurrent use.
type Reader struct {
	db                    *sql.DB
	path                  string
	record, search, valid *sql.Stmt
	graph                 linkGraph
}

// OpenReader opens the history database at path for Read and Search.
func OpenReader(ctx context.Context, path string) (*Reader, error) {
	db, err := openHistory(ctx, path)
	if err != nil {
		return nil, err
	}
	r := &Reader{db: db, path: path}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&r.record, `SELECT c.first_release, c.last_release, c.category, c.short, c.medium, c.long, c.status, c.attributes,
			e.release, e.change, e.field, e.before, e.after
		FROM codes AS c LEFT JOIN events AS e ON e.code = c.code
		WHERE c.code = ? ORDER BY e.seq, e.field`},
		{&r.valid, `SELECT last_release, status FROM codes WHERE code = ?`},
		{&r.search, `
		SELECT c.code, c.category, c.short, c.medium, c.long, c.last_release
		FROM search JOIN codes c ON c.id = search.rowid
		WHERE search MATCH ? ORDER BY search.rank, c.code LIMIT ?`},
	} {
		if *p.stmt, err = db.PrepareContext(ctx, p.sql); err != nil {
			r.Close()
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
	}
	return r, nil
}

// Close closes the database.
func (r *Reader) Close() error {
	for _, s := range []*sql.Stmt{r.record, r.search, r.valid} {
		if s != nil {
			s.Close()
		}
	}
	return r.db.Close()
}

// Read returns the history of code. A code no release had gives an error
// wrapping snapshot.ErrNoCode.
func (r *Reader) Read(ctx context.Context, code string) (*format.CodeHistory, error) {
	path := r.path
	h := &format.CodeHistory{Code: code, Events: []format.HistoryEvent{}}
	var attrs string
	rec := &h.Record
	// One query: the code's row, repeated beside each of its events (or
	// once with no event).
	rows, err := r.record.QueryContext(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var rel, change, field, before, after sql.NullString
		if err := rows.Scan(&h.FirstRelease, &h.LastRelease, &rec.Category, &rec.Short, &rec.Medium, &rec.Long, &rec.Status, &attrs,
			&rel, &change, &field, &before, &after); err != nil {
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
		found = true
		if !rel.Valid {
			continue
		}
		n := len(h.Events)
		if n == 0 || h.Events[n-1].Release != rel.String {
			h.Events = append(h.Events, format.HistoryEvent{Release: rel.String, Change: codeset.ChangeKind(change.String), Fields: map[string]codeset.FieldChange{}})
			n++
		}
		if field.String != "" {
			h.Events[n-1].Fields[field.String] = codeset.FieldChange{Before: before.String, After: after.String}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	if !found {
		return nil, fmt.Errorf("%w: %q", snapshot.ErrNoCode, code)
	}
	if err := json.Unmarshal([]byte(attrs), &rec.Attributes); err != nil {
		return nil, fmt.Errorf("read history %s: code %s: bad attributes: %w", path, code, err)
	}
	if err := r.readLinks(ctx, h); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	return h, nil
}

// Search finds up to limit codes whose descriptors hold every word of
// query (the last word may be a prefix), best match first, within the
// caps of the package's Search (MaxSearchWords, SearchTimeout).
func (r *Reader) Search(ctx context.Context, query string, limit int) ([]format.SearchHit, error) {
	match, n := ftsQuery(query)
	if n > MaxSearchWords {
		return nil, codeset.NewError(codeset.ErrInvalid, "search: %d words: at most %d", n, MaxSearchWords)
	}
	if match == "" {
		return []format.SearchHit{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, SearchTimeout)
	defer cancel()
	hits, err := r.search1(ctx, match, limit)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, codeset.NewError(codeset.ErrInvalid, "search: took longer than %v: use fewer or more specific words", SearchTimeout)
	}
	return hits, err
}

// The caps of one search.
const (
	MaxSearchWords = 16
	SearchTimeout  = 2 * time.Second
)

func (r *Reader) search1(ctx context.Context, match string, limit int) ([]format.SearchHit, error) {
	hits := []format.SearchHit{}
	rows, err := r.search.QueryContext(ctx, match, limit)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", r.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h format.SearchHit
		var c codeset.Code
		if err := rows.Scan(&h.Code, &h.Category, &c.Short, &c.Medium, &c.Long, &h.LastRelease); err != nil {
			return nil, fmt.Errorf("search %s: %w", r.path, err)
		}
		h.Description = c.Description()
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %s: %w", r.path, err)
	}
	return hits, nil
}

// ftsQuery turns what a person typed into an FTS5 query: each word quoted
// (so FTS5 syntax in the input means nothing), all words required, the last
// one matched as a prefix.
// It also returns the number of words, without building a query when there
// are more than MaxSearchWords.
func ftsQuery(q string) (string, int) {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 || len(words) > MaxSearchWords {
		return "", len(words)
	}
	for i, w := range words {
		words[i] = `"` + w + `"`
	}
	words[len(words)-1] += "*"
	return strings.Join(words, " "), len(words)
}
