//go:build unix

package snapshot

import (
	"io/fs"
	"syscall"
)

// devIno returns the device and inode of the file st describes.
func devIno(st fs.FileInfo) (dev, ino uint64) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Dev), uint64(sys.Ino)
	}
	return 0, 0
}
