package changelog

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/internal/fixture"
)

func TestExcelText(t *testing.T) {
	for in, want := range map[string]string{"0016070": `="0016070"`, "00100": `="00100"`, "99213": "99213", "A77.41": "A77.41", "1E10": `="1E10"`, "0001U": "0001U", "": ""} {
		if got := excelText(in); got != want {
			t.Errorf("excelText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, fixture.SampleChangelog()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "\r\n") {
		t.Errorf("CSV lines do not end in CRLF")
	}
	if !strings.HasPrefix(b.String(), "\ufeffcode,written,") {
		t.Errorf("CSV does not start with a UTF-8 byte order mark and the header")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"code", "written", "change", "category", "field", "before", "after", "description", "replaced_by", "replaces", "link_problems", "action", "action_effective", "termination_date"},
		{"0001U", "0001U", "added", "PLA", "", "", "", "Red blood cell | antigen typing", "", "", "", "", "", ""},
		{`="00100"`, `="00100"`, "revised", "I", "long", "Anesthesia for procedures on salivary glands", "Anesthesia for all procedures on salivary glands, with biopsy", "Anesthesia for all procedures on salivary glands, with biopsy", "", "", "", "", "", ""},
		{`="00100"`, `="00100"`, "revised", "I", "short", "ANESTH SALIVARY GLAND", "ANESTH SALIVARY GLANDS", "Anesthesia for all procedures on salivary glands, with biopsy", "", "", "", "", "", ""},
		{"0500F", "0500F", "deleted", "II", "", "", "", "Initial prenatal care visit", "", "", "", "", "", ""},
		{"0596T", "0596T", "reactivated", "III", "status", "deleted", "active", "TEMP FEMALE INTRAURETHRAL", "", "", "", "", "", ""},
		{"99213", "99213", "cosmetic", "I", "long", "Office  visit", "Office visit ", "Office visit ", "", "", "", "", "", ""},
		{"A0021", "A0021", "added", "", "", "", "", "Ambulance *outside* state", "", "", "", "", "", ""},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("CSV rows:\ngot  %q\nwant %q", rows, want)
	}
}

// TestWriteXLSX reads the workbook back with excelize and checks what a
// coder sees: the sheets, the frozen and filtered header, the rows.
func TestWriteXLSX(t *testing.T) {
	var b bytes.Buffer
	if err := WriteXLSX(&b, fixture.SampleChangelog()); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := f.GetSheetList(), []string{"Summary", "All changes", "Added", "Deleted", "Revised", "Cosmetic", "Reactivated"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sheets = %v, want %v", got, want)
	}
	wantRows := map[string][][]string{
		"All changes": {
			{"Code", "Stored code", "Change", "Category", "Description", "Field", "Before", "After", "Action code", "Action effective", "Termination date", "Replaced by", "Replaces"},
			{"0001U", "0001U", "added", "PLA", "Red blood cell | antigen typing"},
			{"00100", "00100", "revised", "I", "Anesthesia for all procedures on salivary glands, with biopsy", "Long description", "Anesthesia for procedures on salivary glands", "Anesthesia for all procedures on salivary glands, with biopsy"},
			{"00100", "00100", "revised", "I", "Anesthesia for all procedures on salivary glands, with biopsy", "Short description", "ANESTH SALIVARY GLAND", "ANESTH SALIVARY GLANDS"},
			{"0500F", "0500F", "deleted", "II", "Initial prenatal care visit"},
			{"0596T", "0596T", "reactivated", "III", "TEMP FEMALE INTRAURETHRAL", "Status", "deleted", "active"},
			{"99213", "99213", "cosmetic", "I", "Office visit ", "Long description", "Office  visit", "Office visit "},
			{"A0021", "A0021", "added", "", "Ambulance *outside* state"},
		},
		"Added": {
			{"Code", "Category", "Description"},
			{"0001U", "PLA", "Red blood cell | antigen typing"},
			{"A0021", "", "Ambulance *outside* state"},
		},
		"Deleted": {
			{"Code", "Category", "Description"},
			{"0500F", "II", "Initial prenatal care visit"},
		},
		"Revised": {
			{"Code", "Category", "Field", "Before", "After", "Description"},
			{"00100", "I", "long", "Anesthesia for procedures on salivary glands", "Anesthesia for all procedures on salivary glands, with biopsy", "Anesthesia for all procedures on salivary glands, with biopsy"},
			{"00100", "I", "short", "ANESTH SALIVARY GLAND", "ANESTH SALIVARY GLANDS", "Anesthesia for all procedures on salivary glands, with biopsy"},
		},
		"Cosmetic": {
			{"Code", "Category", "Field", "Before", "After", "Description"},
			{"99213", "I", "long", "Office  visit", "Office visit ", "Office visit "},
		},
		"Reactivated": {
			{"Code", "Category", "Field", "Before", "After", "Description"},
			{"0596T", "III", "status", "deleted", "active", "TEMP FEMALE INTRAURETHRAL"},
		},
	}
	for sheet, want := range wantRows {
		got, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sheet %s rows:\ngot  %q\nwant %q", sheet, got, want)
		}
		panes, err := f.GetPanes(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
			t.Errorf("sheet %s panes = %+v, want the header row frozen", sheet, panes)
		}
		style, err := f.GetCellStyle(sheet, "A1")
		if err != nil {
			t.Fatal(err)
		}
		if s, err := f.GetStyle(style); err != nil || s.Font == nil || !s.Font.Bold {
			t.Errorf("sheet %s header is not bold", sheet)
		}
	}
	if v, _ := f.GetCellValue("Summary", "B8"); v != "1" {
		t.Errorf("Summary B8 (revised count) = %q, want 1", v)
	}

	// excelize has no getter for a sheet's auto filter: read the XML.
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	filters := 0
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			continue
		}
		rc, _ := zf.Open()
		x, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(x, []byte(`<autoFilter ref="$A$1:`)) {
			filters++
		}
		if !zf.Modified.IsZero() && zf.Modified.Year() > 1980 {
			t.Errorf("%s carries a time stamp %v", zf.Name, zf.Modified)
		}
	}
	// One per kind sheet and one on All changes; the sample is CPT, with no
	// discontinued codes and no short titles listed apart, so those kinds
	// have no sheet.
	if want := len(codeset.ChangeKinds) - 1; filters != want {
		t.Errorf("%d sheets have an auto filter, want %d", filters, want)
	}
	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	if props.Created != xlsxDocTime || props.Modified != xlsxDocTime {
		t.Errorf("doc props created %q modified %q, want the fixed %q", props.Created, props.Modified, xlsxDocTime)
	}

	// The sheets are streamed, and excelize writes streamed sheets in map
	// order: several tries catch parts that come out in another order.
	for range 8 {
		var again bytes.Buffer
		if err := WriteXLSX(&again, fixture.SampleChangelog()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), again.Bytes()) {
			t.Fatalf("two workbooks of the same changelog differ")
		}
	}
}

