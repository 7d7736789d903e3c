package pages

import (
	"strings"

	"github.com/codeset/codeset"
)

// FieldLabels are the readable names of the fields the changelogs show,
// where the stored name (asc_group) would puzzle a coder. A field not
// listed is shown with its stored name, underscores as spaces.
var FieldLabels = map[string]string{
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

// FieldLabel returns the readable name of field.
func FieldLabel(field string) string {
	if l, ok := FieldLabels[field]; ok {
		return l
	}
	s := strings.ReplaceAll(field, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
