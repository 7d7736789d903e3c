package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
)

// The fixtures under testdata/formats are small synthetic files in the
// publishers' layouts: every code and descriptor in them is invented.

// formatFixture returns the path of a fixture under testdata/formats.
func formatFixture(name string) string {
	return filepath.Join("..", "testdata", "formats", filepath.FromSlash(name))
}

// readSystem reads files with the built-in profile of sys.
func readSystem(t *testing.T, sys codeset.System, label string, files ...string) (*codeset.Release, *Report, error) {
	t.Helper()
	p, err := Builtin(sys)
	if err != nil {
		t.Fatal(err)
	}
	return Read(context.Background(), Options{Profile: p, Label: label}, files...)
}

// mustReadSystem is readSystem for reads that must succeed.
func mustReadSystem(t *testing.T, sys codeset.System, label string, files ...string) (*codeset.Release, *Report) {
	t.Helper()
	rel, rep, err := readSystem(t, sys, label, files...)
	if err != nil {
		t.Fatalf("read %s: %v", strings.Join(files, ", "), err)
	}
	return rel, rep
}

type zipMember struct {
	name string
	data []byte
}

// writeZip writes a zip archive holding members, in order.
func writeZip(t *testing.T, path string, members ...zipMember) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeBytes(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// codesOf lists the codes of records.
func codesOf(cs []codeset.Code) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Code)
	}
	return out
}

// hcpcsWant is what the HCPCS fixture holds, read from the TXT or the XLSX.
var hcpcsWant = []codeset.Code{
	{
		Code: "A1", Category: "modifier",
		Short: "Gauze pad single wound", Long: "Gauze pad placed on a single practice wound",
		Attrs: map[string]string{"coverage": "C"},
		Meta:  codeset.MetaOf(map[string]string{"sequence": "00100", "recid": "7", "add_date": "2010-01-01", "action_effective_date": "2010-01-01", "action": "N"}),
	},
	{
		Code: "A9001", Category: "procedure",
		Short: "Test dressing kit",
		Long:  "Test dressing kit for practice sessions, sterile, includes gauze, tape and a small pair of scissors, each kit packed in a sealed pouch suitable for one training session",
		Attrs: map[string]string{"price_indicator": "11", "multiple_pricing": "A", "coverage": "C", "betos": "D1A", "type_of_service": "9"},
		Meta:  codeset.MetaOf(map[string]string{"sequence": "00100", "recid": "3", "add_date": "2020-01-01", "action_effective_date": "2020-01-01", "action": "N"}),
	},
	{
		Code: "B2", Category: "modifier",
		Short: "Same day repeat, test",
		Long:  "Service repeated on the same calendar day by the same test clinician for reasons unrelated to the first service",
		Attrs: map[string]string{"coverage": "C"},
		Meta:  codeset.MetaOf(map[string]string{"sequence": "00200", "recid": "7", "add_date": "2015-01-01", "action_effective_date": "2030-01-01", "action": "C"}),
	},
	{
		Code: "E0999", Category: "procedure",
		Short: "Test stand adjustable", Long: "Rolling test stand for practice equipment, adjustable height",
		Attrs: map[string]string{"price_indicator": "11 21", "multiple_pricing": "A", "xref": "E0998", "coverage": "D", "betos": "D1C", "type_of_service": "R P"},
		Meta:  codeset.MetaOf(map[string]string{"sequence": "00100", "recid": "3", "add_date": "2030-01-01", "action_effective_date": "2030-01-01", "action": "A"}),
	},
	{
		Code: "G9990", Category: "procedure", Status: codeset.StatusDiscontinued,
		Short: "Practice visit 15 min", Long: "Practice visit for a test patient, first 15 minutes",
		Attrs: map[string]string{"price_indicator": "13", "coverage": "C", "processing_note": "0012", "betos": "M5D", "type_of_service": "1"},
		Meta:  codeset.MetaOf(map[string]string{"sequence": "00100", "recid": "3", "add_date": "2018-01-01", "action_effective_date": "2030-01-01", "termination_date": "2029-12-31", "action": "D"}),
	},
	{
		Code: "J7777", Category: "procedure",
		Short: "Inj test solution 5 mg", Long: "Injection, test solution, 5 mg",
		Attrs: map[string]string{"price_indicator": "51", "xref": "J7778 J7779", "coverage": "D", "asc_group": "09", "betos": "O1E", "type_of_service": "1"},
		Meta:  codeset.MetaOf(map[string]string{"sequence": "00100", "recid": "3", "add_date": "2012-01-01", "action_effective_date": "2012-01-01", "action": "N"}),
	},
	{
		Code: "Q1234", Category: "procedure",
		Short: "Test supply NOC", Long: "Test supply, miscellaneous, not otherwise classified",
		Attrs: map[string]string{"price_indicator": "46", "coverage": "D", "anesthesia_units": "5"},
		Meta:  codeset.MetaOf(map[string]string{"sequence": "00100", "recid": "3", "add_date": "2005-01-01", "action_effective_date": "2005-01-01", "action": "N"}),
	},
}

