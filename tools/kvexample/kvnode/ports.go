package kvnode

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// The ports LoopbackAddrs chooses from: below the kernel's ephemeral
// range, above the well-known ones.
const (
	lowestPort         = 10000
	defaultEphemeralLo = 32768 // Linux's default; macOS's starts at 49152
)

// LoopbackAddrs returns n addresses on 127.0.0.1 whose ports were free a
// moment ago, for demos and tests that stop nodes and start them again on
// the same ports. The ports are taken below the kernel's ephemeral range:
// a port picked with ":0" comes from that range, and while its node is
// down any outgoing connection may take it as its local port, so that the
// restarted node cannot listen on it again. The search starts at an offset
// derived from the process ID, so that concurrent processes seldom try
// the same ports.
func LoopbackAddrs(n int) ([]string, error) {
	lo := ephemeralLow()
	span := lo - lowestPort
	if span < n {
		return nil, errors.New("kvnode: no port range below the ephemeral ports")
	}
	start := (os.Getpid() * 7919) % span
	var addrs []string
	for i := 0; i < span && len(addrs) < n; i++ {
		addr := "127.0.0.1:" + strconv.Itoa(lowestPort+(start+i)%span)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		addrs = append(addrs, addr)
	}
	if len(addrs) < n {
		return nil, fmt.Errorf("kvnode: found %d free loopback ports of %d", len(addrs), n)
	}
	return addrs, nil
}

// ephemeralLow returns the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return defaultEphemeralLo
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return defaultEphemeralLo
	}
	lo, err := strconv.Atoi(fields[0])
	if err != nil || lo <= lowestPort {
		return defaultEphemeralLo
	}
	return min(lo, defaultEphemeralLo)
}
