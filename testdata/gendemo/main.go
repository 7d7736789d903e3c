// Command gendemo writes the synthetic CPT-style demo releases in testdata/demo:
// cpt-2024.xlsx, cpt-2025.xlsx and cpt-2026.xlsx, the deleted-code
// crosswalks cpt-2025-crosswalk.csv and cpt-2026-crosswalk.csv, plus
// expected.json, which records the changes the generator meant to put
// between them and the replacements the crosswalks name.
//
// Every descriptor here was invented for testing. None of it is AMA CPT text.
//
// The releases are plain Go data: a 2024 base list and, for each later year,
// the edits that turn the previous release into the next one. Each edit says
// what kind of change it is meant to be; expected.json is computed by
// comparing the releases, and the program refuses to write it if the
// computed kinds disagree with the declared ones. After writing, every
// workbook is read back and checked cell by cell.
//
// Run from the module root:
//
//	go run ./testdata/gendemo [-out DIR]
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// entry is one code record as the publisher ships it, raw cell text included.
type entry struct {
	Code, Short, Medium, Long string
}

// edits turns one release into the next. Patch entries name a code and only
// the descriptors that change; an empty field keeps the previous text.
type edits struct {
	add        []entry  // new codes: must come out as added
	reactivate []entry  // codes back after a gap: must come out as reactivated
	remove     []string // must come out as deleted
	revise     []entry  // patches that must come out as revised
	cosmetic   []entry  // patches that must come out as cosmetic
	quiet      []entry  // patches whose raw text differs but normalises away: unchanged
}

// release describes one yearly workbook.
type release struct {
	year  int
	sheet string
	edits edits // from the previous release; unused for the first
	// crosswalk is the deleted-code crosswalk shipped with the release,
	// written as cpt-YEAR-crosswalk.csv when not empty: each deleted code
	// with the codes to use instead.
	crosswalk []xlink
}

// xlink is one row of a deleted-code crosswalk.
type xlink struct {
	old  string
	news []string
}

const (
	notesSheet  = "Notes"
	headerRow   = 4 // title, blank, disclaimer, header
	anesNumFmt  = "00000"
	fixedStamp  = "T00:00:00Z"
	blankAfter1 = 10 // one blank row after this many data rows
	blankAfter2 = 25 // two blank rows after this many data rows
)

var header = []string{"CPT Code", "Short Descriptor", "Medium Descriptor", "Long Descriptor"}

// numericCodes are written as number cells formatted "00000", the way
// anesthesia codes often arrive from spreadsheets; everything else is text.
var numericCodes = map[string]bool{"00100": true, "00210": true}

var notes = []string{
	"Synthetic demonstration data for the codeset test suite.",
	"Every code description in this workbook was invented for software testing; it is not CPT content and must not be used for coding or billing.",
	"CPT is a registered trademark of the American Medical Association. No AMA descriptor text is reproduced here.",
	"Regenerate with: go run ./testdata/gendemo",
}

