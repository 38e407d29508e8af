// Package framerelay is a loopback TCP relay that counts the frames of
// the example transport (tools/kvexample/transport) as they cross the
// wire. Tests and the demo put one in front of a process's Raft address
// and have its peers dial the relay, so that what they report about the
// traffic between processes is counted by a party independent of the
// transports' own Stats.
package framerelay

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/tickraft/raft/tools/kvexample/transport"
)

// Relay is a loopback TCP relay in front of one process's Raft address:
// the other processes dial it, and it dials the process. It counts the
// frames it relays towards the process by parsing the stream itself (the
// hello of transport.HelloBytes, then frames, each a 4-byte big-endian
// length and that many bytes). What the process answers is relayed back
// uncounted.
type Relay struct {
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

// Start listens on a loopback port and relays each connection it
// accepts to target.
func Start(target string) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Relay{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr returns the address the other processes dial.
func (p *Relay) Addr() string { return p.ln.Addr().String() }

// Frames returns the frames relayed towards the target so far, counted
// once each is relayed whole.
func (p *Relay) Frames() uint64 { return p.frames.Load() }

// Bytes returns the bytes of the frames Frames counts, length prefixes
// included.
func (p *Relay) Bytes() uint64 { return p.bytes.Load() }

// serve accepts connections until the relay is closed.
func (p *Relay) serve() {
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
// closes conn) once the relay is closed.
func (p *Relay) track(conn net.Conn) bool {
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
func (p *Relay) relay(in net.Conn) {
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
func (p *Relay) countFrames(r *bufio.Reader, w io.Writer) {
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

// Close stops the relay, ends every connection it relays and waits for
// its goroutines.
func (p *Relay) Close() {
	p.mu.Lock()
	p.closed = true
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
