package changelog

import (
	"bufio"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
)

// rowCursor walks the rows of a changelog's tables: one row per changed
// field (one row for a change without fields), sorted by code, of one
// change kind or of all. The rows are made one at a time: a first release
// of a million codes has a million of them.
type rowCursor struct {
	l        *codeset.Changelog
	changes  *codeset.Changelog // sorted by code (sortedChanges)
	problems map[string]string
	kind     codeset.ChangeKind // "" for every kind
	i        int                // the next change
	cur      codeset.Change     // change i-1
	fields   []string           // the sorted fields of cur not yet made rows
	base     changeRow
}

// newRows returns the rows of l's changes of kind k ("" for all).
func newRows(l *codeset.Changelog, changes *codeset.Changelog, problems map[string]string, k codeset.ChangeKind) *rowCursor {
	return &rowCursor{l: l, changes: changes, problems: problems, kind: k}
}

// linkProblems gathers the reasons of l's link problems by code, separated
// by "; ".
func linkProblems(l *codeset.Changelog) map[string]string {
	problems := map[string]string{}
	for _, p := range l.LinkProblems {
		if problems[p.Code] != "" {
			problems[p.Code] += "; "
		}
		problems[p.Code] += p.Reason
	}
	return problems
}

// rowSource makes row cursors over the sorted changes of a changelog.
type rowSource struct {
	l        *codeset.Changelog
	changes  *codeset.Changelog
	problems map[string]string
}

// rows returns the rows of kind k ("" for all) after the first skip.
func (s rowSource) rows(k codeset.ChangeKind, skip int) *rowCursor {
	rc := newRows(s.l, s.changes, s.problems, k)
	var r changeRow
	for range skip {
		rc.next(&r)
	}
	return rc
}

// next sets r to the next row and reports whether there was one.
func (rc *rowCursor) next(r *changeRow) bool {
	if len(rc.fields) > 0 {
		c := &rc.cur
		*r = rc.base
		f := rc.fields[0]
		rc.fields = rc.fields[1:]
		r.Field, r.Before, r.After = f, c.Fields[f].Before, c.Fields[f].After
		return true
	}
	for n := rc.changes.Len(); rc.i < n; {
		rc.cur = rc.changes.At(rc.i)
		c := &rc.cur
		rc.i++
		if rc.kind != "" && c.Kind != rc.kind {
			continue
		}
		rc.base = changeRow{Code: c.Code, Kind: c.Kind, Category: c.Category, Description: describe(*c),
			ReplacedBy: displayCodes(rc.l.System, c.ReplacedBy), Replaces: displayCodes(rc.l.System, c.Replaces), Problems: rc.problems[c.Code],
			Action: c.Record.Meta.Get("action"), ActionEffective: c.Record.Meta.Get("action_effective_date"), Terminated: c.Record.Meta.Get("termination_date")}
		if len(c.Fields) == 0 {
			*r = rc.base
			return true
		}
		rc.fields = slices.Sorted(maps.Keys(c.Fields))
		return rc.next(r)
	}
	return false
}

// rowCounts counts the rows of each change kind.
func rowCounts(changes *codeset.Changelog) map[codeset.ChangeKind]int {
	n := map[codeset.ChangeKind]int{}
	for c := range changes.All() {
		n[c.Kind] += max(1, len(c.Fields))
	}
	return n
}

type changeRow struct {
	Code        string
	Kind        codeset.ChangeKind
	Category    string
	Field       string
	Before      string
	After       string
	Description string
	ReplacedBy  string // display forms, separated by " "
	Replaces    string
	Problems    string // the reasons of the code's link problems, separated by "; "
	// The publisher's bookkeeping, where the system has it (HCPCS).
	Action, ActionEffective, Terminated string
}

// displayCodes returns codes in display form separated by spaces.
func displayCodes(sys codeset.System, codes []string) string {
	if len(codes) == 0 {
		return ""
	}
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = sys.Display(c)
	}
	return strings.Join(out, " ")
}

// csvHeader is the first line of the CSV changelog.
var csvHeader = []string{"code", "written", "change", "category", "field", "before", "after", "description", "replaced_by", "replaces", "link_problems", "action", "action_effective", "termination_date"}

