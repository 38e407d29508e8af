package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// URIScheme is the scheme of the URI SAN that names a node in its
// certificate: tickraft://<cluster>/<id>.
const URIScheme = "tickraft"

// ErrIdentity is wrapped by the errors of a connection whose certificate
// does not prove what it must: that it comes from a node of this cluster,
// and from the node the hello names (inbound) or the node dialed
// (outbound).
var ErrIdentity = errors.New("transport: peer identity not proven")

// TLSConfig makes every connection of a Transport mutual TLS. Each node's
// certificate, signed by CAs, carries one URI SAN tickraft://<ClusterID>/<id>
// (see NodeURI) and both the server and client authentication key usages.
// An incoming connection is accepted only with such a certificate for this
// cluster whose ID is the hello's sender, so that one member's certificate
// cannot send as another; an outgoing one only to a server whose
// certificate names the peer dialed.
type TLSConfig struct {
	// Certificate is this node's certificate chain and private key.
	Certificate tls.Certificate
	// CAs are the authorities that sign the cluster's certificates.
	CAs *x509.CertPool
	// ClusterID is the cluster's name in the URIs; it must not be empty
	// or contain "/".
	ClusterID string
}

// NodeURI returns the URI that names node id of cluster in its
// certificate.
func NodeURI(cluster string, id uint64) *url.URL {
	return &url.URL{Scheme: URIScheme, Host: cluster, Path: "/" + strconv.FormatUint(id, 10)}
}

// CertIdentity returns the cluster and the node ID a certificate names: its
// single tickraft URI SAN.
func CertIdentity(cert *x509.Certificate) (cluster string, id uint64, err error) {
	var found *url.URL
	for _, u := range cert.URIs {
		if u.Scheme != URIScheme {
			continue
		}
		if found != nil {
			return "", 0, fmt.Errorf("%w: the certificate names more than one node", ErrIdentity)
		}
		found = u
	}
	if found == nil {
		return "", 0, fmt.Errorf("%w: the certificate has no %s:// URI", ErrIdentity, URIScheme)
	}
	id, err = strconv.ParseUint(strings.TrimPrefix(found.Path, "/"), 10, 64)
	if err != nil || id == 0 || found.Host == "" {
		return "", 0, fmt.Errorf("%w: bad node URI %q", ErrIdentity, found)
	}
	return found.Host, id, nil
}

// checkTLSConfig reports what is missing from c.
func checkTLSConfig(c *TLSConfig) error {
	switch {
	case len(c.Certificate.Certificate) == 0 || c.Certificate.PrivateKey == nil:
		return fmt.Errorf("%w: TLS has no certificate", ErrInvalidConfig)
	case c.CAs == nil:
		return fmt.Errorf("%w: TLS has no CA pool", ErrInvalidConfig)
	case c.ClusterID == "" || strings.Contains(c.ClusterID, "/"):
		return fmt.Errorf("%w: TLS cluster ID %q is empty or has a /", ErrInvalidConfig, c.ClusterID)
	}
	return nil
}

// serverTLS is the configuration of incoming connections: a client
// certificate signed by the CAs is required; which node it names is
// checked against the hello (checkPeerIdentity).
func (c *TLSConfig) serverTLS() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{c.Certificate},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    c.CAs,
		MinVersion:   tls.VersionTLS13,
	}
}

// clientTLS is the configuration of a connection to peer id: the server's
// certificate must be signed by the CAs and name node id of this cluster.
// Peers are dialed by address, so the chain is verified here rather than
// against a host name.
func (c *TLSConfig) clientTLS(id uint64) *tls.Config {
	return &tls.Config{
		Certificates:       []tls.Certificate{c.Certificate},
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // replaced by VerifyConnection, which checks the chain and the node
		VerifyConnection: func(cs tls.ConnectionState) error {
			return c.verifyNode(cs.PeerCertificates, x509.ExtKeyUsageServerAuth, id)
		},
	}
}

// verifyNode checks that chain is signed by the CAs for usage and names
// node id of this cluster.
func (c *TLSConfig) verifyNode(chain []*x509.Certificate, usage x509.ExtKeyUsage, id uint64) error {
	if len(chain) == 0 {
		return fmt.Errorf("%w: no certificate", ErrIdentity)
	}
	inter := x509.NewCertPool()
	for _, cert := range chain[1:] {
		inter.AddCert(cert)
	}
	opts := x509.VerifyOptions{Roots: c.CAs, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}
	if _, err := chain[0].Verify(opts); err != nil {
		return fmt.Errorf("%w: %w", ErrIdentity, err)
	}
	cluster, got, err := CertIdentity(chain[0])
	switch {
	case err != nil:
		return err
	case cluster != c.ClusterID:
		return fmt.Errorf("%w: the certificate is for cluster %q, this is %q", ErrIdentity, cluster, c.ClusterID)
	case got != id:
		return fmt.Errorf("%w: the certificate is node %d's, the connection claims node %d", ErrIdentity, got, id)
	}
	return nil
}

// serverHandshake runs the TLS handshake of an incoming connection (under
// the hello's deadline, which the caller set).
func (t *Transport) serverHandshake(conn net.Conn) (*tls.Conn, error) {
	tc := tls.Server(conn, t.serverTLS)
	if err := tc.HandshakeContext(t.ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIdentity, err)
	}
	return tc, nil
}

// checkPeerIdentity checks that the certificate of an incoming TLS
// connection names node from, the hello's sender, of this cluster. The
// chain was verified in the handshake; it is verified again here with the
// node's own rule, which costs little once per connection.
func (t *Transport) checkPeerIdentity(tc *tls.Conn, from uint64) error {
	return t.cfg.TLS.verifyNode(tc.ConnectionState().PeerCertificates, x509.ExtKeyUsageClientAuth, from)
}

// clientHandshake wraps an outgoing connection to peer id in TLS and runs
// the handshake within the dial timeout.
func (p *peer) clientHandshake(conn net.Conn) (net.Conn, error) {
	tc := tls.Client(conn, p.t.cfg.TLS.clientTLS(p.id))
	ctx, cancel := context.WithTimeout(p.ctx, p.t.cfg.DialTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}