var base2024 = []entry{
	// Category I.
	{"00100", "ANES DEMO SCALP PX", "Anesthesia for demo scalp procedure", "Anesthesia care given during a synthetic demonstration procedure on the scalp, any approach"},
	{"00210", "ANES DEMO OPEN SKULL PX", "Anesthesia for demo open skull procedure", "Anesthesia care given during a synthetic open procedure inside the skull, not described elsewhere"},
	{"00402", "ANES DEMO CHEST WALL PX", "Anesthesia for demo chest wall rebuild", "Anesthesia care given during a synthetic rebuilding procedure on the front of the chest wall"},
	{"10033", "DRAIN DEMO FLUID POCKET", "Guided catheter drain of demo fluid pocket", "Catheter drainage of a synthetic soft tissue fluid pocket under image guidance, one pocket, drain left in place"},
	{"10167", "DEMO CYST NEEDLE DRAW", "Needle draw-off of demo superficial cyst", "Needle draw-off of fluid from a synthetic superficial cyst, with or without rinsing of the cavity"},
	{"11046", "CLEAN DEMO WOUND FIRST AREA", "Demo wound bed cleaning, initial area", "Surgical cleaning of a synthetic wound bed down to the fatty layer, initial area up to twenty square centimeters"},
	{"12038", "LAYER CLOSE DEMO CUT", "Layered closure of demo cut on limbs", "Closure in layers of a synthetic cut on the arms or legs, combined length up to three centimeters"},
	{"15274", "DEMO SKIN SUBST TRUNK", "Demo skin substitute placed on trunk", "Placement of a synthetic skin substitute sheet on the trunk, first patch up to twenty-five square centimeters"},
	{"17113", "DESTROY DEMO SKIN BUMPS", "Removal of up to 14 demo benign skin bumps", "Removal of up to fourteen synthetic benign skin bumps by freezing, heat or light, one session"},
	{"20614", "DEMO BIG JOINT INJECTION", "Needle entry into demo large joint", "Needle entry into a synthetic large joint such as the knee or shoulder to draw fluid or give medicine, no imaging"},
	{"20958", "DEMO COMPARTMENT CHECK", "Demo muscle compartment pressure reading", "Reading of the pressure inside a synthetic muscle compartment through a needle gauge, one reading"},
	{"27449", "DEMO KNEE SURFACE RENEW", "Renewal of demo knee joint surfaces", "Open renewal of the worn surfaces of a synthetic knee joint with implanted parts, both sides of the joint"},
	{"29886", "DEMO KNEE SCOPE TRIM", "Demo knee scope with cartilage trimming", "Scope examination of a synthetic knee with trimming of torn cartilage edges, one compartment"},
	{"31237", "DEMO NOSE SCOPE RINSE", "Demo nasal scope with sinus rinse", "Scope examination of the synthetic nasal passages with rinsing of one sinus opening"},
	{"33212", "DEMO PACER BOX SWAP", "Swap of demo pacer pulse box", "Removal and replacement of a synthetic pacer pulse box, existing leads kept and tested"},
	{"36419", "DEMO FINGER STICK SAMPLE", "Demo capillary blood sample", "Collection of a synthetic capillary blood sample by finger, heel or ear stick"},
	{"43236", "DEMO UPPER GUT SCOPE SOUND", "Demo upper gut scope with sound imaging", "Scope examination of the synthetic upper digestive tract with built-in sound wave imaging of the wall"},
	{"45386", "DEMO COLON SCOPE BALLOON", "Demo colon scope with balloon widening", "Scope examination of the synthetic colon with balloon widening of a narrowed segment"},
	{"47565", "DEMO GALLBAG SCOPE REMOVAL", "Scope removal of demo gallbladder", "Removal of a synthetic gallbladder through small ports with a camera, including duct picture if done"},
	{"49507", "DEMO GROIN BULGE REPAIR", "Repair of demo groin bulge, first time", "Open repair of a synthetic groin bulge in an adult, first repair, bulge easily pushed back"},
	{"55706", "DEMO GLAND CORE SAMPLES", "Demo gland core samples through skin", "Core needle samples of a synthetic gland taken through the skin with image guidance, any number of cores"},
	{"59407", "DEMO BIRTH CARE PACKAGE", "Demo routine birth care, all phases", "Routine care of a synthetic pregnancy covering visits before, the birth itself and the check after"},
	{"64486", "DEMO TRUNK NERVE BLOCK", "Demo trunk nerve block by injection", "Injection of numbing medicine around synthetic trunk nerves for pain control, one side, with imaging"},
	{"66987", "DEMO LENS SWAP", "Swap of clouded demo eye lens", "Removal of a clouded synthetic eye lens and placement of a clear artificial lens, standard technique"},
	{"70453", "DEMO HEAD SCAN PLAIN", "Demo head cross-section scan, no dye", "Cross-section X-ray scan of a synthetic head without contrast dye"},
	{"71048", "DEMO CHEST FILM 2 VIEWS", "Demo chest film, two views", "Plain X-ray film of a synthetic chest, two views"},
	{"76706", "DEMO BELLY SOUND LIMITED", "Demo belly sound scan, limited", "Sound wave scan of the synthetic belly, limited to one organ or follow-up"},
	{"80056", "DEMO BODY CHEM PANEL", "Demo body chemistry panel", "Blood panel of synthetic body chemistry markers including salts, sugar and kidney values"},
	{"85027", "DEMO BLOOD COUNT AUTO", "Demo automated blood count", "Automated count of synthetic red cells, white cells and platelets"},
	{"93005", "DEMO HEART TRACE ONLY", "Demo heart tracing, recording only", "Twelve-lead synthetic heart rhythm tracing, recording only, no reading or report"},
	{"97113", "DEMO POOL EXERCISE", "Demo water-based exercise therapy", "Water-based exercise therapy for a synthetic patient, each fifteen minutes of direct contact"},
	{"99214", "DEMO OFFICE VISIT MID", "Demo office visit, returning patient", "Office visit for a returning synthetic patient with a moderate level of decision making"},
	// Category II.
	{"1127F", "DEMO SMOKING ASKED", "Demo tobacco use asked and recorded", "Tobacco use status asked about and recorded for a synthetic patient"},
	{"1496F", "DEMO FALL RISK NOTED", "Demo fall risk review recorded", "Fall risk reviewed and recorded for a synthetic older patient within the reporting period"},
	{"2031F", "DEMO EYE BACK EXAM DONE", "Demo retina exam done and read", "Exam of the back of the eye done and read for a synthetic patient with high blood sugar"},
	{"3079F", "DEMO BP LOWER READING OK", "Demo lower blood pressure reading on target", "Most recent lower blood pressure number for a synthetic patient below the target level"},
	{"4013F", "DEMO STATIN ADVISED", "Demo cholesterol drug advised", "Cholesterol-lowering drug advised or continued for a synthetic patient with artery disease"},
	{"5252F", "DEMO RESULT SHARED", "Demo test result shared with patient", "Test result shared with the synthetic patient and recorded in the chart"},
	{"6046F", "DEMO SAFETY PLAN GIVEN", "Demo safety plan reviewed", "Safety plan reviewed with a synthetic patient at risk, with a written copy given"},
	// Category III.
	{"0048T", "DEMO HEART PUMP ASSIST", "Demo short-term heart pump placement", "Placement of a synthetic short-term heart assist pump through a leg artery, including imaging"},
	{"0213T", "DEMO SPINE JOINT INJ", "Demo spine facet joint injection", "Injection into a synthetic spine facet joint with sound wave guidance, first level"},
	{"0398T", "DEMO FOCUSED SOUND ABLATE", "Demo focused sound wave brain ablation", "Focused sound wave treatment of a synthetic brain target for tremor, with scanner guidance"},
	{"0587T", "DEMO NERVE STIM IMPLANT", "Demo leg nerve stimulator implant", "Implantation of a synthetic leg nerve stimulator with an electrode, including placement checks"},
	{"0694T", "DEMO TUMOR BED MAPPING", "Demo 3D tumor bed mapping", "Three-dimensional mapping of a synthetic tumor bed during surgery to guide margins"},
	{"0781T", "DEMO AIRWAY NERVE ABLATE", "Demo airway nerve ablation by scope", "Scope-guided ablation of synthetic airway nerves in both main airways"},
	// PLA.
	{"0037U", "DEMO TUMOR GENE PANEL", "Demo tumor gene panel, tissue", "Lab-specific synthetic gene sequencing panel of tumor tissue, many genes, report of changes"},
	{"0214U", "DEMO FETAL DNA SCREEN", "Demo fetal DNA screen from blood", "Lab-specific synthetic screen of free fetal DNA in maternal blood for extra chromosomes"},
}

