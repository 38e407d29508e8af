//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package walfs

import "os"

// lockFile does nothing where flock is not available: the directory is
// then not protected against a second process.
func lockFile(*os.File) error { return nil }
