package format

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codeset/codeset"
)

// This file holds the FHIR R4 wire types codeset writes (codesystem.json in
// every release folder) and serves (under /fhir): only the elements codeset
// fills, with the JSON names of the specification. They stay stdlib-only
// like the rest of the package, so a client can decode them without pulling
// in a FHIR library.

// CodeSystemName is the file name of the FHIR CodeSystem resource of a
// published release folder.
const CodeSystemName = "codesystem.json"

// FHIRVersion is the FHIR release the resources follow: R4. The
// CapabilityStatement says 4.0.0, the version the official R4 JSON schema
// lists; the technical correction 4.0.1 changed no wire format.
const FHIRVersion = "4.0.0"

// Licence modes of a published tree.
const (
	// LicenceFull publishes every field, descriptors included.
	LicenceFull = "full"
	// LicenceCodesOnly publishes codes, categories, statuses, change kinds
	// and dates but no descriptor text, in every file of the tree.
	LicenceCodesOnly = "codes-only"
)

// CheckLicence reports whether mode is a licence mode; "" means full.
func CheckLicence(mode string) error {
	switch mode {
	case "", LicenceFull, LicenceCodesOnly:
		return nil
	}
	return codeset.NewError(codeset.ErrInvalid, "bad licence mode %q: want %s or %s", mode, LicenceFull, LicenceCodesOnly)
}

// Licence returns mode with "" read as full.
func Licence(mode string) string {
	if mode == "" {
		return LicenceFull
	}
	return mode
}

// WithoutText returns c without its descriptor text (short, medium and long
// descriptors), as a codes-only tree publishes it.
func WithoutText(c codeset.Code) codeset.Code {
	c.Short, c.Medium, c.Long = "", "", ""
	return c
}

// TextFields are the fields of a code record that hold descriptor text.
var TextFields = []string{codeset.FieldShort, codeset.FieldMedium, codeset.FieldLong}

// Property codes of the concepts codeset writes: the first five are FHIR's
// own concept properties (http://hl7.org/fhir/concept-properties).
const (
	PropStatus         = "status"
	PropInactive       = "inactive"
	PropNotSelectable  = "notSelectable"
	PropParent         = "parent"
	PropEffectiveDate  = "effectiveDate"
	PropRetirementDate = "retirementDate"
	PropCategory       = "category"
	PropBillable       = "billable"
)

// Concept statuses, the values of the status property.
const (
	StatusActive  = "active"
	StatusRetired = "retired"
	// StatusDeleted is a code no longer in the release asked about.
	StatusDeleted = "deleted"
)

// conceptProperties are the property definitions of every CodeSystem,
// before the system-specific ones.
var conceptProperties = []CodeSystemProperty{
	{Code: PropStatus, URI: "http://hl7.org/fhir/concept-properties#status", Description: "active, or retired for a code ended but still shipped", Type: "code"},
	{Code: PropInactive, URI: "http://hl7.org/fhir/concept-properties#inactive", Description: "true for a code ended but still shipped; absent means false", Type: "boolean"},
	{Code: PropEffectiveDate, URI: "http://hl7.org/fhir/concept-properties#effectiveDate", Description: "when the code took effect, as far as the published releases go back", Type: "dateTime"},
	{Code: PropRetirementDate, URI: "http://hl7.org/fhir/concept-properties#retirementDate", Description: "when the publisher ends the code", Type: "dateTime"},
}

