// Command etcdserver is the etcd server, built from the module proxy at the
// version this module's go.mod pins, so that the end-to-end comparison runs
// the same server anyone can build.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
