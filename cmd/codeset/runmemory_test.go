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

// TestRoomierGC checks the collector settings of a diff: set while it
// runs, put back after, and left alone under GOGC or GOMEMLIMIT.
func TestRoomierGC(t *testing.T) {
	settings := func() (int, int64) {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p, debug.SetMemoryLimit(-1)
	}
	p0, l0 := settings()
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	restore := roomierGC()
	if p, l := settings(); p != diffGCPercent || l != diffMemoryLimit {
		t.Errorf("under a diff: GOGC %d, limit %d; want %d, %d", p, l, diffGCPercent, diffMemoryLimit)
	}
	restore()
	if p, l := settings(); p != p0 || l != l0 {
		t.Errorf("after a diff: GOGC %d, limit %d; want %d, %d as before", p, l, p0, l0)
	}
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Setenv(env, "300")
		restore := roomierGC()
		if p, l := settings(); p != p0 || l != l0 {
			t.Errorf("%s set: GOGC %d, limit %d; want %d, %d untouched", env, p, l, p0, l0)
		}
		restore()
		t.Setenv(env, "")
	}
}
