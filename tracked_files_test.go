package raft_test

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// maxTrackedFileBytes is the largest file the repository may hold: its
// largest text (a transcript, the mutation test's list) is well under it.
const maxTrackedFileBytes = 512 << 10

// executableMagic are the first bytes of the executables Go builds (ELF,
// Mach-O in both byte orders and 32 or 64 bits, PE).
var executableMagic = [][]byte{
	{0x7f, 'E', 'L', 'F'},
	{0xfe, 0xed, 0xfa, 0xce}, {0xce, 0xfa, 0xed, 0xfe},
	{0xfe, 0xed, 0xfa, 0xcf}, {0xcf, 0xfa, 0xed, 0xfe},
	{'M', 'Z'},
}

// TestTheRepositoryHoldsNoBuildOutput: a built binary was once committed
// beside its sources though .gitignore names it. Every file git tracks
// must be small and must not be an executable. The test needs git and a
// checkout; without them it has nothing to judge.
func TestTheRepositoryHoldsNoBuildOutput(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil || len(out) == 0 {
		t.Skipf("no git checkout to inspect: %v", err)
	}
	for _, name := range bytes.Split(bytes.TrimRight(out, "\x00"), []byte{0}) {
		path := string(name)
		info, err := os.Lstat(path)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the working tree, or a link
		}
		if info.Size() > maxTrackedFileBytes {
			t.Errorf("%s: %d bytes tracked; build output and data this large do not belong in the repository", path, info.Size())
			continue
		}
		head := make([]byte, 4)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := f.Read(head)
		f.Close()
		for _, magic := range executableMagic {
			if n >= len(magic) && bytes.Equal(head[:len(magic)], magic) && !isText(path) {
				t.Errorf("%s: an executable is tracked", path)
			}
		}
	}
}

// isText reports whether a file that starts like an executable ("MZ" is
// also two letters) is in fact text: it holds no NUL byte.
func isText(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.IndexByte(b, 0) < 0
}