func TestWriteHTML(t *testing.T) {
	l := fixture.SampleChangelog()
	l.Changes = append(l.Changes, codeset.Change{Code: "B0001", Kind: codeset.Added,
		Record: codeset.Code{Code: "B0001", Long: `<script>alert("x")</script> & more`}})
	l.Summary.Added++
	var b bytes.Buffer
	if err := WriteHTML(&b, l); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<title>CPT changes: 2025 → 2026</title>",
		`<li data-kind="added"><span class="n">3</span>`,
		`<li data-kind="unchanged"><span class="n">10</span>`,
		`<section class="kind" id="revised" data-kind="revised">`,
		// One revised code with two changed fields: the heading counts it once.
		`<h2 data-codes="1">Revised (1 code)</h2>`,
		"ANESTH SALIVARY <del>GLAND</del> <ins>GLANDS</ins>",
		"Anesthesia for <ins>all </ins>procedures on salivary",
		`<td class="change">Office<del>␣␣</del><ins>␣</ins>visit<ins>␣</ins></td>`,
		`<tr data-kind="reactivated" data-category="III" data-code="0596T">`,
		`<a href="../../index.html">All systems</a>`, `<a href="cpt-2026.sqlite">`, `<a href="changelog.xlsx">`,
		`<input type="search"`, `<dt>Long description</dt><dd>stored as <code>long</code></dd>`,
		`<option value="PLA">PLA</option>`,
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more",
		"@media print",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML changelog lacks %q", want)
		}
	}
	if strings.Contains(page, `<script>alert`) {
		t.Errorf("HTML changelog does not escape a descriptor")
	}
	for _, bad := range []string{`src="http`, `href="http`, "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("HTML changelog refers to an external asset: %q", bad)
		}
	}
}

