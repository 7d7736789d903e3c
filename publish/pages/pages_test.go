package pages

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
)

// TestWriteRecords checks the record data of a release: codes and header
// rows in code order, every field, tabs and line breaks made spaces, the
// attributes as JSON with sorted keys.
func TestWriteRecords(t *testing.T) {
	rel := &codeset.Release{System: codeset.ICD10CM, Label: "FY2026",
		Codes: []codeset.Code{
			{Code: "A7741", Short: "Ehrlichiosis chafeensis", Long: "Ehrlichiosis\tchaffeensis\n[E. chaffeensis]", Attrs: map[string]string{"order": "42", "billable": "1"}},
			{Code: "A001", Long: "Cholera", Meta: codeset.MetaOf(map[string]string{"action": "N"})},
		},
		Headers: []codeset.Code{{Code: "A77", Long: "Spotted fever"}},
	}
	var b bytes.Buffer
	if err := WriteRecords(&b, rel); err != nil {
		t.Fatal(err)
	}
	want := "# codeset records: icd10cm FY2026\n" +
		"code\tkind\tcategory\tstatus\tshort\tmedium\tlong\tattributes\tmeta\n" +
		"A001\tcode\t\t\t\t\tCholera\t{}\t{\"action\":\"N\"}\n" +
		"A77\theader\t\t\t\t\tSpotted fever\t{}\t{}\n" +
		"A7741\tcode\t\t\tEhrlichiosis chafeensis\t\tEhrlichiosis chaffeensis [E. chaffeensis]\t{\"billable\":\"1\",\"order\":\"42\"}\t{}\n"
	if b.String() != want {
		t.Errorf("records:\n%s\nwant\n%s", b.String(), want)
	}
}

// TestCodeAndComparePages checks the system's data the code and compare
// pages carry for their scripts, and that the compare page lists the
// published changelogs for a static host.
func TestCodeAndComparePages(t *testing.T) {
	latest, current := "FY2026", "FY2025"
	idx := &format.SystemIndex{System: codeset.ICD10CM, Name: "ICD-10-CM", Latest: &latest, Current: &current, Releases: []format.IndexRelease{
		{Label: "FY2025", Effective: "2024-10-01", Changelogs: map[string]string{"html": "FY2025/changelog.html"}},
		{Label: "FY2026", Effective: "2025-10-01", Previous: "FY2025", Changelogs: map[string]string{"html": "FY2026/changelog.html"}},
	}}
	data := regexp.MustCompile(`(?s)<script type="application/json" id="codeset-data">(.*?)</script>`)
	for name, write := range map[string]func(*bytes.Buffer) error{
		"code":    func(b *bytes.Buffer) error { return WriteCodePage(b, idx) },
		"compare": func(b *bytes.Buffer) error { return WriteComparePage(b, idx) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		m := data.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s page has no data block", name)
		}
		var d pageData
		if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
			t.Fatalf("%s page data: %v\n%s", name, err, m[1])
		}
		if d.System != codeset.ICD10CM || d.Dot != 3 || d.Latest != latest || d.Current != current || len(d.Releases) != 2 ||
			d.Releases[1].Changelog != "FY2026/changelog.html" || d.Releases[1].Previous != "FY2025" || d.Labels["short"] != "Short description" {
			t.Errorf("%s page data = %+v", name, d)
		}
		for _, want := range []string{`<option value="FY2025">FY2025</option>`, `<option value="FY2026">FY2026</option>`, `<a href="../index.html">All systems</a>`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s page lacks %q", name, want)
			}
		}
		var again bytes.Buffer
		write(&again)
		if again.String() != page {
			t.Errorf("%s page differs between two writes", name)
		}
	}
	var b bytes.Buffer
	WriteComparePage(&b, idx)
	if !strings.Contains(b.String(), `<li><a href="FY2026/changelog.html">FY2026</a> (from FY2025)</li>`) {
		t.Errorf("compare page does not list the changelogs for a static host")
	}
}
