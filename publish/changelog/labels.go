package changelog

import (
	"strings"

	"github.com/codeset/codeset"
)

// fieldLabels are the readable names of the fields the changelogs show,
// where the stored name (asc_group) would puzzle a coder. A field not
// listed is shown with its stored name, underscores as spaces.
var fieldLabels = map[string]string{
	codeset.FieldShort:      "Short description",
	codeset.FieldMedium:     "Medium description",
	codeset.FieldLong:       "Long description",
	codeset.FieldStatus:     "Status",
	codeset.FieldCategory:   "Category",
	"price_indicator":       "Pricing indicator",
	"multiple_pricing":      "Multiple pricing indicator",
	"coverage_manual":       "Coverage Issues Manual reference",
	"carriers_manual":       "Carriers Manual reference",
	"statute":               "Statute",
	"lab_certification":     "Lab certification code",
	"xref":                  "Cross reference (use instead)",
	"coverage":              "Coverage code",
	"asc_group":             "ASC payment group",
	"asc_date":              "ASC group effective date",
	"opps_group":            "OPPS payment group",
	"opps_indicator":        "OPPS payment indicator",
	"opps_date":             "OPPS effective date",
	"processing_note":       "Processing note number",
	"betos":                 "BETOS code",
	"type_of_service":       "Type of service",
	"anesthesia_units":      "Anesthesia base units",
	"add_date":              "Date added",
	"action_effective_date": "Action effective date",
	"termination_date":      "Termination date",
	"action":                "Action code",
	"billable":              "Billable (valid for claims)",
	"order":                 "Order number",
}

// fieldLabel returns the readable name of field.
func fieldLabel(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	s := strings.ReplaceAll(field, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// hcpcsActions spells out the HCPCS ACTION CD values.
var hcpcsActions = map[string]string{
	"A": "A: added",
	"B": "B: changed payment and descriptor",
	"C": "C: changed descriptor",
	"D": "D: discontinued",
	"F": "F: changed administrative data",
	"N": "N: no change",
	"P": "P: changed payment data",
	"R": "R: reactivated",
	"S": "S: changed short descriptor",
	"T": "T: miscellaneous change",
}

// actionText spells out an action code; an unknown one is shown as is.
func actionText(code string) string {
	if t, ok := hcpcsActions[strings.TrimSpace(code)]; ok {
		return t
	}
	return code
}

// recordMeta returns the publisher's bookkeeping of c, where the system
// has it (HCPCS): its action code, termination date and the codes to use
// instead, in display form.
func recordMeta(sys codeset.System, c codeset.Change) (action, terminated, useInstead string) {
	m := c.Record.Meta
	action, terminated = m["action"], m["termination_date"]
	useInstead = linkCodes(sys, c)
	if useInstead == "" {
		var xs []string
		for _, x := range strings.Fields(strings.NewReplacer(",", " ", ";", " ").Replace(c.Record.Attrs["xref"])) {
			xs = append(xs, sys.Display(x))
		}
		useInstead = strings.Join(xs, " ")
	}
	return action, terminated, useInstead
}
