package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
	"time"
)

// TestBoundRunGarbage checks that a run's soft memory limit is set while
// any run is under way, never below runFloor, and that the limit before
// is back once the last run is done.
func TestBoundRunGarbage(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: boundRunGarbage leaves the limit alone, as it should")
	}
	before := debug.SetMemoryLimit(-1)
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	waitSet := func() int64 {
		for range 500 {
			if l := limit(); l != before {
				return l
			}
			time.Sleep(2 * time.Millisecond)
		}
		t.Fatalf("no limit set under a run (still %d)", before)
		return 0
	}
	r1 := boundRunGarbage()
	if l := waitSet(); l < runFloor || l == math.MaxInt64 {
		t.Errorf("limit %d under a run, want at least %d", l, runFloor)
	}
	r2 := boundRunGarbage()
	r1()
	r1() // a second call changes nothing
	if l := limit(); l == before {
		t.Errorf("limit put back while a run is still under way")
	}
	r2()
	if l := limit(); l != before {
		t.Errorf("limit %d after the runs, want %d as before", l, before)
	}
}
