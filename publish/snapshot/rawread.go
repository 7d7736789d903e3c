package snapshot

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/dbfile"
)

// rawConn runs fn on the driver's connection of db, so that a comparison
// reads its rows without database/sql's work around each one (its locks,
// the conversion of every column into its destination), a large share of
// reading a few thousand rows.
func rawConn(ctx context.Context, db *sql.DB, path string, fn func(q rawQuerier) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read snapshot %s: %w", path, err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		p, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("read snapshot %s: driver connection %T cannot prepare", path, dc)
		}
		return fn(rawQuerier{ctx: ctx, conn: p, path: path})
	})
}

// rawQuerier prepares and runs queries on a driver connection. Its
// statements run unwatched (see dbfile.Unwatched); its callers check for
// cancellation between batches.
type rawQuerier struct {
	ctx  context.Context
	conn driver.ConnPrepareContext
	path string
}

// prepare prepares query.
func (q rawQuerier) prepare(query string) (*rawQuery, error) {
	st, err := q.conn.PrepareContext(dbfile.Unwatched(q.ctx), query)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", q.path, err)
	}
	sq, ok := st.(driver.StmtQueryContext)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("read snapshot %s: driver statement %T cannot query", q.path, st)
	}
	return &rawQuery{st: st, q: sq, path: q.path, ctx: q.ctx}, nil
}

// rawQuery is a prepared statement.
type rawQuery struct {
	st   driver.Stmt
	q    driver.StmtQueryContext
	path string
	ctx  context.Context
	dest []driver.Value
}

func (r *rawQuery) close() { r.st.Close() }

// each runs the statement with args and calls fn with the columns of each
// row; they are valid until fn returns, but a []byte among them is the
// row's own copy (the driver copies every blob it returns).
func (r *rawQuery) each(args []driver.NamedValue, fn func(cols []driver.Value) error) error {
	rows, err := r.q.QueryContext(dbfile.Unwatched(r.ctx), args)
	if err != nil {
		return fmt.Errorf("read snapshot %s: %w", r.path, err)
	}
	n := len(rows.Columns())
	if len(r.dest) < n {
		r.dest = make([]driver.Value, n)
	}
	dest := r.dest[:n]
	for {
		err := rows.Next(dest)
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = fn(dest)
		}
		if err != nil {
			rows.Close()
			var known *rawError
			if errors.As(err, &known) {
				return known.err
			}
			return fmt.Errorf("read snapshot %s: %w", r.path, err)
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read snapshot %s: %w", r.path, err)
	}
	return nil
}

// rawError carries an error of fn out of each as it is: it already names
// the snapshot.
type rawError struct{ err error }

func (e *rawError) Error() string { return e.err.Error() }

// recordOf makes a record of the columns code, category, short, medium,
// long, status, attributes and meta of a row of table, as scanRecord
// does.
func recordOf(v []driver.Value, path, table string) (codeset.Code, error) {
	var s [8]string
	for i, x := range v[:8] {
		switch x := x.(type) {
		case string:
			s[i] = x
		case []byte:
			s[i] = string(x)
		default:
			return codeset.Code{}, &rawError{fmt.Errorf("read snapshot %s: %s %v: column %d holds %T, not text", path, table, v[0], i+1, x)}
		}
	}
	c := codeset.Code{Code: s[0], Category: s[1], Short: s[2], Medium: s[3], Long: s[4], Status: s[5]}
	if err := decodeMaps(&c, s[6], s[7], path, table); err != nil {
		return c, &rawError{err}
	}
	return c, nil
}
