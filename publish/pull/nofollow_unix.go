//go:build unix

package pull

import "syscall"

// oNoFollow makes opening the partial file fail on a symbolic link.
const oNoFollow = syscall.O_NOFOLLOW
