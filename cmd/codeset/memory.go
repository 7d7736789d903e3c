package main

import (
	"os"
	"runtime"
	"runtime/debug"
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
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	held := ms.Sys - ms.HeapReleased - (ms.HeapIdle - ms.HeapReleased) // mapped, less the idle heap
	headroom := max(ms.HeapAlloc, 32<<20)
	prev := debug.SetMemoryLimit(int64(held + headroom))
	return func() { debug.SetMemoryLimit(prev) }
}
