//go:build !linux

package refserver

import (
	"io/fs"
	"time"
)

// ctimeOf falls back to the modification time where the inode change time
// is not at hand.
func ctimeOf(st fs.FileInfo) time.Time { return st.ModTime().UTC() }

// canAccess assumes access where access(2) is not at hand.
func canAccess(string, uint32) bool { return true }