// WriteCSV writes l as CSV with the header code, written, change, category,
// field, before, after, description, replaced_by, replaces, link_problems,
// action, action_effective, termination_date: one row per changed field, or
// one row with empty field, before and after for an added or deleted code.
// code is the code as stored (A7741), written as people write it (A77.41).
// replaced_by (of a deleted or discontinued code) and replaces (of an added
// or reactivated one) hold the publisher's replacement links in written
// form, separated by spaces; link_problems the reasons of what does not add
// up about the code's links, separated by "; "; action, action_effective
// and termination_date the publisher's action code and dates (HCPCS).
// Rows are sorted by code, lines end in CRLF as RFC 4180 asks. A cell a
// spreadsheet would take for a formula starts with an apostrophe (see
// neutralize); the two code columns are the exception, see below.
//
// The file is made to open right when double-clicked in Excel: it starts
// with a UTF-8 byte order mark, so accented text reads right, and a code
// Excel would read as a number and change (0016070 losing its zeros) is
// written as the formula ="0016070", which Excel shows as the text 0016070.
// Programs should read the JSON changelog, or unwrap ="…".
func WriteCSV(w io.Writer, l *codeset.Changelog) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write csv changelog: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write csv changelog: %w", err)
	}
	rows := newRows(l, sortedChanges(l), linkProblems(l), "")
	rec := make([]string, len(csvHeader))
	var r changeRow
	for rows.next(&r) {
		rec = append(rec[:0], r.Code, l.System.Display(r.Code), string(r.Kind), r.Category, r.Field, r.Before, r.After, r.Description,
			r.ReplacedBy, r.Replaces, r.Problems, r.Action, r.ActionEffective, r.Terminated)
		for i := range rec {
			rec[i] = neutralize(rec[i])
		}
		// The codes are the tool's own, never a formula: keep Excel from
		// reading them as numbers.
		rec[0], rec[1] = excelText(r.Code), excelText(l.System.Display(r.Code))
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv changelog: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv changelog: %w", err)
	}
	return nil
}

// excelText returns code as a CSV cell Excel keeps as written: a code it
// would take for a number and change (a leading zero, or so many digits it
// rounds them, or an exponent such as 1E10) becomes ="code".
func excelText(code string) string {
	if code == "" {
		return code
	}
	digits := strings.Trim(code, "0123456789") == ""
	numberLike := digits && (code[0] == '0' || len(code) > 11)
	if !digits {
		// 12E45 reads as 1.2E+46.
		if m, e, ok := strings.Cut(strings.ToUpper(code), "E"); ok && m != "" && e != "" &&
			strings.Trim(m, "0123456789") == "" && strings.Trim(e, "0123456789") == "" {
			numberLike = true
		}
	}
	if numberLike {
		return `="` + code + `"`
	}
	return code
}

// xlsxColumns are the columns of each change kind's sheet. Kinds whose
// changes carry fields get field, before and after columns.
var xlsxColumns = map[bool][]string{
	false: {"Code", "Category", "Description"},
	true:  {"Code", "Category", "Field", "Before", "After", "Description"},
}

// xlsxDocTime stamps the workbook's document properties. A fixed value
// keeps the bytes of the file a function of the changelog alone.
const xlsxDocTime = "2000-01-01T00:00:00Z"

// WriteXLSX writes l as an Excel workbook: a Summary sheet with the counts,
// then one sheet per change kind (Added, Deleted, Revised, Short title only
// for ICD-10, Cosmetic, Reactivated) with a bold header row that is frozen
// and auto-filtered. Revised, short-title, cosmetic and reactivated sheets
// have Field, Before and After columns. The same changelog always gives the same bytes.
func WriteXLSX(w io.Writer, l *codeset.Changelog) (err error) {
	return writeXLSX(w, l, true)
}

