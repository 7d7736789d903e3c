//go:build !unix

package history

import "time"

// cpuTime is not measured here: the cpu-ns/change metric reads 0.
func cpuTime() time.Duration { return 0 }
