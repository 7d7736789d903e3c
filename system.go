package codeset

import (
	"cmp"
	"strings"
)

// DateLayout is how dates are written in snapshots, changelogs, manifests
// and indexes: ISO 8601 calendar dates.
const DateLayout = "2006-01-02"

// SystemFacts are what codeset knows about a code system beyond its
// identifier: how people name it and its codes, and how its releases run.
type SystemFacts struct {
	// Name is how people write the system: CPT, HCPCS, ICD-10-CM.
	Name string
	// URL is the canonical URL that FHIR and terminology servers use.
	URL string
	// Dot is where people write a dot in a code (3 for ICD-10-CM's
	// S72.001A); 0 for none.
	Dot int
	// FiscalYear is set for systems whose release year starts on October 1
	// of the year before (ICD-10).
	FiscalYear bool
	// ShortTitles is set for systems whose releases carry a short
	// (abbreviated) title beside the code title, with changes to it listed
	// apart (the ICD-10 order files and order addenda): a change of the
	// short title alone is a ShortTitle change, not a revision.
	ShortTitles bool
	// Categories are the code categories of the system, in display order;
	// empty for systems without categories.
	Categories []string
}

// facts is the per-system table; every System in Systems has an entry.
var facts = map[System]SystemFacts{
	CPT: {
		Name:       "CPT",
		URL:        "http://www.ama-assn.org/go/cpt",
		Categories: []string{CategoryI, CategoryII, CategoryIII, CategoryPLA},
	},
	HCPCS: {
		Name: "HCPCS",
		URL:  "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
	},
	ICD10CM: {
		Name:        "ICD-10-CM",
		URL:         "http://hl7.org/fhir/sid/icd-10-cm",
		Dot:         3,
		FiscalYear:  true,
		ShortTitles: true,
	},
	ICD10PCS: {
		Name:        "ICD-10-PCS",
		URL:         "http://www.cms.gov/Medicare/Coding/ICD10",
		FiscalYear:  true,
		ShortTitles: true,
	},
}

// Facts returns what codeset knows about s; for a system it does not know,
// the identifier upper-cased as its name.
func (s System) Facts() SystemFacts {
	if f, ok := facts[s]; ok {
		return f
	}
	return SystemFacts{Name: strings.ToUpper(string(s))}
}

// Name returns how people write s: CPT, HCPCS, ICD-10-CM, ICD-10-PCS.
func (s System) Name() string { return s.Facts().Name }

// CompareCategories orders categories I, II, III, PLA, then the others by
// name, then the empty category last.
func CompareCategories(a, b string) int {
	rank := func(c string) int {
		switch c {
		case CategoryI:
			return 0
		case CategoryII:
			return 1
		case CategoryIII:
			return 2
		case CategoryPLA:
			return 3
		case "":
			return 5
		}
		return 4
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
}

// CategoryCounts counts codes per non-empty category.
func CategoryCounts(codes []Code) map[string]int {
	m := map[string]int{}
	for _, c := range codes {
		if c.Category != "" {
			m[c.Category]++
		}
	}
	return m
}
