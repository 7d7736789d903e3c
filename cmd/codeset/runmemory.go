package main

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// runFloor is the soft memory limit below which boundRunGarbage never
// goes: a release of the size of ICD-10-CM (a live heap of some tens of
// MiB, a peak of ~140 MiB) never reaches it, so its collections are
// GOGC's alone.
const runFloor = 320 << 20

// runHeadroom is the most garbage boundRunGarbage lets pile up beyond the
// live heap.
const runHeadroom = 64 << 20

// boundRunGarbage bounds the garbage of a release-day run (codeset run):
// a soft memory limit (runtime/debug.SetMemoryLimit) of the heap live at
// the last collection plus half of it, at most runHeadroom more, and never
// below runFloor, followed as the run reads, compares and renders. A
// release of a million codes keeps 200-270 MiB live (its records) while
// its files are rendered, and GOGC=100 let the heap double past that, over
// 550 MiB. The limit stays above what is live by at least a third of it
// (up to runHeadroom), so the collector cannot run over and over for
// memory it cannot free (and the runtime caps its share of the CPU).
// GOMEMLIMIT, when set, is left alone. It returns a func that stops
// following and puts the previous limit back once no run that called it
// is left (runs in one process, as in the tests, share the one limit).
func boundRunGarbage() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	runLimit.Lock()
	defer runLimit.Unlock()
	runLimit.n++
	if runLimit.n == 1 {
		runLimit.stop = followLive()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			runLimit.Lock()
			defer runLimit.Unlock()
			if runLimit.n--; runLimit.n == 0 {
				runLimit.stop()
			}
		})
	}
}

// runLimit counts the runs under boundRunGarbage.
var runLimit struct {
	sync.Mutex
	n    int
	stop func()
}

// followLive sets the limit of boundRunGarbage as the live heap changes,
// until the func it returns is called.
func followLive() (stop func()) {
	prev := debug.SetMemoryLimit(-1)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		set := int64(-1)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(live)
			if live[0].Value.Kind() == metrics.KindUint64 {
				v := int64(min(live[0].Value.Uint64(), math.MaxInt64/4))
				if limit := max(runFloor, v+min(v/2, runHeadroom)); limit != set {
					debug.SetMemoryLimit(limit)
					set = limit
				}
			}
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(quit)
		<-done
		debug.SetMemoryLimit(prev)
	}
}
