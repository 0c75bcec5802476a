//go:build !unix

package source

import "io/fs"

// allocated estimates the space a file takes on disk where the block
// count is not available: its size rounded up to a 4 KiB block.
func allocated(fi fs.FileInfo) int64 { return roundUpToBlock(fi.Size()) }
