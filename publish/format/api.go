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
}

// RecordOf returns c as a Record.
func RecordOf(c codeset.Code) Record {
	attrs := c.Attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	return Record{Category: c.Category, Short: c.Short, Medium: c.Medium, Long: c.Long, Status: c.Status, Attributes: attrs}
}

// HistoryEvent is one change of a code in one release.
type HistoryEvent struct {
	Release string                         `json:"release"`
	Change  codeset.ChangeKind             `json:"change"`
	Fields  map[string]codeset.FieldChange `json:"fields"`
}

// SearchHit is one code found by a search.
type SearchHit struct {
	Code        string `json:"code"`
	Category    string `json:"category"`
	Description string `json:"description"`
	LastRelease string `json:"last_release"`
}

// CodeResponse is the body of GET /api/v1/SYSTEM/codes/CODE.
type CodeResponse struct {
	System    codeset.System `json:"system"`
	Code      string         `json:"code"`
	Display   string         `json:"display"`   // the code as people write it (ICD-10-CM with its dot)
	Release   string         `json:"release"`   // the release the record is from
	Effective string         `json:"effective"` // of that release
	// Record is the code in that release; null when the release does not
	// hold it (deleted, or not yet added).
	Record  *Record      `json:"record"`
	History *CodeHistory `json:"history"`
}

// SearchResponse is the body of GET /api/v1/SYSTEM/search.
type SearchResponse struct {
	System  codeset.System `json:"system"`
	Query   string         `json:"query"`
	Results []SearchHit    `json:"results"`
}

// Error is the body of every failed request under /api/v1/, the jobs API
// included.
type Error struct {
	Error string `json:"error"`
}
