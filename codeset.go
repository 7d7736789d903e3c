// Package codeset holds the shared vocabulary of the codeset tool: code
// systems, releases, code records and the changes between two releases.
//
// Every stage speaks these types: ingest turns publisher files into a
// Release, diff turns two Releases into a Changelog, publish stores and
// renders them. The package has no third-party imports on purpose.
package codeset

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is the tool version recorded in every snapshot.
const Version = "0.1.0"

// System names a code system. The value is the lower-case identifier used on
// the command line, in directory names and in the JSON changelog.
type System string

// The code systems codeset knows.
const (
	CPT      System = "cpt"
	HCPCS    System = "hcpcs"
	ICD10CM  System = "icd10cm"
	ICD10PCS System = "icd10pcs"
)

// Systems lists every known system in a stable order.
var Systems = []System{CPT, HCPCS, ICD10CM, ICD10PCS}

// ParseSystem returns the System named s, or an error listing the known ones.
func ParseSystem(s string) (System, error) {
	for _, sys := range Systems {
		if string(sys) == s {
			return sys, nil
		}
	}
	return "", fmt.Errorf("unknown code system %q: want one of %v", s, Systems)
}

// CPT categories, as recorded in Code.Category.
const (
	CategoryI   = "I"
	CategoryII  = "II"
	CategoryIII = "III"
	CategoryPLA = "PLA"
)

// Field names of a code record, as used in changelogs and profiles.
// Attributes beyond these are named by their profile.
const (
	FieldCode     = "code"
	FieldCategory = "category"
	FieldShort    = "short"
	FieldMedium   = "medium"
	FieldLong     = "long"
	FieldStatus   = "status"
)

// SourceFile identifies one publisher file a release was read from.
type SourceFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Release is one published version of a code system.
type Release struct {
	System    System
	Label     string    // e.g. "2026", "2026Q2", "FY2026"
	Effective time.Time // date the codes take effect (UTC midnight)
	Sources   []SourceFile
	Codes     []Code // sorted by Code, unique
	// Headers holds rows the publisher ships beside the codes that are not
	// codes themselves, such as the non-billable header rows of the ICD-10
	// order files. They are stored but not counted or compared.
	Headers []Code
	// Declared is what the publisher says changed in this release, when it
	// says so (HCPCS ACTION CD, ICD-10 addenda); nil otherwise.
	Declared *Declaration
	// Replacements are the links from deleted codes to the codes that
	// replace them, as the publisher states them with this release: the rows
	// of a crosswalk shipped with it (which may be cumulative, reaching back
	// years) and the replacements named in its records (HCPCS XREF). Ranges
	// are kept as stated; diff expands them against the codes of the
	// releases compared.
	Replacements []Replacement
}

// Stated says how a publisher stated a replacement link.
type Stated string

// How replacements are stated. The string values are part of the snapshot
// and changelog contracts.
const (
	// StatedDirect is one code named alone for another.
	StatedDirect Stated = "direct"
	// StatedList is one of several codes named together ("A04.7, A04.8",
	// "G56.01 and G56.02").
	StatedList Stated = "list"
	// StatedRange is a code taken from a range ("H02.101-H02.106") or a
	// category ("I63.-"), expanded to the codes of the releases concerned.
	StatedRange Stated = "range"
)

// Replacement links a code that goes away (Old) to a code that takes its
// place (New), as one publisher file states it. Codes are in stored form
// (ICD-10-CM without the dot).
//
// A range not yet expanded has OldThrough (or NewThrough) set: it covers
// every code from Old through OldThrough, and the codes below OldThrough
// (T15-T19 covers T15.0 to T19.9...; a category "I63.-" is I63 through I63).
// Expanded links have both empty and How == StatedRange.
type Replacement struct {
	Old, New               string
	OldThrough, NewThrough string
	Source                 string    // base name of the file that states it
	Effective              time.Time // when the link takes effect; zero when the publisher does not say
	How                    Stated
}

// IsRange reports whether r is a range not yet expanded.
func (r Replacement) IsRange() bool { return r.OldThrough != "" || r.NewThrough != "" }