// writeXLSX is WriteXLSX; direct lets the rows of the change sheets be
// written directly rather than cell by cell through excelize (see
// xlsxSheets), which gives the same bytes in a fraction of the time.
func writeXLSX(w io.Writer, l *codeset.Changelog, direct bool) (err error) {
	f := excelize.NewFile()
	x := &xlsxSheets{f: f, direct: direct, rows: map[string]*streamedRows{}}
	// excelize hands its zip writer a bytes.Buffer that it then copies
	// to w: the whole workbook in memory, over a hundred megabytes for a
	// first release of a million codes. The archive goes to w instead, and
	// the buffer stays empty. (excelize edits the buffer afterwards only
	// for parts over 4 GiB that it streamed itself, or to encrypt the
	// workbook; neither happens here.)
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return newSortedZip(w, x.rows) })
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write xlsx changelog: %w", cerr)
		}
	}()
	if err := fillXLSX(x, l); err != nil {
		return fmt.Errorf("write xlsx changelog: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write xlsx changelog: %w", err)
	}
	return nil
}

func fillXLSX(x *xlsxSheets, l *codeset.Changelog) error {
	f := x.f
	title := fmt.Sprintf("%s changes: %s", l.System.Name(), l.To)
	if l.From != "" {
		title = fmt.Sprintf("%s changes: %s to %s", l.System.Name(), l.From, l.To)
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:          title,
		Creator:        "codeset " + codeset.Version,
		LastModifiedBy: "codeset",
		Created:        xlsxDocTime,
		Modified:       xlsxDocTime,
	}); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}

	const summary = "Summary"
	if err := f.SetSheetName("Sheet1", summary); err != nil {
		return err
	}
	sumRows := [][]any{
		{title},
		{"From", l.From, effectiveText(l.FromEffective)},
		{"To", l.To, effectiveText(l.ToEffective)},
		{},
		{"Change", "Codes"},
	}
	if l.From == "" {
		sumRows[1] = []any{"From", "(first release)"}
	}
	for _, k := range shownKinds(l) {
		sumRows = append(sumRows, []any{kindLabel(k), l.Summary.Count(k)})
	}
	sumRows = append(sumRows, []any{"unchanged", l.Summary.Unchanged})
	for _, n := range l.Summary.Notes() {
		sumRows = append(sumRows, []any{n})
	}
	for i, row := range sumRows {
		if err := f.SetSheetRow(summary, cellName(1, i+1), &row); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(summary, "A1", "A1", bold); err != nil {
		return err
	}
	if err := f.SetCellStyle(summary, "A5", "B5", bold); err != nil {
		return err
	}
	if err := f.SetColWidth(summary, "A", "A", 14); err != nil {
		return err
	}

	// The Summary opens first. Set now, while it is the only sheet:
	// SetActiveSheet reads every sheet back, which would parse the
	// streamed ones whole.
	f.SetActiveSheet(0)

	changes := sortedChanges(l)
	problems := linkProblems(l)
	counts := rowCounts(changes)
	total := 0
	for _, n := range counts {
		total += n
	}
	if x.direct {
		// Rows are written directly only when none of their text is
		// something excelize would change (see plainCell).
		x.direct = plainRows(newRows(l, changes, problems, ""))
	}
	src := rowSource{l, changes, problems}
	if err := allChangesSheet(x, l, src, total, bold, wrap); err != nil {
		return err
	}
	for _, k := range shownKinds(l) {
		// A sheet holds at most sheetRows rows, the header among them:
		// a longer list continues on "Added (2)" and so on.
		for i, n := range parts(counts[k], sheetRows-1) {
			sheet := kindTitle(k)
			if i > 0 {
				sheet = fmt.Sprintf("%s (%d)", sheet, i+1)
			}
			if err := kindSheet(x, l, sheet, k, src, i*(sheetRows-1), n, bold, wrap); err != nil {
				return err
			}
		}
	}
	if r := l.Reconciliation; r != nil {
		if err := reconciliationSheet(f, l, bold, wrap); err != nil {
			return err
		}
	}
	if l.Replacements != nil {
		if err := linksSheet(f, l, bold, wrap); err != nil {
			return err
		}
	}
	return nil
}

// parts cuts n rows into parts of at most max, and gives one empty part
// for no rows, so that every kind shown has its sheet.
func parts(n, max int) []int {
	var out []int
	for n > max {
		out = append(out, max)
		n -= max
	}
	return append(out, n)
}

