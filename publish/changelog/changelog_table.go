package changelog

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
)

// changeRows flattens l into one row per changed field (one row for a
// change without fields), sorted by code: the rows of the CSV changelog and
// of the XLSX sheets.
func changeRows(l *codeset.Changelog) []changeRow {
	changes := slices.Clone(l.Changes)
	slices.SortStableFunc(changes, func(a, b codeset.Change) int { return strings.Compare(a.Code, b.Code) })
	problems := map[string]string{}
	for _, p := range l.LinkProblems {
		if problems[p.Code] != "" {
			problems[p.Code] += "; "
		}
		problems[p.Code] += p.Reason
	}
	var rows []changeRow
	for _, c := range changes {
		base := changeRow{Code: c.Code, Kind: c.Kind, Category: c.Category, Description: describe(c),
			ReplacedBy: displayCodes(l.System, c.ReplacedBy), Replaces: displayCodes(l.System, c.Replaces), Problems: problems[c.Code],
			Action: c.Record.Meta["action"], ActionEffective: c.Record.Meta["action_effective_date"], Terminated: c.Record.Meta["termination_date"]}
		if len(c.Fields) == 0 {
			rows = append(rows, base)
			continue
		}
		for _, f := range slices.Sorted(maps.Keys(c.Fields)) {
			r := base
			r.Field, r.Before, r.After = f, c.Fields[f].Before, c.Fields[f].After
			rows = append(rows, r)
		}
	}
	return rows
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
	for _, r := range changeRows(l) {
		rec := []string{r.Code, l.System.Display(r.Code), string(r.Kind), r.Category, r.Field, r.Before, r.After, r.Description,
			r.ReplacedBy, r.Replaces, r.Problems, r.Action, r.ActionEffective, r.Terminated}
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
	f := excelize.NewFile()
	f.SetZipWriter(newSortedZip)
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write xlsx changelog: %w", cerr)
		}
	}()
	if err := fillXLSX(f, l); err != nil {
		return fmt.Errorf("write xlsx changelog: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write xlsx changelog: %w", err)
	}
	return nil
}

func fillXLSX(f *excelize.File, l *codeset.Changelog) error {
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

	rows := changeRows(l)
	if err := allChangesSheet(f, l, rows, bold, wrap); err != nil {
		return err
	}
	for _, k := range shownKinds(l) {
		var kind []changeRow
		for _, r := range rows {
			if r.Kind == k {
				kind = append(kind, r)
			}
		}
		// A sheet holds at most sheetRows rows, the header among them:
		// a longer list continues on "Added (2)" and so on.
		for i, part := range split(kind, sheetRows-1) {
			sheet := kindTitle(k)
			if i > 0 {
				sheet = fmt.Sprintf("%s (%d)", sheet, i+1)
			}
			if err := kindSheet(f, l, sheet, k, part, bold, wrap); err != nil {
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

// allChangesSheet adds the "All changes" sheet: every row of every kind
// on one sheet to sort and filter, with the code as written and as stored
// (both text, zeros kept), readable field names, and the publisher's action
// code, action effective and termination dates and replacements.
func allChangesSheet(f *excelize.File, l *codeset.Changelog, rows []changeRow, bold, wrap int) error {
	// Past a sheet's rows the list continues on "All changes (2)".
	for i, part := range split(rows, sheetRows-1) {
		sheet := "All changes"
		if i > 0 {
			sheet = fmt.Sprintf("%s (%d)", sheet, i+1)
		}
		if err := allChangesPart(f, l, sheet, part, bold, wrap); err != nil {
			return err
		}
	}
	return nil
}

func allChangesPart(f *excelize.File, l *codeset.Changelog, sheet string, rows []changeRow, bold, wrap int) error {
	header := []string{"Code", "Stored code", "Change", "Category", "Description", "Field", "Before", "After",
		"Action code", "Action effective", "Termination date", "Replaced by", "Replaces"}
	widths := []colWidth{{"A", "D", 11}, {"E", "E", 60}, {"F", "F", 18}, {"G", "H", 40}, {"I", "M", 14}}
	return streamSheet(f, sheet, header, widths, len(rows), bold, wrap, func(i int, vals []string) {
		r := rows[i]
		field := ""
		if r.Field != "" {
			field = fieldLabel(r.Field)
		}
		copy(vals, []string{l.System.Display(r.Code), r.Code, string(r.Kind), r.Category, r.Description, field, r.Before, r.After,
			actionText(r.Action), r.ActionEffective, r.Terminated, r.ReplacedBy, r.Replaces})
	})
}

// colWidth is the width of the columns from through to of a sheet.
type colWidth struct {
	from, to string
	width    float64
}

// streamSheet adds a sheet of a header row in bold and n rows, row i
// filled by fill into vals (one per header column), every data cell in the
// wrap style; the header row is frozen and the whole auto-filtered. It goes
// through excelize's StreamWriter, which writes rows to a temporary file
// as they come: a first release of a million codes never builds its cells
// in memory. The column widths, panes and filter are set on the sheet
// before the stream starts, as StreamWriter wants.
func streamSheet(f *excelize.File, sheet string, header []string, widths []colWidth, n, bold, wrap int, fill func(i int, vals []string)) error {
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
	vals := make([]string, len(header))
	for i := range n {
		clear(vals)
		fill(i, vals)
		for j, v := range vals {
			cells[j] = excelize.Cell{StyleID: wrap, Value: v}
		}
		if err := sw.SetRow(cellName(1, i+2), row); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// sheetRows is the most rows a worksheet holds (Excel's limit).
var sheetRows = excelize.TotalRows

// split cuts rows into parts of at most n, and gives one empty part for
// no rows, so that every kind shown has its sheet.
func split[T any](rows []T, n int) [][]T {
	parts := [][]T{}
	for len(rows) > n {
		parts = append(parts, rows[:n])
		rows = rows[n:]
	}
	return append(parts, rows)
}

// kindSheet adds the sheet of the changes rows of kind k.
func kindSheet(f *excelize.File, l *codeset.Changelog, sheet string, k codeset.ChangeKind, rows []changeRow, bold, wrap int) error {
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
	return streamSheet(f, sheet, cols, widths, len(rows), bold, wrap, func(i int, vals []string) {
		r := rows[i]
		code := l.System.Display(r.Code)
		n := 3
		if withFields {
			copy(vals, []string{code, r.Category, r.Field, r.Before, r.After, r.Description})
			n = 6
		} else {
			copy(vals, []string{code, r.Category, r.Description})
		}
		switch lh {
		case "replaced by":
			vals[n] = r.ReplacedBy
		case "replaces":
			vals[n] = r.Replaces
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
