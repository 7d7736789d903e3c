package format

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/codeset/codeset"
)

// jsonChangelog is the JSON changelog contract. Field order here is the
// order in the output.
type jsonChangelog struct {
	System        codeset.System  `json:"system"`
	From          *string         `json:"from"`
	To            string          `json:"to"`
	FromEffective *string         `json:"from_effective"`
	ToEffective   *string         `json:"to_effective"`
	Summary       codeset.Summary `json:"summary"`
	Changes       []jsonChange    `json:"changes"`
	// Reconciliation is null when the publisher declares no changes.
	Reconciliation *jsonReconciliation `json:"reconciliation"`
	// LinkProblems is null when the new release states no replacement
	// links, else every problem (possibly none).
	LinkProblems []jsonLinkProblem `json:"link_problems"`
}

type jsonCode struct {
	Code    string `json:"code"`
	Display string `json:"display"`
}

type jsonLinkProblem struct {
	Code    string                  `json:"code"`
	Display string                  `json:"display"`
	Problem codeset.LinkProblemKind `json:"problem"`
	Other   string                  `json:"other"`
	Source  string                  `json:"source"`
	Reason  string                  `json:"reason"`
}

type jsonChange struct {
	Code        string                         `json:"code"`
	Display     string                         `json:"display"`
	Change      codeset.ChangeKind             `json:"change"`
	Category    string                         `json:"category"`
	Description string                         `json:"description"`
	Fields      map[string]codeset.FieldChange `json:"fields"`
	ReplacedBy  []jsonCode                     `json:"replaced_by"`
	Replaces    []jsonCode                     `json:"replaces"`
	// Reused and AlreadyDiscontinued are Change's flags, left out when
	// false.
	Reused              bool `json:"reused,omitempty"`
	AlreadyDiscontinued bool `json:"already_discontinued,omitempty"`
}

type jsonReconciliation struct {
	Source        string             `json:"source"`
	Declared      int                `json:"declared"`
	Agreed        int                `json:"agreed"`
	Disagreements []jsonDisagreement `json:"disagreements"`
	// Combined and Unexplained are additive: the labels whose lists a
	// non-neighbour diff combines, and how many disagreements nothing
	// explains.
	Combined    []string `json:"combined,omitempty"`
	Unexplained int      `json:"unexplained"`
}

type jsonDisagreement struct {
	Code     string `json:"code"`
	Display  string `json:"display"`
	Declared string `json:"declared"`
	Computed string `json:"computed"`
	Reason   string `json:"reason"`
	// Explained is additive: whether the evidence explains it.
	Explained bool `json:"explained"`
}

// WriteChangelog writes l as the JSON changelog other tools parse: two-space
// indentation, a trailing newline, null for an unknown from label or date,
// and "fields", "replaced_by" and "replaces" present on every change.
//
// Replacement links (additive to the first contract): a deleted or
// discontinued change carries "replaced_by", the codes the publisher names
// as its replacements, and an added or reactivated change "replaces", the
// codes it takes the place of; each an array of {"code", "display"}
// sorted by code, empty when the publisher names none (or states no links
// at all). "link_problems" lists what does not add up between the changes
// and the links (problem "no-replacement", "unknown-code" or
// "replacement-deleted", the other code of the link, the file that states
// it and the reason in words); it is null when the new release states no
// links.
func WriteChangelog(w io.Writer, l *codeset.Changelog) error {
	// Everything but the changes goes through encoding/json, with an
	// empty list of changes that is then cut open; the changes, a
	// million of them in a first release of a million codes, are written
	// one by one as the encoder would write them, so that the changelog
	// is never held whole in memory.
	j := jsonChangelog{
		System:        l.System,
		To:            l.To,
		FromEffective: jsonDate(l.FromEffective),
		ToEffective:   jsonDate(l.ToEffective),
		Summary:       l.Summary,
		Changes:       []jsonChange{},
	}
	if l.From != "" {
		j.From = &l.From
	}
	if l.Replacements != nil {
		j.LinkProblems = []jsonLinkProblem{}
		for _, p := range l.LinkProblems {
			j.LinkProblems = append(j.LinkProblems, jsonLinkProblem{
				Code: p.Code, Display: l.System.Display(p.Code), Problem: p.Kind, Other: p.Other, Source: p.Source, Reason: p.Reason,
			})
		}
	}
	if r := l.Reconciliation; r != nil {
		j.Reconciliation = &jsonReconciliation{Source: r.Source, Declared: r.Declared, Agreed: r.Agreed, Disagreements: []jsonDisagreement{},
			Combined: r.Combined, Unexplained: len(r.Unexplained())}
		for _, d := range r.Disagreements {
			j.Reconciliation.Disagreements = append(j.Reconciliation.Disagreements, jsonDisagreement{
				Code: d.Code, Display: l.System.Display(d.Code), Declared: d.Declared, Computed: d.Computed, Reason: d.Reason, Explained: d.Explained,
			})
		}
	}
	var frame bytes.Buffer
	enc := json.NewEncoder(&frame)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return fmt.Errorf("write json changelog: %w", err)
	}
	// The key cannot occur earlier: a string holding it would have its
	// quotes escaped.
	head, tail, ok := bytes.Cut(frame.Bytes(), []byte(`"changes": []`))
	if !ok {
		return fmt.Errorf("write json changelog: no changes in %.40q", frame.Bytes())
	}
	cw := changeWriter{sys: l.System, dot: l.System.Facts().Dot}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head)
	bw.WriteString(`"changes": [`)
	var buf []byte
	// l.At, not l.Changes: a first release's changes are made from its
	// codes as they are written (codeset.AllAdded).
	n := l.Len()
	for i := range n {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		c := l.At(i)
		var err error
		if buf, err = cw.append(buf[:0], &c); err != nil {
			return fmt.Errorf("write json changelog: %w", err)
		}
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("write json changelog: %w", err)
		}
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteByte(']')
	bw.Write(tail)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json changelog: %w", err)
	}
	return nil
}

