// Command gen writes the synthetic inputs of bench/compare.sh, made from a
// seed by internal/synth so every run measures the same data:
//
//	gen snapshots -n N -seed S -count K DIR   # DIR/icd10cm/FY2001.sqlite ... (a data directory)
//	gen files -n N -seed S -count K DIR       # DIR/FY2001.txt ... (ICD-10-CM codes files)
//
// The releases are synth.Steady's: each holds N codes, so the K-th
// release after many costs what the second does but for the history
// behind it. -drift writes synth.Series instead, the series that grows
// (by about 7% over 20 releases of 75,000 codes), which the figures in
// bench/README.md before the sixth session were measured on.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/snapshot"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: gen snapshots|files [-drift] -n N -seed S -count K DIR")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	n := fs.Int("n", 100_000, "codes in each release (the first, with -drift)")
	seed := fs.Uint64("seed", 1, "random seed")
	count := fs.Int("count", 2, "number of successive releases")
	drift := fs.Bool("drift", false, "the series that grows (synth.Series), not one that holds N codes")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("name one output directory")
	}
	dir := fs.Arg(0)
	series := synth.Steady
	if *drift {
		series = synth.Series
	}
	rels := series(*seed, *n, *count)
	ctx := context.Background()
	for _, r := range rels {
		switch args[0] {
		case "snapshots":
			if err := snapshot.Write(ctx, snapshot.Store{Dir: dir}.Path(r.System, r.Label), r); err != nil {
				return err
			}
		case "files":
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			f, err := os.Create(filepath.Join(dir, r.Label+".txt"))
			if err != nil {
				return err
			}
			if err := synth.WriteCodesFile(f, r); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown command %q: want snapshots or files", args[0])
		}
	}
	if args[0] == "snapshots" && len(rels) > 0 {
		// The data directory as codeset run leaves it: with the
		// catalogue of its snapshots, which spares every later command
		// opening each of them to list the store.
		return snapshot.Store{Dir: dir}.Remember(ctx, rels[0].System)
	}
	return nil
}
