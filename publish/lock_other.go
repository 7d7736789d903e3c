//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package publish

import "context"

// lockDir does nothing where flock is missing: writers are not kept apart,
// and leftover temporary files are ignored rather than removed.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	return func() {}, nil
}

// locksExclude reports whether lockDir keeps out every other writer.
const locksExclude = false
