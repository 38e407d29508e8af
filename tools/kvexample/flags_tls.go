package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/tickraft/raft/tools/kvexample/transport"
)

// tlsFlags are the flags of the transport's mutual TLS.
type tlsFlags struct {
	cert, key, ca, cluster string
}

// addTLSFlags adds the TLS flags to fs.
func addTLSFlags(fs *flag.FlagSet, f *tlsFlags) {
	fs.StringVar(&f.cert, "tls-cert", "", "PEM certificate of this node, naming it tickraft://<cluster-id>/<id> (URI SAN)")
	fs.StringVar(&f.key, "tls-key", "", "PEM private key of -tls-cert")
	fs.StringVar(&f.ca, "tls-ca", "", "PEM certificates of the CAs that sign the cluster's certificates")
	fs.StringVar(&f.cluster, "cluster-id", "", "the cluster's name: checked in every transport hello, and in the certificates' URIs with TLS")
}

// load returns the transport's TLS configuration, nil when no TLS flag was
// given (-cluster-id alone is no TLS), or an error naming what is missing
// when only some were.
func (f *tlsFlags) load(id uint64) (*transport.TLSConfig, error) {
	some := f.cert != "" || f.key != "" || f.ca != "" // -cluster-id also serves alone
	var missing []string
	for _, flag := range []struct{ name, value string }{
		{"-tls-cert", f.cert}, {"-tls-key", f.key}, {"-tls-ca", f.ca}, {"-cluster-id", f.cluster},
	} {
		if flag.value == "" {
			missing = append(missing, flag.name)
		}
	}
	switch {
	case !some:
		return nil, nil
	case len(missing) > 0:
		return nil, fmt.Errorf("mutual TLS needs -tls-cert, -tls-key, -tls-ca and -cluster-id together; missing %v", missing)
	}
	cert, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
	}
	pem, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, fmt.Errorf("-tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("-tls-ca: no PEM certificate in " + f.ca)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("-tls-cert: %w", err)
	}
	cluster, named, err := transport.CertIdentity(leaf)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert: %w", err)
	}
	if cluster != f.cluster || named != id {
		return nil, fmt.Errorf("-tls-cert names node %d of cluster %q, but this is -id %d of -cluster-id %q", named, cluster, id, f.cluster)
	}
	return &transport.TLSConfig{Certificate: cert, CAs: pool, ClusterID: f.cluster}, nil
}