var releases = []release{
	{year: 2024, sheet: "CPT 2024 Codes"},
	{year: 2025, sheet: "Codes_2025", edits: edits{
		add: []entry{
			{"15780", "DEMO SKIN LASER RESURFACE", "Demo laser resurfacing of facial skin", "Laser resurfacing of synthetic facial skin, full face, one session"},
			{"33277", "DEMO RHYTHM LOOP INSERT", "Demo heart rhythm loop recorder insert", "Insertion of a synthetic under-skin heart rhythm loop recorder, including programming"},
			{"93987", "DEMO LEG VEIN SOUND MAP", "Demo leg vein sound mapping, both legs", "Sound wave mapping of the synthetic leg veins for reflux, both legs, complete study"},
			{"1174F", "DEMO FUNCTION SCORE DONE", "Demo daily function score recorded", "Daily function score measured and recorded for a synthetic patient with joint disease"},
			{"3318F", "DEMO KIDNEY VALUE CHECKED", "Demo kidney filter value checked", "Kidney filtering value checked within twelve months for a synthetic patient on blood thinners"},
			{"0902T", "DEMO AI RHYTHM REVIEW", "Demo automated heart rhythm review", "Automated software review of a synthetic long-term heart rhythm recording with a clinician report"},
			{"0915T", "DEMO GUT NERVE STIM TRIAL", "Demo gut nerve stimulation trial", "Trial placement of a synthetic gut nerve stimulation lead through the skin, including testing"},
			{"0418U", "DEMO STOOL MARKER SCREEN", "Demo stool marker screen", "Lab-specific synthetic stool marker screen for gut cancer risk, reported as a score"},
		},
		remove: []string{"20958", "5252F"},
		revise: []entry{
			{Code: "27449", Long: "Open renewal of the worn surfaces of a synthetic knee joint with implanted parts, one or both sides of the joint"},
			{Code: "0587T", Long: "Implantation or replacement of a synthetic leg nerve stimulator with an electrode, including placement checks"},
			{Code: "45386", Short: "DEMO COLON SCOPE DILATION"},
			{Code: "4013F", Medium: "Demo cholesterol drug advised or in use", Long: "Cholesterol-lowering drug advised, started or already in use for a synthetic patient with artery disease"},
		},
		cosmetic: []entry{
			{Code: "66987", Long: "Removal of a clouded synthetic eye lens and placement of a clear  artificial lens, standard technique"},
		},
	}, crosswalk: []xlink{
		// 20958 is deleted with no replacement named (it comes back in 2026).
		{"5252F", []string{"1174F"}},
	}},
	{year: 2026, sheet: "Release 2026", edits: edits{
		add: []entry{
			{"20962", "DEMO TENDON SHEATH RINSE", "Demo tendon sheath rinse through needle", "Rinsing of a synthetic tendon sheath through a needle, one sheath, with imaging"},
			{"64489", "DEMO SHOULDER NERVE CUFF", "Demo shoulder nerve cuff catheter", "Placement of a synthetic catheter beside the shoulder nerves for continuous numbing, including imaging"},
			{"2047F", "DEMO WEIGHT PLAN SET", "Demo weight follow-up plan recorded", "Weight follow-up plan recorded for a synthetic patient outside the healthy weight range"},
			{"0938T", "DEMO BONE SOUND DENSITY", "Demo bone density by sound waves", "Bone density estimate of a synthetic hip by sound waves, no radiation, with report"},
			{"0944T", "DEMO VOICE BOX LASER", "Demo voice box laser by office scope", "Office laser treatment of synthetic voice box growths through a flexible scope"},
			{"0503U", "DEMO GUT BUG PANEL", "Demo gut germ panel, stool", "Lab-specific synthetic stool panel for many gut germs by gene detection, each germ reported"},
		},
		reactivate: []entry{
			{"20958", "DEMO COMPARTMENT CHECK", "Demo muscle compartment pressure reading", "Reading of the pressure inside a synthetic muscle compartment through a needle gauge, one or more readings"},
		},
		remove: []string{"0048T", "0037U"},
		revise: []entry{
			{Code: "00210", Long: "Anesthesia care given during a synthetic open procedure inside the skull, including any drain placement"},
			{Code: "1127F", Short: "DEMO TOBACCO USE ASKED"},
			{Code: "0694T", Medium: "Demo three-dimensional tumor bed mapping"},
			{Code: "33277", Long: "Insertion of a synthetic under-skin heart rhythm loop recorder, including first programming and review"},
		},
		cosmetic: []entry{
			{Code: "80056", Medium: "Demo body  chemistry panel"},
		},
		quiet: []entry{
			{Code: "97113", Long: "Water-based exercise therapy for a synthetic patient, each fifteen\u00a0minutes of direct contact"},
			{Code: "71048", Short: "DEMO CHEST FILM 2 VIEWS  "},
		},
	}, crosswalk: []xlink{
		{"0037U", []string{"0503U"}},
		{"0048T", []string{"0938T", "0944T"}},
	}},
}