// InRange reports whether code falls in the range first through last, last
// including the codes below it: H02.101-H02.106 holds H02.104, T15-T19
// holds T19.9XXA, and I63-I63 is the whole category I63.
func InRange(code, first, last string) bool {
	return code >= first && (code <= last || strings.HasPrefix(code, last))
}

// Declaration is the publisher's own list of changes in a release.
type Declaration struct {
	// Source names where the list comes from, e.g. a file name or a column.
	Source  string
	Changes []DeclaredChange // sorted by Code
	// Counts are the publisher's own totals, from the summary block that
	// ends an ICD-10 addenda: one entry per part ("codes", "headers"). An
	// addenda may hold only this block: a declaration of no change.
	Counts []DeclaredCounts
	// Errata are the rows of the publisher's corrections files read with
	// the release (HCPCS: errata to an annual file, posted after it), every
	// one as read, sorted by code; Detail holds the publisher's words and
	// the file. They are evidence, not the list: a reconciliation cites
	// them for a change no list declares, in the release they came with
	// and the one after it (a previous year's corrections).
	Errata []DeclaredChange
}

// DeclaredCounts is one part of a publisher's summary of its list of
// changes. From names the version the list was made against, which need
// not be the release it is compared with (a mid-year update never
// ingested, say).
type DeclaredCounts struct {
	Part     string // "codes" or "headers"
	FromFile string // the file of the version the list was made against
	From     int    // its count of codes (or headers)
	ToFile   string // the file of the new version
	To       int
	Added    int
	Deleted  int
	Revised  int
}

// Against returns the counts of the codes part, which name the version the
// declaration was made against, or false when the publisher gave none.
func (d *Declaration) Against() (DeclaredCounts, bool) {
	if d == nil {
		return DeclaredCounts{}, false
	}
	for _, c := range d.Counts {
		if c.Part == "codes" {
			return c, true
		}
	}
	return DeclaredCounts{}, false
}

// DeclaredChange is one change the publisher declares.
type DeclaredChange struct {
	Code string
	Kind ChangeKind // added, deleted, revised, discontinued or reactivated
	// Detail is the publisher's own word for it, e.g. "Revise" or "C".
	Detail string
}

// Code is one code record of a release.
type Code struct {
	Code     string
	Category string // CPT: I, II, III or PLA; empty where the system has none
	Short    string
	Medium   string
	Long     string
	Status   string
	// Attrs holds any other attributes by field name (e.g. "xref"). They are
	// compared between releases like the descriptors.
	Attrs map[string]string
	// Meta holds the publisher's per-release bookkeeping, such as the HCPCS
	// action code and action dates: stored and shown, never compared, since
	// it changes every release by design.
	Meta Meta
}

// Field returns the value of the named field: one of the Field constants or
// an attribute name.
func (c Code) Field(name string) string {
	switch name {
	case FieldCode:
		return c.Code
	case FieldCategory:
		return c.Category
	case FieldShort:
		return c.Short
	case FieldMedium:
		return c.Medium
	case FieldLong:
		return c.Long
	case FieldStatus:
		return c.Status
	}
	return c.Attrs[name]
}

// SetField sets the named field: one of the Field constants (but code and
// category, which identify the record) or an attribute name.
func (c *Code) SetField(name, v string) {
	switch name {
	case FieldShort:
		c.Short = v
	case FieldMedium:
		c.Medium = v
	case FieldLong:
		c.Long = v
	case FieldStatus:
		c.Status = v
	default:
		if c.Attrs == nil {
			c.Attrs = map[string]string{}
		}
		c.Attrs[name] = v
	}
}

// Description returns the most complete descriptor the record has.
func (c Code) Description() string {
	switch {
	case c.Long != "":
		return c.Long
	case c.Medium != "":
		return c.Medium
	}
	return c.Short
}

// ChangeKind is the kind of one change between two releases.
type ChangeKind string

