package fhirtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidatorsReject checks that the validators the FHIR tests rely on
// do reject what is not FHIR, each for its own part.
func TestValidatorsReject(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"resourceType":"CodeSystem","url":"http://hl7.org/fhir/sid/icd-10-cm","status":"active","content":"complete","concept":[{"code":"A00","display":"Cholera"}]}`)
	badContent := write("content.json", `{"resourceType":"CodeSystem","status":"active","content":"everything"}`)
	unknown := write("unknown.json", `{"resourceType":"Parameters","parameter":[{"name":"x","valueText":"y"}]}`)
	noStatus := write("nostatus.json", `{"resourceType":"CodeSystem","content":"complete"}`)
	got := Problems(t, good, badContent, unknown, noStatus)
	if len(got[good]) != 0 {
		t.Errorf("good CodeSystem: %v", got[good])
	}
	for _, tt := range []struct{ file, want string }{
		{badContent, "schema:"}, {badContent, "fhir.js:"},
		{unknown, "schema:"}, {unknown, "fhir.js:"},
		{noStatus, "fhir.js: CodeSystem.status"},
	} {
		found := false
		for _, e := range got[tt.file] {
			found = found || strings.HasPrefix(e, tt.want)
		}
		if !found {
			t.Errorf("%s: no error from %q in %v", filepath.Base(tt.file), tt.want, got[tt.file])
		}
	}
}
