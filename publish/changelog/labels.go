package changelog

import (
	"strings"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/pages"
)

// fieldLabel returns the readable name of field: one table for the
// changelogs and the code pages (pages.FieldLabel).
func fieldLabel(field string) string { return pages.FieldLabel(field) }

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
	action, terminated = m.Get("action"), m.Get("termination_date")
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
