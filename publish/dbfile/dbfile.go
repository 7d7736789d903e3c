// Package dbfile is codeset's one home of modernc.org/sqlite: it opens the
// SQLite files codeset writes and reads (snapshots, history databases, the
// run ledger) with the options each use needs, and classifies SQLite errors.
// Everything else talks database/sql.
package dbfile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
)

// SQLite's primary result codes that callers act on.
const (
	sqliteBusy   = 5
	sqliteNotADB = 26
)

// DSN returns a modernc.org/sqlite URI filename for path with the given
// query (pragmas and options). Characters that mean something in a URI are
// escaped so any path works.
func DSN(path, query string) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + p + "?" + query
}

// Open opens the SQLite file at path with the given DSN query.
func Open(path, query string) (*sql.DB, error) {
	return sql.Open("sqlite", DSN(path, query))
}

// Create opens the private, empty SQLite file at path for writing and, in
// the transaction it returns, creates schema and marks the file with appID
// (PRAGMA application_id) and version (PRAGMA user_version). The caller
// commits and closes. Journaling and syncing inside SQLite are off: the file
// is private until its writer renames it into place, and the writer syncs
// the whole file once at the end.
func Create(ctx context.Context, path, schema string, appID, version int) (*sql.DB, *sql.Tx, error) {
	db, err := Open(path, CreateQuery+"&_txlock=immediate")
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		tx.Rollback()
		db.Close()
		return nil, nil, fmt.Errorf("create schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", appID, version)); err != nil {
		tx.Rollback()
		db.Close()
		return nil, nil, fmt.Errorf("mark database: %w", err)
	}
	return db, tx, nil
}

// CreateQuery is the DSN query of a private file being written (see
// Create): no journal, no syncing inside SQLite, no locking. The page cache
// keeps its default size: with modernc.org/sqlite every cached page is an
// allocation of its own, and a larger cache costs more in allocating and
// freeing pages than it saves in writing them out.
const CreateQuery = "_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=locking_mode(EXCLUSIVE)"

// Unwatched returns a context that carries ctx's values but is never
// done. database/sql hands a context that can be cancelled to the
// modernc.org/sqlite driver, which then watches it from a goroutine for
// the length of every statement: a cost that dominates a loop of small
// inserts. Such loops pass Unwatched(ctx) to each statement and check
// ctx.Err() themselves every so often.
func Unwatched(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// OpenReadOnly opens the SQLite file at path read-only, as a file that no
// one changes while it is open; what names the kind of file in errors.
func OpenReadOnly(path, what string) (*sql.DB, error) {
	return openReadOnly(path, what, "&_pragma=mmap_size(1073741824)")
}

// OpenReadOnlyUnmapped is OpenReadOnly without the memory map: pages are
// copied by read(2) into SQLite's small page cache. For one pass over a
// large file that reads each page about once (a comparison of two
// snapshots), where every mapped page read would stay in the process's
// resident memory.
func OpenReadOnlyUnmapped(path, what string) (*sql.DB, error) {
	return openReadOnly(path, what, "")
}

func openReadOnly(path, what, mmap string) (*sql.DB, error) {
	// SQLite would report a missing file as "unable to open database
	// file"; stat first so the error says what happened.
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s %s: not a regular file", what, path)
	}
	// immutable: codeset never changes a file it reads in place (snapshots
	// are written once; history databases are replaced by rename), so
	// SQLite may skip locking and change detection, which would otherwise
	// cost system calls on every statement.
	// OpenReadOnly reads pages through a memory map rather than copying
	// them by read(2).
	db, err := Open(path, "mode=ro&immutable=1"+mmap)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// Mark reads the application_id and user_version of an open database. A
// file that is not a SQLite database gives an error wrapping ErrNotADB.
func Mark(ctx context.Context, db *sql.DB) (appID, version int, err error) {
	err = db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID)
	if err == nil {
		err = db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version)
	}
	var serr *sqlite.Error
	if errors.As(err, &serr) && serr.Code()&0xff == sqliteNotADB {
		return 0, 0, ErrNotADB
	}
	return appID, version, err
}

// ErrNotADB reports a file that is not a SQLite database.
var ErrNotADB = errors.New("not a SQLite database")

// IsBusy reports whether err is SQLite's SQLITE_BUSY: another connection
// holds a lock that did not come free in time.
func IsBusy(err error) bool {
	var serr *sqlite.Error
	return errors.As(err, &serr) && serr.Code()&0xff == sqliteBusy
}

// OnConn opens the database at path (Open with query) on one connection,
// runs fn on it and closes both, reporting the first error: for a writer
// whose statements must all go through one connection, in order.
func OnConn(ctx context.Context, path, query string, fn func(*sql.Conn) error) error {
	db, err := Open(path, query)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := fn(conn); err != nil {
		return err
	}
	if err := conn.Close(); err != nil {
		return err
	}
	return db.Close()
}
