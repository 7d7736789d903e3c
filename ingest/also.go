package ingest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
)

// addFields takes the record c of a code file read beside the main one
// (Member.Also) and adds to the code's record the fields it lacks, such as
// the short title the ICD-10-CM codes file does not have. Where both files
// have a field they must agree; a difference only in whitespace keeps the
// main file's text, with a warning.
func (col *collector) addFields(c codeset.Code, loc *ParseError) error {
	if col.alsoSeen == nil {
		col.alsoSeen = make([]bool, len(col.rel.Codes))
	}
	col.alsoFile = loc.File
	var prev seen
	ok := false
	if i := col.alsoNext; i < len(col.rel.Codes) && col.rel.Codes[i].Code == c.Code {
		// The codes are unique, so this is the code's one entry; its
		// location is looked up only for a message (first).
		prev, ok = seen{idx: i}, true
	} else {
		prev, ok = col.byCode[c.Code]
	}
	if !ok {
		loc.Err = errorf(ErrBadValue, "code %s is not in the code file it is read beside (%s)", c.Code, col.mainFiles())
		return loc
	}
	if n := prev.idx + 1 - len(col.alsoSeen); n > 0 {
		col.alsoSeen = append(col.alsoSeen, make([]bool, n)...)
	}
	if col.alsoSeen[prev.idx] {
		loc.Err = errorf(ErrDuplicate, "duplicate code %q", c.Code)
		return loc
	}
	first := func() string { return col.seenAt(col.byCode[c.Code]) }
	col.alsoSeen[prev.idx] = true
	col.alsoNext = prev.idx + 1
	rec := &col.rel.Codes[prev.idx]
	fields := codeRecordFields
	if len(c.Attrs) > 0 {
		fields = append(slices.Clone(codeRecordFields), slices.Sorted(maps.Keys(c.Attrs))...)
	}
	for _, f := range fields {
		v := c.Field(f)
		switch old := rec.Field(f); {
		case v == "" || v == old:
		case old == "":
			// A copy: c's values are cut from its line, which the
			// release need not keep for a field or two (the order
			// file's line repeats the long title the code has).
			rec.SetField(f, strings.Clone(v))
		case diff.SameWords(old, v):
			col.rep.Warnings = append(col.rep.Warnings, fmt.Sprintf("%s: %s %s differs only in spacing from %s; kept %q", locString(loc), c.Code, f, first(), old))
		default:
			loc.Err = errorf(ErrBadValue, "code %s: %s %q differs from %q in %s", c.Code, f, v, old, first())
			return loc
		}
	}
	if rec.Meta == nil && c.Meta != nil {
		// c is this line's own record: its fields can be the code's, their
		// values copied from the line as above.
		rec.Meta, c.Meta = c.Meta, nil
		for i := range rec.Meta {
			rec.Meta[i].Value = strings.Clone(rec.Meta[i].Value)
		}
	}
	for _, f := range c.Meta {
		if _, ok := rec.Meta.Lookup(f.Key); !ok {
			rec.Meta.Set(f.Key, strings.Clone(f.Value))
		}
	}
	col.fr.Codes++
	return nil
}

// alsoDone warns about codes of the main file that the file read beside it
// lacks: they keep only what the main file says.
func (col *collector) alsoDone() error {
	if col.alsoSeen == nil {
		return nil
	}
	var missing []string
	for i, c := range col.rel.Codes {
		if i >= len(col.alsoSeen) || !col.alsoSeen[i] {
			missing = append(missing, c.Code)
		}
	}
	if len(missing) > 0 {
		col.rep.Warnings = append(col.rep.Warnings, fmt.Sprintf("%s: %d codes of %s are missing (first %s): they keep only the main file's fields",
			col.alsoFile, len(missing), col.mainFiles(), missing[0]))
	}
	return nil
}

// mainFiles names the files read before the one read beside them.
func (col *collector) mainFiles() string {
	var names []string
	for _, f := range col.rep.Files {
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return fmt.Sprint(names)
}
