package kvnode

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"
)

// closedWithin reads from conn until the server closes it and reports how
// long that took, failing the test after limit.
func closedWithin(t *testing.T, conn net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(limit))
	r := bufio.NewReader(conn)
	for {
		if _, err := r.ReadByte(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server kept the connection open for %v", limit)
			}
			return time.Since(start)
		}
	}
}

// Claim: the HTTP server times out a client that sends its headers or its
// body slowly (HTTPReadTimeout) and a keep-alive connection left idle
// (HTTPIdleTimeout), however long the client would go on.
func TestHTTPServerTimesOutSlowAndIdleClients(t *testing.T) {
	cfg := testConfig()
	cfg.HTTPReadTimeout, cfg.HTTPIdleTimeout = 300*time.Millisecond, 300*time.Millisecond
	tc := newTestCluster(t, 1, cfg)
	tc.leader()
	addr := tc.peer(1).HTTPAddr
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// A body of 100 bytes, one every 50 ms: 5 s if the server waited.
	slowBody := dial()
	fmt.Fprintf(slowBody, "PUT /kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	go func() {
		for i := 0; i < 100; i++ {
			time.Sleep(50 * time.Millisecond)
			if _, err := slowBody.Write([]byte{'x'}); err != nil {
				return
			}
		}
	}()
	closedWithin(t, slowBody, 3*time.Second)
	// Headers one byte every 50 ms, never ending.
	slowHeaders := dial()
	go func() {
		for _, b := range []byte("GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
			time.Sleep(50 * time.Millisecond)
			if _, err := slowHeaders.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	closedWithin(t, slowHeaders, 3*time.Second)

	idleCfg := testConfig()
	idleCfg.HTTPReadTimeout, idleCfg.HTTPIdleTimeout = 10*time.Second, 200*time.Millisecond
	idle := newTestCluster(t, 1, idleCfg)
	idle.leader()
	c, err := net.Dial("tcp", idle.peer(1).HTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || line[:12] != "HTTP/1.1 200" {
		t.Fatalf("status on a keep-alive connection: %q, %v", line, err)
	}
	closedWithin(t, c, 3*time.Second)
}
