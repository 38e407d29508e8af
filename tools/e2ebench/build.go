package e2ebench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Binaries are the two servers the comparison runs.
type Binaries struct {
	KVExample, Etcd string
}

// Build builds the example server from the repository at repo (the library's
// own module) and the etcd server from this module (cmd/etcdserver, at the
// version go.mod pins), into dir. moduleDir is this module's directory.
func Build(repo, moduleDir, dir string) (Binaries, error) {
	b := Binaries{KVExample: filepath.Join(dir, "kvexample"), Etcd: filepath.Join(dir, "etcdserver")}
	for _, s := range []struct{ wd, out, pkg string }{
		{repo, b.KVExample, "./tools/kvexample"},
		{moduleDir, b.Etcd, "./cmd/etcdserver"},
	} {
		cmd := exec.Command("go", "build", "-o", s.out, s.pkg)
		cmd.Dir = s.wd
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return b, fmt.Errorf("go build %s in %s: %w", s.pkg, s.wd, err)
		}
	}
	return b, nil
}