// DesignationUse is the system of the designation uses codeset writes:
// short and medium descriptors.
const DesignationUse = "https://github.com/codeset/codeset/fhir/designation-use"

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Version string `json:"version,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeSystem is a FHIR R4 CodeSystem resource: one release of one system.
type CodeSystem struct {
	ResourceType  string               `json:"resourceType"` // "CodeSystem"
	ID            string               `json:"id,omitempty"`
	URL           string               `json:"url"`
	Version       string               `json:"version"`
	Name          string               `json:"name"`
	Title         string               `json:"title"`
	Status        string               `json:"status"`
	Date          string               `json:"date,omitempty"` // the release's effective date
	Publisher     string               `json:"publisher,omitempty"`
	Description   string               `json:"description,omitempty"`
	Copyright     string               `json:"copyright,omitempty"`
	CaseSensitive bool                 `json:"caseSensitive"`
	HierarchyMean string               `json:"hierarchyMeaning,omitempty"`
	Content       string               `json:"content"` // complete, or not-present in a codes-only tree
	Count         int                  `json:"count"`
	Property      []CodeSystemProperty `json:"property,omitempty"`
	Concept       []Concept            `json:"concept,omitempty"`
}

// CodeSystemProperty defines a concept property.
type CodeSystemProperty struct {
	Code        string `json:"code"`
	URI         string `json:"uri,omitempty"`
	Description string `json:"description,omitempty"`
	Type        string `json:"type"`
}

// Concept is one code of a CodeSystem.
type Concept struct {
	Code        string            `json:"code"`
	Display     string            `json:"display,omitempty"`
	Designation []Designation     `json:"designation,omitempty"`
	Property    []ConceptProperty `json:"property,omitempty"`
}

// Designation is another name of a concept.
type Designation struct {
	Language string  `json:"language,omitempty"`
	Use      *Coding `json:"use,omitempty"`
	Value    string  `json:"value"`
}

// ConceptProperty is one property value of a concept; exactly one value is
// set.
type ConceptProperty struct {
	Code          string  `json:"code"`
	ValueCode     *string `json:"valueCode,omitempty"`
	ValueString   *string `json:"valueString,omitempty"`
	ValueBoolean  *bool   `json:"valueBoolean,omitempty"`
	ValueDateTime *string `json:"valueDateTime,omitempty"`
}

// ConceptInfo is what a CodeSystem or an operation says about one code
// beyond its record.
type ConceptInfo struct {
	Header    bool   // a non-billable header row, not a code
	Parent    string // the header above it, stored form; "" for none
	Status    string // StatusActive, StatusRetired or StatusDeleted
	Effective string // YYYY-MM-DD the code took effect, or ""
	Retired   string // YYYY-MM-DD the publisher ends it, or ""
}

// Inactive reports whether the concept is not to be used on new records.
func (i ConceptInfo) Inactive() bool { return i.Status == StatusRetired || i.Status == StatusDeleted }

// ConceptStatus returns the status of a record as shipped in a release:
// retired for a code the publisher ended (HCPCS keeps it for a year),
// active otherwise.
func ConceptStatus(c codeset.Code) string {
	if c.Status == codeset.StatusDiscontinued {
		return StatusRetired
	}
	return StatusActive
}

// TerminationDate returns the date the publisher ends c, as YYYY-MM-DD, or
// "" when it sets none (HCPCS TERM DT, stored as YYYYMMDD or YYYY-MM-DD).
func TerminationDate(c codeset.Code) string {
	for _, v := range []string{c.Field("termination_date"), c.Meta.Get("termination_date")} {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		for _, layout := range []string{"20060102", codeset.DateLayout, "1/2/2006"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.Format(codeset.DateLayout)
			}
		}
	}
	return ""
}

// ConceptOf returns c as a concept of a CodeSystem of sys: display the
// long descriptor, designations the short and medium ones, and the
// properties info gives. A record without text (codes-only) has no display.
func ConceptOf(sys codeset.System, c codeset.Code, info ConceptInfo) Concept {
	var out Concept
	fillConcept(&out, new(conceptScratch), sys, &c, info)
	return out
}

// conceptScratch holds the values a Concept points to, so that a writer
// of many concepts fills one Concept over and over without allocating.
type conceptScratch struct {
	designation [2]Designation
	use         [2]Coding
	property    [8]ConceptProperty
	value       [8]string
	boolean     [8]bool
}

// The kinds of value of a concept property fillConcept sets.
const (
	valueCode = iota
	valueString
	valueDateTime
)

// fillConcept sets out to ConceptOf(sys, *c, info), its slices and
// pointers into s: out is valid until s is filled again.
func fillConcept(out *Concept, s *conceptScratch, sys codeset.System, c *codeset.Code, info ConceptInfo) {
	*out = Concept{Code: sys.Display(c.Code), Display: c.Description(), Designation: s.designation[:0], Property: s.property[:0]}
	for i, d := range [2]struct{ use, display, v string }{
		{codeset.FieldShort, "Short descriptor", c.Short},
		{codeset.FieldMedium, "Medium descriptor", c.Medium},
	} {
		if d.v != "" && d.v != out.Display {
			s.use[i] = Coding{System: DesignationUse, Code: d.use, Display: d.display}
			out.Designation = append(out.Designation, Designation{Language: "en", Use: &s.use[i], Value: d.v})
		}
	}
	// prop adds the property code with the value v of the kind set
	// (valueCode, valueString or valueDateTime).
	prop := func(code string, kind int, v string) {
		n := len(out.Property)
		s.value[n] = v
		p := ConceptProperty{Code: code}
		switch kind {
		case valueCode:
			p.ValueCode = &s.value[n]
		case valueString:
			p.ValueString = &s.value[n]
		default:
			p.ValueDateTime = &s.value[n]
		}
		out.Property = append(out.Property, p)
	}
	flag := func(code string) {
		n := len(out.Property)
		s.boolean[n] = true
		out.Property = append(out.Property, ConceptProperty{Code: code, ValueBoolean: &s.boolean[n]})
	}
	status := info.Status
	if status == "" {
		status = StatusActive
	}
	prop(PropStatus, valueCode, status)
	// inactive is written only when true: absent means false.
	if info.Inactive() {
		flag(PropInactive)
	}
	if info.Header {
		flag(PropNotSelectable)
	}
	if info.Parent != "" {
		prop(PropParent, valueCode, sys.Display(info.Parent))
	}
	if info.Effective != "" {
		prop(PropEffectiveDate, valueDateTime, info.Effective)
	}
	if info.Retired != "" {
		prop(PropRetirementDate, valueDateTime, info.Retired)
	}
	if c.Category != "" && len(sys.Facts().Categories) > 0 {
		prop(PropCategory, valueString, c.Category)
	}
	if len(out.Designation) == 0 {
		out.Designation = nil
	}
}

// Parents finds, for each code, the header above it: the longest header
// that is a proper prefix of the code (E11.9's is E11; E11.65's is E11.6
// where the publisher ships that header). headers must be sorted.
func Parents(headers []string, codes []string) map[string]string {
	out := map[string]string{}
	for _, c := range codes {
		for n := len(c) - 1; n >= 1; n-- {
			if _, ok := slices.BinarySearch(headers, c[:n]); ok {
				out[c] = c[:n]
				break
			}
		}
	}
	return out
}

// CodeSystemOf returns the FHIR CodeSystem of release rel: its codes and
// header rows as concepts, sorted by code. effective gives, by stored code,
// the date each code took effect where known. In a codes-only tree
// (licence LicenceCodesOnly) the resource says content not-present and
// lists no concepts: their text may not be published.
func CodeSystemOf(rel *codeset.Release, effective map[string]string, licence string) *CodeSystem {
	cs := codeSystemHead(rel, licence)
	if cs.Content != "complete" {
		return cs
	}
	parents := ParentsOf(rel)
	eachConcept(rel, func(c *codeset.Code, header bool) error {
		info := ConceptInfo{Header: header, Parent: parents[c.Code], Status: ConceptStatus(*c), Effective: effective[c.Code], Retired: TerminationDate(*c)}
		cs.Concept = append(cs.Concept, ConceptOf(rel.System, *c, info))
		return nil
	})
	return cs
}

// ParentsOf returns the header above each code and header of rel, by
// stored code.
func ParentsOf(rel *codeset.Release) map[string]string {
	if len(rel.Headers) == 0 {
		return map[string]string{}
	}
	headers := make([]string, 0, len(rel.Headers))
	for _, h := range rel.Headers {
		headers = append(headers, h.Code)
	}
	slices.Sort(headers)
	codes := slices.Clone(headers)
	for _, c := range rel.Codes {
		codes = append(codes, c.Code)
	}
	return Parents(headers, codes)
}

// FHIRID returns the resource id of the CodeSystem of a release: the
// system and label, which FHIR ids allow (letters, digits, '-', '.').
func FHIRID(sys codeset.System, label string) string {
	id := string(sys) + "-" + strings.ReplaceAll(label, "_", "-")
	if len(id) > 64 {
		id = id[:64]
	}
	return id
}

// publishers names who publishes each system.
var publishers = map[codeset.System]string{
	codeset.CPT:      "American Medical Association",
	codeset.HCPCS:    "Centers for Medicare & Medicaid Services",
	codeset.ICD10CM:  "National Center for Health Statistics (CDC) and CMS",
	codeset.ICD10PCS: "Centers for Medicare & Medicaid Services",
}

// Parameters is a FHIR Parameters resource: the input and output of an
// operation.
type Parameters struct {
	ResourceType string      `json:"resourceType"` // "Parameters"
	Parameter    []Parameter `json:"parameter,omitempty"`
}

// Parameter is one named value (or group of parts) of a Parameters
// resource; at most one value is set.
type Parameter struct {
	Name          string      `json:"name"`
	ValueString   *string     `json:"valueString,omitempty"`
	ValueCode     *string     `json:"valueCode,omitempty"`
	ValueURI      *string     `json:"valueUri,omitempty"`
	ValueBoolean  *bool       `json:"valueBoolean,omitempty"`
	ValueInteger  *int        `json:"valueInteger,omitempty"`
	ValueDate     *string     `json:"valueDate,omitempty"`
	ValueDateTime *string     `json:"valueDateTime,omitempty"`
	ValueCoding   *Coding     `json:"valueCoding,omitempty"`
	Resource      any         `json:"resource,omitempty"`
	Part          []Parameter `json:"part,omitempty"`
}

// Value returns the parameter's value as text, whichever type it has.
func (p Parameter) Value() string {
	for _, s := range []*string{p.ValueString, p.ValueCode, p.ValueURI, p.ValueDate, p.ValueDateTime} {
		if s != nil {
			return *s
		}
	}
	switch {
	case p.ValueBoolean != nil:
		if *p.ValueBoolean {
			return "true"
		}
		return "false"
	case p.ValueInteger != nil:
		return strconv.Itoa(*p.ValueInteger)
	case p.ValueCoding != nil:
		return p.ValueCoding.Code
	}
	return ""
}

// Parameter constructors.

// StringParam returns a valueString parameter.
func StringParam(name, v string) Parameter { return Parameter{Name: name, ValueString: &v} }

// CodeParam returns a valueCode parameter.
func CodeParam(name, v string) Parameter { return Parameter{Name: name, ValueCode: &v} }

// URIParam returns a valueUri parameter.
func URIParam(name, v string) Parameter { return Parameter{Name: name, ValueURI: &v} }

// BoolParam returns a valueBoolean parameter.
func BoolParam(name string, v bool) Parameter { return Parameter{Name: name, ValueBoolean: &v} }

// DateTimeParam returns a valueDateTime parameter.
func DateTimeParam(name, v string) Parameter { return Parameter{Name: name, ValueDateTime: &v} }

// ConceptParams turns a concept's designations and properties into the
// designation and property parts of a $lookup reply.
func ConceptParams(c Concept) []Parameter {
	var out []Parameter
	for _, d := range c.Designation {
		p := Parameter{Name: "designation"}
		if d.Language != "" {
			p.Part = append(p.Part, CodeParam("language", d.Language))
		}
		if d.Use != nil {
			use := *d.Use
			p.Part = append(p.Part, Parameter{Name: "use", ValueCoding: &use})
		}
		p.Part = append(p.Part, StringParam("value", d.Value))
		out = append(out, p)
	}
	for _, cp := range c.Property {
		v := Parameter{Name: "value", ValueCode: cp.ValueCode, ValueString: cp.ValueString, ValueBoolean: cp.ValueBoolean, ValueDateTime: cp.ValueDateTime}
		out = append(out, Parameter{Name: "property", Part: []Parameter{CodeParam("code", cp.Code), v}})
	}
	return out
}

// OperationOutcome is a FHIR OperationOutcome: how an operation failed.
type OperationOutcome struct {
	ResourceType string         `json:"resourceType"` // "OperationOutcome"
	Issue        []OutcomeIssue `json:"issue"`
}

// OutcomeIssue is one issue of an OperationOutcome.
type OutcomeIssue struct {
	Severity    string `json:"severity"` // fatal, error, warning, information
	Code        string `json:"code"`     // not-found, invalid, not-supported, exception...
	Diagnostics string `json:"diagnostics,omitempty"`
}

// ValueSet is a FHIR ValueSet, as $expand returns it.
type ValueSet struct {
	ResourceType string       `json:"resourceType"` // "ValueSet"
	URL          string       `json:"url,omitempty"`
	Status       string       `json:"status"`
	Compose      *Compose     `json:"compose,omitempty"`
	Expansion    *VSExpansion `json:"expansion,omitempty"`
}

// Compose is the definition of a value set: here, whole code systems.
type Compose struct {
	Include []ComposeInclude `json:"include"`
}

// ComposeInclude includes one code system (version) in a value set.
type ComposeInclude struct {
	System  string `json:"system"`
	Version string `json:"version,omitempty"`
}

// VSExpansion is the expansion of a value set: one page of its codes.
type VSExpansion struct {
	Identifier string        `json:"identifier,omitempty"`
	Timestamp  string        `json:"timestamp"`
	Total      int           `json:"total"`
	Offset     int           `json:"offset"`
	Parameter  []VSParameter `json:"parameter,omitempty"`
	Contains   []VSContains  `json:"contains,omitempty"`
}

// VSParameter is a parameter that controlled an expansion.
type VSParameter struct {
	Name         string  `json:"name"`
	ValueString  *string `json:"valueString,omitempty"`
	ValueBoolean *bool   `json:"valueBoolean,omitempty"`
	ValueInteger *int    `json:"valueInteger,omitempty"`
	ValueURI     *string `json:"valueUri,omitempty"`
}

// VSContains is one code of an expansion.
type VSContains struct {
	System   string `json:"system"`
	Version  string `json:"version,omitempty"`
	Abstract bool   `json:"abstract,omitempty"` // a header: not selectable
	Inactive bool   `json:"inactive,omitempty"`
	Code     string `json:"code"`
	Display  string `json:"display,omitempty"`
}

// Bundle is a FHIR searchset Bundle, the answer of GET /fhir/CodeSystem.
type Bundle struct {
	ResourceType string        `json:"resourceType"` // "Bundle"
	Type         string        `json:"type"`         // "searchset"
	Total        int           `json:"total"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