// Change kinds, in the order they appear in expected.json.
const (
	kAdded       = "added"
	kDeleted     = "deleted"
	kRevised     = "revised"
	kCosmetic    = "cosmetic"
	kReactivated = "reactivated"
	kUnchanged   = "unchanged"
)

var categories = []string{"I", "II", "III", "PLA"}

// category reports the CPT category a code belongs to by its last character.
func category(code string) string {
	switch code[len(code)-1] {
	case 'F':
		return "II"
	case 'T':
		return "III"
	case 'U':
		return "PLA"
	}
	return "I"
}

// norm is what the ingester does to every cell: NBSP becomes a space, then trim.
func norm(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\u00a0", " ")) }

// collapse also squeezes internal whitespace runs, for the cosmetic test.
func collapse(s string) string { return strings.Join(strings.Fields(norm(s)), " ") }

func fields(e entry) [3]string { return [3]string{e.Short, e.Medium, e.Long} }

var fieldNames = [3]string{"short", "medium", "long"}

// Counts is one row of change counts.
type Counts struct {
	Added       int `json:"added"`
	Deleted     int `json:"deleted"`
	Revised     int `json:"revised"`
	Cosmetic    int `json:"cosmetic"`
	Reactivated int `json:"reactivated"`
	Unchanged   int `json:"unchanged"`
}

func (c *Counts) add(kind string) {
	switch kind {
	case kAdded:
		c.Added++
	case kDeleted:
		c.Deleted++
	case kRevised:
		c.Revised++
	case kCosmetic:
		c.Cosmetic++
	case kReactivated:
		c.Reactivated++
	case kUnchanged:
		c.Unchanged++
	}
}

// Codes lists the codes of each change kind, sorted.
type Codes struct {
	Added       []string `json:"added"`
	Deleted     []string `json:"deleted"`
	Revised     []string `json:"revised"`
	Cosmetic    []string `json:"cosmetic"`
	Reactivated []string `json:"reactivated"`
	Unchanged   []string `json:"unchanged"`
}

func (c *Codes) list(kind string) *[]string {
	switch kind {
	case kAdded:
		return &c.Added
	case kDeleted:
		return &c.Deleted
	case kRevised:
		return &c.Revised
	case kCosmetic:
		return &c.Cosmetic
	case kReactivated:
		return &c.Reactivated
	}
	return &c.Unchanged
}

// Transition is the expected diff between two consecutive releases.
type Transition struct {
	Name           string              `json:"name"`
	From           string              `json:"from"`
	To             string              `json:"to"`
	Counts         Counts              `json:"counts"`
	ByCategory     map[string]Counts   `json:"by_category"`
	Codes          Codes               `json:"codes"`
	RevisedFields  map[string][]string `json:"revised_fields"`
	CosmeticFields map[string][]string `json:"cosmetic_fields"`
	// NormalisedAway lists codes whose raw cell text differs from the previous
	// release only in ways the ingester removes (NBSP, leading/trailing
	// spaces): they must come out unchanged.
	NormalisedAway []string `json:"normalised_away"`
	// ReplacedBy gives, for every deleted code, the codes the release's
	// crosswalk names to use instead (empty when it names none).
	ReplacedBy map[string][]string `json:"replaced_by"`
}

// Release is what expected.json says about one workbook.
type Release struct {
	Year         int            `json:"year"`
	File         string         `json:"file"`
	Sheets       []string       `json:"sheets"`
	DataSheet    string         `json:"data_sheet"`
	HeaderRow    int            `json:"header_row"`
	Header       []string       `json:"header"`
	FirstDataRow int            `json:"first_data_row"`
	LastDataRow  int            `json:"last_data_row"`
	BlankRows    []int          `json:"blank_rows"`
	NumericCodes []string       `json:"numeric_codes"`
	NumFmt       string         `json:"numeric_code_format"`
	Total        int            `json:"total"`
	ByCategory   map[string]int `json:"by_category"`
	// Crosswalk is the deleted-code crosswalk CSV shipped with the
	// release, if any.
	Crosswalk string `json:"crosswalk,omitempty"`
}

// Expected is the whole of expected.json.
type Expected struct {
	Note        string       `json:"note"`
	Releases    []Release    `json:"releases"`
	Transitions []Transition `json:"transitions"`
}

// built is one release after applying edits, with what each edit intended.
type built struct {
	release
	entries []entry           // in sheet order
	intent  map[string]string // code -> declared kind against the previous release
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("gendemo: ")
	out := flag.String("out", "testdata/demo", "directory to write the workbooks and expected.json into")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(out string) error {
	bs, err := build()
	if err != nil {
		return err
	}
	exp, err := expect(bs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for i, b := range bs {
		path := filepath.Join(out, exp.Releases[i].File)
		if err := writeWorkbook(path, b, exp.Releases[i]); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := checkWorkbook(path, b, exp.Releases[i]); err != nil {
			return fmt.Errorf("check %s: %w", path, err)
		}
		if name := exp.Releases[i].Crosswalk; name != "" {
			if err := os.WriteFile(filepath.Join(out, name), crosswalkCSV(b), 0o644); err != nil {
				return err
			}
		}
	}
	data, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "expected.json"), append(data, '\n'), 0o644)
}

// crosswalkCSV renders a release's deleted-code crosswalk the way a
// licensee's export might look: a title line and a blank line above the
// header, several replacements in one cell separated by ", ".
func crosswalkCSV(b built) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{fmt.Sprintf("Demo deleted-code crosswalk %d (synthetic test data; not AMA content)", b.year)})
	w.Write([]string{""})
	w.Write([]string{"Deleted Code", "Replacement Code(s)", "Effective Date"})
	for _, x := range b.crosswalk {
		w.Write([]string{x.old, strings.Join(x.news, ", "), fmt.Sprintf("01/01/%d", b.year)})
	}
	w.Flush()
	return buf.Bytes()
}

