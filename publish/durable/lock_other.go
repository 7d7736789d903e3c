//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package durable

import "os"

// TryLock does nothing where flock is missing: processes are not kept apart
// (within one process, callers keep their own mutexes), and leftover
// temporary files are ignored rather than removed.
func TryLock(f *os.File) error { return nil }

// LocksExclude reports whether TryLock keeps out every other process.
const LocksExclude = false
