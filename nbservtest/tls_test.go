package nbservtest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// WithTLS serves https and wss://: Server.Client trusts the certificate, a
// client given Certificate trusts it too, and a client that trusts only
// the system's roots refuses it.
func TestWithTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := nbservtest.NewServer(t, nbservtest.WithTLS(), nbservtest.WithBaseURL("/user/ci/"))
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") || !strings.HasSuffix(srv.URL, "/user/ci/") {
		t.Fatalf("URL %q", srv.URL)
	}
	if srv.Certificate() == nil {
		t.Fatal("no certificate")
	}
	k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := srv.Client.Kernels.Connect(ctx, k.ID) // wss://
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if ex, err := conn.Execute(ctx, `print("over wss")`); err != nil || ex.Stdout() != "over wss\n" {
		t.Fatalf("Execute: %+v, %v", ex, err)
	}

	// Another client, trusting the certificate through its own pool.
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	defer tr.CloseIdleConnections()
	own, err := nbserv.NewClient(nbserv.Config{BaseURL: srv.URL, Token: nbserv.NewSecret(srv.Token), HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := own.Kernels.Get(ctx, k.ID); err != nil || got.ID != k.ID {
		t.Errorf("a client given Certificate: %+v, %v", got, err)
	}

	// A client that does not trust it: a certificate error, not retried.
	stranger, err := nbserv.NewClient(nbserv.Config{BaseURL: srv.URL, Token: nbserv.NewSecret(srv.Token)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.CloseIdleConnections()
	var certErr *tls.CertificateVerificationError
	if _, err := stranger.Sessions.List(ctx); !errors.As(err, &certErr) {
		t.Errorf("a client without the certificate: %v", err)
	}
}

// Without WithTLS the server serves http and has no certificate.
func TestWithoutTLSNoCertificate(t *testing.T) {
	srv := nbservtest.NewServer(t)
	if !strings.HasPrefix(srv.URL, "http://") || srv.Certificate() != nil {
		t.Errorf("URL %q, certificate %v", srv.URL, srv.Certificate())
	}
}