// build applies each year's edits to the previous release.
func build() ([]built, error) {
	var bs []built
	cur := map[string]entry{}
	for i, r := range releases {
		intent := map[string]string{}
		declare := func(code, kind string) error {
			if k, ok := intent[code]; ok {
				return fmt.Errorf("%d: code %s declared both %s and %s", r.year, code, k, kind)
			}
			intent[code] = kind
			return nil
		}
		if i == 0 {
			for _, e := range base2024 {
				if _, dup := cur[e.Code]; dup {
					return nil, fmt.Errorf("%d: duplicate code %s", r.year, e.Code)
				}
				cur[e.Code] = e
				if err := declare(e.Code, kAdded); err != nil {
					return nil, err
				}
			}
		}
		next := map[string]entry{}
		for k, v := range cur {
			next[k] = v
		}
		ed := r.edits
		for _, e := range ed.remove {
			if _, ok := next[e]; !ok {
				return nil, fmt.Errorf("%d: remove %s: not in previous release", r.year, e)
			}
			delete(next, e)
			if err := declare(e, kDeleted); err != nil {
				return nil, err
			}
		}
		for kind, list := range map[string][]entry{kAdded: ed.add, kReactivated: ed.reactivate} {
			for _, e := range list {
				if _, ok := next[e.Code]; ok {
					return nil, fmt.Errorf("%d: %s %s: already present", r.year, kind, e.Code)
				}
				next[e.Code] = e
				if err := declare(e.Code, kind); err != nil {
					return nil, err
				}
			}
		}
		for kind, list := range map[string][]entry{kRevised: ed.revise, kCosmetic: ed.cosmetic, kUnchanged: ed.quiet} {
			for _, p := range list {
				e, ok := next[p.Code]
				if !ok {
					return nil, fmt.Errorf("%d: patch %s: not present", r.year, p.Code)
				}
				if p.Short != "" {
					e.Short = p.Short
				}
				if p.Medium != "" {
					e.Medium = p.Medium
				}
				if p.Long != "" {
					e.Long = p.Long
				}
				next[p.Code] = e
				if err := declare(p.Code, kind); err != nil {
					return nil, err
				}
			}
		}
		entries := make([]entry, 0, len(next))
		for _, e := range next {
			entries = append(entries, e)
		}
		slices.SortFunc(entries, func(a, b entry) int {
			ca, cb := slices.Index(categories, category(a.Code)), slices.Index(categories, category(b.Code))
			if ca != cb {
				return ca - cb
			}
			return strings.Compare(a.Code, b.Code)
		})
		bs = append(bs, built{release: r, entries: entries, intent: intent})
		cur = next
	}
	return bs, nil
}

