package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/internal/fhirtest"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/internal/fixture"
	"github.com/codeset/codeset/publish/internal/publishtest"
)

// param returns the value of the named top-level parameter, and of the
// property named prop when name is "property".
func param(p format.Parameters, name string) (string, bool) {
	for _, x := range p.Parameter {
		if x.Name == name {
			return x.Value(), true
		}
	}
	return "", false
}

func property(p format.Parameters, code string) (string, bool) {
	for _, x := range p.Parameter {
		if x.Name != "property" || len(x.Part) != 2 || x.Part[0].Value() != code {
			continue
		}
		return x.Part[1].Value(), true
	}
	return "", false
}

// icdReleases are two synthetic ICD-10-CM releases with header rows: E11
// and E11.6 are headers, E11.9 is deleted by FY2026.
func icdReleases() []*codeset.Release {
	headers := []codeset.Code{{Code: "E11", Long: "Type 2 diabetes mellitus"}, {Code: "E116", Long: "Type 2 diabetes mellitus with other specified complications"}}
	r1 := &codeset.Release{System: codeset.ICD10CM, Label: "FY2025", Effective: fixture.Day(2024, 10, 1), Headers: headers, Codes: []codeset.Code{
		{Code: "E1165", Short: "Type 2 diabetes w hyperglycemia", Long: "Type 2 diabetes mellitus with hyperglycemia"},
		{Code: "E119", Short: "Type 2 diabetes w/o complications", Long: "Type 2 diabetes mellitus without complications"},
		{Code: "K589", Long: "Irritable bowel syndrome without diarrhea"},
	}}
	r2 := &codeset.Release{System: codeset.ICD10CM, Label: "FY2026", Effective: fixture.Day(2025, 10, 1), Headers: headers, Codes: []codeset.Code{
		{Code: "E1165", Short: "Type 2 diabetes w hyperglycemia", Long: "Type 2 diabetes mellitus with hyperglycemia"},
		{Code: "E1169", Long: "Type 2 diabetes mellitus with other specified complication"},
		{Code: "K589", Long: "Irritable bowel syndrome without diarrhea"},
	}}
	return []*codeset.Release{r1, r2}
}

