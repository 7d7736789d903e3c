package changelog

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"
)

// A part compressed by a deflate writer handed back by an earlier part
// must be the same bytes as one compressed by a new writer: the workbook
// is byte-deterministic whichever writer a part gets.
func TestPartWriterReused(t *testing.T) {
	compress := func(text string) []byte {
		var buf bytes.Buffer
		w, err := newPartWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, text); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	fresh := func(text string) []byte {
		var buf bytes.Buffer
		w, err := flate.NewWriter(&buf, flate.BestSpeed)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, text)
		w.Close()
		return buf.Bytes()
	}
	first := strings.Repeat("<row r=\"1\"><c t=\"s\"><v>0</v></c></row>", 5000)
	second := strings.Repeat("<row><c t=\"inlineStr\"><is><t>A00.0 Cholera</t></is></c></row>", 3000)
	for i, text := range []string{first, second, first} {
		if got, want := compress(text), fresh(text); !bytes.Equal(got, want) {
			t.Fatalf("part %d: %d compressed bytes differ from a new writer's %d", i, len(got), len(want))
		}
	}
	// The output inflates back to the text.
	r := flate.NewReader(bytes.NewReader(compress(second)))
	back, err := io.ReadAll(r)
	if err != nil || string(back) != second {
		t.Fatalf("inflated %d bytes, err %v; want the %d written", len(back), err, len(second))
	}
}

// A closed part refuses writes: its deflate writer may be another part's.
func TestPartWriterClosed(t *testing.T) {
	w, err := newPartWriter(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write after close: no error")
	}
	if err := w.Close(); err == nil {
		t.Error("second close: no error")
	}
}
