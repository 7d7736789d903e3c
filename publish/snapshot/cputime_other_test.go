//go:build !unix

package snapshot

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
