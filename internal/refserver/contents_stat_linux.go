//go:build linux

package refserver

import (
	"io/fs"
	"syscall"
	"time"
)

// ctimeOf is the inode change time, which Python's st_ctime gives on Linux.
func ctimeOf(st fs.FileInfo) time.Time {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return time.Unix(int64(s.Ctim.Sec), int64(s.Ctim.Nsec)).UTC()
	}
	return st.ModTime().UTC()
}

// canAccess is access(2): mode 2 asks for writing, 5 for listing a
// directory.
func canAccess(path string, mode uint32) bool { return syscall.Access(path, mode) == nil }
