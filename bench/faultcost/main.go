// Command faultcost prints what a page fault costs on this machine: the
// time to touch, one byte a page, memory fresh from the operating system,
// divided by the pages touched (the median of five rounds of 64 MiB).
//
// codeset takes fresh memory in every process where an anchor such as
// sqldiff reuses a small page cache, so its ratios to the anchors depend
// on this cost: on the machines of 2026-12-02 it was 12-13.6 µs, on that
// of 2026-12-03 1.5 µs, and the 74k diff went from 0.49-0.56 × sqldiff to
// 0.18-0.30 × with the same build. bench/compare.sh prints it first, so a
// table of ratios says which kind of machine it was taken on.
package main

import (
	"fmt"
	"runtime/debug"
	"slices"
	"time"
)

const (
	size   = 64 << 20
	page   = 4096
	rounds = 5
)

// sink keeps the last round's memory reachable until it has been touched.
var sink []byte

func main() {
	// No collection may reuse a round's memory for the next: each round
	// must get pages the process has never touched.
	debug.SetGCPercent(-1)
	var per []float64
	for range rounds {
		// A large allocation is served from a fresh span the runtime knows
		// to be zero, so it is not cleared: its pages are first touched
		// below.
		b := make([]byte, size)
		t := time.Now()
		for i := 0; i < len(b); i += page {
			b[i] = 1
		}
		d := time.Since(t)
		sink = b
		per = append(per, float64(d.Nanoseconds())/float64(size/page)/1000)
	}
	slices.Sort(per)
	fmt.Printf("%.2f µs per page fault (median of %d rounds of %d MiB, one byte written per %d-byte page)\n", per[len(per)/2], rounds, size>>20, page)
}