// The change kinds. Their string values are part of the JSON changelog
// contract.
const (
	Added    ChangeKind = "added"
	Deleted  ChangeKind = "deleted"
	Revised  ChangeKind = "revised"
	Cosmetic ChangeKind = "cosmetic"
	// ShortTitle is an ICD-10 change of the short (abbreviated) title
	// alone, the long title unchanged. The publishers' headline counts of
	// revisions are of the code title, the long one; their order addenda
	// list short-title revisions apart ("revisions to short title only").
	ShortTitle  ChangeKind = "short-title"
	Reactivated ChangeKind = "reactivated"
	// Discontinued is a code still in the file but ended by the publisher
	// (HCPCS keeps a code for the year it is discontinued, with action D
	// and a termination date).
	Discontinued ChangeKind = "discontinued"
)

// StatusDiscontinued is the Code.Status of a code that is still shipped but
// ended: its termination date is set.
const StatusDiscontinued = "discontinued"

// ChangeKinds lists the kinds in the order changelogs present them.
var ChangeKinds = []ChangeKind{Added, Deleted, Revised, ShortTitle, Cosmetic, Reactivated, Discontinued}

// FieldChange is the before and after value of one field.
type FieldChange struct {
	Before string `json:"before"`
	After  string `json:"after"`
}

// Change is what happened to one code between two releases.
type Change struct {
	Code     string
	Kind     ChangeKind
	Category string
	// Fields holds the fields that differ: for revised, short-title and
	// cosmetic changes
	// against the previous release, for reactivated codes against the record
	// last seen before deletion. Nil for added and deleted codes.
	Fields map[string]FieldChange
	// Record is the new record (the old one for deleted codes), so that
	// renderers can show descriptors.
	Record Code
	// ReplacedBy lists, for a deleted or discontinued code, the codes the
	// publisher names as its replacements; Replaces lists, for an added or
	// reactivated code, the codes it replaces. Both are sorted, unique, in
	// stored form, and empty when the publisher names none or states no
	// links at all (see Changelog.Replacements).
	ReplacedBy []string
	Replaces   []string
	// Reused marks a code the publisher declares added (HCPCS ACTION A)
	// although the previous release had it with another text: a code given
	// a new meaning. The change is revised (its fields show the old and the
	// new meaning) and reconciles with the declared add.
	Reused bool
	// AlreadyDiscontinued marks an added (or reactivated) code that arrives
	// already ended: new to the comparison, with its termination date set,
	// as when a quarterly update adds a code and a later one ends it. It is
	// counted once, among the added, and Summary.AddedDiscontinued says how
	// many of those are already discontinued.
	AlreadyDiscontinued bool
}

// Note returns the flags of c in words, "" when it has none: what every
// changelog shows beside the change kind.
func (c Change) Note() string {
	switch {
	case c.Reused:
		return "re-used with a new meaning"
	case c.AlreadyDiscontinued:
		if t := c.Record.Meta.Get("termination_date"); t != "" {
			return "already discontinued (termination date " + t + ")"
		}
		return "already discontinued"
	}
	return ""
}

// Summary counts changes by kind.
type Summary struct {
	Added    int `json:"added"`
	Deleted  int `json:"deleted"`
	Revised  int `json:"revised"`
	Cosmetic int `json:"cosmetic"`
	// ShortTitle counts the ICD-10 changes of the short title alone; left
	// out of the JSON when 0 (the systems without short titles never have
	// one).
	ShortTitle   int `json:"short_title,omitempty"`
	Reactivated  int `json:"reactivated"`
	Discontinued int `json:"discontinued"`
	Unchanged    int `json:"unchanged"`
	// AddedDiscontinued counts the added codes that arrive already
	// discontinued (included in Added, not in Discontinued); Reused the
	// revised codes re-used with a new meaning (included in Revised).
	AddedDiscontinued int `json:"added_discontinued,omitempty"`
	Reused            int `json:"reused,omitempty"`
}

// Count the flags of c, besides its kind.
func (s *Summary) flags(c Change) {
	if c.AlreadyDiscontinued && c.Kind == Added {
		s.AddedDiscontinued++
	}
	if c.Reused {
		s.Reused++
	}
}

// AddChange counts change c: its kind and its flags.
func (s *Summary) AddChange(c Change) {
	s.Add(c.Kind)
	s.flags(c)
}