// TestFHIR calls every /fhir route on a small ICD-10-CM tree, checks what
// the answers say and has the independent validators check every answer
// and every published codesystem.json.
func TestFHIR(t *testing.T) {
	out, _ := publishtest.PublishAll(t, icdReleases(), fixture.Day(2026, 1, 1))
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	const sys = "http://hl7.org/fhir/sid/icd-10-cm"
	bodies := map[string][]byte{}
	call := func(name, path string, wantStatus int) []byte {
		t.Helper()
		resp, body := get(t, srv, path, nil)
		if resp.StatusCode != wantStatus {
			t.Errorf("%s: %s %s, want %d", path, resp.Status, body, wantStatus)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if strings.Contains(body, out) {
			t.Errorf("%s: the answer shows a file-system path: %s", path, body)
		}
		bodies[name] = []byte(body)
		return []byte(body)
	}
	params := func(b []byte) format.Parameters {
		t.Helper()
		var p format.Parameters
		if err := json.Unmarshal(b, &p); err != nil || p.ResourceType != "Parameters" {
			t.Fatalf("not Parameters: %v %s", err, b)
		}
		return p
	}

	call("metadata", "/fhir/metadata", 200)

	p := params(call("lookup", "/fhir/CodeSystem/$lookup?system="+sys+"&code=E11.65", 200))
	if d, _ := param(p, "display"); d != "Type 2 diabetes mellitus with hyperglycemia" {
		t.Errorf("$lookup E11.65 display %q", d)
	}
	if v, _ := param(p, "version"); v != "FY2026" {
		t.Errorf("$lookup E11.65 version %q, want the current FY2026", v)
	}
	if parent, _ := property(p, "parent"); parent != "E11.6" {
		t.Errorf("$lookup E11.65 parent %q, want the header E11.6", parent)
	}
	// E11.9 went with FY2026 (effective 2025-10-01).
	p = params(call("lookup-before", "/fhir/CodeSystem/$lookup?system="+sys+"&code=E11.9&date=2025-09-30", 200))
	if v, _ := param(p, "version"); v != "FY2025" {
		t.Errorf("$lookup E11.9 on 2025-09-30: version %q", v)
	}
	if _, inactive := property(p, "inactive"); inactive {
		t.Errorf("$lookup E11.9 on 2025-09-30 says inactive")
	}
	p = params(call("lookup-after", "/fhir/CodeSystem/$lookup?system="+sys+"&code=E11.9&date=2025-10-01", 200))
	if v, _ := property(p, "inactive"); v != "true" {
		t.Errorf("$lookup E11.9 on 2025-10-01: inactive %q, want true", v)
	}
	if v, _ := property(p, "retirementDate"); v != "2025-10-01" {
		t.Errorf("$lookup E11.9 on 2025-10-01: retirementDate %q", v)
	}
	p = params(call("lookup-header", "/fhir/CodeSystem/$lookup?system="+sys+"&code=E11&version=FY2025", 200))
	if v, _ := param(p, "abstract"); v != "true" {
		t.Errorf("$lookup E11: abstract %q, want true (a header)", v)
	}

	p = params(call("validate", "/fhir/CodeSystem/$validate-code?url="+sys+"&code=E11.65", 200))
	if v, _ := param(p, "result"); v != "true" {
		t.Errorf("$validate-code E11.65: result %q", v)
	}
	p = params(call("validate-deleted", "/fhir/CodeSystem/$validate-code?url="+sys+"&code=E11.9&date=2025-12-01", 200))
	if v, _ := param(p, "result"); v != "false" {
		t.Errorf("$validate-code deleted E11.9: result %q", v)
	}
	if m, _ := param(p, "message"); !strings.Contains(m, "deleted by FY2026") {
		t.Errorf("$validate-code deleted E11.9: message %q", m)
	}
	p = params(call("validate-unknown", "/fhir/CodeSystem/$validate-code?url="+sys+"&code=Z99.999", 200))
	if v, _ := param(p, "result"); v != "false" {
		t.Errorf("$validate-code unknown: result %q", v)
	}
	p = params(call("validate-display", "/fhir/CodeSystem/$validate-code?url="+sys+"&code=K58.9&display=Something+else", 200))
	if v, _ := param(p, "result"); v != "false" {
		t.Errorf("$validate-code wrong display: result %q", v)
	}

	var vs format.ValueSet
	b := call("expand", "/fhir/ValueSet/$expand?url="+sys+"&filter=diabetes&count=2&offset=1", 200)
	if err := json.Unmarshal(b, &vs); err != nil || vs.Expansion == nil {
		t.Fatalf("$expand: %v %s", err, b)
	}
	// E11, E11.6, E11.65, E11.69 match; the page is the second and third.
	if vs.Expansion.Total != 4 || len(vs.Expansion.Contains) != 2 || vs.Expansion.Contains[0].Code != "E11.6" || !vs.Expansion.Contains[0].Abstract || vs.Expansion.Contains[1].Code != "E11.65" {
		t.Errorf("$expand filter=diabetes count=2 offset=1: %+v", vs.Expansion)
	}
	call("expand-code", "/fhir/ValueSet/$expand?url="+sys+"%3Ffhir_vs&filter=K58&version=FY2025", 200)

	var bundle format.Bundle
	if err := json.Unmarshal(call("search", "/fhir/CodeSystem?url="+sys, 200), &bundle); err != nil || bundle.Total != 2 {
		t.Errorf("CodeSystem search: %v total %d", err, bundle.Total)
	}
	call("search-version", "/fhir/CodeSystem?url="+sys+"&version=FY2025", 200)
	call("read", "/fhir/CodeSystem/icd10cm-FY2025", 200)

	for name, path := range map[string]string{
		"error-system":  "/fhir/CodeSystem/$lookup?system=http://example.org/x&code=A",
		"error-code":    "/fhir/CodeSystem/$lookup?system=" + sys + "&code=Q99.999",
		"error-release": "/fhir/CodeSystem/$lookup?system=" + sys + "&code=E11&version=FY1999",
		"error-early":   "/fhir/CodeSystem/$lookup?system=" + sys + "&code=E11&date=2001-01-01",
		"error-route":   "/fhir/Patient",
		"error-read":    "/fhir/CodeSystem/icd10cm-FY1999",
	} {
		call(name, path, 404)
	}
	call("error-missing", "/fhir/CodeSystem/$lookup?system="+sys, 400)
	call("error-date", "/fhir/CodeSystem/$lookup?system="+sys+"&code=E11&date=yesterday", 400)
	call("error-count", "/fhir/ValueSet/$expand?url="+sys+"&count=many", 400)

	// POST a Parameters resource, as clients do.
	in := `{"resourceType":"Parameters","parameter":[{"name":"coding","valueCoding":{"system":"` + sys + `","code":"K58.9"}},{"name":"date","valueDateTime":"2025-01-15"}]}`
	resp, err := srv.Client().Post(srv.URL+"/fhir/CodeSystem/$lookup", "application/fhir+json", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var pp format.Parameters
	json.NewDecoder(resp.Body).Decode(&pp)
	resp.Body.Close()
	if v, _ := param(pp, "version"); resp.StatusCode != 200 || v != "FY2025" {
		t.Errorf("POST $lookup: %s version %q", resp.Status, v)
	}
	// Other methods answer an OperationOutcome with 405.
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/fhir/CodeSystem/$lookup", nil)
	if resp, err := srv.Client().Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("DELETE /fhir: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	var files []string
	for _, label := range []string{"FY2025", "FY2026"} {
		files = append(files, filepath.Join(out, "icd10cm", label, format.CodeSystemName))
	}
	var cs format.CodeSystem
	raw, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cs); err != nil {
		t.Fatal(err)
	}
	if cs.URL != sys || cs.Version != "FY2026" || cs.Content != "complete" || cs.Count != 5 || cs.Date != "2025-10-01" || len(cs.Concept) != 5 {
		t.Errorf("codesystem.json: %+v", cs)
	}
	fhirtest.Validate(t, files...)
	fhirtest.ValidateJSON(t, bodies)
}

// TestFHIRClient drives $lookup, $validate-code and $expand with the
// independent fhir-kit-client library.
func TestFHIRClient(t *testing.T) {
	out, _ := publishtest.PublishAll(t, icdReleases(), fixture.Day(2026, 1, 1))
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	const sys = "http://hl7.org/fhir/sid/icd-10-cm"
	got := fhirtest.Client(t, srv.URL+"/fhir", []fhirtest.Call{
		{Name: "meta", Op: "capabilities"},
		{Name: "lookup", Op: "$lookup", ResourceType: "CodeSystem", Input: map[string]string{"system": sys, "code": "E11.9", "date": "2025-10-01"}},
		{Name: "validate", Op: "$validate-code", ResourceType: "CodeSystem", Input: map[string]string{"url": sys, "code": "E11.65"}},
		{Name: "expand", Op: "$expand", ResourceType: "ValueSet", Input: map[string]string{"url": sys, "filter": "diabetes", "count": "10"}},
	})
	var p format.Parameters
	json.Unmarshal(got["lookup"], &p)
	if v, _ := property(p, "inactive"); v != "true" {
		t.Errorf("client $lookup: %s", got["lookup"])
	}
	p = format.Parameters{}
	json.Unmarshal(got["validate"], &p)
	if v, _ := param(p, "result"); v != "true" {
		t.Errorf("client $validate-code: %s", got["validate"])
	}
	var vs format.ValueSet
	json.Unmarshal(got["expand"], &vs)
	if vs.Expansion == nil || vs.Expansion.Total != 4 {
		t.Errorf("client $expand: %s", got["expand"])
	}
	if !strings.Contains(string(got["meta"]), "CapabilityStatement") {
		t.Errorf("client capabilities: %s", got["meta"])
	}
}

// TestAPISearch checks the code API's search: by written form and prefix,
// headers marked non-billable, paging with a total, release= honoured,
// inactive codes left out unless asked, JSON errors with CORS.
func TestAPISearch(t *testing.T) {
	rels := icdReleases()
	rels[1].Codes = append(rels[1].Codes, codeset.Code{Code: "E1100", Long: "Type 2 diabetes mellitus, ended", Status: codeset.StatusDiscontinued})
	out, _ := publishtest.PublishAll(t, rels, fixture.Day(2026, 1, 1))
	srv := httptest.NewServer(New(out))
	defer srv.Close()
	search := func(q string) format.SearchResponse {
		t.Helper()
		resp, body := get(t, srv, "/api/v1/icd10cm/search?"+q, nil)
		var s format.SearchResponse
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &s) != nil {
			t.Fatalf("search %s: %s %s", q, resp.Status, body)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("search %s: no CORS header", q)
		}
		return s
	}
	written := func(s format.SearchResponse) string {
		var ws []string
		for _, h := range s.Results {
			w := h.Written
			if h.Header {
				w += "(header)"
			}
			ws = append(ws, w)
		}
		return strings.Join(ws, " ")
	}
	for _, tt := range []struct{ q, want string }{
		{"q=E11.9&release=FY2025", "E11.9"},
		{"q=e11.9", ""},
		{"q=K58", "K58.9"},
		{"q=E11", "E11(header) E11.6(header) E11.65 E11.69"},
		{"q=E11&inactive=true", "E11(header) E11.00 E11.6(header) E11.65 E11.69"},
		{"q=diabetes&limit=2&offset=1", "E11.6(header) E11.65"},
		{"q=diabetes+hyperglycemia", "E11.65"},
	} {
		if got := written(search(tt.q)); got != tt.want {
			t.Errorf("search %s: %q, want %q", tt.q, got, tt.want)
		}
	}
	if s := search("q=diabetes&limit=2&offset=1"); s.Total != 4 || s.Offset != 1 || s.Limit != 2 || s.Release != "FY2026" || s.Results[0].Billable {
		t.Errorf("search paging: %+v", s)
	}
	resp, body := get(t, srv, "/api/v1/icd10cm/codes/E11", nil)
	var cr format.CodeResponse
	if json.Unmarshal([]byte(body), &cr); resp.StatusCode != 200 || !cr.Header || cr.Billable || cr.Display != "Type 2 diabetes mellitus" {
		t.Errorf("codes/E11: %s %s", resp.Status, body)
	}
	resp, body = get(t, srv, "/api/v1/icd10cm/codes/E11.9?date=2025-09-30", nil)
	if json.Unmarshal([]byte(body), &cr); resp.StatusCode != 200 || cr.Release != "FY2025" || cr.Status != "active" || cr.Parent != "E11" {
		t.Errorf("codes/E11.9?date=2025-09-30: %s %s", resp.Status, body)
	}
	for _, p := range []string{"/api/v1/icd10cm/search?q=x&limit=5000", "/api/v1/icd10cm/codes/E11?date=soon", "/api/v1/icd10pcs/codes/X", "/api/v1/icd10cm/codes/E11?release=FY1999"} {
		resp, body := get(t, srv, p, nil)
		var e format.Error
		if resp.StatusCode < 400 || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" || strings.Contains(body, out) || strings.Contains(body, ".json") {
			t.Errorf("%s: %s %s, want a JSON error without paths", p, resp.Status, body)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/icd10cm/codes/E11", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e format.Error
	if json.NewDecoder(resp.Body).Decode(&e); resp.StatusCode != 405 || e.Error == "" {
		t.Errorf("POST /api/v1: %s %+v", resp.Status, e)
	}
	resp.Body.Close()
}
