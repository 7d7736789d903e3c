package format

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/codeset/codeset"
)

// conceptRef is ConceptOf as it was written before fillConcept, building
// every part anew: the reference fillConcept is checked against.
func conceptRef(sys codeset.System, c codeset.Code, info ConceptInfo) Concept {
	out := Concept{Code: sys.Display(c.Code), Display: c.Description()}
	for _, d := range []struct{ use, display, v string }{
		{codeset.FieldShort, "Short descriptor", c.Short},
		{codeset.FieldMedium, "Medium descriptor", c.Medium},
	} {
		if d.v != "" && d.v != out.Display {
			out.Designation = append(out.Designation, Designation{Language: "en", Use: &Coding{System: DesignationUse, Code: d.use, Display: d.display}, Value: d.v})
		}
	}
	status := info.Status
	if status == "" {
		status = StatusActive
	}
	out.Property = append(out.Property, propCode(PropStatus, status))
	if info.Inactive() {
		out.Property = append(out.Property, propBool(PropInactive, true))
	}
	if info.Header {
		out.Property = append(out.Property, propBool(PropNotSelectable, true))
	}
	if info.Parent != "" {
		out.Property = append(out.Property, propCode(PropParent, sys.Display(info.Parent)))
	}
	if info.Effective != "" {
		out.Property = append(out.Property, propDate(PropEffectiveDate, info.Effective))
	}
	if info.Retired != "" {
		out.Property = append(out.Property, propDate(PropRetirementDate, info.Retired))
	}
	if c.Category != "" && len(sys.Facts().Categories) > 0 {
		out.Property = append(out.Property, propString(PropCategory, c.Category))
	}
	return out
}

func propCode(code, v string) ConceptProperty   { return ConceptProperty{Code: code, ValueCode: &v} }
func propString(code, v string) ConceptProperty { return ConceptProperty{Code: code, ValueString: &v} }
func propBool(code string, v bool) ConceptProperty {
	return ConceptProperty{Code: code, ValueBoolean: &v}
}
func propDate(code, v string) ConceptProperty { return ConceptProperty{Code: code, ValueDateTime: &v} }

// TestFillConceptAsReference checks that fillConcept, reusing one scratch
// over thousands of concepts of every system with every combination of
// descriptors and facts, gives the concept the reference builds: the same
// values (reflect.DeepEqual follows the pointers) and the same JSON.
func TestFillConceptAsReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	s := new(conceptScratch)
	var got Concept
	for i := range 20000 {
		sys := codeset.Systems[rng.IntN(len(codeset.Systems))]
		long := pick("", "long text", "same", "x")
		c := codeset.Code{Code: pick("A000", "E1165", "99213", "0001A", "J1234"), Category: pick("", "I", "PLA"),
			Short: pick("", "short", "same", long), Medium: pick("", "medium", "same", long), Long: long}
		info := ConceptInfo{Header: rng.IntN(3) == 0, Parent: pick("", "E116", "A00"), Status: pick("", StatusActive, StatusRetired, StatusDeleted),
			Effective: pick("", "2024-10-01"), Retired: pick("", "2025-03-31")}
		want := conceptRef(sys, c, info)
		fillConcept(&got, s, sys, &c, info)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("concept %d: %s %+v %+v:\n got %s\nwant %s", i, sys, c, info, fmt.Sprint(appendConcept(nil, got)), fmt.Sprint(appendConcept(nil, want)))
		}
		if g, w := string(appendConcept(nil, got)), string(appendConcept(nil, want)); g != w {
			t.Fatalf("concept %d: JSON\n got %s\nwant %s", i, g, w)
		}
		if one := ConceptOf(sys, c, info); !reflect.DeepEqual(one, want) {
			t.Fatalf("concept %d: ConceptOf differs from the reference", i)
		}
	}
}
