package walbench

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// fsTypeOf names the file system dir is on and reports whether it keeps
// its files in memory only.
func fsTypeOf(dir string) (name string, inMemory bool, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "", false, err
	}
	switch st.Type {
	case unix.TMPFS_MAGIC:
		return "tmpfs", true, nil
	case unix.RAMFS_MAGIC:
		return "ramfs", true, nil
	case unix.EXT4_SUPER_MAGIC:
		return "ext4", false, nil
	case unix.XFS_SUPER_MAGIC:
		return "xfs", false, nil
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs", false, nil
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs", false, nil
	}
	return fmt.Sprintf("file system 0x%x", st.Type), false, nil
}