// BundleLink is a link of a Bundle.
type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// BundleEntry is one resource of a Bundle.
type BundleEntry struct {
	FullURL  string `json:"fullUrl,omitempty"`
	Resource any    `json:"resource"`
}

// CapabilityStatement is a FHIR CapabilityStatement: what /fhir supports.
type CapabilityStatement struct {
	ResourceType   string              `json:"resourceType"` // "CapabilityStatement"
	Status         string              `json:"status"`
	Date           string              `json:"date"`
	Publisher      string              `json:"publisher,omitempty"`
	Kind           string              `json:"kind"` // "instance"
	Software       *CapabilitySoftware `json:"software,omitempty"`
	Implementation *CapabilityImpl     `json:"implementation,omitempty"`
	FHIRVersion    string              `json:"fhirVersion"`
	Format         []string            `json:"format"`
	Rest           []CapabilityRest    `json:"rest"`
}

// CapabilitySoftware names the server software.
type CapabilitySoftware struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// CapabilityImpl describes this instance.
type CapabilityImpl struct {
	Description string `json:"description"`
}

// CapabilityRest is the REST side of a CapabilityStatement.
type CapabilityRest struct {
	Mode      string               `json:"mode"` // "server"
	Resource  []CapabilityResource `json:"resource"`
	Operation []CapabilityOp       `json:"operation,omitempty"`
}

// CapabilityResource is one resource type the server supports.
type CapabilityResource struct {
	Type        string                  `json:"type"`
	Interaction []CapabilityInteraction `json:"interaction,omitempty"`
	SearchParam []CapabilitySearchParam `json:"searchParam,omitempty"`
	Operation   []CapabilityOp          `json:"operation,omitempty"`
}

// CapabilityInteraction is one interaction on a resource type.
type CapabilityInteraction struct {
	Code string `json:"code"`
}

// CapabilitySearchParam is one search parameter of a resource type.
type CapabilitySearchParam struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// CapabilityOp is one operation, named by its definition.
type CapabilityOp struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}
