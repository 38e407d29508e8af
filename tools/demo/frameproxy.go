package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/tickraft/raft/tools/kvexample/transport"
)

// frameProxy is a loopback TCP relay in front of one host's Raft address:
// the other hosts dial it, and it dials the host. It counts the frames it
// relays towards the host by parsing the stream itself (the hello of
// transport.HelloBytes, then frames, each a 4-byte big-endian length and
// that many bytes), so that the frames the demo reports are counted on the
// wire, independently of the transports' own Stats.
type frameProxy struct {
	ln     net.Listener
	target string
	// frames and bytes count the whole frames relayed, and their bytes
	// with their length prefixes.
	frames, bytes atomic.Uint64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// startFrameProxy listens on a loopback port and relays to target.
func startFrameProxy(target string) (*frameProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &frameProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// addr returns the address the other hosts dial.
func (p *frameProxy) addr() string { return p.ln.Addr().String() }

// serve accepts connections until the proxy is closed.
func (p *frameProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.relay(in)
	}
}

// track records conn so that close can end it; it reports false (and
// closes conn) once the proxy is closed.
func (p *frameProxy) track(conn net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		conn.Close()
		return false
	}
	p.conns[conn] = struct{}{}
	return true
}

// relay relays one connection: what the host answers goes back as it is,
// what the dialer sends is parsed and counted frame by frame. Either side
// closing, or a stream that does not parse, ends both.
func (p *frameProxy) relay(in net.Conn) {
	defer p.wg.Done()
	if !p.track(in) {
		return
	}
	out, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(out) {
		in.Close()
		p.mu.Lock()
		delete(p.conns, in)
		p.mu.Unlock()
		return
	}
	defer func() {
		in.Close()
		out.Close()
		p.mu.Lock()
		delete(p.conns, in)
		delete(p.conns, out)
		p.mu.Unlock()
	}()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_, _ = io.Copy(in, out)
		in.Close()
	}()
	p.countFrames(bufio.NewReader(in), out)
}

// countFrames copies the hello and then whole frames from r to w,
// counting each frame once it is relayed, until either side fails.
func (p *frameProxy) countFrames(r *bufio.Reader, w io.Writer) {
	if _, err := io.CopyN(w, r, transport.HelloBytes); err != nil {
		return
	}
	var head [4]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		if _, err := w.Write(head[:]); err != nil {
			return
		}
		n := int64(binary.BigEndian.Uint32(head[:]))
		if _, err := io.CopyN(w, r, n); err != nil {
			return
		}
		p.frames.Add(1)
		p.bytes.Add(uint64(4 + n))
	}
}

// close stops the proxy and ends every connection it relays.
func (p *frameProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