// allChangesSheet adds the "All changes" sheet: every row of every kind
// on one sheet to sort and filter, with the code as written and as stored
// (both text, zeros kept), readable field names, and the publisher's action
// code, action effective and termination dates and replacements.
func allChangesSheet(x *xlsxSheets, l *codeset.Changelog, src rowSource, n, bold, wrap int) error {
	// Past a sheet's rows the list continues on "All changes (2)".
	for i, part := range parts(n, sheetRows-1) {
		sheet := "All changes"
		if i > 0 {
			sheet = fmt.Sprintf("%s (%d)", sheet, i+1)
		}
		if err := allChangesPart(x, l, sheet, src, i*(sheetRows-1), part, bold, wrap); err != nil {
			return err
		}
	}
	return nil
}

func allChangesPart(x *xlsxSheets, l *codeset.Changelog, sheet string, src rowSource, start, n, bold, wrap int) error {
	header := []string{"Code", "Stored code", "Change", "Category", "Description", "Field", "Before", "After",
		"Action code", "Action effective", "Termination date", "Replaced by", "Replaces"}
	widths := []colWidth{{"A", "D", 11}, {"E", "E", 60}, {"F", "F", 18}, {"G", "H", 40}, {"I", "M", 14}}
	return x.streamSheet(sheet, header, widths, n, bold, wrap, func() func(vals []string) {
		rows := src.rows("", start)
		return func(vals []string) {
			var r changeRow
			rows.next(&r)
			field := ""
			if r.Field != "" {
				field = fieldLabel(r.Field)
			}
			vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6], vals[7] =
				l.System.Display(r.Code), r.Code, string(r.Kind), r.Category, r.Description, field, r.Before, r.After
			vals[8], vals[9], vals[10], vals[11], vals[12] = actionText(r.Action), r.ActionEffective, r.Terminated, r.ReplacedBy, r.Replaces
		}
	})
}

// plainRows reports whether every value the change sheets would show of
// rows is a plainCell.
func plainRows(rows *rowCursor) bool {
	var r changeRow
	for rows.next(&r) {
		for _, v := range []string{r.Code, r.Category, r.Field, r.Before, r.After, r.Description, r.ReplacedBy, r.Replaces,
			r.Action, r.ActionEffective, r.Terminated, actionText(r.Action), fieldLabel(r.Field)} {
			if !plainCell(v) {
				return false
			}
		}
	}
	return true
}

// colWidth is the width of the columns from through to of a sheet.
type colWidth struct {
	from, to string
	width    float64
}

// xlsxSheets is a workbook being filled, with the rows of its streamed
// sheets that are written when the workbook is, by part name.
type xlsxSheets struct {
	f      *excelize.File
	direct bool
	rows   map[string]*streamedRows
}

