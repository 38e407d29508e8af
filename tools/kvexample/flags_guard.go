package main

import (
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/tickraft/raft/tools/kvexample/kvnode"
)

// exitRemoved is the exit status of a node that applied its own removal.
const exitRemoved = 3

// adminTokenEnv names the environment variable read for the admin token
// when -admin-token is not given (a flag shows in the process list).
const adminTokenEnv = "KVEXAMPLE_ADMIN_TOKEN"

// addGuardFlags adds the flags of the admin guard and of the resource
// bounds to fs.
func addGuardFlags(fs *flag.FlagSet, c *kvnode.Config) {
	fs.StringVar(&c.AdminToken, "admin-token", "", "bearer token the admin endpoints (members, leader, /debug/pprof/) require (default $"+adminTokenEnv+")")
	fs.BoolVar(&c.InsecureAdmin, "insecure-admin", false, "open the admin endpoints to anyone who reaches the HTTP port (no token)")
	fs.IntVar(&c.MaxKeyBytes, "max-key-bytes", kvnode.DefaultMaxKeyBytes, "longest key accepted")
	fs.DurationVar(&c.HTTPReadTimeout, "http-read-timeout", kvnode.DefaultHTTPReadTimeout, "longest time to read one HTTP request, headers and body")
	fs.DurationVar(&c.HTTPWriteTimeout, "http-write-timeout", 0, "longest time to answer one HTTP request (default request-timeout + http-read-timeout + 1s)")
	fs.DurationVar(&c.HTTPIdleTimeout, "http-idle-timeout", kvnode.DefaultHTTPIdleTimeout, "close an idle keep-alive HTTP connection after this")
	fs.IntVar(&c.MaxInboundConns, "max-inbound-conns", kvnode.DefaultMaxInboundConns, "most incoming Raft transport connections open at once")
	fs.IntVar(&c.MaxFrameBytes, "max-frame-bytes", kvnode.DefaultMaxFrameBytes, "largest Raft message accepted, and so the most one connection buffers")
	fs.DurationVar(&c.FrameTimeout, "frame-timeout", kvnode.DefaultFrameTimeout, "longest a Raft connection may take to deliver its next message")
	fs.IntVar(&c.MaxRecvMsgsPerSec, "max-recv-msgs", kvnode.DefaultMaxRecvMsgsPerSec, "most messages per second one peer can make this node step; more are dropped (with -groups, per group: a peer process may send this many times the number of groups)")
}

// checkFlags reports the first incoherent combination of flags, saying
// what is missing. fs is the parsed flag set. It also reads the admin
// token from the environment when no flag gave one.
func checkFlags(fs *flag.FlagSet, o *options) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c := &o.cfg
	if c.AdminToken == "" && !c.InsecureAdmin {
		c.AdminToken = os.Getenv(adminTokenEnv)
	}
	switch {
	case !set["id"]:
		return fmt.Errorf("-id is missing: every node needs its own Raft ID")
	case c.Join && o.peers == "":
		return fmt.Errorf("-join needs -peers: a joining node must know where the cluster's members are")
	case c.AdminToken != "" && c.InsecureAdmin:
		return fmt.Errorf("-admin-token and -insecure-admin contradict each other: give one")
	case c.Groups < 1:
		return fmt.Errorf("-groups must be at least 1")
	case c.Groups > 1 && c.Join:
		return fmt.Errorf("-groups above 1 and -join contradict each other: a process not in -group-voters starts with no group and is added to groups on their leaders (POST /groups/{g}/members)")
	case len(c.GroupVoters) > 0 && c.Groups <= 1:
		return fmt.Errorf("-group-voters needs -groups above 1")
	}
	if o.peers == "" {
		return nil
	}
	if _, port, err := net.SplitHostPort(c.RaftAddr); err == nil && port == "0" {
		return fmt.Errorf("-peers is given but -raft-addr has port 0: the other members could not find this node; give -raft-addr the address -peers lists for it")
	}
	peers, err := kvnode.ParsePeers(o.peers)
	if err != nil {
		return err
	}
	for _, p := range peers {
		if p.ID == c.ID && p.RaftAddr != c.RaftAddr {
			return fmt.Errorf("-peers lists node %d at %s but -raft-addr is %s: give the same address", c.ID, p.RaftAddr, c.RaftAddr)
		}
	}
	return nil
}