var hcpcsDeclared = &codeset.Declaration{Source: "ACTION CD", Changes: []codeset.DeclaredChange{
	{Code: "B2", Kind: codeset.Revised, Detail: "C"},
	{Code: "E0999", Kind: codeset.Added, Detail: "A"},
	{Code: "G9990", Kind: codeset.Discontinued, Detail: "D"},
}}

func diffCodes(t *testing.T, got, want []codeset.Code) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d codes %v, want %d %v", len(got), codesOf(got), len(want), codesOf(want))
	}
	for i := 0; i < min(len(got), len(want)); i++ {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("code %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestReadHCPCSText(t *testing.T) {
	path := formatFixture("hcpcs/HCPC2030_CONTR_ANWEB.txt")
	raw := readBytes(t, path)
	// The fixture must keep the quirks it stands for, or this test proves less.
	for _, quirk := range []string{"\r\n", "\t\t\t", "\x92", "   A1001007", "A9001003004training session\r\n"} {
		if !bytes.Contains(raw, []byte(quirk)) {
			t.Fatalf("fixture lost its quirk %q", quirk)
		}
	}
	rel, rep := mustReadSystem(t, codeset.HCPCS, "2030", path)
	diffCodes(t, rel.Codes, hcpcsWant)
	if !reflect.DeepEqual(rel.Declared, hcpcsDeclared) {
		t.Errorf("declared:\n got %+v\nwant %+v", rel.Declared, hcpcsDeclared)
	}
	if len(rel.Headers) != 0 {
		t.Errorf("headers = %v, want none", codesOf(rel.Headers))
	}
	if len(rep.Files) != 1 || rep.Files[0].Codes != 7 || rep.Files[0].Sheet != "" {
		t.Errorf("file report = %+v, want one text file of 7 codes", rep.Files)
	}
	if len(rel.Sources) != 1 || rel.Sources[0].Name != "HCPC2030_CONTR_ANWEB.txt" || rel.Sources[0].Bytes != int64(len(raw)) {
		t.Errorf("sources = %+v", rel.Sources)
	}
}

// hcpcsHeader is the header row of the CMS HCPCS workbook.
var hcpcsHeader = strings.Split("HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,PRICE1,PRICE2,PRICE3,PRICE4,MULT_PI,"+
	"CIM1,CIM2,CIM3,MCM1,MCM2,MCM3,STATUTE,LABCERT1,LABCERT2,LABCERT3,LABCERT4,LABCERT5,LABCERT6,LABCERT7,LABCERT8,"+
	"XREF1,XREF2,XREF3,XREF4,XREF5,COV,ASC_GRP,ASC_DT,OPPS,OPPS_PI,OPPS_DT,PROCNOTE,BETOS,TOS1,TOS2,TOS3,TOS4,TOS5,"+
	"ANEST_BU,ADD DT,ACT EFF DT,TERM DT,ACTION CD", ",")

// hcpcsRows lays out the same records as the TXT fixture, one row per code
// plus one continuation row (RECID 4, blank ACTION CD), with the cells under
// the headers of header.
func hcpcsRows(header []string) [][]any {
	recs := []map[string]string{
		{"HCPC": "   A1", "SEQNUM": "00100", "RECID": "7", "LONG DESCRIPTION": "Gauze pad placed on a single practice wound",
			"SHORT DESCRIPTION": "Gauze pad single wound", "COV": "C", "ADD DT": "20100101", "ACT EFF DT": "20100101", "ACTION CD": "N"},
		{"HCPC": "   B2", "SEQNUM": "00200", "RECID": "7",
			"LONG DESCRIPTION":  "Service repeated on the same calendar day by the same test clinician for reasons unrelated to the first service",
			"SHORT DESCRIPTION": "Same day repeat, test", "COV": "C", "ADD DT": "20150101", "ACT EFF DT": "20300101", "ACTION CD": "C"},
		{"HCPC": "A9001", "SEQNUM": "00100", "RECID": "3", "LONG DESCRIPTION": "Test dressing kit for practice sessions, sterile, includes gauze, tape and a",
			"SHORT DESCRIPTION": "Test dressing kit", "PRICE1": "11", "MULT_PI": "A", "COV": "C", "BETOS": "D1A", "TOS1": "9",
			"ADD DT": "20200101", "ACT EFF DT": "20200101", "ACTION CD": "N"},
		{"HCPC": "A9001", "SEQNUM": "00200", "RECID": "4",
			"LONG DESCRIPTION": "small pair of scissors, each kit packed in a sealed pouch suitable for one training session"},
		nil, // an empty row, as the publisher's sheets have by the thousand
		{"HCPC": "E0999", "SEQNUM": "00100", "RECID": "3", "LONG DESCRIPTION": "Rolling test stand for practice equipment, adjustable height",
			"SHORT DESCRIPTION": "Test stand adjustable", "PRICE1": "11", "PRICE2": "21", "MULT_PI": "A", "XREF1": "E0998", "COV": "D",
			"BETOS": "D1C", "TOS1": "R", "TOS2": "P", "ADD DT": "20300101", "ACT EFF DT": "20300101", "ACTION CD": "A"},
		{"HCPC": "G9990", "SEQNUM": "00100", "RECID": "3", "LONG DESCRIPTION": "Practice visit for a test patient, first 15 minutes",
			"SHORT DESCRIPTION": "Practice visit 15 min", "PRICE1": "13", "COV": "C", "PROCNOTE": "0012", "BETOS": "M5D", "TOS1": "1",
			"ADD DT": "20180101", "ACT EFF DT": "20300101", "TERM DT": "20291231", "ACTION CD": "D"},
		{"HCPC": "J7777", "SEQNUM": "00100", "RECID": "3", "LONG DESCRIPTION": "Injection, test solution, 5 mg",
			"SHORT DESCRIPTION": "Inj test solution 5 mg", "PRICE1": "51", "XREF1": "J7778", "XREF2": "J7779", "COV": "D", "ASC_GRP": "09",
			"BETOS": "O1E", "TOS1": "1", "ADD DT": "20120101", "ACT EFF DT": "20120101", "ACTION CD": "N"},
		{"HCPC": "Q1234", "SEQNUM": "00100", "RECID": "3", "LONG DESCRIPTION": "Test supply, miscellaneous, not otherwise classified",
			"SHORT DESCRIPTION": "Test supply NOC", "PRICE1": "46", "COV": "D", "ANEST_BU": "5",
			"ADD DT": "20050101", "ACT EFF DT": "20050101", "ACTION CD": "N"},
	}
	rows := [][]any{
		{"***Disclaimers"},
		{},
		{"*Every code and descriptor in this workbook is invented for codeset\u2019s unit tests."},
		{},
		{"*Names in descriptors are for indexing only;"},
		{"\u00a0\u00a0 they endorse nothing."},
		{},
	}
	var head []any
	for _, h := range header {
		head = append(head, h)
	}
	rows = append(rows, head)
	for _, r := range recs {
		var row []any
		for i, h := range header {
			if v, ok := r[h]; ok {
				for len(row) < i {
					row = append(row, nil)
				}
				row = append(row, v)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func TestReadHCPCSWorkbookAgreesWithText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "HCPC2030_CONTR_ANWEB.xlsx")
	writeXLSX(t, path, sheet{"HCPCS_2030_Alpha", hcpcsRows(hcpcsHeader)})
	xrel, xrep := mustReadSystem(t, codeset.HCPCS, "2030", path)
	trel, _ := mustReadSystem(t, codeset.HCPCS, "2030", formatFixture("hcpcs/HCPC2030_CONTR_ANWEB.txt"))
	diffCodes(t, xrel.Codes, hcpcsWant)
	diffCodes(t, xrel.Codes, trel.Codes)
	if !reflect.DeepEqual(xrel.Declared, trel.Declared) || !reflect.DeepEqual(xrel.Declared, hcpcsDeclared) {
		t.Errorf("declared: XLSX %+v, TXT %+v, want %+v", xrel.Declared, trel.Declared, hcpcsDeclared)
	}
	if len(xrep.Files) != 1 || xrep.Files[0].Sheet != "HCPCS_2030_Alpha" || xrep.Files[0].HeaderRow != 8 || xrep.Files[0].Codes != 7 {
		t.Errorf("file report = %+v, want sheet HCPCS_2030_Alpha, header row 8, 7 codes", xrep.Files)
	}
}

func TestReadHCPCSWorkbookMissingActionColumn(t *testing.T) {
	var header []string
	for _, h := range hcpcsHeader {
		if h != "ACTION CD" {
			header = append(header, h)
		}
	}
	path := filepath.Join(t.TempDir(), "HCPC2030_CONTR_ANWEB.xlsx")
	writeXLSX(t, path, sheet{"A", hcpcsRows(header)})
	_, _, err := readSystem(t, codeset.HCPCS, "2030", path)
	if !errors.Is(err, ErrLayout) {
		t.Fatalf("err = %v, want ErrLayout", err)
	}
	for _, want := range []string{"HCPC2030_CONTR_ANWEB.xlsx!A row 8", `lacks action ("ACTION CD")`, `found "HCPC", "SEQNUM", "RECID"`, `"TERM DT"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// icd10cm2030 is the ICD-10-CM codes fixture as read.
var icd10cm2030 = []codeset.Code{
	{Code: "A0100", Long: "Test fever of the first kind"},
	{Code: "A0102", Long: "Test fever of the third kind"},
	{Code: "B2000", Long: "Practice rash of the scalp"},
	{Code: "B2001", Long: "Practice rash of the hand and wrist"},
	{Code: "Y1234", Long: "Niece, perpetrator of practice neglect"},
	{Code: "Z5000", Long: "Contact with a test hazard"},
	{Code: "Z5001", Long: "Contact with a test hazard at home"},
	{Code: "Z500101", Long: "Contact with a test hazard at home, initial encounter"},
}

var icd10cmDeclared = &codeset.Declaration{Source: "icd10cm_codes_addenda_2030.txt", Changes: []codeset.DeclaredChange{
	{Code: "A0101", Kind: codeset.Deleted, Detail: "Delete"},
	{Code: "A0102", Kind: codeset.Added, Detail: "Add"},
	{Code: "B2001", Kind: codeset.Revised, Detail: "Revise"},
	{Code: "Z5001", Kind: codeset.Added, Detail: "Add"},
	{Code: "Z500101", Kind: codeset.Added, Detail: "Add"},
}, Counts: []codeset.DeclaredCounts{
	{Part: "codes", FromFile: "icd10cm_order_2029.txt", From: 6, ToFile: "icd10cm_order_2030.txt", To: 8, Added: 3, Deleted: 1, Revised: 1},
}}

// icd10cmOrderDeclared is the ICD-10-CM order addenda fixture as read: the
// header row Z50 (flag 0) is no change to a code; B2000 is a short-title
// revision the codes addenda cannot list, read as one: its long title is
// the same on both lines.
var icd10cmOrderDeclared = &codeset.Declaration{Source: "icd10cm_order_addenda_2030.txt", Changes: []codeset.DeclaredChange{
	{Code: "A0101", Kind: codeset.Deleted, Detail: "Delete"},
	{Code: "A0102", Kind: codeset.Added, Detail: "Add"},
	{Code: "B2000", Kind: codeset.ShortTitle, Detail: "Revise (short title only)"},
	{Code: "B2001", Kind: codeset.Revised, Detail: "Revise"},
	{Code: "Z5001", Kind: codeset.Added, Detail: "Add"},
	{Code: "Z500101", Kind: codeset.Added, Detail: "Add"},
}, Counts: []codeset.DeclaredCounts{
	{Part: "headers", FromFile: "icd10cm_order_2029.txt", From: 3, ToFile: "icd10cm_order_2030.txt", To: 4, Added: 1},
	{Part: "codes", FromFile: "icd10cm_order_2029.txt", From: 6, ToFile: "icd10cm_order_2030.txt", To: 8, Added: 3, Deleted: 1, Revised: 2},
}}

func TestReadICD10CMCodesAndAddenda(t *testing.T) {
	codes := formatFixture("icd10cm/icd10cm_codes_2030.txt")
	rel, _ := mustReadSystem(t, codeset.ICD10CM, "FY2030", codes)
	diffCodes(t, rel.Codes, icd10cm2030)
	if rel.Declared != nil {
		t.Errorf("declared = %+v without an addenda file, want nil", rel.Declared)
	}

	rel, _ = mustReadSystem(t, codeset.ICD10CM, "FY2030", codes, formatFixture("icd10cm/icd10cm_codes_addenda_2030.txt"))
	diffCodes(t, rel.Codes, icd10cm2030)
	if !reflect.DeepEqual(rel.Declared, icd10cmDeclared) {
		t.Errorf("declared:\n got %+v\nwant %+v", rel.Declared, icd10cmDeclared)
	}
}

func TestReadICD10CMOrderFile(t *testing.T) {
	rel, rep := mustReadSystem(t, codeset.ICD10CM, "FY2030", formatFixture("icd10cm/icd10cm_order_2030.txt"))
	if got, want := codesOf(rel.Codes), codesOf(icd10cm2030); !reflect.DeepEqual(got, want) {
		t.Errorf("codes = %v, want %v", got, want)
	}
	for i, c := range rel.Codes {
		if i < len(icd10cm2030) && c.Long != icd10cm2030[i].Long {
			t.Errorf("%s long = %q, want %q as in the codes file", c.Code, c.Long, icd10cm2030[i].Long)
		}
	}
	want := codeset.Code{Code: "B2001", Short: "Practice rash of hand and wrist", Long: "Practice rash of the hand and wrist",
		Meta: codeset.MetaOf(map[string]string{"order": "00006", "billable": "1"})}
	if got := rel.Codes[3]; !reflect.DeepEqual(got, want) {
		t.Errorf("B2001:\n got %+v\nwant %+v", got, want)
	}
	if got, want := codesOf(rel.Headers), []string{"A01", "B20", "Y12", "Z50"}; !reflect.DeepEqual(got, want) {
		t.Errorf("headers = %v, want %v", got, want)
	}
	wantHead := codeset.Code{Code: "Z50", Short: "Contact with test hazards", Long: "Contact with test hazards",
		Meta: codeset.MetaOf(map[string]string{"order": "00009", "billable": "0"})}
	if got := rel.Headers[3]; !reflect.DeepEqual(got, wantHead) {
		t.Errorf("header Z50:\n got %+v\nwant %+v", got, wantHead)
	}
	if rep.Files[0].Codes != 8 {
		t.Errorf("file report counts %d codes, want 8 (headers are not codes)", rep.Files[0].Codes)
	}
}

var icd10pcsDeclared = &codeset.Declaration{Source: "order_addenda_2030.txt", Changes: []codeset.DeclaredChange{
	{Code: "0Z11ZZZ", Kind: codeset.ShortTitle, Detail: "Revise (short title only)"},
	{Code: "0Z12ZZZ", Kind: codeset.Deleted, Detail: "Delete"},
	{Code: "0Z20ZZZ", Kind: codeset.Added, Detail: "Add"},
	{Code: "0Z21ZZZ", Kind: codeset.Added, Detail: "Add"},
}, Counts: []codeset.DeclaredCounts{
	{Part: "codes", FromFile: "icd10pcs_order_2029.txt", From: 3, ToFile: "icd10pcs_order_2030.txt", To: 4, Added: 2, Deleted: 1, Revised: 1},
	{Part: "headers", FromFile: "icd10pcs_order_2029.txt", From: 1, ToFile: "icd10pcs_order_2030.txt", To: 2, Added: 1},
}}

func TestReadICD10PCSOrderAndAddenda(t *testing.T) {
	rel, _ := mustReadSystem(t, codeset.ICD10PCS, "FY2030",
		formatFixture("icd10pcs/icd10pcs_order_2030.txt"), formatFixture("icd10pcs/order_addenda_2030.txt"))
	if got, want := codesOf(rel.Codes), []string{"0Z10ZZZ", "0Z11ZZZ", "0Z20ZZZ", "0Z21ZZZ"}; !reflect.DeepEqual(got, want) {
		t.Errorf("codes = %v, want %v", got, want)
	}
	want := codeset.Code{Code: "0Z21ZZZ", Short: "Second Op Test Site, Ext Approach", Long: "Second Operation on Test Site, External Approach",
		Meta: codeset.MetaOf(map[string]string{"order": "00006", "billable": "1"})}
	if got := rel.Codes[len(rel.Codes)-1]; !reflect.DeepEqual(got, want) {
		t.Errorf("last code:\n got %+v\nwant %+v", got, want)
	}
	if got, want := codesOf(rel.Headers), []string{"0Z1", "0Z2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("headers = %v, want %v", got, want)
	}
	// The addenda add the table header 0Z2 too: not a code, not a change.
	if !reflect.DeepEqual(rel.Declared, icd10pcsDeclared) {
		t.Errorf("declared:\n got %+v\nwant %+v", rel.Declared, icd10pcsDeclared)
	}
}

// TestICD10CMFixtureDiff diffs the two ICD-10-CM years: the whitespace-only
// fix of Y1234 is cosmetic, and the only disagreement with the addenda.
func TestICD10CMFixtureDiff(t *testing.T) {
	old, _ := mustReadSystem(t, codeset.ICD10CM, "FY2029", formatFixture("icd10cm/icd10cm_codes_2029.txt"))
	cur, _ := mustReadSystem(t, codeset.ICD10CM, "FY2030",
		formatFixture("icd10cm/icd10cm_codes_2030.txt"), formatFixture("icd10cm/icd10cm_codes_addenda_2030.txt"))
	l := diff.Compare(old, cur, nil)
	wantSum := codeset.Summary{Added: 3, Deleted: 1, Revised: 1, Cosmetic: 1, Unchanged: 3}
	if l.Summary != wantSum {
		t.Errorf("summary = %+v, want %+v", l.Summary, wantSum)
	}
	kinds := map[string]codeset.ChangeKind{}
	for _, c := range l.Changes {
		kinds[c.Code] = c.Kind
	}
	wantKinds := map[string]codeset.ChangeKind{
		"A0101": codeset.Deleted, "A0102": codeset.Added, "B2001": codeset.Revised,
		"Y1234": codeset.Cosmetic, "Z5001": codeset.Added, "Z500101": codeset.Added,
	}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("kinds = %v, want %v", kinds, wantKinds)
	}
	for _, c := range l.Changes {
		if c.Code == "Y1234" {
			want := map[string]codeset.FieldChange{codeset.FieldLong: {
				Before: "Niece,  perpetrator of practice neglect", After: "Niece, perpetrator of practice neglect"}}
			if !reflect.DeepEqual(c.Fields, want) {
				t.Errorf("Y1234 fields = %+v, want %+v", c.Fields, want)
			}
		}
	}
	wantRec := &codeset.Reconciliation{Source: "icd10cm_codes_addenda_2030.txt", Declared: 5, Agreed: 5,
		Disagreements: []codeset.Disagreement{{Code: "Y1234", Computed: "cosmetic", Reason: "whitespace-only fix; publishers do not list these", Explained: true}}}
	if !reflect.DeepEqual(l.Reconciliation, wantRec) {
		t.Errorf("reconciliation:\n got %+v\nwant %+v", l.Reconciliation, wantRec)
	}
}

// The HCPCS pair HCPC2029_CONTR_ANWEB.txt → HCPC2030_JAN_ANWEB_v2.txt holds
// the HCPCS shapes no other fixture has in a file. The 2030 file is
// HCPC2030_CONTR_ANWEB.txt's records plus G7001, K5005 and L4004 (that file
// has no ACTION R, and other tests count its 7 codes). Every code and text
// is invented. What each code shows:
//   - A1, A9001, J7777, Q1234: the same records in both (N): unchanged.
//   - B2: a new text over two records (C): revised.
//   - E0999: new in 2030 (A): added.
//   - G7001: a re-used code: one text in 2029, ACTION A with another in 2030:
//     revised, flagged re-used, agreeing with the declared add.
//   - G9990: TERM DT 2029-12-31 set in 2030 (D): discontinued.
//   - K5005: a lifted termination: TERM DT 2029-12-31 and D in 2029, no
//     TERM DT and R in 2030: reactivated.
//   - L4004: ended 2028-12-31, before 2029, and still shipped in both with
//     the same record (N): not a change.
func TestHCPCSFixtureLiftedAndReused(t *testing.T) {
	old, _ := mustReadSystem(t, codeset.HCPCS, "2029", formatFixture("hcpcs/HCPC2029_CONTR_ANWEB.txt"))
	cur, _ := mustReadSystem(t, codeset.HCPCS, "2030", formatFixture("hcpcs/HCPC2030_JAN_ANWEB_v2.txt"))
	status := func(rel *codeset.Release) map[string]string {
		m := map[string]string{}
		for _, c := range rel.Codes {
			m[c.Code] = c.Status
		}
		return m
	}
	s29, s30 := status(old), status(cur)
	if len(s29) != 9 || len(s30) != 10 {
		t.Fatalf("codes: 2029 %d, 2030 %d; want 9 and 10", len(s29), len(s30))
	}
	for _, w := range []struct {
		code     string
		ended    bool
		rel      map[string]string
		relLabel string
	}{
		{"K5005", true, s29, "2029"}, {"K5005", false, s30, "2030"},
		{"L4004", true, s29, "2029"}, {"L4004", true, s30, "2030"},
		{"G9990", false, s29, "2029"}, {"G9990", true, s30, "2030"},
	} {
		if got := w.rel[w.code] == codeset.StatusDiscontinued; got != w.ended {
			t.Errorf("%s %s: discontinued %v, want %v", w.relLabel, w.code, got, w.ended)
		}
	}
	wantDecl := &codeset.Declaration{Source: "ACTION CD", Changes: []codeset.DeclaredChange{
		{Code: "B2", Kind: codeset.Revised, Detail: "C"},
		{Code: "E0999", Kind: codeset.Added, Detail: "A"},
		{Code: "G7001", Kind: codeset.Added, Detail: "A"},
		{Code: "G9990", Kind: codeset.Discontinued, Detail: "D"},
		{Code: "K5005", Kind: codeset.Reactivated, Detail: "R"},
	}}
	if !reflect.DeepEqual(cur.Declared, wantDecl) {
		t.Errorf("2030 declared:\n got %+v\nwant %+v", cur.Declared, wantDecl)
	}

	l := diff.Compare(old, cur, nil)
	// Ten codes in all, each counted once: 5 unchanged and 5 changes.
	wantSum := codeset.Summary{Added: 1, Revised: 2, Reactivated: 1, Discontinued: 1, Unchanged: 5, Reused: 1}
	if l.Summary != wantSum {
		t.Errorf("summary = %+v, want %+v", l.Summary, wantSum)
	}
	type kindFlags struct {
		kind                codeset.ChangeKind
		reused, alreadyEnds bool
	}
	got := map[string]kindFlags{}
	for _, c := range l.Changes {
		if _, dup := got[c.Code]; dup {
			t.Errorf("%s counted twice", c.Code)
		}
		got[c.Code] = kindFlags{c.Kind, c.Reused, c.AlreadyDiscontinued}
	}
	want := map[string]kindFlags{
		"B2":    {kind: codeset.Revised},
		"E0999": {kind: codeset.Added},
		"G7001": {kind: codeset.Revised, reused: true},
		"G9990": {kind: codeset.Discontinued},
		"K5005": {kind: codeset.Reactivated},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %+v, want %+v", got, want)
	}
	for _, c := range l.Changes {
		switch c.Code {
		case "G7001":
			// The old and the new meaning, both descriptors.
			if f := c.Fields[codeset.FieldLong]; f.Before != "Practice talk on test posture habits, per session" ||
				f.After != "Practice check of test gait balance, single review" {
				t.Errorf("G7001 long = %+v", f)
			}
			if _, ok := c.Fields[codeset.FieldShort]; !ok {
				t.Errorf("G7001 fields %v lack the short descriptor", c.Fields)
			}
			if c.Note() != "re-used with a new meaning" {
				t.Errorf("G7001 note %q", c.Note())
			}
		case "K5005":
			// Only the status moves: the text is the same in both.
			if _, ok := c.Fields[codeset.FieldLong]; ok {
				t.Errorf("K5005 fields %v: the text did not change", c.Fields)
			}
			if f := c.Fields[codeset.FieldStatus]; f.Before != codeset.StatusDiscontinued || f.After == f.Before {
				t.Errorf("K5005 status = %+v", f)
			}
		}
	}
	wantRec := &codeset.Reconciliation{Source: "ACTION CD", Declared: 5, Agreed: 5}
	if !reflect.DeepEqual(l.Reconciliation, wantRec) {
		t.Errorf("reconciliation:\n got %+v\nwant %+v", l.Reconciliation, wantRec)
	}
}

func TestReadZipMembers(t *testing.T) {
	dir := t.TempDir()
	pdf := []byte("%PDF-1.4\n% stand-in for the publisher's format document\n")
	xls := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, "stand-in for a legacy workbook"...)
	cmOrderAddenda := readBytes(t, formatFixture("icd10cm/icd10cm_order_addenda_2030.txt"))
	pcsCodes := []byte("0Z10ZZZ Only in the codes file, which the order file outranks\r\n")
	tests := []struct {
		name     string
		sys      codeset.System
		members  []zipMember
		files    []string // the members the code files must be read from
		codes    int
		headers  int
		declared *codeset.Declaration
	}{
		{
			name: "icd10cm", sys: codeset.ICD10CM,
			members: []zipMember{
				{"cms_2030_dx/icd10cmCodesFile.pdf", pdf},
				{"cms_2030_dx/icd10cm_order_addenda_2030.txt", cmOrderAddenda},
				{"cms_2030_dx/icd10cm_order_2030.txt", readBytes(t, formatFixture("icd10cm/icd10cm_order_2030.txt"))},
				{"cms_2030_dx/icd10cm_codes_2030.txt", readBytes(t, formatFixture("icd10cm/icd10cm_codes_2030.txt"))},
				{"cms_2030_dx/icd10cm_codes_addenda_2030.txt", readBytes(t, formatFixture("icd10cm/icd10cm_codes_addenda_2030.txt"))},
				{"cms_2030_dx/icd10OrderFiles.pdf", pdf},
			},
			// Both code files: the order file adds short titles and headers,
			// so the order addenda, which declares short-title revisions
			// too, is the list that goes with them.
			files: []string{"cms_2030_dx/icd10cm_codes_2030.txt", "cms_2030_dx/icd10cm_order_2030.txt"}, codes: 8, headers: 4, declared: icd10cmOrderDeclared,
		},
		{
			name: "icd10pcs", sys: codeset.ICD10PCS,
			members: []zipMember{
				{"Zip File 2030/icd10pcsOrderFile.pdf", pdf},
				{"Zip File 2030/icd10pcs_codes_2030.txt", pcsCodes},
				{"Zip File 2030/order_addenda_2030.txt", readBytes(t, formatFixture("icd10pcs/order_addenda_2030.txt"))},
				{"Zip File 2030/icd10pcs_order_2030.txt", readBytes(t, formatFixture("icd10pcs/icd10pcs_order_2030.txt"))},
			},
			files: []string{"Zip File 2030/icd10pcs_order_2030.txt"}, codes: 4, headers: 2, declared: icd10pcsDeclared,
		},
		{
			name: "hcpcs", sys: codeset.HCPCS,
			members: []zipMember{
				{"2030-Alpha-Numeric-HCPCS-File/HCPC2030_CONTR_ANWEB.xls", xls},
				{"2030-Alpha-Numeric-HCPCS-File/HCPC2030_README.txt", []byte("Read me.\r\n")},
				{"2030-Alpha-Numeric-HCPCS-File/HCPCS2030_recordlayout.txt", []byte("Record layout.\r\n")},
				{"2030-Alpha-Numeric-HCPCS-File/HCPC2030_CONTR_ANWEB.txt", readBytes(t, formatFixture("hcpcs/HCPC2030_CONTR_ANWEB.txt"))},
				{"2030-Alpha-Numeric-HCPCS-File/proc_notes.pdf", pdf},
			},
			files: []string{"2030-Alpha-Numeric-HCPCS-File/HCPC2030_CONTR_ANWEB.txt"}, codes: 7, headers: 0, declared: hcpcsDeclared,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".zip")
			writeZip(t, path, tt.members...)
			rel, rep := mustReadSystem(t, tt.sys, "2030", path)
			var read []string
			for _, f := range rep.Files {
				read = append(read, strings.TrimPrefix(f.Name, path+"/"))
			}
			if !reflect.DeepEqual(read, tt.files) {
				t.Errorf("read %v, want %v", read, tt.files)
			}
			if len(rel.Codes) != tt.codes || len(rel.Headers) != tt.headers {
				t.Errorf("%d codes and %d headers, want %d and %d", len(rel.Codes), len(rel.Headers), tt.codes, tt.headers)
			}
			if !reflect.DeepEqual(rel.Declared, tt.declared) {
				t.Errorf("declared:\n got %+v\nwant %+v", rel.Declared, tt.declared)
			}
			if len(rel.Sources) != 1 || rel.Sources[0].Name != tt.name+".zip" {
				t.Errorf("sources = %+v, want the zip", rel.Sources)
			}
		})
	}
}

func TestReadZipErrors(t *testing.T) {
	dir := t.TempDir()
	codes := readBytes(t, formatFixture("icd10cm/icd10cm_codes_2030.txt"))
	tests := []struct {
		name    string
		members []zipMember
		want    []string
	}{
		{
			name:    "no code file",
			members: []zipMember{{"docs/readme.txt", []byte("Read me.\r\n")}, {"docs/icd10cm_tabular_2030.pdf", []byte("%PDF-1.4\n")}},
			want: []string{"no member is a icd10cm code file: want a ICD-10-CM codes file, a ICD-10-CM order file",
				`the zip holds "docs/icd10cm_tabular_2030.pdf" (a PDF document), "docs/readme.txt" (a text file starting "Read me.")`},
		},
		{
			name:    "two code files",
			members: []zipMember{{"2029/icd10cm_codes_2029.txt", codes}, {"2030/icd10cm_codes_2030.txt", codes}},
			want:    []string{"several members are a ICD-10-CM codes file: 2029/icd10cm_codes_2029.txt, 2030/icd10cm_codes_2030.txt; unpack the one you mean and pass it"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".zip")
			writeZip(t, path, tt.members...)
			_, _, err := readSystem(t, codeset.ICD10CM, "2030", path)
			if !errors.Is(err, ErrLayout) {
				t.Fatalf("err = %v, want ErrLayout", err)
			}
			if !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("error %q does not start with the zip's name", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// shiftLines inserts a space before column col (1-based) of every non-blank
// line from line from on: the layout drift of a column moved by one.
func shiftLines(data []byte, from, col int) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i, l := range lines {
		if i+1 >= from && len(bytes.TrimSpace(l)) > 0 && len(l) >= col {
			lines[i] = append(append(append([]byte{}, l[:col-1]...), ' '), l[col-1:]...)
		}
	}
	return bytes.Join(lines, nil)
}

func TestReadLayoutDrift(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, fixture string
		sys           codeset.System
		from, col     int
		want          []string
	}{
		{
			name: "order file code column", fixture: "icd10cm/icd10cm_order_2030.txt", sys: codeset.ICD10CM, from: 1, col: 7,
			want: []string{"icd10cm_order_2030.txt line 1 col 16: want a blank between the fields of the ICD-10-CM order file layout",
				"order 1-5, code 7-13, billable 15-15, short 17-76, long 78-", `found "0"`},
		},
		{
			// Codes shorter than 7 characters fit the shifted column; the
			// first 7-character code runs into the gap.
			name: "codes file code column", fixture: "icd10cm/icd10cm_codes_2030.txt", sys: codeset.ICD10CM, from: 1, col: 1,
			want: []string{"icd10cm_codes_2030.txt line 8 col 8: want a blank", "(code 1-7, long 9-)", `found "1"`},
		},
		{
			name: "hcpcs records after the first", fixture: "hcpcs/HCPC2030_CONTR_ANWEB.txt", sys: codeset.HCPCS, from: 7, col: 1,
			want: []string{"HCPC2030_CONTR_ANWEB.txt line 7: not a HCPCS 320-byte contractor record line",
				"code 1-5, sequence 6-10, recid 11-11, long 12-91, short 92-119", "action 293-293", `found "    B2002007`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			path := writeBytes(t, filepath.Join(sub, filepath.Base(tt.fixture)), shiftLines(readBytes(t, formatFixture(tt.fixture)), tt.from, tt.col))
			_, _, err := readSystem(t, tt.sys, "2030", path)
			if !errors.Is(err, ErrLayout) {
				t.Fatalf("err = %v, want ErrLayout", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line == 0 {
				t.Errorf("err = %#v, want a ParseError with the line", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestReadLegacyXLS(t *testing.T) {
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
	tests := []struct {
		name       string
		besideText bool
		want       string
	}{
		{"text beside it", true, "use the fixed-width text file shipped with it, HCPC2030_CONTR_ANWEB.txt, or save the workbook as .xlsx"},
		{"alone", false, "use the fixed-width text (.txt) file shipped in the same zip (or pass the zip itself)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			xls := writeBytes(t, filepath.Join(dir, "HCPC2030_CONTR_ANWEB.xls"), ole)
			if tt.besideText {
				writeBytes(t, filepath.Join(dir, "HCPC2030_CONTR_ANWEB.txt"), readBytes(t, formatFixture("hcpcs/HCPC2030_CONTR_ANWEB.txt")))
			}
			_, _, err := readSystem(t, codeset.HCPCS, "2030", xls)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
			for _, w := range []string{xls + ": legacy Excel 97-2003 (.xls) workbook", tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestReadCP1252 reads a Windows-1252 apostrophe (byte 0x92) in the last
// field of a fixed-width line.
func TestReadCP1252(t *testing.T) {
	path := writeBytes(t, filepath.Join(t.TempDir(), "icd10cm_codes_2030.txt"),
		[]byte("Z5000   Contact with a patient\x92s test hazard\r\nZ5001   Plain\xa0text\r\n"))
	rel, _ := mustReadSystem(t, codeset.ICD10CM, "FY2030", path)
	want := []codeset.Code{
		{Code: "Z5000", Long: "Contact with a patient\u2019s test hazard"},
		{Code: "Z5001", Long: "Plain text"},
	}
	if !reflect.DeepEqual(rel.Codes, want) {
		t.Errorf("codes = %+v, want %+v", rel.Codes, want)
	}
}

// TestReadCP1252BeforeLaterFields is the regression test for a Windows-1252
// byte early in a fixed-width record: it must not shift the fields after
// it (the byte decodes to three UTF-8 bytes).
func TestReadCP1252BeforeLaterFields(t *testing.T) {
	data := readBytes(t, formatFixture("hcpcs/HCPC2030_CONTR_ANWEB.txt"))
	lines := strings.Split(string(data), "\r\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "E0999") })
	if i < 0 {
		t.Fatal("fixture lacks E0999")
	}
	rec := []byte(lines[i])
	copy(rec[11:], "Test supplier\x92s device") // inside the long description, columns 12-91
	lines[i] = string(rec)
	path := writeBytes(t, filepath.Join(t.TempDir(), "HCPC2030_CONTR_ANWEB.txt"), []byte(strings.Join(lines, "\r\n")))
	rel, _ := mustReadSystem(t, codeset.HCPCS, "2030", path)
	var got codeset.Code
	for _, c := range rel.Codes {
		if c.Code == "E0999" {
			got = c
		}
	}
	if !strings.HasPrefix(got.Long, "Test supplier\u2019s device") || got.Meta.Get("action") != "A" || got.Meta.Get("add_date") == "" {
		t.Errorf("E0999 = %+v, want the apostrophe decoded and the later fields in place", got)
	}
}
