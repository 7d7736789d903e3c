package snapshot

import (
	"context"
	"fmt"
	"strings"

	"github.com/codeset/codeset"
)

// ReadRecord reads one record from the snapshot at path: a code, or a
// header row (header true) such as ICD-10's non-billable categories. A code
// the release holds in neither table gives an error wrapping ErrNoCode.
func ReadRecord(ctx context.Context, path, code string) (c codeset.Code, header bool, err error) {
	r, err := OpenReader(ctx, path)
	if err != nil {
		return codeset.Code{}, false, err
	}
	defer r.Close()
	return r.Record(ctx, code)
}

// Query selects records of a snapshot for Find.
type Query struct {
	// Text: every word must appear in a descriptor (case-insensitive),
	// or the whole text, as a stored code, must start the code. Empty
	// matches every record.
	Text string
	// Prefix, when set, is a stored code the record's code must start with
	// (or equal), whatever Text says.
	Prefix string
	// ActiveOnly leaves out codes the publisher ended (status
	// discontinued).
	ActiveOnly bool
	// Headers includes the header rows as well as the codes.
	Headers bool
	// Offset and Limit page the records, in code order; Limit 0 counts only.
	Offset, Limit int
}

// Found is one record found by Find.
type Found struct {
	Code   codeset.Code
	Header bool
}

// Find returns the total number of records of the snapshot at path that q
// selects, and the page of them q asks for, in code order.
func Find(ctx context.Context, path string, q Query) (total int, page []Found, err error) {
	db, err := openSnapshot(ctx, path)
	if err != nil {
		return 0, nil, err
	}
	defer db.Close()
	var where []string
	var args []any
	if words := strings.Fields(strings.ToLower(q.Text)); len(words) > 0 {
		var all []string
		for _, w := range words {
			all = append(all, `lower(short || ' ' || medium || ' ' || long) LIKE ? ESCAPE '\'`)
			args = append(args, "%"+likeEscape(w)+"%")
		}
		where = append(where, "(("+strings.Join(all, " AND ")+") OR code LIKE ? ESCAPE '\\')")
		args = append(args, likeEscape(strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(q.Text), ".", "")))+"%")
	}
	if q.Prefix != "" {
		where = append(where, `code LIKE ? ESCAPE '\'`)
		args = append(args, likeEscape(q.Prefix)+"%")
	}
	if q.ActiveOnly {
		where = append(where, "status != ?")
		args = append(args, codeset.StatusDiscontinued)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	sel := func(table string, header int) string {
		return fmt.Sprintf(`SELECT code, category, short, medium, long, status, attributes, meta, %d AS header FROM %s%s`, header, table, cond)
	}
	from := sel("codes", 0)
	allArgs := args
	if q.Headers {
		from += " UNION ALL " + sel("headers", 1)
		allArgs = append(append([]any{}, args...), args...)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (`+from+`)`, allArgs...).Scan(&total); err != nil {
		return 0, nil, fmt.Errorf("search snapshot %s: %w", path, err)
	}
	if q.Limit <= 0 {
		return total, nil, nil
	}
	rows, err := db.QueryContext(ctx, from+` ORDER BY code LIMIT ? OFFSET ?`, append(allArgs, q.Limit, max(q.Offset, 0))...)
	if err != nil {
		return 0, nil, fmt.Errorf("search snapshot %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var f Found
		var attrs, meta string
		var header int
		if err := rows.Scan(&f.Code.Code, &f.Code.Category, &f.Code.Short, &f.Code.Medium, &f.Code.Long, &f.Code.Status, &attrs, &meta, &header); err != nil {
			return 0, nil, fmt.Errorf("search snapshot %s: %w", path, err)
		}
		if f.Code.Attrs, err = DecodeAttrs(attrs); err != nil {
			return 0, nil, fmt.Errorf("search snapshot %s: code %s: bad attributes: %w", path, f.Code.Code, err)
		}
		if f.Code.Meta, err = DecodeMeta(meta); err != nil {
			return 0, nil, fmt.Errorf("search snapshot %s: code %s: bad meta: %w", path, f.Code.Code, err)
		}
		f.Header = header == 1
		page = append(page, f)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("search snapshot %s: %w", path, err)
	}
	return total, page, nil
}

// likeEscape escapes the LIKE wildcards of s.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