// TestWriteHTMLShape checks what the page shows per system and release: a
// heading counts codes, not the rows of their changed fields; ICD-10 has
// no Category column; HCPCS rows carry the action code, termination date
// and the code to use instead; a first release lists no codes; a code
// links to its code page in the release.
func TestWriteHTMLShape(t *testing.T) {
	render := func(l *codeset.Changelog) string {
		var b bytes.Buffer
		if err := WriteHTML(&b, l); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	icd := &codeset.Changelog{System: codeset.ICD10CM, From: "FY2025", To: "FY2026", Summary: codeset.Summary{Revised: 1},
		Changes: []codeset.Change{{Code: "A7741", Kind: codeset.Revised, Fields: map[string]codeset.FieldChange{
			"long": {Before: "a", After: "b"}, "short": {Before: "c", After: "d"}}, Record: codeset.Code{Code: "A7741", Long: "Ehrlichiosis chaffeensis"}}}}
	page := render(icd)
	for _, want := range []string{`<h2 data-codes="1">Revised (1 code)</h2>`, `<td class="code"><a href="../code.html?code=A7741&amp;release=FY2026">A77.41</a></td><td>Ehrlichiosis chaffeensis</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("ICD-10-CM page lacks %q", want)
		}
	}
	for _, bad := range []string{"<th>Category</th>", `id="category"`} {
		if strings.Contains(page, bad) {
			t.Errorf("ICD-10-CM page shows %q", bad)
		}
	}
	hcpcs := &codeset.Changelog{System: codeset.HCPCS, From: "2019", To: "2020", Summary: codeset.Summary{Discontinued: 1},
		Changes: []codeset.Change{{Code: "G0001", Kind: codeset.Discontinued, Fields: map[string]codeset.FieldChange{"asc_group": {Before: "1", After: ""}},
			Record: codeset.Code{Code: "G0001", Long: "Routine venipuncture", Attrs: map[string]string{"xref": "36415"},
				Meta: codeset.MetaOf(map[string]string{"action": "D", "termination_date": "2019-12-31"})}}}}
	page = render(hcpcs)
	for _, want := range []string{"<th>Action</th><th>Terminated</th><th>Use instead</th>", "<td>D: discontinued</td><td class=\"d\">2019-12-31</td><td class=\"code\">36415</td>", `<td title="asc_group">ASC payment group</td>`, "<td>Routine venipuncture</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("HCPCS page lacks %q", want)
		}
	}
	first := &codeset.Changelog{System: codeset.ICD10CM, To: "FY2025", Summary: codeset.Summary{Added: 2},
		Changes: []codeset.Change{{Code: "A000", Kind: codeset.Added}, {Code: "A001", Kind: codeset.Added}}}
	page = render(first)
	if strings.Contains(page, `data-code="A000"`) || !strings.Contains(page, ": 2 codes.") || !strings.Contains(page, `id="downloads"`) {
		t.Errorf("first release page lists codes or lacks its summary and downloads")
	}
}

// icdWithReconciliation is an ICD-10-CM changelog whose reconciliation
// with the addenda found one disagreement, as for FY2024's Y07.45.
func icdWithReconciliation() *codeset.Changelog {
	return &codeset.Changelog{
		System: codeset.ICD10CM, From: "2023-04", To: "FY2024",
		Summary: codeset.Summary{Cosmetic: 1},
		Changes: []codeset.Change{{Code: "Y0745", Kind: codeset.Cosmetic,
			Fields: map[string]codeset.FieldChange{"long": {Before: "Grandchild,  perpetrator", After: "Grandchild, perpetrator"}},
			Record: codeset.Code{Code: "Y0745", Long: "Grandchild, perpetrator"}}},
		Reconciliation: &codeset.Reconciliation{Source: "icd10cm-codes-addenda-2024.txt", Declared: 433, Agreed: 433,
			Disagreements: []codeset.Disagreement{{Code: "Y0745", Computed: "cosmetic", Reason: "whitespace-only fix not in the publisher's list"}}},
	}
}

// TestReconciliationRendered checks the reconciliation in every changelog
// people read, with ICD-10-CM codes shown with their dot.
func TestReconciliationRendered(t *testing.T) {
	l := icdWithReconciliation()
	var h, m, x bytes.Buffer
	if err := WriteHTML(&h, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&m, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteXLSX(&x, l); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"The publisher declares 433 changes (icd10cm-codes-addenda-2024.txt); the computed diff confirms 433. They disagree on 1 codes:",
		`<tr><td class="code"><a href="../code.html?code=Y0745&amp;release=FY2024">Y07.45</a></td><td>(nothing)</td><td>cosmetic</td><td>whitespace-only fix not in the publisher&#39;s list</td></tr>`,
	} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if want := "| Y07.45 | (nothing) | cosmetic | whitespace-only fix not in the publisher's list |"; !strings.Contains(m.String(), want) {
		t.Errorf("Markdown lacks %q:\n%s", want, m.String())
	}
	f, err := excelize.OpenReader(bytes.NewReader(x.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Reconciliation")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"The publisher declares 433 changes (icd10cm-codes-addenda-2024.txt); the computed diff confirms 433."},
		{"Code", "Declared", "Computed", "Why"},
		{"Y07.45", "(nothing)", "cosmetic", "whitespace-only fix not in the publisher's list"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("Reconciliation sheet = %q, want %q", rows, want)
	}
	if cosm, _ := f.GetRows("Cosmetic"); len(cosm) != 2 || cosm[1][0] != "Y07.45" {
		t.Errorf("Cosmetic sheet = %q, want Y07.45 shown with its dot", cosm)
	}
}

// linkedChangelog is the sample changelog with replacement links: 0500F is
// replaced by 0001U, and a link names a code in neither release.
func linkedChangelog() *codeset.Changelog {
	l := fixture.SampleChangelog()
	for i := range l.Changes {
		switch l.Changes[i].Code {
		case "0500F":
			l.Changes[i].ReplacedBy = []string{"0001U"}
		case "0001U":
			l.Changes[i].Replaces = []string{"0500F"}
		}
	}
	l.Replacements = []codeset.Replacement{{Old: "0500F", New: "0001U", Source: "crosswalk.csv", How: codeset.StatedDirect}}
	l.LinkProblems = []codeset.LinkProblem{{Code: "0500F", Kind: codeset.UnknownCode, Other: "0999F", Source: "crosswalk.csv", Reason: "named as replaced by 0999F, which is in neither release"}}
	return l
}

// Every changelog for people shows the links: a "replaced by" and a
// "replaces" column and the link problems.
func TestChangelogsShowLinks(t *testing.T) {
	l := linkedChangelog()
	var md, html, csvb bytes.Buffer
	if err := WriteMarkdown(&md, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&csvb, l); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, out, want string }{
		{"markdown deleted", md.String(), "| code | category | description | replaced by |"},
		{"markdown deleted row", md.String(), "| 0500F | II | Initial prenatal care visit | 0001U |"},
		{"markdown added row", md.String(), "| 0001U | PLA | Red blood cell \\| antigen typing | 0500F |"},
		{"markdown added none", md.String(), "| A0021 |  | Ambulance \\*outside\\* state |  |"},
		{"markdown problems", md.String(), "| 0500F | unknown-code | 0999F | crosswalk.csv | named as replaced by 0999F, which is in neither release |"},
		{"markdown summary", md.String(), "names a replacement for 1 of the 1 codes deleted or discontinued"},
		{"html column", html.String(), "<th>replaced by</th>"},
		{"html problems", html.String(), "<td>unknown-code</td>"},
		// The problem's code links to its page; a code in neither release
		// has no page to link to.
		{"html problem row", html.String(), `<tr><td class="code"><a href="../code.html?code=0500F&amp;release=2026">0500F</a></td><td>unknown-code</td><td class="code">0999F</td>`},
		{"csv row", csvb.String(), "0500F,0500F,deleted,II,,,,Initial prenatal care visit,0001U,,\"named as replaced by 0999F, which is in neither release\",,,\r\n"},
	} {
		if !strings.Contains(tc.out, tc.want) {
			t.Errorf("%s: output lacks %q:\n%s", tc.name, tc.want, tc.out)
		}
	}
	// A replacement deleted in the same release has a page of its own.
	deleted := *l
	deleted.LinkProblems = append(slices.Clone(l.LinkProblems), codeset.LinkProblem{Code: "0500F", Kind: codeset.ReplacementDeleted, Other: "0001U", Source: "crosswalk.csv", Reason: "named as replaced by 0001U, which is deleted in the same release"})
	html.Reset()
	if err := WriteHTML(&html, &deleted); err != nil {
		t.Fatal(err)
	}
	if want := `<td>replacement-deleted</td><td class="code"><a href="../code.html?code=0001U&amp;release=2026">0001U</a></td>`; !strings.Contains(html.String(), want) {
		t.Errorf("html lacks %q", want)
	}
	// No links stated: no columns, no section.
	md.Reset()
	if err := WriteMarkdown(&md, fixture.SampleChangelog()); err != nil {
		t.Fatal(err)
	}
	if s := md.String(); strings.Contains(s, "replaced by") || strings.Contains(s, "Replacement links") {
		t.Errorf("changelog without links shows link columns:\n%s", s)
	}

	var x bytes.Buffer
	if err := WriteXLSX(&x, l); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&x)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	del, err := f.GetRows("Deleted")
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"Code", "Category", "Description", "Replaced by"}, {"0500F", "II", "Initial prenatal care visit", "0001U"}}; !reflect.DeepEqual(del, want) {
		t.Errorf("Deleted sheet = %q, want %q", del, want)
	}
	probs, err := f.GetRows("Replacement links")
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 3 || probs[2][1] != "unknown-code" {
		t.Errorf("Replacement links sheet = %q, want the summary, a header and one problem", probs)
	}
}

// TestXLSXColumnsInOrder checks the <col> elements of every sheet: Excel
// wants them in ascending order and not overlapping, and excelize writes
// a streamed sheet's columns as it holds them, unmerged.
func TestXLSXColumnsInOrder(t *testing.T) {
	var b bytes.Buffer
	if err := WriteXLSX(&b, fixture.SampleChangelog()); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	sheets := 0
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/sheet") {
			continue
		}
		sheets++
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var ws struct {
			Cols []struct {
				Min   int     `xml:"min,attr"`
				Max   int     `xml:"max,attr"`
				Width float64 `xml:"width,attr"`
			} `xml:"cols>col"`
		}
		err = xml.NewDecoder(rc).Decode(&ws)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if len(ws.Cols) == 0 {
			t.Errorf("%s: no column widths", f.Name)
		}
		last := 0
		for _, c := range ws.Cols {
			if c.Min <= last || c.Max < c.Min || c.Width <= 0 {
				t.Errorf("%s: column %d-%d (width %v) after column %d: want ascending, not overlapping", f.Name, c.Min, c.Max, c.Width, last)
			}
			last = c.Max
		}
	}
	if sheets < 3 {
		t.Errorf("found %d worksheets, want the summary and the change sheets", sheets)
	}
}
