package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
	"github.com/codeset/codeset/publish/snapshot"
)

// The FHIR terminology side of the server, under /fhir: the operations
// terminology clients call ($lookup, $validate-code, $expand), the
// CodeSystem of each release, and the CapabilityStatement. Parameters come
// as URL query parameters, a form, or a Parameters resource POSTed as
// JSON; answers are Parameters, ValueSet, CodeSystem or Bundle resources,
// and failures OperationOutcome resources.

// fhirJSON is the media type of FHIR JSON.
const fhirJSON = "application/fhir+json"

// Paging limits of $expand.
const (
	expandDefaultCount = 100
	expandMaxCount     = 1000
)

// Definitions of the operations, as the CapabilityStatement names them.
const (
	defLookup   = "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"
	defValidate = "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code"
	defExpand   = "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"
)

// fhirError is a failure answered as an OperationOutcome.
type fhirError struct {
	status int
	code   string // the issue type
	msg    string
}

func (e *fhirError) Error() string { return e.msg }

// replyFHIR writes a FHIR resource.
func replyFHIR(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"resourceType": "OperationOutcome", "issue": [{"severity": "fatal", "code": "exception", "diagnostics": "cannot encode the reply"}]}`)
	}
	w.Header().Set("Content-Type", fhirJSON+"; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// replyOutcome answers err as an OperationOutcome, its status from the
// kind table.
func replyOutcome(w http.ResponseWriter, err error) {
	status, code := Status(err), "exception"
	var fe *fhirError
	if errors.As(err, &fe) {
		status, code = fe.status, fe.code
	} else {
		switch status {
		case http.StatusNotFound:
			code = "not-found"
		case http.StatusBadRequest:
			code = "invalid"
		case http.StatusInternalServerError:
			err = errRead
		}
	}
	replyFHIR(w, status, format.OperationOutcome{ResourceType: "OperationOutcome", Issue: []format.OutcomeIssue{
		{Severity: "error", Code: code, Diagnostics: err.Error()},
	}})
}

// invalid is a bad request.
func invalid(format string, args ...any) error {
	return &fhirError{status: http.StatusBadRequest, code: "invalid", msg: fmt.Sprintf(format, args...)}
}

// fhirParams are the parameters of an operation, by name; a name may
// repeat.
type fhirParams map[string][]string

func (p fhirParams) get(name string) string {
	if v := p[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// readParams gathers the parameters of a request: the URL query, plus a
// POSTed form or Parameters resource. A Coding parameter (coding) gives
// its system, code and version.
func readParams(r *http.Request) (fhirParams, error) {
	p := fhirParams{}
	for k, v := range r.URL.Query() {
		p[k] = append(p[k], v...)
	}
	if r.Method != http.MethodPost {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, invalid("cannot read the request body")
		}
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, invalid("bad form: %v", err)
		}
		for k, v := range form {
			p[k] = append(p[k], v...)
		}
	case fhirJSON, "application/json", "application/json+fhir":
		var in format.Parameters
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return nil, invalid("bad Parameters resource: %v", err)
		}
		if in.ResourceType != "Parameters" {
			return nil, invalid("want a Parameters resource, got %q", in.ResourceType)
		}
		for _, prm := range in.Parameter {
			if prm.ValueCoding != nil {
				c := prm.ValueCoding
				for k, v := range map[string]string{"system": c.System, "code": c.Code, "version": c.Version, "display": c.Display} {
					if v != "" && p.get(k) == "" {
						p[k] = []string{v}
					}
				}
				continue
			}
			p[prm.Name] = append(p[prm.Name], prm.Value())
		}
	case "":
	default:
		return nil, &fhirError{status: http.StatusUnsupportedMediaType, code: "not-supported", msg: fmt.Sprintf("unsupported content type %q: want %s or a form", ct, fhirJSON)}
	}
	return p, nil
}

// systemOf returns the code system with canonical URL u (an implicit value
// set URL, u?fhir_vs, names it too).
func systemOf(u string) (codeset.System, error) {
	if u == "" {
		return "", invalid("missing system: want one of %s", canonicalURLs())
	}
	u = strings.TrimSuffix(u, "?fhir_vs")
	for _, sys := range codeset.Systems {
		if sys.Facts().URL == u {
			return sys, nil
		}
	}
	return "", &fhirError{status: http.StatusNotFound, code: "not-found", msg: fmt.Sprintf("unknown code system %q: this server knows %s", u, canonicalURLs())}
}

func canonicalURLs() string {
	var us []string
	for _, sys := range codeset.Systems {
		us = append(us, sys.Facts().URL)
	}
	return strings.Join(us, ", ")
}

// serveFHIR answers a request under /fhir; rest is the path after it.
func (h *handler) serveFHIR(w http.ResponseWriter, r *http.Request, rest string) {
	w.Header().Set("Cache-Control", cacheAPI)
	if r.Method == http.MethodPost && !strings.Contains(rest, "$") {
		w.Header().Set("Allow", "GET, HEAD")
		replyOutcome(w, &fhirError{status: http.StatusMethodNotAllowed, code: "not-supported", msg: "method not allowed: only operations take POST"})
		return
	}
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		replyOutcome(w, codeset.NewError(codeset.ErrNotFound, "nothing is published"))
		return
	}
	defer root.Close()
	switch rest {
	case "metadata":
		replyFHIR(w, http.StatusOK, capabilities())
		return
	case "CodeSystem/$lookup":
		err = h.fhirLookup(w, r, root)
	case "CodeSystem/$validate-code":
		err = h.fhirValidate(w, r, root)
	case "ValueSet/$expand":
		err = h.fhirExpand(w, r, root)
	case "CodeSystem":
		err = h.fhirSearch(w, r, root)
	default:
		if id, ok := strings.CutPrefix(rest, "CodeSystem/"); ok && id != "" && !strings.Contains(id, "/") {
			err = h.fhirRead(w, r, root, id)
		} else {
			err = &fhirError{status: http.StatusNotFound, code: "not-supported", msg: fmt.Sprintf("no FHIR route %q: see /fhir/metadata", "/fhir/"+rest)}
		}
	}
	if err != nil {
		replyOutcome(w, err)
	}
}

// capabilities is the CapabilityStatement of /fhir.
func capabilities() format.CapabilityStatement {
	return format.CapabilityStatement{
		ResourceType:   "CapabilityStatement",
		Status:         "active",
		Date:           time.Now().UTC().Format(codeset.DateLayout),
		Kind:           "instance",
		Software:       &format.CapabilitySoftware{Name: "codeset", Version: codeset.Version},
		Implementation: &format.CapabilityImpl{Description: "codeset: published releases of " + canonicalURLs()},
		FHIRVersion:    format.FHIRVersion,
		Format:         []string{"json"},
		Rest: []format.CapabilityRest{{
			Mode: "server",
			Resource: []format.CapabilityResource{
				{
					Type:        "CodeSystem",
					Interaction: []format.CapabilityInteraction{{Code: "read"}, {Code: "search-type"}},
					SearchParam: []format.CapabilitySearchParam{{Name: "url", Type: "uri"}, {Name: "version", Type: "token"}},
					Operation:   []format.CapabilityOp{{Name: "lookup", Definition: defLookup}, {Name: "validate-code", Definition: defValidate}},
				},
				{Type: "ValueSet", Operation: []format.CapabilityOp{{Name: "expand", Definition: defExpand}}},
			},
		}},
	}
}

// codeRequest is the system, release and code an operation asks about.
type codeRequest struct {
	view *sysView
	rel  *format.IndexRelease
	code string // stored form
}

// readCodeRequest reads system (or url), code, version and date.
func (h *handler) readCodeRequest(r *http.Request, root *os.Root, p fhirParams) (*codeRequest, error) {
	u := p.get("system")
	if u == "" {
		u = p.get("url")
	}
	sys, err := systemOf(u)
	if err != nil {
		return nil, err
	}
	code := p.get("code")
	if strings.TrimSpace(code) == "" {
		return nil, invalid("missing code")
	}
	v, err := h.openSystem(root, sys)
	if err != nil {
		return nil, err
	}
	rel, err := v.release(p.get("version"), p.get("date"))
	if err != nil {
		return nil, err
	}
	return &codeRequest{view: &v, rel: rel, code: sys.Normalize(code)}, nil
}

// fhirLookup answers CodeSystem/$lookup: the code in the release asked
// for (or in effect on date), with its display, designations and
// properties. A code the release no longer holds is answered from the last
// release that had it, with status deleted and inactive true.
func (h *handler) fhirLookup(w http.ResponseWriter, r *http.Request, root *os.Root) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	req, err := h.readCodeRequest(r, root, p)
	if err != nil {
		return err
	}
	f, err := req.view.lookup(r.Context(), req.rel, req.code)
	if err != nil {
		return err
	}
	sys := req.view.sys
	c := format.ConceptOf(sys, f.Record, f.Info)
	out := format.Parameters{ResourceType: "Parameters", Parameter: []format.Parameter{
		format.StringParam("name", sys.Name()),
		format.StringParam("version", req.rel.Label),
	}}
	if c.Display != "" {
		out.Parameter = append(out.Parameter, format.StringParam("display", c.Display))
	}
	if f.Info.Header {
		out.Parameter = append(out.Parameter, format.BoolParam("abstract", true))
	}
	out.Parameter = append(out.Parameter, format.ConceptParams(c)...)
	if msg := req.view.describe(&f); msg != "" {
		out.Parameter = append(out.Parameter, format.Parameter{Name: "property", Part: []format.Parameter{format.CodeParam("code", "message"), format.StringParam("value", msg)}})
	}
	for _, rb := range f.ReplacedBy {
		out.Parameter = append(out.Parameter, format.Parameter{Name: "property", Part: []format.Parameter{format.CodeParam("code", "replacedBy"), format.CodeParam("value", sys.Display(rb))}})
	}
	replyFHIR(w, http.StatusOK, out)
	return nil
}

// fhirValidate answers CodeSystem/$validate-code: result true for a code
// of the release asked for (or in effect on date); false, with a message
// naming replacements where the release knows them, for a code deleted by
// then or never there. A code ended but still shipped, or a header, is
// valid with a message saying so. A display given is checked too.
func (h *handler) fhirValidate(w http.ResponseWriter, r *http.Request, root *os.Root) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	req, err := h.readCodeRequest(r, root, p)
	if err != nil {
		return err
	}
	sys := req.view.sys
	out := format.Parameters{ResourceType: "Parameters"}
	f, err := req.view.lookup(r.Context(), req.rel, req.code)
	if err != nil {
		if Status(err) != http.StatusNotFound {
			return err
		}
		out.Parameter = append(out.Parameter, format.BoolParam("result", false), format.StringParam("message", err.Error()))
	} else {
		valid := f.InRelease
		out.Parameter = append(out.Parameter, format.BoolParam("result", valid))
		msg := req.view.describe(&f)
		if d := p.get("display"); valid && d != "" && f.Record.Description() != "" && !strings.EqualFold(strings.TrimSpace(d), f.Record.Description()) {
			valid = false
			out.Parameter[0] = format.BoolParam("result", false)
			msg = strings.TrimSpace(fmt.Sprintf("display %q is not the display of %s in %s %s: %q. %s", d, sys.Display(req.code), sys.Name(), req.rel.Label, f.Record.Description(), msg))
		}
		if msg != "" {
			out.Parameter = append(out.Parameter, format.StringParam("message", msg))
		}
		if f.Record.Description() != "" {
			out.Parameter = append(out.Parameter, format.StringParam("display", f.Record.Description()))
		}
		if f.Info.Inactive() {
			out.Parameter = append(out.Parameter, format.BoolParam("inactive", true))
		}
	}
	out.Parameter = append(out.Parameter,
		format.CodeParam("code", sys.Display(req.code)),
		format.URIParam("system", sys.Facts().URL),
		format.StringParam("version", req.rel.Label))
	replyFHIR(w, http.StatusOK, out)
	return nil
}

// fhirExpand answers ValueSet/$expand over a whole code system (url is the
// system's canonical URL, or its implicit value set url?fhir_vs): one page
// of its codes and headers (abstract) in code order, with the total.
// filter keeps codes whose descriptors hold every word, or whose code
// starts with it; activeOnly leaves out codes the publisher ended.
func (h *handler) fhirExpand(w http.ResponseWriter, r *http.Request, root *os.Root) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	if p.get("valueSet") != "" {
		return &fhirError{status: http.StatusBadRequest, code: "not-supported", msg: "only the implicit value sets of whole code systems expand here: pass url"}
	}
	u := p.get("url")
	sys, err := systemOf(u)
	if err != nil {
		return err
	}
	v, err := h.openSystem(root, sys)
	if err != nil {
		return err
	}
	version := p.get("version")
	if sv := p.get("system-version"); sv != "" {
		s, ver, ok := strings.Cut(sv, "|")
		if !ok || s != sys.Facts().URL {
			return invalid("bad system-version %q: want %s|VERSION", sv, sys.Facts().URL)
		}
		version = ver
	}
	rel, err := v.release(version, p.get("date"))
	if err != nil {
		return err
	}
	count, offset := expandDefaultCount, 0
	if s := p.get("count"); s != "" {
		if count, err = strconv.Atoi(s); err != nil || count < 0 {
			return invalid("bad count %q: want a number from 0", s)
		}
		count = min(count, expandMaxCount)
	}
	if s := p.get("offset"); s != "" {
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 {
			return invalid("bad offset %q: want a number from 0", s)
		}
	}
	activeOnly := false
	if s := p.get("activeOnly"); s != "" {
		if activeOnly, err = strconv.ParseBool(s); err != nil {
			return invalid("bad activeOnly %q: want true or false", s)
		}
	}
	filter := p.get("filter")
	snap, err := v.snapshotPath(rel)
	if err != nil {
		return err
	}
	total, page, err := snapshot.Find(r.Context(), snap, snapshot.Query{Text: filter, ActiveOnly: activeOnly, Headers: true, Offset: offset, Limit: count})
	if err != nil {
		return errRead
	}
	url := sys.Facts().URL
	exp := &format.VSExpansion{
		Identifier: "urn:codeset:" + string(sys) + ":" + rel.Label,
		Timestamp:  time.Now().UTC().Format(time.RFC3339),
		Total:      total,
		Offset:     offset,
		Parameter: []format.VSParameter{
			{Name: "version", ValueURI: ptr(url + "|" + rel.Label)},
			{Name: "offset", ValueInteger: ptr(offset)},
			{Name: "count", ValueInteger: ptr(count)},
			{Name: "activeOnly", ValueBoolean: ptr(activeOnly)},
		},
	}
	if filter != "" {
		exp.Parameter = append(exp.Parameter, format.VSParameter{Name: "filter", ValueString: ptr(filter)})
	}
	for _, f := range page {
		exp.Contains = append(exp.Contains, format.VSContains{
			System: url, Version: rel.Label, Abstract: f.Header, Inactive: format.ConceptStatus(f.Code) != format.StatusActive,
			Code: sys.Display(f.Code.Code), Display: f.Code.Description(),
		})
	}
	replyFHIR(w, http.StatusOK, format.ValueSet{
		ResourceType: "ValueSet",
		URL:          url + "?fhir_vs",
		Status:       "active",
		Compose:      &format.Compose{Include: []format.ComposeInclude{{System: url, Version: rel.Label}}},
		Expansion:    exp,
	})
	return nil
}

func ptr[T any](v T) *T { return &v }

// fhirSearch answers GET /fhir/CodeSystem?url=&version=: the CodeSystem of
// each matching release, without its concepts (read one whole at
// /fhir/CodeSystem/ID or from its release folder).
func (h *handler) fhirSearch(w http.ResponseWriter, r *http.Request, root *os.Root) error {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "url", "version", "system", "_summary", "_elements", "_count", "_format":
		default:
			return &fhirError{status: http.StatusBadRequest, code: "not-supported", msg: fmt.Sprintf("unsupported search parameter %q: want url and version", k)}
		}
	}
	systems := codeset.Systems
	if u := q.Get("url"); u != "" {
		sys, err := systemOf(u)
		if err != nil {
			return err
		}
		systems = []codeset.System{sys}
	}
	b := format.Bundle{ResourceType: "Bundle", Type: "searchset", Entry: []format.BundleEntry{}}
	for _, sys := range systems {
		v, err := h.openSystem(root, sys)
		if Status(err) == http.StatusNotFound {
			continue
		}
		if err != nil {
			return err
		}
		for _, rel := range v.idx.Releases {
			if ver := q.Get("version"); ver != "" && ver != rel.Label {
				continue
			}
			cs, err := v.codeSystem(&rel)
			if err != nil {
				return err
			}
			cs.Concept = nil
			b.Entry = append(b.Entry, format.BundleEntry{FullURL: "CodeSystem/" + cs.ID, Resource: cs})
		}
	}
	b.Total = len(b.Entry)
	replyFHIR(w, http.StatusOK, b)
	return nil
}

// codeSystem reads the published CodeSystem of release r.
func (v *sysView) codeSystem(r *format.IndexRelease) (*format.CodeSystem, error) {
	if r.CodeSystem == "" {
		return nil, codeset.NewError(codeset.ErrNotFound, "%s %s was published without a CodeSystem", v.sys.Name(), r.Label)
	}
	var cs format.CodeSystem
	if err := format.ReadJSONFile(v.root.ReadFile, path.Join(string(v.sys), r.CodeSystem), "CodeSystem", &cs); err != nil {
		return nil, errRead
	}
	return &cs, nil
}

// fhirRead answers GET /fhir/CodeSystem/ID: the published CodeSystem of
// one release, as written in its folder.
func (h *handler) fhirRead(w http.ResponseWriter, r *http.Request, root *os.Root, id string) error {
	for _, sys := range codeset.Systems {
		if !strings.HasPrefix(id, string(sys)+"-") {
			continue
		}
		v, err := h.openSystem(root, sys)
		if err != nil {
			return err
		}
		for _, rel := range v.idx.Releases {
			if format.FHIRID(sys, rel.Label) != id || rel.CodeSystem == "" {
				continue
			}
			b, err := root.ReadFile(path.Join(string(sys), rel.CodeSystem))
			if err != nil {
				return errRead
			}
			w.Header().Set("Content-Type", fhirJSON+"; charset=utf-8")
			w.Write(b)
			return nil
		}
	}
	return &fhirError{status: http.StatusNotFound, code: "not-found", msg: fmt.Sprintf("no CodeSystem %q", id)}
}
