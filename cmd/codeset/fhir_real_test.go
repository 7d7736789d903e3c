package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/internal/fhirtest"
	"github.com/codeset/codeset/publish/format"
)

// TestRealFHIR publishes the real ICD-10-CM FY2024 and FY2025 releases,
// serves them with codeset serve and asks the FHIR operations what a
// claims system asks: a code deleted in FY2025 is found on 2024-09-30 and
// inactive on 2024-10-01; S72.001A validates; $expand pages the active
// diabetes codes. The independent validators check every answer and both
// CodeSystems; the independent client library asks too.
func TestRealFHIR(t *testing.T) {
	rd := realdata(t)
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	publishRun(t, data, out, "icd10cm/FY2024", "--system", "icd10cm", "--release", "FY2024", filepath.Join(rd, "icd10cm/2024/icd10cm-CodesDescriptions-2024.zip"))
	publishRun(t, data, out, "icd10cm/FY2025", "--system", "icd10cm", "--release", "FY2025", filepath.Join(rd, "icd10cm/2025/cms_2025_dx.zip"))
	raw, err := os.ReadFile(filepath.Join(out, "icd10cm", "FY2025", "changelog.json"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := format.ReadChangelog(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	base := startServe(t, buildBinary(t), out)
	// Some codes FY2025 deletes come back as headers (C83.39 is split into
	// C83.390...C83.398): the code API says so. Pick one that is gone.
	var deleted, toHeader string
	for _, c := range l.Changes {
		if c.Kind != codeset.Deleted {
			continue
		}
		resp, err := http.Get(base + "/api/v1/icd10cm/codes/" + c.Code + "?release=FY2025")
		if err != nil {
			t.Fatal(err)
		}
		var cr format.CodeResponse
		json.NewDecoder(resp.Body).Decode(&cr)
		resp.Body.Close()
		switch {
		case cr.Status == "deleted" && !cr.Billable && deleted == "":
			deleted = cr.Written
		case cr.Header && !cr.Billable && toHeader == "":
			toHeader = cr.Written
		}
	}
	if deleted == "" {
		t.Fatal("FY2025 deletes no code outright")
	}
	t.Logf("code deleted in FY2025: %s; code that became a header: %q", deleted, toHeader)
	const sys = "http://hl7.org/fhir/sid/icd-10-cm"
	bodies := map[string][]byte{}
	get := func(name, path string) []byte {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s %s", path, resp.Status, b)
		}
		bodies[name] = b
		return b
	}
	params := func(b []byte) format.Parameters {
		var p format.Parameters
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		return p
	}
	find := func(p format.Parameters, name string) string {
		for _, x := range p.Parameter {
			if x.Name == name {
				return x.Value()
			}
			if x.Name == "property" && len(x.Part) == 2 && x.Part[0].Value() == name {
				return x.Part[1].Value()
			}
		}
		return ""
	}

	p := params(get("lookup-0930", "/fhir/CodeSystem/$lookup?system="+sys+"&code="+deleted+"&date=2024-09-30"))
	if find(p, "version") != "FY2024" || find(p, "inactive") != "" || find(p, "status") != "active" || find(p, "display") == "" {
		t.Errorf("$lookup %s on 2024-09-30: %+v", deleted, p)
	}
	p = params(get("lookup-1001", "/fhir/CodeSystem/$lookup?system="+sys+"&code="+deleted+"&date=2024-10-01"))
	if find(p, "version") != "FY2025" || find(p, "inactive") != "true" || find(p, "status") != "deleted" || find(p, "retirementDate") != "2024-10-01" {
		t.Errorf("$lookup %s on 2024-10-01: %+v", deleted, p)
	}
	p = params(get("validate-S72001A", "/fhir/CodeSystem/$validate-code?url="+sys+"&code=S72.001A&date=2024-12-01"))
	if find(p, "result") != "true" || !strings.Contains(find(p, "display"), "femur") {
		t.Errorf("$validate-code S72.001A: %+v", p)
	}
	p = params(get("validate-deleted", "/fhir/CodeSystem/$validate-code?url="+sys+"&code="+deleted+"&date=2024-12-01"))
	if find(p, "result") != "false" || !strings.Contains(find(p, "message"), "deleted by FY2025") {
		t.Errorf("$validate-code %s on 2024-12-01: %+v", deleted, p)
	}

	// Page through the active diabetes codes of FY2025.
	var total int
	var codes []string
	for offset, n := 0, 0; ; offset += 200 {
		var vs format.ValueSet
		b := get(fmt.Sprintf("expand-%d", n), fmt.Sprintf("/fhir/ValueSet/$expand?url=%s&filter=diabetes&activeOnly=true&count=200&offset=%d", sys, offset))
		n++
		if err := json.Unmarshal(b, &vs); err != nil || vs.Expansion == nil {
			t.Fatalf("$expand: %v %s", err, b)
		}
		if total == 0 {
			total = vs.Expansion.Total
		} else if vs.Expansion.Total != total {
			t.Errorf("$expand offset %d: total %d, was %d", offset, vs.Expansion.Total, total)
		}
		if vs.Expansion.Offset != offset {
			t.Errorf("$expand offset %d: says offset %d", offset, vs.Expansion.Offset)
		}
		for _, c := range vs.Expansion.Contains {
			if c.Inactive || !strings.Contains(strings.ToLower(c.Display), "diabet") && !strings.HasPrefix(strings.ToLower(c.Code), "diabetes") {
				t.Errorf("$expand: %+v does not belong", c)
			}
			if len(codes) > 0 && c.Code <= codes[len(codes)-1] {
				t.Errorf("$expand: %s after %s", c.Code, codes[len(codes)-1])
			}
			codes = append(codes, c.Code)
		}
		if len(vs.Expansion.Contains) < 200 {
			break
		}
		if n > 50 {
			t.Fatal("$expand never ends")
		}
	}
	if total < 300 || len(codes) != total {
		t.Errorf("$expand filter=diabetes activeOnly: total %d, paged through %d codes", total, len(codes))
	}
	t.Logf("$expand filter=diabetes&activeOnly=true: %d codes in %d pages", total, (total+199)/200)

	fhirtest.ValidateJSON(t, bodies)
	fhirtest.Validate(t, filepath.Join(out, "icd10cm", "FY2024", format.CodeSystemName), filepath.Join(out, "icd10cm", "FY2025", format.CodeSystemName))

	got := fhirtest.Client(t, base+"/fhir", []fhirtest.Call{
		{Name: "before", Op: "$lookup", ResourceType: "CodeSystem", Input: map[string]string{"system": sys, "code": deleted, "date": "2024-09-30"}},
		{Name: "after", Op: "$lookup", ResourceType: "CodeSystem", Input: map[string]string{"system": sys, "code": deleted, "date": "2024-10-01"}},
		{Name: "validate", Op: "$validate-code", ResourceType: "CodeSystem", Input: map[string]string{"url": sys, "code": "S72.001A"}},
		{Name: "expand", Op: "$expand", ResourceType: "ValueSet", Input: map[string]string{"url": sys, "filter": "diabetes", "activeOnly": "true", "count": "20", "offset": "20"}},
	})
	if p := params(got["before"]); find(p, "version") != "FY2024" || find(p, "inactive") != "" {
		t.Errorf("client $lookup on 2024-09-30: %s", got["before"])
	}
	if p := params(got["after"]); find(p, "inactive") != "true" {
		t.Errorf("client $lookup on 2024-10-01: %s", got["after"])
	}
	if p := params(got["validate"]); find(p, "result") != "true" {
		t.Errorf("client $validate-code S72.001A: %s", got["validate"])
	}
	var vs format.ValueSet
	if err := json.Unmarshal(got["expand"], &vs); err != nil || vs.Expansion == nil || vs.Expansion.Total != total || len(vs.Expansion.Contains) != 20 || vs.Expansion.Contains[0].Code != codes[20] {
		t.Errorf("client $expand offset 20: %s", got["expand"])
	}
}