// changeWriter writes the changes of a JSON changelog as
// json.Encoder.SetIndent("", "  ") writes them inside the changelog.
type changeWriter struct {
	sys codeset.System
	dot int
	// elem encodes a whole change the general way; str one string.
	elemBuf, strBuf bytes.Buffer
	elem, str       *json.Encoder
}

// append appends the change c, from its opening brace to its closing one.
// A change without fields or links, as every change of a first release, is
// written directly; any other goes through encoding/json.
func (cw *changeWriter) append(b []byte, c *codeset.Change) ([]byte, error) {
	if cw.elem == nil {
		cw.elem, cw.str = json.NewEncoder(&cw.elemBuf), json.NewEncoder(&cw.strBuf)
		cw.elem.SetEscapeHTML(false)
		cw.elem.SetIndent("    ", "  ")
		cw.str.SetEscapeHTML(false)
	}
	if len(c.Fields) > 0 || len(c.ReplacedBy) > 0 || len(c.Replaces) > 0 {
		fields := c.Fields
		if fields == nil {
			fields = map[string]codeset.FieldChange{}
		}
		cw.elemBuf.Reset()
		if err := cw.elem.Encode(jsonChange{
			Code:        c.Code,
			Display:     cw.sys.Display(c.Code),
			Change:      c.Kind,
			Category:    c.Category,
			Description: c.Record.Description(),
			Fields:      fields,
			ReplacedBy:  jsonCodes(cw.sys, c.ReplacedBy),
			Replaces:    jsonCodes(cw.sys, c.Replaces),
			Reused:      c.Reused,

			AlreadyDiscontinued: c.AlreadyDiscontinued,
		}); err != nil {
			return b, err
		}
		return append(b, bytes.TrimSuffix(cw.elemBuf.Bytes(), []byte("\n"))...), nil
	}
	var err error
	b = append(b, "{\n      \"code\": "...)
	if b, err = cw.appendString(b, c.Code); err != nil {
		return b, err
	}
	b = append(b, ",\n      \"display\": "...)
	if cw.dot > 0 && len(c.Code) > cw.dot && plain(c.Code) {
		b = append(b, '"')
		b = append(b, c.Code[:cw.dot]...)
		b = append(b, '.')
		b = append(b, c.Code[cw.dot:]...)
		b = append(b, '"')
	} else if b, err = cw.appendString(b, cw.sys.Display(c.Code)); err != nil {
		return b, err
	}
	b = append(b, ",\n      \"change\": "...)
	if b, err = cw.appendString(b, string(c.Kind)); err != nil {
		return b, err
	}
	b = append(b, ",\n      \"category\": "...)
	if b, err = cw.appendString(b, c.Category); err != nil {
		return b, err
	}
	b = append(b, ",\n      \"description\": "...)
	if b, err = cw.appendString(b, c.Record.Description()); err != nil {
		return b, err
	}
	b = append(b, ",\n      \"fields\": {},\n      \"replaced_by\": [],\n      \"replaces\": []"...)
	if c.Reused {
		b = append(b, ",\n      \"reused\": true"...)
	}
	if c.AlreadyDiscontinued {
		b = append(b, ",\n      \"already_discontinued\": true"...)
	}
	return append(b, "\n    }"...), nil
}