// Notes returns what the counts of the flags say, in words, for the
// summaries: "62 of the added already discontinued", "2 of the revised
// re-used with a new meaning". Empty when no change is flagged.
func (s Summary) Notes() []string {
	var out []string
	if s.AddedDiscontinued > 0 {
		out = append(out, fmt.Sprintf("added %d, %d of them already discontinued", s.Added, s.AddedDiscontinued))
	}
	if s.Reused > 0 {
		out = append(out, fmt.Sprintf("revised %d, %d of them codes re-used with a new meaning (declared added)", s.Revised, s.Reused))
	}
	return out
}

// Count returns the count for kind k.
func (s Summary) Count(k ChangeKind) int {
	switch k {
	case Added:
		return s.Added
	case Deleted:
		return s.Deleted
	case Revised:
		return s.Revised
	case Cosmetic:
		return s.Cosmetic
	case ShortTitle:
		return s.ShortTitle
	case Reactivated:
		return s.Reactivated
	case Discontinued:
		return s.Discontinued
	}
	return 0
}

// Add counts one change of kind k.
func (s *Summary) Add(k ChangeKind) {
	switch k {
	case Added:
		s.Added++
	case Deleted:
		s.Deleted++
	case Revised:
		s.Revised++
	case Cosmetic:
		s.Cosmetic++
	case ShortTitle:
		s.ShortTitle++
	case Reactivated:
		s.Reactivated++
	case Discontinued:
		s.Discontinued++
	}
}

// Changelog is the difference between two releases of one system.
type Changelog struct {
	System System
	From   string // label of the older release; empty for a first release
	To     string
	// FromEffective and ToEffective are the releases' effective dates.
	FromEffective, ToEffective time.Time
	Summary                    Summary
	// Changes are sorted by code. A first release's changelog made by
	// AllAdded holds none (nil): read the changes of any changelog with
	// Len and At, or All.
	Changes []Change
	// Reconciliation compares the changes with the publisher's own list,
	// when the new release has one.
	Reconciliation *Reconciliation
	// Replacements are the links of this transition, ranges expanded: the
	// new release's links that touch a change (a deleted or discontinued Old,
	// an added or reactivated New) and take effect between the two releases.
	// Nil when the new release states no links; then ReplacedBy and Replaces
	// say nothing either.
	Replacements []Replacement
	// LinkProblems lists what does not add up between the changes and the
	// links, sorted by code then kind.
	LinkProblems []LinkProblem

	// added, when not nil, are the codes of a first release, each one an
	// added change that Changes does not hold (see AllAdded).
	added []Code
}

// AllAdded returns the changelog of rel as a first release, with nothing
// to compare it with: every code added, flagged already discontinued when
// it arrives ended, no reconciliation and no links, as diff.Compare(nil,
// rel, nil) finds it. Its changes are not held: Changes is nil, and Len,
// At and All make each change from rel's codes when it is read. A first
// release of a million codes would otherwise hold a million changes (some
// 200 MB) beside the release they repeat.
func AllAdded(rel *Release) *Changelog {
	l := &Changelog{System: rel.System, To: rel.Label, ToEffective: rel.Effective}
	for i := range rel.Codes {
		l.Summary.Added++
		if rel.Codes[i].Status == StatusDiscontinued {
			l.Summary.AddedDiscontinued++
		}
	}
	if len(rel.Codes) > 0 {
		l.added = rel.Codes
	}
	return l
}

// Len returns how many changes l has: len(Changes), or the codes of a
// first release made by AllAdded.
func (l *Changelog) Len() int {
	if l.added != nil {
		return len(l.added)
	}
	return len(l.Changes)
}

// At returns change i of l, in the order of Changes (by code).
func (l *Changelog) At(i int) Change {
	if l.added != nil {
		n := &l.added[i]
		return Change{Code: n.Code, Kind: Added, Category: n.Category, Record: *n, AlreadyDiscontinued: n.Status == StatusDiscontinued}
	}
	return l.Changes[i]
}

// All yields the changes of l in order.
func (l *Changelog) All() func(yield func(Change) bool) {
	return func(yield func(Change) bool) {
		for i, n := 0, l.Len(); i < n; i++ {
			if !yield(l.At(i)) {
				return
			}
		}
	}
}

// Held reports whether l holds its changes in Changes; false for a first
// release made by AllAdded, whose changes are made as they are read.
func (l *Changelog) Held() bool { return l.added == nil }

