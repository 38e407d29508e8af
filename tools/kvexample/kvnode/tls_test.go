package kvnode

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// clusterTLS generates a CA and returns a function giving node id its
// TLSConfig for cluster "kv", each certificate signed at test time.
func clusterTLS(t *testing.T) func(id uint64) *transport.TLSConfig {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kv CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return func(id uint64) *transport.TLSConfig {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(id) + 1), URIs: []*url.URL{transport.NodeURI("kv", id)},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return &transport.TLSConfig{Certificate: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, CAs: pool, ClusterID: "kv"}
	}
}

// Claim: a cluster whose transport runs over mutual TLS elects a leader,
// replicates writes and adds a member (whose certificate the others
// accept before they apply its addition).
func TestClusterRunsOverMutualTLS(t *testing.T) {
	tc := newTLSTestCluster(t, 3, testConfig(), clusterTLS(t))
	tc.leader()
	// A stranger speaking the plain protocol is cut off at once.
	conn, err := net.Dial("tcp", tc.peer(1).RaftAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := raftpb.Message{Type: raftpb.MsgHeartbeat, From: 9, To: 1, Term: 99}
	conn.Write(transport.AppendFrame(transport.AppendHello(nil, 9, 1), &m))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("a plain connection to a TLS node was not closed: %v", err)
	}
	last := tc.put("t", 10)
	for id := uint64(1); id <= 3; id++ {
		tc.checkKeys(id, "t", 10, last)
	}
	p4 := tc.peer(4)
	tc.start(4, true)
	if err := tc.c.AddLearner(tc.ctx(), 4, p4.RaftAddr, p4.HTTPAddr); err != nil {
		t.Fatal(err)
	}
	tc.checkKeys(4, "t", 10, last)
	for id := uint64(2); id <= 4; id++ { // node 1 counted the stranger
		if st := tc.status(id); st == nil || st.Transport.IdentityErrors != 0 {
			t.Fatalf("node %d: status %+v; want no identity errors between members", id, st)
		}
	}
}