// appendString appends s as a JSON string, as encoding/json writes it
// without HTML escaping: directly when it holds only printable ASCII other
// than the quote and the backslash, else through the encoder.
func (cw *changeWriter) appendString(b []byte, s string) ([]byte, error) {
	if plain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"'), nil
	}
	cw.strBuf.Reset()
	if err := cw.str.Encode(s); err != nil {
		return b, err
	}
	return append(b, bytes.TrimSuffix(cw.strBuf.Bytes(), []byte("\n"))...), nil
}

// plain reports whether s is written in JSON as it is, between quotes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// jsonCodes returns codes with their display forms; an empty array, never
// null, when there are none.
func jsonCodes(sys codeset.System, codes []string) []jsonCode {
	out := make([]jsonCode, 0, len(codes))
	for _, c := range codes {
		out = append(out, jsonCode{Code: c, Display: sys.Display(c)})
	}
	return out
}

// jsonDate returns t as YYYY-MM-DD, or nil for the zero time.
func jsonDate(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(codeset.DateLayout)
	return &s
}

// ReadChangelog parses a changelog written by WriteChangelog. The JSON carries only a
// description of each record, so Change.Record holds Code, Category and the
// description as Long; Fields is nil when empty.
func ReadChangelog(r io.Reader) (*codeset.Changelog, error) {
	var j jsonChangelog
	dec := json.NewDecoder(r)
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("read json changelog: %w", err)
	}
	l := &codeset.Changelog{
		System:  j.System,
		To:      j.To,
		Summary: j.Summary,
	}
	if j.From != nil {
		l.From = *j.From
	}
	var err error
	if l.FromEffective, err = parseJSONDate("from_effective", j.FromEffective); err != nil {
		return nil, err
	}
	if l.ToEffective, err = parseJSONDate("to_effective", j.ToEffective); err != nil {
		return nil, err
	}
	for i, c := range j.Changes {
		if !slices.Contains(codeset.ChangeKinds, c.Change) {
			return nil, fmt.Errorf("read json changelog: change %d (code %q): unknown change %q", i, c.Code, c.Change)
		}
		ch := codeset.Change{
			Code:     c.Code,
			Kind:     c.Change,
			Category: c.Category,
			Record:   codeset.Code{Code: c.Code, Category: c.Category, Long: c.Description},
			Reused:   c.Reused,

			AlreadyDiscontinued: c.AlreadyDiscontinued,
		}
		if len(c.Fields) > 0 {
			ch.Fields = c.Fields
		}
		for _, x := range c.ReplacedBy {
			ch.ReplacedBy = append(ch.ReplacedBy, x.Code)
		}
		for _, x := range c.Replaces {
			ch.Replaces = append(ch.Replaces, x.Code)
		}
		l.Changes = append(l.Changes, ch)
	}
	if r := j.Reconciliation; r != nil {
		l.Reconciliation = &codeset.Reconciliation{Source: r.Source, Declared: r.Declared, Agreed: r.Agreed, Combined: r.Combined}
		for _, d := range r.Disagreements {
			l.Reconciliation.Disagreements = append(l.Reconciliation.Disagreements, codeset.Disagreement{
				Code: d.Code, Declared: d.Declared, Computed: d.Computed, Reason: d.Reason, Explained: d.Explained,
			})
		}
	}
	for _, p := range j.LinkProblems {
		l.LinkProblems = append(l.LinkProblems, codeset.LinkProblem{Code: p.Code, Kind: p.Problem, Other: p.Other, Source: p.Source, Reason: p.Reason})
	}
	return l, nil
}

func parseJSONDate(name string, s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(codeset.DateLayout, *s)
	if err != nil {
		return time.Time{}, fmt.Errorf("read json changelog: bad %s %q: want YYYY-MM-DD", name, *s)
	}
	return t, nil
}
