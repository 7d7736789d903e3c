package format

import (
	"bufio"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/codeset/codeset"
)

// WriteCodeSystem writes the FHIR CodeSystem of release rel, compact, with
// a final newline: the bytes json.Marshal(CodeSystemOf(rel, effective,
// licence)) gives and a newline, but concept by concept, so that a release
// of a million codes is never held as one document in memory. The header
// elements go through encoding/json; each concept is written by
// appendConcept, which escapes strings exactly as encoding/json does.
func WriteCodeSystem(w io.Writer, rel *codeset.Release, effective map[string]string, licence string) error {
	cs := codeSystemHead(rel, licence)
	head, err := json.Marshal(cs)
	if err != nil {
		return err
	}
	if cs.Content != "complete" || cs.Count == 0 {
		_, err := w.Write(append(head, '\n'))
		return err
	}
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, 256<<10)
	}
	// The concepts are the last element: the head's closing brace makes
	// way for them.
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"concept":[`)
	sys := rel.System
	headers := headerCodes(rel)
	var buf []byte
	var concept Concept
	scratch := new(conceptScratch)
	n := 0
	err = eachConcept(rel, func(c *codeset.Code, header bool) error {
		info := ConceptInfo{Header: header, Parent: parentOf(headers, c.Code), Status: ConceptStatus(*c), Effective: effective[c.Code], Retired: TerminationDate(*c)}
		buf = buf[:0]
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		fillConcept(&concept, scratch, sys, c, info)
		buf = appendConcept(buf, concept)
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// codeSystemHead is the CodeSystem of rel without its concepts.
func codeSystemHead(rel *codeset.Release, licence string) *CodeSystem {
	sys := rel.System
	f := sys.Facts()
	cs := &CodeSystem{
		ResourceType:  "CodeSystem",
		ID:            FHIRID(sys, rel.Label),
		URL:           f.URL,
		Version:       rel.Label,
		Name:          strings.NewReplacer("-", "", " ", "").Replace(f.Name),
		Title:         f.Name + " " + rel.Label,
		Status:        "active",
		Publisher:     publishers[sys],
		Description:   f.Name + " release " + rel.Label + ", as published by codeset " + codeset.Version + ".",
		CaseSensitive: true,
		Content:       "complete",
		Count:         len(rel.Codes) + len(rel.Headers),
	}
	if !rel.Effective.IsZero() {
		cs.Date = rel.Effective.Format(codeset.DateLayout)
	}
	if Licence(licence) == LicenceCodesOnly {
		cs.Content = "not-present"
		cs.Description += " Codes-only tree: descriptors are not published here."
		cs.Count = len(rel.Codes)
		return cs
	}
	cs.Property = slices.Clone(conceptProperties)
	if len(rel.Headers) > 0 {
		cs.HierarchyMean = "is-a"
		cs.Property = append(cs.Property,
			CodeSystemProperty{Code: PropNotSelectable, URI: "http://hl7.org/fhir/concept-properties#notSelectable", Description: "a non-billable header, not a code for a claim", Type: "boolean"},
			CodeSystemProperty{Code: PropParent, URI: "http://hl7.org/fhir/concept-properties#parent", Description: "the header above the code", Type: "code"})
	}
	if len(f.Categories) > 0 {
		cs.Property = append(cs.Property, CodeSystemProperty{Code: PropCategory, Description: f.Name + " category: " + strings.Join(f.Categories, ", "), Type: "string"})
	}
	return cs
}

// eachConcept calls fn with every code and header of rel in code order, a
// code before a header of the same code (a stable sort of the codes
// followed by the headers). Both lists are sorted by code when they come
// from ingest or a snapshot; unsorted lists are sorted here by index, so
// rel is never changed.
func eachConcept(rel *codeset.Release, fn func(c *codeset.Code, header bool) error) error {
	codes := sortedIndex(rel.Codes)
	headers := sortedIndex(rel.Headers)
	i, j := 0, 0
	for i < len(codes) || j < len(headers) {
		if j == len(headers) || (i < len(codes) && rel.Codes[codes[i]].Code <= rel.Headers[headers[j]].Code) {
			if err := fn(&rel.Codes[codes[i]], false); err != nil {
				return err
			}
			i++
			continue
		}
		if err := fn(&rel.Headers[headers[j]], true); err != nil {
			return err
		}
		j++
	}
	return nil
}

// headerCodes returns the sorted codes of the headers of rel.
func headerCodes(rel *codeset.Release) []string {
	headers := make([]string, 0, len(rel.Headers))
	for _, h := range rel.Headers {
		headers = append(headers, h.Code)
	}
	slices.Sort(headers)
	return headers
}

// parentOf returns the header above code, as Parents finds it: the longest
// of the sorted headers that is a proper prefix of code, or "".
func parentOf(headers []string, code string) string {
	if len(headers) == 0 {
		return ""
	}
	for n := len(code) - 1; n >= 1; n-- {
		if _, ok := slices.BinarySearch(headers, code[:n]); ok {
			return code[:n]
		}
	}
	return ""
}

// sortedIndex returns the indexes of codes in stable code order.
func sortedIndex(codes []codeset.Code) []int {
	idx := make([]int, len(codes))
	sorted := true
	for i := range codes {
		idx[i] = i
		if i > 0 && codes[i].Code < codes[i-1].Code {
			sorted = false
		}
	}
	if !sorted {
		slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(codes[a].Code, codes[b].Code) })
	}
	return idx
}

// appendConcept appends c as JSON, as encoding/json writes a Concept.
func appendConcept(b []byte, c Concept) []byte {
	b = append(b, `{"code":`...)
	b = appendJSONString(b, c.Code)
	if c.Display != "" {
		b = append(b, `,"display":`...)
		b = appendJSONString(b, c.Display)
	}
	if len(c.Designation) > 0 {
		b = append(b, `,"designation":[`...)
		for i, d := range c.Designation {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			comma := false
			if d.Language != "" {
				b = append(b, `"language":`...)
				b = appendJSONString(b, d.Language)
				comma = true
			}
			if d.Use != nil {
				if comma {
					b = append(b, ',')
				}
				b = append(b, `"use":`...)
				b = appendCoding(b, d.Use)
				comma = true
			}
			if comma {
				b = append(b, ',')
			}
			b = append(b, `"value":`...)
			b = appendJSONString(b, d.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(c.Property) > 0 {
		b = append(b, `,"property":[`...)
		for i, p := range c.Property {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"code":`...)
			b = appendJSONString(b, p.Code)
			if p.ValueCode != nil {
				b = append(b, `,"valueCode":`...)
				b = appendJSONString(b, *p.ValueCode)
			}
			if p.ValueString != nil {
				b = append(b, `,"valueString":`...)
				b = appendJSONString(b, *p.ValueString)
			}
			if p.ValueBoolean != nil {
				b = append(b, `,"valueBoolean":`...)
				b = strconv.AppendBool(b, *p.ValueBoolean)
			}
			if p.ValueDateTime != nil {
				b = append(b, `,"valueDateTime":`...)
				b = appendJSONString(b, *p.ValueDateTime)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendCoding appends c as JSON, as encoding/json writes a Coding.
func appendCoding(b []byte, c *Coding) []byte {
	b = append(b, '{')
	comma := false
	for _, f := range []struct{ name, v string }{{"system", c.System}, {"version", c.Version}, {"code", c.Code}, {"display", c.Display}} {
		if f.v == "" {
			continue
		}
		if comma {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, f.name...)
		b = append(b, `":`...)
		b = appendJSONString(b, f.v)
		comma = true
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string the way encoding/json
// writes it. Printable ASCII other than the characters encoding/json
// escapes (quote, backslash and the HTML-sensitive <, > and &) is copied;
// anything else goes through encoding/json itself, so the escaping of
// control characters, invalid UTF-8 and U+2028/U+2029 is its own.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendJSONObject appends m as encoding/json writes a map[string]string
// compactly: keys sorted, strings escaped as appendJSONString does, "{}"
// for an empty or nil map. It is json.Marshal(m)'s bytes without the
// reflection, for writers of a row per code.
func AppendJSONObject(b []byte, m map[string]string) []byte {
	if len(m) == 0 {
		return append(b, "{}"...)
	}
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		b = appendJSONField(b, i == 0, k, m[k])
	}
	return append(b, '}')
}

// AppendJSONMeta appends m as AppendJSONObject appends the map of its
// fields.
func AppendJSONMeta(b []byte, m codeset.Meta) []byte {
	if len(m) == 0 {
		return append(b, "{}"...)
	}
	b = append(b, '{')
	for i, f := range m {
		b = appendJSONField(b, i == 0, f.Key, f.Value)
	}
	return append(b, '}')
}

// appendJSONField appends the object field k:v, after a comma unless it
// is the first.
func appendJSONField(b []byte, first bool, k, v string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = appendJSONString(b, k)
	b = append(b, ':')
	return appendJSONString(b, v)
}
