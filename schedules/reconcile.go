package schedules

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/codeset/codeset"
)

// ledgerDisagreements is how many disagreements a run keeps in the ledger;
// the published changelogs list them all.
const ledgerDisagreements = 5

// RunReconciliation is what a run's comparison with the publisher's own
// list of changes (HCPCS ACTION CD, the ICD-10 addenda) came to, as the
// ledger, codeset runs, the jobs API and the service log show it: the
// counts, and the first few disagreements with their reasons, those
// nothing explains first.
type RunReconciliation struct {
	System        codeset.System    `json:"system"`
	Source        string            `json:"source"`
	Combined      []string          `json:"combined,omitempty"`
	Declared      int               `json:"declared"`
	Agreed        int               `json:"agreed"`
	Disagreements int               `json:"disagreements"`
	Unexplained   int               `json:"unexplained"`
	First         []RunDisagreement `json:"first,omitempty"`
}

// RunDisagreement is one code where the publisher's list and the computed
// diff differ (see codeset.Disagreement).
type RunDisagreement struct {
	Code      string `json:"code"`
	Declared  string `json:"declared"`
	Computed  string `json:"computed"`
	Reason    string `json:"reason"`
	Explained bool   `json:"explained"`
}

// summarize keeps of reconciliation r of a release of sys what a run
// records; nil when the release has no publisher's list.
func summarize(sys codeset.System, r *codeset.Reconciliation) *RunReconciliation {
	if r == nil {
		return nil
	}
	s := &RunReconciliation{
		System: sys, Source: r.Source, Combined: r.Combined,
		Declared: r.Declared, Agreed: r.Agreed,
		Disagreements: len(r.Disagreements), Unexplained: len(r.Unexplained()),
	}
	ds := slices.Clone(r.Disagreements)
	// Stable: by code within the unexplained, then the explained.
	slices.SortStableFunc(ds, func(a, b codeset.Disagreement) int {
		switch {
		case a.Explained == b.Explained:
			return 0
		case !a.Explained:
			return -1
		}
		return 1
	})
	for _, d := range ds[:min(len(ds), ledgerDisagreements)] {
		s.First = append(s.First, RunDisagreement{Code: d.Code, Declared: d.Declared, Computed: d.Computed, Reason: d.Reason, Explained: d.Explained})
	}
	return s
}

// Text says a disagreement as the terminal summary does:
// "M32.15: declared revised, computed unchanged: ...".
func (d RunDisagreement) Text(sys codeset.System) string {
	decl := d.Declared
	if decl == "" {
		decl = "nothing"
	}
	return fmt.Sprintf("%s: declared %s, computed %s: %s", sys.Display(d.Code), decl, d.Computed, d.Reason)
}

// logValue is the reconciliation as the service logs it at the end of a
// run: a group with the counts and the first disagreement, if any.
func (r *RunReconciliation) logValue() slog.Attr {
	attrs := []any{
		"source", r.Source,
		"declared", r.Declared,
		"agreed", r.Agreed,
		"disagreements", r.Disagreements,
		"unexplained", r.Unexplained,
	}
	if len(r.First) > 0 {
		attrs = append(attrs, "first", r.First[0].Text(r.System))
	}
	return slog.Group("reconciliation", attrs...)
}