// classify compares two releases the way the diff stage is meant to.
func classify(old, cur map[string]entry, seen map[string]bool) (kinds map[string]string, revised, cosmetic map[string][]string, quiet []string) {
	kinds = map[string]string{}
	revised, cosmetic = map[string][]string{}, map[string][]string{}
	for code := range old {
		if _, ok := cur[code]; !ok {
			kinds[code] = kDeleted
		}
	}
	for code, e := range cur {
		o, ok := old[code]
		switch {
		case !ok && seen[code]:
			kinds[code] = kReactivated
		case !ok:
			kinds[code] = kAdded
		default:
			of, nf := fields(o), fields(e)
			var rev, cos []string
			raw := false
			for i := range of {
				if of[i] != nf[i] {
					raw = true
				}
				switch {
				case norm(of[i]) == norm(nf[i]):
				case collapse(of[i]) == collapse(nf[i]):
					cos = append(cos, fieldNames[i])
				default:
					rev = append(rev, fieldNames[i])
				}
			}
			switch {
			case len(rev) > 0:
				kinds[code] = kRevised
				revised[code] = rev
			case len(cos) > 0:
				kinds[code] = kCosmetic
				cosmetic[code] = cos
			default:
				kinds[code] = kUnchanged
				if raw {
					quiet = append(quiet, code)
				}
			}
		}
	}
	slices.Sort(quiet)
	return kinds, revised, cosmetic, quiet
}

