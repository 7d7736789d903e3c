package format

import "github.com/codeset/codeset"

// CodeHistory is everything the history database knows about one code.
type CodeHistory struct {
	Code         string         `json:"code"`
	FirstRelease string         `json:"first_release"`
	LastRelease  string         `json:"last_release"`
	Record       Record         `json:"last_record"` // as in the last release that had it
	Events       []HistoryEvent `json:"events"`      // oldest first
	// Replacement links across releases (additive): the codes the
	// publisher named as replaced by this one, and as its replacements,
	// each with the release that made the change. Current follows
	// replaced_by from release to release to the codes valid in the latest
	// release (A → B → C: A's current codes are C); it is the code itself
	// when it is valid, empty when the chain ends at a code with no
	// replacement named. All three are empty arrays when there is nothing.
	Replaces   []HistoryLink `json:"replaces"`
	ReplacedBy []HistoryLink `json:"replaced_by"`
	Current    []string      `json:"current"`
}

// HistoryLink is one replacement link of a code's history.
type HistoryLink struct {
	Code    string         `json:"code"`    // the other code of the link
	Release string         `json:"release"` // the release whose changelog shows it
	Source  string         `json:"source"`  // the file that states it
	How     codeset.Stated `json:"how"`     // direct, list or range
}

// Record is a code record as the history database and the HTTP API present
// it.
type Record struct {
	Category   string            `json:"category"`
	Short      string            `json:"short"`
	Medium     string            `json:"medium"`
	Long       string            `json:"long"`
	Status     string            `json:"status"`
	Attributes map[string]string `json:"attributes"`
	// Meta is the publisher's per-release bookkeeping (the HCPCS action
	// code and its dates), where the release has it; additive. The history
	// database does not keep it.
	Meta map[string]string `json:"meta,omitempty"`
}

// RecordOf returns c as a Record.
func RecordOf(c codeset.Code) Record {
	attrs := c.Attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	r := Record{Category: c.Category, Short: c.Short, Medium: c.Medium, Long: c.Long, Status: c.Status, Attributes: attrs}
	if len(c.Meta) > 0 {
		r.Meta = c.Meta.Map()
	}
	return r
}

// HistoryEvent is one change of a code in one release.
type HistoryEvent struct {
	Release string                         `json:"release"`
	Change  codeset.ChangeKind             `json:"change"`
	Fields  map[string]codeset.FieldChange `json:"fields"`
}

// SearchHit is one code found by a search.
type SearchHit struct {
	Code     string `json:"code"`    // stored form, e.g. S72001A
	Written  string `json:"written"` // as people write it, e.g. S72.001A
	Display  string `json:"display"` // the description: the long descriptor where there is one
	Category string `json:"category"`
	// Status is active, retired (ended by the publisher but still
	// shipped) or deleted.
	Status string `json:"status"`
	// Billable is false for header rows (ICD-10 categories such as E11)
	// and for codes no longer in the release.
	Billable       bool   `json:"billable"`
	Header         bool   `json:"header"`
	Release        string `json:"release,omitempty"`         // the release searched
	EffectiveDate  string `json:"effective_date,omitempty"`  // when the code took effect, where the tree knows
	RetirementDate string `json:"retirement_date,omitempty"` // when the publisher ends it, where it says
	// Description repeats Display for clients of the first version of
	// the API.
	Description string `json:"description"`
	LastRelease string `json:"last_release"`
}

// CodeResponse is the body of GET /api/v1/SYSTEM/codes/CODE.
type CodeResponse struct {
	System    codeset.System `json:"system"`
	Code      string         `json:"code"`      // stored form
	Written   string         `json:"written"`   // the code as people write it (ICD-10-CM with its dot)
	Display   string         `json:"display"`   // the description
	Release   string         `json:"release"`   // the release asked about
	Effective string         `json:"effective"` // of that release
	// Status is active, retired (ended but still shipped) or deleted (no
	// longer in the release; Record is then the last one published).
	Status         string       `json:"status"`
	Billable       bool         `json:"billable"`
	Header         bool         `json:"header"`           // a non-billable header row
	Parent         string       `json:"parent,omitempty"` // the header above the code, as written
	EffectiveDate  string       `json:"effective_date,omitempty"`
	RetirementDate string       `json:"retirement_date,omitempty"`
	ReplacedBy     []string     `json:"replaced_by,omitempty"` // as written, for a deleted code
	Message        string       `json:"message,omitempty"`     // why the code is not one to use, when it is not
	Record         *Record      `json:"record"`
	History        *CodeHistory `json:"history"`
}

// SearchResponse is the body of GET /api/v1/SYSTEM/search.
type SearchResponse struct {
	System    codeset.System `json:"system"`
	Query     string         `json:"query"`
	Release   string         `json:"release"`
	Effective string         `json:"effective"`
	Inactive  bool           `json:"inactive"` // whether retired codes are included
	Total     int            `json:"total"`    // hits in all
	Offset    int            `json:"offset"`
	Limit     int            `json:"limit"`
	Results   []SearchHit    `json:"results"`
}

// CompareResponse is the body of GET /api/v1/compare/SYSTEM?from=&to=: the
// changes between two published releases of a system, counted in Summary
// and listed a page at a time (Offset, Limit) in code order, of one kind
// when Kind is set. Total counts the changes of that kind, or all.
type CompareResponse struct {
	System        codeset.System  `json:"system"`
	From          string          `json:"from"`
	To            string          `json:"to"`
	FromEffective string          `json:"from_effective"`
	ToEffective   string          `json:"to_effective"`
	Neighbours    bool            `json:"neighbours"` // no release published between them
	Summary       codeset.Summary `json:"summary"`
	Kind          string          `json:"kind,omitempty"`
	Total         int             `json:"total"`
	Offset        int             `json:"offset"`
	Limit         int             `json:"limit"`
	Changes       []CompareChange `json:"changes"`
}

// CompareChange is one change of a CompareResponse.
type CompareChange struct {
	Code        string                         `json:"code"`    // stored form
	Written     string                         `json:"written"` // as people write it
	Change      codeset.ChangeKind             `json:"change"`
	Category    string                         `json:"category"`
	Description string                         `json:"description"`
	Fields      map[string]codeset.FieldChange `json:"fields"`
	ReplacedBy  []string                       `json:"replaced_by"` // stored form
	Replaces    []string                       `json:"replaces"`    // stored form
}

// Error is the body of every failed request under /api/v1/, the jobs API
// included, and of any other failed request but those under /fhir, which
// answer OperationOutcome resources.
type Error struct {
	Error string `json:"error"`
}
