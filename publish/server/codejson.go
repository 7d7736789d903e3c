package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/format"
)

// This file writes the body of a code lookup without reflection: the bytes
// json.MarshalIndent(resp, "", "  ") gives, plus Reply's newline, which
// TestCodeJSON checks on every code of the test trees. MarshalIndent was
// about a tenth of a lookup's time.

// replyCode answers a code lookup as Reply(w, http.StatusOK, resp) does.
func replyCode(w http.ResponseWriter, resp *format.CodeResponse) {
	bp := replyBufs.Get().(*[]byte)
	b := appendCodeResponse((*bp)[:0], resp)
	b = append(b, '\n')
	h := w.Header()
	h["Content-Type"] = contentJSON
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	// Write has copied b (into the connection's buffer, a compressor's
	// window or a recorder): the next answer may reuse it. An unusually
	// long answer's buffer is left to the collector.
	if cap(b) <= 16<<10 {
		*bp = b
		replyBufs.Put(bp)
	}
}

// replyBufs holds the buffers code answers are written into: a lookup
// answers ~1.2 KB, and a fresh 2 KB buffer each time was a third of a
// lookup's garbage.
var replyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// jsonOut appends indented JSON to b: one object or array open per level.
type jsonOut struct {
	b     []byte
	depth int
	first bool // nothing written yet in the innermost object or array
}

func (o *jsonOut) newline() {
	o.b = append(o.b, '\n')
	for range o.depth {
		o.b = append(o.b, ' ', ' ')
	}
}

// open starts an object ('{') or array ('[').
func (o *jsonOut) open(c byte) {
	o.b = append(o.b, c)
	o.depth++
	o.first = true
}

// close ends what open started; an empty one stays {} or [].
func (o *jsonOut) close(c byte) {
	o.depth--
	if !o.first {
		o.newline()
	}
	o.b = append(o.b, c)
	o.first = false
}

// key starts a member of an object.
func (o *jsonOut) key(k string) {
	o.item()
	o.str(k)
	o.b = append(o.b, ':', ' ')
}

// kv writes the key k and the string v.
func (o *jsonOut) kv(k, v string) {
	o.key(k)
	o.str(v)
}

// item starts an element of an array (or a member, for key).
func (o *jsonOut) item() {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.newline()
}

// str appends s as encoding/json writes it: printable ASCII other than
// the characters it escapes is copied, anything else is left to
// encoding/json itself.
func (o *jsonOut) str(s string) {
	for i := 0; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			// A copy, so that s itself does not escape through the
			// interface (which made each lookup's record escape).
			q, _ := json.Marshal(strings.Clone(s))
			o.b = append(o.b, q...)
			return
		}
	}
	o.b = append(o.b, '"')
	o.b = append(o.b, s...)
	o.b = append(o.b, '"')
}

// jsonPlain tells the bytes str copies as they are: printable ASCII but
// the quote, the backslash and what encoding/json escapes for HTML.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

func (o *jsonOut) boolean(v bool) {
	o.b = strconv.AppendBool(o.b, v)
}

func (o *jsonOut) null() {
	o.b = append(o.b, "null"...)
}

// strMap appends m with its keys in order; nil is null.
func (o *jsonOut) strMap(m map[string]string) {
	if m == nil {
		o.null()
		return
	}
	o.open('{')
	var buf [16]string
	for _, k := range sortedKeys(m, buf[:0]) {
		o.key(k)
		o.str(m[k])
	}
	o.close('}')
}

// sortedKeys appends the keys of m to keys, sorted: callers pass room on
// their stack, as a record has a few attributes at most.
func sortedKeys[V any](m map[string]V, keys []string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (o *jsonOut) strs(s []string) {
	if s == nil {
		o.null()
		return
	}
	o.open('[')
	for _, v := range s {
		o.item()
		o.str(v)
	}
	o.close(']')
}

func (o *jsonOut) record(r *format.Record) {
	if r == nil {
		o.null()
		return
	}
	o.open('{')
	o.kv("category", r.Category)
	o.kv("short", r.Short)
	o.kv("medium", r.Medium)
	o.kv("long", r.Long)
	o.kv("status", r.Status)
	o.key("attributes")
	o.strMap(r.Attributes)
	if len(r.Meta) > 0 {
		o.key("meta")
		o.strMap(r.Meta)
	}
	o.close('}')
}

func (o *jsonOut) links(ls []format.HistoryLink) {
	if ls == nil {
		o.null()
		return
	}
	o.open('[')
	for _, l := range ls {
		o.item()
		o.open('{')
		o.kv("code", l.Code)
		o.kv("release", l.Release)
		o.kv("source", l.Source)
		o.kv("how", string(l.How))
		o.close('}')
	}
	o.close(']')
}

func (o *jsonOut) fields(m map[string]codeset.FieldChange) {
	if m == nil {
		o.null()
		return
	}
	o.open('{')
	var buf [16]string
	for _, k := range sortedKeys(m, buf[:0]) {
		o.key(k)
		o.open('{')
		o.kv("before", m[k].Before)
		o.kv("after", m[k].After)
		o.close('}')
	}
	o.close('}')
}

func (o *jsonOut) history(h *format.CodeHistory) {
	if h == nil {
		o.null()
		return
	}
	o.open('{')
	o.kv("code", h.Code)
	o.kv("first_release", h.FirstRelease)
	o.kv("last_release", h.LastRelease)
	o.key("last_record")
	o.record(&h.Record)
	o.key("events")
	if h.Events == nil {
		o.null()
	} else {
		o.open('[')
		for _, e := range h.Events {
			o.item()
			o.open('{')
			o.kv("release", e.Release)
			o.kv("change", string(e.Change))
			o.key("fields")
			o.fields(e.Fields)
			o.close('}')
		}
		o.close(']')
	}
	o.key("replaces")
	o.links(h.Replaces)
	o.key("replaced_by")
	o.links(h.ReplacedBy)
	o.key("current")
	o.strs(h.Current)
	o.close('}')
}

// appendCodeResponse appends json.MarshalIndent(r, "", "  ") to b.
func appendCodeResponse(b []byte, r *format.CodeResponse) []byte {
	o := &jsonOut{b: b}
	o.open('{')
	o.kv("system", string(r.System))
	o.kv("code", r.Code)
	o.kv("written", r.Written)
	o.kv("display", r.Display)
	o.kv("release", r.Release)
	o.kv("effective", r.Effective)
	o.kv("status", r.Status)
	o.key("billable")
	o.boolean(r.Billable)
	o.key("header")
	o.boolean(r.Header)
	for _, f := range []struct{ k, v string }{
		{"parent", r.Parent}, {"effective_date", r.EffectiveDate}, {"retirement_date", r.RetirementDate},
	} {
		if f.v != "" {
			o.key(f.k)
			o.str(f.v)
		}
	}
	if len(r.ReplacedBy) > 0 {
		o.key("replaced_by")
		o.strs(r.ReplacedBy)
	}
	if r.Message != "" {
		o.kv("message", r.Message)
	}
	o.key("record")
	o.record(r.Record)
	o.key("history")
	o.history(r.History)
	o.close('}')
	return o.b
}