// Holding returns l when it holds its changes, and otherwise a copy of l
// that holds them in Changes.
func (l *Changelog) Holding() *Changelog {
	if l.added == nil {
		return l
	}
	out := *l
	out.Changes = make([]Change, 0, len(l.added))
	for c := range l.All() {
		out.Changes = append(out.Changes, c)
	}
	out.added = nil
	return &out
}

// LinkProblemKind is the kind of a LinkProblem. The string values are part
// of the changelog contract.
type LinkProblemKind string

// The kinds of link problems.
const (
	// NoReplacement: a deleted or discontinued code for which the publisher
	// names no replacement.
	NoReplacement LinkProblemKind = "no-replacement"
	// UnknownCode: a link names a code (or a range matching no code) that is
	// in neither release compared.
	UnknownCode LinkProblemKind = "unknown-code"
	// ReplacementDeleted: a code is named as the replacement of another but
	// is itself deleted or discontinued in the same release, a publisher
	// inconsistency.
	ReplacementDeleted LinkProblemKind = "replacement-deleted"
)

// LinkProblem is one thing that does not add up between the changes of a
// transition and the publisher's replacement links.
type LinkProblem struct {
	Code   string // the changed code the problem is about
	Kind   LinkProblemKind
	Other  string // the other code (or "first-last" range) of the link; empty for NoReplacement
	Source string // the file that states the link; empty for NoReplacement
	Reason string // in words
}

// Reconciliation is the comparison of a computed changelog with the changes
// the publisher declared.
type Reconciliation struct {
	Source string // Declaration.Source; the sources of each release combined, by label, across several
	// Combined lists the labels of the releases whose declarations were
	// combined, oldest first, when the comparison spans more than one
	// release (a non-neighbour diff); nil for neighbours.
	Combined []string
	Declared int // changes the publisher declared
	Agreed   int // declared changes the computed diff confirms
	// Disagreements lists every code where the two differ, sorted by code.
	Disagreements []Disagreement
}

// Disagreement is one code where the publisher's list and the computed diff
// differ.
type Disagreement struct {
	Code     string
	Declared string // the publisher's word ("Add", "C", ...), or "" when it declares nothing
	Computed string // the computed change kind, "unchanged" or "absent"
	Reason   string // why, in words
	// Explained is true when the records or the declarations show why the
	// two differ (a whitespace-only fix, a date in the record, a version
	// between the two never ingested); false when nothing explains it:
	// "not declared". A strict run fails on an unexplained disagreement.
	Explained bool
}

// Unexplained returns the disagreements nothing explains.
func (r *Reconciliation) Unexplained() []Disagreement {
	if r == nil {
		return nil
	}
	var out []Disagreement
	for _, d := range r.Disagreements {
		if !d.Explained {
			out = append(out, d)
		}
	}
	return out
}

// ByCategory counts the changes of each kind per category.
func (l *Changelog) ByCategory() map[string]*Summary {
	m := map[string]*Summary{}
	for c := range l.All() {
		s := m[c.Category]
		if s == nil {
			s = &Summary{}
			m[c.Category] = s
		}
		s.Add(c.Kind)
	}
	return m
}

// Display returns code as people write it: ICD-10-CM codes take a dot
// after the third character (S72.001A); other systems show codes as stored.
func (s System) Display(code string) string {
	if d := s.Facts().Dot; d > 0 && len(code) > d {
		return code[:d] + "." + code[d:]
	}
	return code
}

// Normalize turns a code as people type it into the stored form: trimmed,
// upper-case, and for ICD-10-CM without the dot (s72.001a is S72001A).
func (s System) Normalize(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	if s.Facts().Dot > 0 {
		code = strings.ReplaceAll(code, ".", "")
	}
	return code
}

var revisionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.*)-r([0-9]{1,9})$`) })

// CompareLabels orders release labels of releases with the same effective
// date: as text, except that a release comes before its revisions and
// revisions go by number (2026 < 2026-r2 < 2026-r10).
func CompareLabels(a, b string) int {
	baseA, revA := splitRevision(a)
	baseB, revB := splitRevision(b)
	if baseA != baseB || revA == revB {
		return strings.Compare(a, b)
	}
	return revA - revB
}

// splitRevision splits "2026-r2" into "2026" and 2; a label that is no
// revision is revision 1 of itself.
func splitRevision(label string) (string, int) {
	m := revisionRE().FindStringSubmatch(label)
	if m == nil {
		return label, 1
	}
	n, _ := strconv.Atoi(m[2])
	return m[1], n
}

var labelRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })

// CheckLabel reports whether label is usable as a release label: it names
// directories and files, so it is limited to letters, digits, '.', '_' and '-'.
//
// A label must not look like a file of the published tree (history.sqlite,
// index.json, latest.json sit beside the release folders), and a label
// that implies an effective date (FY2026, 2026, 2026Q2, 2026-04) must imply
// a plausible one: a year from MinYear to MaxYear and a month from 01 to 12.
func CheckLabel(label string) error {
	if !labelRE().MatchString(label) {
		return fmt.Errorf("bad release label %q: want letters, digits, '.', '_' or '-', starting with a letter or digit", label)
	}
	if i := strings.LastIndexByte(label, '.'); i >= 0 && fileExts[strings.ToLower(label[i+1:])] {
		return fmt.Errorf("bad release label %q: it looks like a file name (.%s); release folders sit beside the tree's own files", label, label[i+1:])
	}
	year := ""
	if m := fyRE().FindStringSubmatch(label); m != nil {
		year = m[1]
	} else if m := leadingYearRE().FindStringSubmatch(label); m != nil {
		year = m[1]
	}
	if year != "" {
		if y, _ := strconv.Atoi(year); y < MinYear || y > MaxYear {
			return fmt.Errorf("bad release label %q: year %s is not a release year (want %d to %d)", label, year, MinYear, MaxYear)
		}
	}
	if m := monthRE().FindStringSubmatch(label); m != nil {
		if mon, _ := strconv.Atoi(m[2]); mon < 1 || mon > 12 {
			return fmt.Errorf("bad release label %q: month %s is not a month", label, m[2])
		}
	}
	return nil
}

// The years a release label may name.
const (
	MinYear = 1900
	MaxYear = 2999
)

// leadingYearRE is a label that starts with a four-digit year.
var leadingYearRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{4})(?:\D|$)`) })

// fileExts are the extensions of the files a published tree or a data
// directory holds; a label ending in one would be taken for such a file.
var fileExts = map[string]bool{
	"json": true, "html": true, "htm": true, "sqlite": true, "md": true, "csv": true, "xlsx": true,
	"lock": true, "partial": true, "tmp": true, "txt": true, "zip": true, "xls": true,
	"sqlite-wal": true, "sqlite-shm": true, "sqlite-journal": true,
}

var (
	yearRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{4})$`) })
	fyRE      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^FY(\d{4})\b`) })
	quarterRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{4})Q([1-4])\b`) })
	monthRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{4})-(\d{2})\b`) })
)

// DefaultEffective derives the effective date a release label implies:
// "2026" is January 1 (October 1, 2025 for the ICD-10 fiscal-year systems),
// "FY2026" is October 1, 2025, "2026Q2" is April 1, 2026 and "2026-04" is
// April 1, 2026. It reports false when the label implies no date.
func DefaultEffective(sys System, label string) (time.Time, bool) {
	date := func(y, m int) time.Time { return time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC) }
	atoi := func(s string) int {
		n := 0
		for _, r := range s {
			n = n*10 + int(r-'0')
		}
		return n
	}
	if m := fyRE().FindStringSubmatch(label); m != nil {
		return date(atoi(m[1])-1, 10), true
	}
	if m := quarterRE().FindStringSubmatch(label); m != nil {
		return date(atoi(m[1]), 3*(atoi(m[2])-1)+1), true
	}
	if m := monthRE().FindStringSubmatch(label); m != nil {
		if mon := atoi(m[2]); mon >= 1 && mon <= 12 {
			return date(atoi(m[1]), mon), true
		}
		return time.Time{}, false
	}
	if m := yearRE().FindStringSubmatch(label); m != nil {
		if sys.Facts().FiscalYear {
			return date(atoi(m[1])-1, 10), true
		}
		return date(atoi(m[1]), 1), true
	}
	return time.Time{}, false
}
