package transport_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// testCA is a certificate authority generated for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns a certificate signed by ca naming uris, usable as a TLS
// server and client.
func (ca *testCA) issue(t *testing.T, uris ...*url.URL) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "node"}, URIs: uris,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// nodeTLS is the TLSConfig of node id of cluster "c1" under ca.
func (ca *testCA) nodeTLS(t *testing.T, id uint64) *transport.TLSConfig {
	return &transport.TLSConfig{Certificate: ca.issue(t, transport.NodeURI("c1", id)), CAs: ca.pool, ClusterID: "c1"}
}

// Claim: two transports with certificates of the same cluster exchange
// messages over mutual TLS.
func TestMutualTLSDeliversBetweenMembers(t *testing.T) {
	ca := newTestCA(t)
	a, b := startPair(t, transport.Config{TLS: ca.nodeTLS(t, 1)}, transport.Config{TLS: ca.nodeTLS(t, 2)})
	sendAndExpectInOrder(t, a, b, 1, 50)
	back := raftpb.Message{Type: raftpb.MsgHeartbeatResp, From: 2, To: 1, Term: 3}
	b.Send([]raftpb.Message{back})
	if d := diffMessages([]raftpb.Message{back}, receive(t, a, 1)); d != "" {
		t.Fatalf("the answer differs (-sent +received):\n%s", d)
	}
}

// sendAs opens a connection to addr (TLS with cert, when not nil; plain
// TCP when tlsOff) and sends the hello of node from and one heartbeat
// carrying commit. It returns the connection, or nil if even the dial
// failed.
func sendAs(t *testing.T, addr string, tlsOff bool, cert *tls.Certificate, from, commit uint64) net.Conn {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	conn := raw
	if !tlsOff {
		cfg := &tls.Config{InsecureSkipVerify: true} // the attacker does not care who the server is
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		tc := tls.Client(raw, cfg)
		tc.SetDeadline(time.Now().Add(waitTimeout))
		if err := tc.Handshake(); err != nil {
			return raw // refused in the handshake: closed
		}
		tc.SetDeadline(time.Time{})
		conn = tc
	}
	// The cluster's token is no secret: the attacker sends the right one.
	conn.Write(append(transport.AppendClusterHello(nil, "c1", from, 2), heartbeat(from, 2, commit)...))
	return conn
}

// Claim: with TLS, a connection that does not prove its sender delivers
// nothing and is closed: plain TCP, TLS without a certificate, a member's
// certificate sending as another member, a certificate of another CA or of
// another cluster. A member sending as itself is served.
func TestTLSRefusesConnectionsThatDoNotProveTheirSender(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	b := start(t, transport.Config{ID: 2, TLS: ca.nodeTLS(t, 2)})
	addr := b.Addr().String()
	node3 := ca.issue(t, transport.NodeURI("c1", 3))
	foreignCA := other.issue(t, transport.NodeURI("c1", 1))
	foreignCluster := ca.issue(t, transport.NodeURI("c2", 1))
	noURI := ca.issue(t)
	attacks := []struct {
		name   string
		tlsOff bool
		cert   *tls.Certificate
	}{
		{"plain TCP", true, nil},
		{"TLS without a certificate", false, nil},
		{"node 3's certificate as node 1", false, &node3},
		{"another CA's certificate for node 1", false, &foreignCA},
		{"another cluster's certificate for node 1", false, &foreignCluster},
		{"a certificate naming no node", false, &noURI},
	}
	for i, a := range attacks {
		conn := sendAs(t, addr, a.tlsOff, a.cert, 1, uint64(100+i))
		expectClosedByPeer(t, conn)
	}
	// A member sending as itself is served; it is the first message
	// delivered: none of the attacks delivered anything before it.
	sendAs(t, addr, false, &node3, 3, 7)
	if m := receive(t, b, 1)[0]; m.From != 3 || m.Commit != 7 {
		t.Fatalf("first delivered message %+v; want node 3's heartbeat 7 (an attack got through)", m)
	}
	select {
	case m := <-b.Receive():
		t.Fatalf("an extra message was delivered: %+v", m)
	default:
	}
}

// Claim: a node does not send to a server whose certificate names another
// node, even of its own cluster: the impostor at peer 2's address never
// receives a message.
func TestTLSDialerRefusesAServerThatIsNotThePeer(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	for _, tc := range []struct {
		name string
		tls  *transport.TLSConfig
	}{
		{"node 3's certificate", ca.nodeTLS(t, 3)},
		// It trusts the cluster's CA, so node 1's certificate is accepted.
		{"another CA's certificate for node 2", &transport.TLSConfig{
			Certificate: other.issue(t, transport.NodeURI("c1", 2)), CAs: ca.pool, ClusterID: "c1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			impostor := start(t, transport.Config{ID: 2, TLS: tc.tls})
			a := start(t, transport.Config{ID: 1, TLS: ca.nodeTLS(t, 1), Peers: map[uint64]string{2: impostor.Addr().String()}})
			waitFor(t, "two failed handshakes", func() bool {
				a.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 1}})
				return a.Stats().DialFailures >= 2
			})
			select {
			case m := <-impostor.Receive():
				t.Fatalf("the impostor received %+v", m)
			default:
			}
		})
	}
}

// Claim: without TLS, a hello of another cluster, or of none, is refused
// and delivers nothing; one of the same cluster is served.
func TestHelloOfAnotherClusterIsRefused(t *testing.T) {
	b := start(t, transport.Config{ID: 2, ClusterID: "blue"})
	addr := b.Addr().String()
	for i, cluster := range []string{"green", ""} {
		conn := dialRaw(t, addr, append(transport.AppendClusterHello(nil, cluster, 7, 2), heartbeat(7, 2, uint64(i+1))...))
		expectClosedByPeer(t, conn)
	}
	dialRaw(t, addr, append(transport.AppendClusterHello(nil, "blue", 8, 2), heartbeat(8, 2, 9)...))
	if m := receive(t, b, 1)[0]; m.From != 8 || m.Commit != 9 {
		t.Fatalf("first delivered message %+v; want node 8's heartbeat 9 (another cluster's got through)", m)
	}
}

// Claim: two transports of the same cluster ID, without TLS, talk.
func TestSameClusterTalksWithoutTLS(t *testing.T) {
	a, b := startPair(t, transport.Config{ClusterID: "blue"}, transport.Config{ClusterID: "blue"})
	sendAndExpectInOrder(t, a, b, 1, 20)
}