// expect computes expected.json from the built releases and checks that the
// computed change kinds are the ones the edits declared.
func expect(bs []built) (*Expected, error) {
	exp := &Expected{Note: "Computed by testdata/gendemo from its own data; regenerate, do not edit."}
	old := map[string]entry{}
	seen := map[string]bool{}
	prev := ""
	for _, b := range bs {
		cur := map[string]entry{}
		for _, e := range b.entries {
			cur[e.Code] = e
		}
		exp.Releases = append(exp.Releases, describe(b))

		kinds, rev, cos, quiet := classify(old, cur, seen)
		to := strconv.Itoa(b.year)
		t := Transition{
			Name: prev + "->" + to, From: prev, To: to,
			ByCategory:     map[string]Counts{},
			RevisedFields:  rev,
			CosmeticFields: cos,
			NormalisedAway: quiet,
		}
		for _, c := range categories {
			t.ByCategory[c] = Counts{}
		}
		codes := make([]string, 0, len(kinds))
		for code := range kinds {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		var errs []error
		for _, code := range codes {
			kind := kinds[code]
			want, declared := b.intent[code]
			if !declared {
				want = kUnchanged
			}
			if kind != want {
				errs = append(errs, fmt.Errorf("%s: code %s computes as %s, declared %s", t.Name, code, kind, want))
			}
			t.Counts.add(kind)
			c := t.ByCategory[category(code)]
			c.add(kind)
			t.ByCategory[category(code)] = c
			l := t.Codes.list(kind)
			*l = append(*l, code)
		}
		for _, l := range []*[]string{&t.Codes.Added, &t.Codes.Deleted, &t.Codes.Revised, &t.Codes.Cosmetic, &t.Codes.Reactivated, &t.Codes.Unchanged, &t.NormalisedAway} {
			if *l == nil {
				*l = []string{}
			}
		}
		t.ReplacedBy = map[string][]string{}
		for _, code := range t.Codes.Deleted {
			t.ReplacedBy[code] = []string{}
		}
		for _, x := range b.crosswalk {
			if _, ok := t.ReplacedBy[x.old]; !ok {
				errs = append(errs, fmt.Errorf("%s: crosswalk names %s, which is not deleted", t.Name, x.old))
			}
			for _, n := range x.news {
				if _, ok := cur[n]; !ok {
					errs = append(errs, fmt.Errorf("%s: crosswalk replaces %s by %s, which is not in the release", t.Name, x.old, n))
				}
			}
			t.ReplacedBy[x.old] = slices.Sorted(slices.Values(x.news))
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		exp.Transitions = append(exp.Transitions, t)
		for code := range cur {
			seen[code] = true
		}
		old, prev = cur, to
	}
	return exp, nil
}

// describe lays out one release's workbook: where the header, data and blank rows go.
func describe(b built) Release {
	r := Release{
		Year:         b.year,
		File:         fmt.Sprintf("cpt-%d.xlsx", b.year),
		Sheets:       []string{notesSheet, b.sheet},
		DataSheet:    b.sheet,
		HeaderRow:    headerRow,
		Header:       header,
		FirstDataRow: headerRow + 1,
		NumFmt:       anesNumFmt,
		ByCategory:   map[string]int{},
		NumericCodes: []string{},
	}
	if len(b.crosswalk) > 0 {
		r.Crosswalk = fmt.Sprintf("cpt-%d-crosswalk.csv", b.year)
	}
	for _, c := range categories {
		r.ByCategory[c] = 0
	}
	row := headerRow
	for i, e := range b.entries {
		row++
		r.Total++
		r.ByCategory[category(e.Code)]++
		if numericCodes[e.Code] {
			r.NumericCodes = append(r.NumericCodes, e.Code)
		}
		switch i + 1 {
		case blankAfter1:
			r.BlankRows = append(r.BlankRows, row+1)
			row++
		case blankAfter2:
			r.BlankRows = append(r.BlankRows, row+1, row+2)
			row += 2
		}
	}
	r.LastDataRow = row
	return r
}

// sheetRows returns the data sheet's rows as the ingester should read them
// (formatted values, trailing empty cells dropped), indexed from row 1.
func sheetRows(b built, r Release) [][]string {
	rows := make([][]string, r.LastDataRow)
	rows[0] = []string{fmt.Sprintf("Demo CPT-style code release %d — synthetic descriptors", b.year)}
	rows[2] = []string{fmt.Sprintf("Synthetic descriptors written for software testing only; not AMA CPT content. Effective January 1, %d (demo).", b.year)}
	rows[headerRow-1] = header
	row := headerRow
	for _, e := range b.entries {
		for slices.Contains(r.BlankRows, row+1) {
			row++
		}
		row++
		rows[row-1] = []string{e.Code, e.Short, e.Medium, e.Long}
	}
	return rows
}

func writeWorkbook(path string, b built, r Release) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", notesSheet); err != nil {
		return err
	}
	for i, line := range notes {
		if err := f.SetCellStr(notesSheet, cell(1, i+1), line); err != nil {
			return err
		}
	}
	if _, err := f.NewSheet(b.sheet); err != nil {
		return err
	}
	numFmt := anesNumFmt
	anes, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i, row := range sheetRows(b, r) {
		for j, v := range row {
			ref := cell(j+1, i+1)
			if j == 0 && i+1 > headerRow && numericCodes[v] {
				n, err := strconv.Atoi(v)
				if err != nil {
					return err
				}
				if err := f.SetCellValue(b.sheet, ref, n); err != nil {
					return err
				}
				if err := f.SetCellStyle(b.sheet, ref, ref, anes); err != nil {
					return err
				}
				continue
			}
			if err := f.SetCellStr(b.sheet, ref, v); err != nil {
				return err
			}
		}
	}
	if err := f.SetCellStyle(b.sheet, cell(1, headerRow), cell(len(header), headerRow), bold); err != nil {
		return err
	}
	for i, w := range []float64{10, 30, 48, 100} {
		col := string(rune('A' + i))
		if err := f.SetColWidth(b.sheet, col, col, w); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	// Fixed properties keep the bytes the same from run to run.
	stamp := strconv.Itoa(b.year-1) + "-09-01" + fixedStamp
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:          fmt.Sprintf("Demo CPT-style code release %d", b.year),
		Creator:        "codeset gendemo",
		LastModifiedBy: "codeset gendemo",
		Created:        stamp,
		Modified:       stamp,
		Description:    "Synthetic test data; not AMA CPT content.",
	}); err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// checkWorkbook reads a written workbook back with the streaming reader and
