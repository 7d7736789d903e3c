package diff

import (
	"reflect"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		before, after string
		want          []Segment
	}{
		{"Repair of nail", "Repair of toe nail", []Segment{{Equal, "Repair of "}, {Insert, "toe "}, {Equal, "nail"}}},
		{"Removal of cyst", "Removal of lesion", []Segment{{Equal, "Removal of "}, {Delete, "cyst"}, {Insert, "lesion"}}},
		// A changed word is replaced whole, never split into letters.
		{"simple repair", "simplex repair", []Segment{{Delete, "simple"}, {Insert, "simplex"}, {Equal, " repair"}}},
		{"a b", "a  b", []Segment{{Equal, "a"}, {Delete, " "}, {Insert, "  "}, {Equal, "b"}}},
		{"", "new text", []Segment{{Insert, "new text"}}},
		{"skull, not described elsewhere", "skull, including any drain placement",
			[]Segment{{Equal, "skull, "}, {Delete, "not described elsewhere"}, {Insert, "including any drain placement"}}},
		{"including programming", "including first programming and review",
			[]Segment{{Equal, "including "}, {Insert, "first "}, {Equal, "programming"}, {Insert, " and review"}}},
		{"same", "same", []Segment{{Equal, "same"}}},
		// Rewritten: fewer than half the words of the shorter kept. The
		// kept "other" and "femur" are not strewn among the changes.
		{"Open other sequela femur fibula fracture", "Brain kidney other radius femur lesion wrist",
			[]Segment{{Delete, "Open other sequela femur fibula fracture"}, {Insert, "Brain kidney other radius femur lesion wrist"}}},
		{"Viral eye tendon acute cervical", "Viral fungal subsequent abdomen sequela",
			[]Segment{{Equal, "Viral "}, {Delete, "eye tendon acute cervical"}, {Insert, "fungal subsequent abdomen sequela"}}},
		{"Foo bar, baz.", "Qux quux, baz.", []Segment{{Delete, "Foo bar"}, {Insert, "Qux quux"}, {Equal, ", baz."}}},
		// Half the words kept is an edit, whatever else changed.
		{"Other specified X of Y", "Other specified Z of W",
			[]Segment{{Equal, "Other specified "}, {Delete, "X"}, {Insert, "Z"}, {Equal, " of "}, {Delete, "Y"}, {Insert, "W"}}},
		// A descriptor grown from a short one keeps all of the shorter.
		{"Cholera", "Cholera due to Vibrio cholerae", []Segment{{Equal, "Cholera"}, {Insert, " due to Vibrio cholerae"}}},
	}
	for _, tt := range tests {
		got := Words(tt.before, tt.after)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Words(%q, %q) = %v, want %v", tt.before, tt.after, got, tt.want)
		}
	}
}

// FuzzWords checks that the segments always rebuild both inputs.
func FuzzWords(f *testing.F) {
	f.Add("Repair of nail", "Repair of toe nail")
	f.Add("a  b\u00a0c", "a b c")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, a, b string) {
		var before, after strings.Builder
		for _, s := range Words(a, b) {
			if s.Op != Insert {
				before.WriteString(s.Text)
			}
			if s.Op != Delete {
				after.WriteString(s.Text)
			}
		}
		if before.String() != a || after.String() != b {
			t.Errorf("Words(%q, %q) rebuilds %q, %q", a, b, before.String(), after.String())
		}
	})
}
