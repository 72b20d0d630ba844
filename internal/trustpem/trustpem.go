// Package trustpem makes HTTP transports that trust the certificates of a
// PEM file and nothing else: how the tests reach a server with a
// self-signed certificate, such as a real Jupyter Server that
// WITH_JUPYTER_TLS=1 scripts/with-jupyter.sh serves over https (its
// NBSERV_JUPYTER_CA names the file).
package trustpem

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// ErrNoCertificate is returned for a file that holds no PEM certificate.
var ErrNoCertificate = errors.New("trustpem: no PEM certificate in the file")

// Transport returns a clone of http.DefaultTransport (its own connection
// pool: the caller closes its idle connections) whose TLS configuration
// trusts the certificates in the PEM file at path instead of the system's
// roots.
func Transport(path string) (*http.Transport, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trustpem: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%w: %s", ErrNoCertificate, path)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr, nil
}