// compares every formatted cell with the model.
func checkWorkbook(path string, b built, r Release) error {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, r.Sheets) {
		return fmt.Errorf("sheets %q, want %q", got, r.Sheets)
	}
	want := sheetRows(b, r)
	rows, err := f.Rows(b.sheet)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		n++
		got, err := rows.Columns()
		if err != nil {
			return fmt.Errorf("%s row %d: %w", b.sheet, n, err)
		}
		if n > len(want) || !slices.Equal(got, want[n-1]) {
			return fmt.Errorf("%s row %d: got %q, want %q", b.sheet, n, got, want[min(n, len(want))-1])
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	// The stream may stop at the last written row; trailing blank rows would be an error in the model.
	if n != len(want) {
		return fmt.Errorf("%s: %d rows, want %d", b.sheet, n, len(want))
	}
	for _, code := range r.NumericCodes {
		for i, row := range want {
			if len(row) > 0 && row[0] == code && i+1 > headerRow {
				ref := cell(1, i+1)
				raw, err := f.GetCellValue(b.sheet, ref, excelize.Options{RawCellValue: true})
				if err != nil {
					return err
				}
				if want := strconv.Itoa(mustAtoi(code)); raw != want {
					return fmt.Errorf("%s!%s: raw %q, want number %s", b.sheet, ref, raw, want)
				}
				typ, err := f.GetCellType(b.sheet, ref)
				if err != nil {
					return err
				}
				if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
					return fmt.Errorf("%s!%s: cell type %v, want number", b.sheet, ref, typ)
				}
			}
		}
	}
	return nil
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func cell(col, row int) string {
	ref, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		panic(err)
	}
	return ref
}