// streamSheet adds a sheet of a header row in bold and n rows, each filled
// in turn by fill into vals (one per header column), every data cell in
// the wrap style; the header row is frozen and the whole auto-filtered. The
// column widths, panes and filter are set on the sheet before the stream
// starts, as StreamWriter wants.
//
// The header goes through excelize's StreamWriter. The rows do too unless
// x.direct is set: then they are left to the zip writer, which writes them
// into the sheet's part as the StreamWriter would (streamedRows.write), as the
// workbook is written. A first release of a million codes has two sheets
// of a million rows; excelize spends several microseconds on each cell.
func (x *xlsxSheets) streamSheet(sheet string, header []string, widths []colWidth, n, bold, wrap int, rows func() func(vals []string)) error {
	f := x.f
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	// A streamed sheet is written with its columns as excelize holds
	// them, unmerged and in the order it put them: each new range goes
	// before the earlier ones. Set right to left, they come out in order,
	// which Excel requires.
	for _, w := range slices.Backward(widths) {
		if err := f.SetColWidth(sheet, w.from, w.to, w.width); err != nil {
			return err
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := f.AutoFilter(sheet, "A1:"+cellName(len(header), n+1), nil); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	cells := make([]excelize.Cell, len(header))
	row := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
		row[i] = &cells[i]
	}
	if err := sw.SetRow("A1", row); err != nil {
		return err
	}
	if x.direct {
		// excelize numbers the parts of new sheets after the sheets
		// before them.
		part := fmt.Sprintf("xl/worksheets/sheet%d.xml", len(f.GetSheetList()))
		x.rows[part] = &streamedRows{n: n, cols: len(header), style: wrap, rows: rows}
		return sw.Flush()
	}
	fill := rows()
	vals := make([]string, len(header))
	for i := range n {
		clear(vals)
		fill(vals)
		for j, v := range vals {
			cells[j] = excelize.Cell{StyleID: wrap, Value: v}
		}
		if err := sw.SetRow(cellName(1, i+2), row); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// streamedRows are the data rows of a streamed sheet, from its second row.
type streamedRows struct {
	n, cols, style int
	// rows gives a function that fills each row in turn. Rows of
	// different sheets may be written at once, each with its own.
	rows func() func(vals []string)
}

// write writes the rows as excelize's StreamWriter.SetRow writes a row of
// excelize.Cell values of type string with the style: every cell an
// inline string, empty ones included. Every value is a plainCell.
func (s *streamedRows) write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	cols := make([]string, s.cols)
	for j := range cols {
		name, err := excelize.ColumnNumberToName(j + 1)
		if err != nil {
			return err
		}
		cols[j] = name
	}
	style := strconv.Itoa(s.style)
	vals := make([]string, s.cols)
	fill := s.rows()
	var b, num []byte
	for i := range s.n {
		clear(vals)
		fill(vals)
		num = strconv.AppendInt(num[:0], int64(i+2), 10)
		b = append(b[:0], `<row r="`...)
		b = append(b, num...)
		b = append(b, `">`...)
		for j, v := range vals {
			b = append(b, `<c r="`...)
			b = append(b, cols[j]...)
			b = append(b, num...)
			b = append(b, `" s="`...)
			b = append(b, style...)
			b = append(b, `" t="inlineStr"><is><t`...)
			if v != "" && (isXMLSpace(v[0]) || isXMLSpace(v[len(v)-1])) {
				b = append(b, ` xml:space="preserve"`...)
			}
			b = append(b, '>')
			b = appendEscaped(b, v)
			b = append(b, `</t></is></c>`...)
		}
		b = append(b, `</row>`...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// isXMLSpace reports whether excelize keeps a value starting or ending in
// c with xml:space="preserve".
func isXMLSpace(c byte) bool { return c == '\t' || c == '\n' || c == '\r' || c == ' ' }

// plainCell reports whether excelize writes v into an inline-string cell
// as xml.EscapeText escapes it (with line feeds kept), nothing more: it is
// short enough not to be cut to a cell's 32,767 characters, and holds no
// "_x", which could start an escape of Excel's own (_x000D_) that excelize
// escapes again.
func plainCell(v string) bool {
	// Strictly shorter: a code's display form is one character longer
	// than the code checked.
	return len(v) < excelize.TotalCellChars && !strings.Contains(v, "_x")
}

// appendEscaped appends v escaped as excelize escapes the text of a cell:
// xml.EscapeText, then line feeds put back.
func appendEscaped(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c >= 0x80 || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' {
			var sb strings.Builder
			_ = xml.EscapeText(&sb, []byte(v))
			return append(b, strings.ReplaceAll(sb.String(), "&#xA;", "\n")...)
		}
	}
	return append(b, v...)
}

// sheetRows is the most rows a worksheet holds (Excel's limit).
var sheetRows = excelize.TotalRows

// split cuts rows into parts of at most n, and gives one empty part for
// no rows.
func split[T any](rows []T, n int) [][]T {
	parts := [][]T{}
	for len(rows) > n {
		parts = append(parts, rows[:n])
		rows = rows[n:]
	}
	return append(parts, rows)
}

// kindSheet adds the sheet of n rows of kind k, taken from rows.
func kindSheet(x *xlsxSheets, l *codeset.Changelog, sheet string, k codeset.ChangeKind, src rowSource, start, n, bold, wrap int) error {
	withFields := hasFields(k)
	cols := xlsxColumns[withFields]
	lh := linkHeader(l, k)
	if lh != "" {
		cols = append(slices.Clone(cols), strings.ToUpper(lh[:1])+lh[1:])
	}
	last := cellName(len(cols), 1)
	lastCol := last[:strings.IndexAny(last, "0123456789")]
	widths := []colWidth{{"A", "B", 10}}
	if withFields {
		widths = append(widths, colWidth{"C", "C", 12}, colWidth{"D", lastCol, 50})
	} else {
		widths = append(widths, colWidth{"C", lastCol, 90})
	}
	return x.streamSheet(sheet, cols, widths, n, bold, wrap, func() func(vals []string) {
		rows := src.rows(k, start)
		return func(vals []string) {
			var r changeRow
			rows.next(&r)
			code := l.System.Display(r.Code)
			n := 3
			if withFields {
				vals[0], vals[1], vals[2], vals[3], vals[4], vals[5] = code, r.Category, r.Field, r.Before, r.After, r.Description
				n = 6
			} else {
				vals[0], vals[1], vals[2] = code, r.Category, r.Description
			}
			switch lh {
			case "replaced by":
				vals[n] = r.ReplacedBy
			case "replaces":
				vals[n] = r.Replaces
			}
		}
	})
}

// reconciliationSheet adds a sheet listing the codes on which the publisher's
// declared changes and the computed diff disagree.
func reconciliationSheet(f *excelize.File, l *codeset.Changelog, bold, wrap int) error {
	r := l.Reconciliation
	// Two rows of heading, then the disagreements, continued on
	// "Reconciliation (2)" and so on past a sheet's rows.
	for i, part := range split(r.Disagreements, sheetRows-2) {
		sheet := "Reconciliation"
		if i > 0 {
			sheet = fmt.Sprintf("%s (%d)", sheet, i+1)
		}
		if err := reconciliationPart(f, l, sheet, part, bold, wrap); err != nil {
			return err
		}
	}
	return nil
}

func reconciliationPart(f *excelize.File, l *codeset.Changelog, sheet string, part []codeset.Disagreement, bold, wrap int) error {
	r := l.Reconciliation
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	rows := [][]any{
		{fmt.Sprintf("The publisher declares %d changes (%s); the computed diff confirms %d.", r.Declared, r.Source, r.Agreed)},
		{"Code", "Declared", "Computed", "Why"},
	}
	for _, d := range part {
		decl := d.Declared
		if decl == "" {
			decl = "(nothing)"
		}
		rows = append(rows, []any{l.System.Display(d.Code), decl, d.Computed, d.Reason})
	}
	for i, row := range rows {
		if err := f.SetSheetRow(sheet, cellName(1, i+1), &row); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sheet, "A2", "D2", bold); err != nil {
		return err
	}
	if len(rows) > 2 {
		if err := f.SetCellStyle(sheet, "A3", cellName(4, len(rows)), wrap); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(sheet, "A", "C", 12); err != nil {
		return err
	}
	if err := f.SetColWidth(sheet, "D", "D", 90); err != nil {
		return err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return f.AutoFilter(sheet, "A2:"+cellName(4, len(rows)), nil)
}

// does not add up between them and the changes.
func linksSheet(f *excelize.File, l *codeset.Changelog, bold, wrap int) error {
	const sheet = "Replacement links"
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	rows := [][]any{
		{linkSummary(l)},
		{"Code", "Problem", "Other code", "Stated in", "Why"},
	}
	for _, p := range l.LinkProblems {
		rows = append(rows, []any{l.System.Display(p.Code), string(p.Kind), displayOther(l.System, p.Other), p.Source, p.Reason})
	}
	for i, row := range rows {
		if err := f.SetSheetRow(sheet, cellName(1, i+1), &row); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sheet, "A2", "E2", bold); err != nil {
		return err
	}
	if len(rows) > 2 {
		if err := f.SetCellStyle(sheet, "A3", cellName(5, len(rows)), wrap); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(sheet, "A", "D", 14); err != nil {
		return err
	}
	if err := f.SetColWidth(sheet, "E", "E", 80); err != nil {
		return err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return f.AutoFilter(sheet, "A2:"+cellName(5, len(rows)), nil)
}

// cellName returns the A1-style name of a cell; col and row count from 1
// and are always in range here.
func cellName(col, row int) string {
	name, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		panic(err)
	}
	return name
}

// neutralize keeps a spreadsheet from taking a cell for a formula (CSV
// injection): a value starting with =, +, -, @, a tab or a carriage return
// gets a leading apostrophe, which spreadsheets read as "text follows".
// Descriptors come from publishers' files, which codeset does not control.
func neutralize(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
