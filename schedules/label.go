package schedules

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/codeset/codeset"
)

// LabelRule derives a release label from a source file name. Pattern is
// matched against the file's base name and Template is expanded with the
// match: "{name}" stands for the named group name. A group named mon that
// holds a month name or abbreviation (JAN, February) also provides {month},
// its two-digit number, and a group named yy provides {year} as 20yy.
type LabelRule struct {
	Pattern  *regexp.Regexp
	Template string
}

// rule compiles a built-in rule; the patterns are constants, so a bad one
// is a programming error.
func rule(pattern, template string) LabelRule {
	return LabelRule{Pattern: regexp.MustCompile(pattern), Template: template}
}

// end stops a year or month group at a non-digit, so that 20261 is no year.
const end = `(?:\D|$)`

// months names the groups a month name may be written with.
const months = `(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*`

// builtinLabels are the label rules for the names publishers give their
// files, tried in order.
// Built at first use: compiling the patterns cost every process at start.
var builtinLabels = sync.OnceValue(func() map[codeset.System][]LabelRule {
	return map[codeset.System][]LabelRule{
		codeset.CPT: {
			rule(`(?i)^cpt[_-]?(?P<year>\d{4})`+end, "{year}"),
		},
		codeset.HCPCS: {
			rule(`(?i)^hcpcs?(?P<year>\d{4})_`+months+`_`, "{year}-{month}"),
			rule(`(?i)^anweb_(?P<year>\d{4})_(?P<month>0[1-9]|1[0-2])`+end, "{year}-{month}"),
			rule(`(?i)^hcpcs?(?P<year>\d{4})`+end, "{year}"),
			rule(`(?i)^hcpcs?(?P<yy>\d{2})_`, "{year}"),
			rule(`(?i)^(?P<year>\d{4})-alpha-numeric-hcpcs`, "{year}"),
		},
		codeset.ICD10CM: {
			rule(`(?i)^icd10cm[_-](?:.*?\D)?(?P<year>\d{4})`+end, "FY{year}"),
			rule(`(?i)^cms[_-]?(?P<year>\d{4})[_-]dx`+end, "FY{year}"),
			// CDC's zip of the codes and order files, e.g. icd10-Order-CodeFiles2023.zip.
			rule(`(?i)^icd10[_-]order[_-]codefiles[_-]?(?P<year>\d{4})`+end, "FY{year}"),
		},
		codeset.ICD10PCS: {
			rule(`(?i)^icd10pcs[_-](?:.*?\D)?(?P<year>\d{4})`+end, "FY{year}"),
			rule(`(?i)^cms[_-]?(?P<year>\d{4})[_-]pr`+end, "FY{year}"),
		},
	}
})

// BuiltinLabelRules returns the built-in label rules of sys, tried in order.
func BuiltinLabelRules(sys codeset.System) []LabelRule {
	return builtinLabels()[sys]
}

// ParseLabelRule compiles a job's own label rule. The pattern must have at
// least one named group; an empty template defaults to "{label}", so a
// pattern with a group named label needs no template.
func ParseLabelRule(pattern, template string) (LabelRule, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return LabelRule{}, fmt.Errorf("bad label pattern: %w", err)
	}
	if template == "" {
		template = "{label}"
	}
	named := false
	for _, n := range re.SubexpNames() {
		named = named || n != ""
	}
	if !named {
		return LabelRule{}, fmt.Errorf("bad label pattern %q: it has no named group, e.g. (?P<label>...)", pattern)
	}
	return LabelRule{Pattern: re, Template: template}, nil
}

var monthNumbers = map[string]string{
	"jan": "01", "feb": "02", "mar": "03", "apr": "04", "may": "05", "jun": "06",
	"jul": "07", "aug": "08", "sep": "09", "oct": "10", "nov": "11", "dec": "12",
}

var placeholderRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`) })

// apply returns the label r derives from name, or false when r does not
// match or its template names a group the match lacks.
func (r LabelRule) apply(name string) (string, bool) {
	m := r.Pattern.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	vals := map[string]string{}
	for i, n := range r.Pattern.SubexpNames() {
		if n != "" && m[i] != "" {
			vals[n] = m[i]
		}
	}
	if mon, ok := vals["mon"]; ok && len(mon) >= 3 {
		if num, ok := monthNumbers[strings.ToLower(mon[:3])]; ok && vals["month"] == "" {
			vals["month"] = num
		}
	}
	if yy, ok := vals["yy"]; ok && vals["year"] == "" {
		vals["year"] = "20" + yy
	}
	ok := true
	label := placeholderRE().ReplaceAllStringFunc(r.Template, func(p string) string {
		v, found := vals[p[1:len(p)-1]]
		ok = ok && found
		return v
	})
	return label, ok
}

// DeriveLabel returns the release label the first matching rule derives
// from the base name of a source file. It fails, saying which rules it
// tried, when none matches or the label is not a valid release label.
func DeriveLabel(rules []LabelRule, name string) (string, error) {
	if len(rules) == 0 {
		return "", fmt.Errorf("no release label for %q: no label rules (set label_pattern in the job)", name)
	}
	var tried []string
	for _, r := range rules {
		if label, ok := r.apply(name); ok {
			if err := codeset.CheckLabel(label); err != nil {
				return "", fmt.Errorf("release label from %q: %w", name, err)
			}
			return label, nil
		}
		tried = append(tried, r.Pattern.String())
	}
	return "", fmt.Errorf("no release label for %q: the name matches none of %s (set label_pattern in the job)", name, strings.Join(tried, ", "))
}
