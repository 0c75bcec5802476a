//go:build unix

package source

import (
	"io/fs"
	"syscall"
)

// allocated is the space a file takes on disk: its blocks, as du counts
// them, so that a cache of many small files is not undercounted.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return roundUpToBlock(fi.Size())
}
