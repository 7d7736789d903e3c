package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// boundGarbage sets a soft memory limit (see runtime/debug.SetMemoryLimit)
// of the memory the process holds now plus headroom, for a command that
// has built what it keeps (a diff's changelog) and goes on to render it:
// the renderer's garbage is then collected before the heap doubles past
// the changelog, as GOGC=100 would let it. The headroom is half the heap
// in use, at least 32 MiB, so a large changelog is not collected over and
// over. GOMEMLIMIT, when set, is left alone. It returns a func that puts
// the previous limit back.
func boundGarbage() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	// A small changelog needs no limit: the heap GOGC lets grow from it
	// stays below the headroom, and the collection that would measure it
	// costs more than it saves (a diff of two 74k-code releases holds a
	// few MiB).
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	if live[0].Value.Kind() == metrics.KindUint64 && live[0].Value.Uint64() < 16<<20 {
		return func() {}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	held := ms.Sys - ms.HeapReleased - (ms.HeapIdle - ms.HeapReleased) // mapped, less the idle heap
	headroom := max(ms.HeapAlloc, 32<<20)
	prev := debug.SetMemoryLimit(int64(held + headroom))
	return func() { debug.SetMemoryLimit(prev) }
}

// Settings of roomierGC: see there.
const (
	diffGCPercent   = 400
	diffMemoryLimit = 64 << 20
)

// roomierGC lets a diff collect less often than GOGC=100 would, within a
// soft memory limit of 64 MiB. A diff's live heap is a few MiB until the
// changelog is built (the comparison holds only the rows that differ),
// and at GOGC=100 the runtime's 4 MiB floor then starts a collection
// every few milliseconds of a 74k-code diff, five in all, each stopping
// every goroutine twice. At 400 the floor is 16 MiB, more than a 74k-code
// diff allocates in all (some 8 MiB with the runtime's and the libraries'
// own), so it runs without a collection; at 200 it had one, some 9 ms of
// CPU. The limit keeps a large comparison (1M codes) near where GOGC=100
// would have it: 77 MiB peak against 64 MiB at 200. GOGC or GOMEMLIMIT,
// when set, are left alone. It returns a func that puts the previous
// settings back.
func roomierGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := debug.SetMemoryLimit(diffMemoryLimit)
	percent := debug.SetGCPercent(diffGCPercent)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
