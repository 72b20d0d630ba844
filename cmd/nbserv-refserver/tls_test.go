package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
)

// trusting returns a TLS configuration that trusts the certificate the
// server wrote to certFile, and nothing else.
func trusting(t *testing.T, certFile string) *tls.Config {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no certificate in %s", b)
	}
	return &tls.Config{RootCAs: pool}
}

// -tls-cert-out serves https and wss:// with a certificate of its own,
// which a client trusting the file it wrote accepts: REST calls and a
// kernel's channels.
func TestTLSCertOut(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	url := start(t, "-token", "t", "-base-url", "/user/ci/", "-tls-cert-out", certFile)
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("printed %q", url)
	}
	tr := &http.Transport{TLSClientConfig: trusting(t, certFile)}
	defer tr.CloseIdleConnections()
	c, err := nbserv.NewClient(nbserv.Config{BaseURL: url, Token: nbserv.NewSecret("t"), HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := c.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.Kernels.Connect(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if ex, err := conn.Execute(ctx, `print("tls")`); err != nil || ex.Stdout() != "tls\n" {
		t.Errorf("Execute over wss: %+v, %v", ex, err)
	}
	// Plain http to the https port is no answer.
	if resp, err := http.Get(strings.Replace(url, "https:", "http:", 1) + "api"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain http to the https port answered 200")
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

// Over TLS too, idle keep-alive connections make room at -max-conns:
// the limit sees the connection beneath TLS.
func TestTLSIdleConnectionsMakeRoom(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	url := start(t, "-max-conns", "2", "-tls-cert-out", certFile)
	cfg := trusting(t, certFile)
	cfg.ServerName = "127.0.0.1"
	for i := range 6 {
		c := dial(t, strings.Replace(url, "https:", "http:", 1))
		tc := tls.Client(c, cfg.Clone())
		tc.SetDeadline(time.Now().Add(slotBound))
		r := bufio.NewReader(tc)
		fmt.Fprint(tc, "GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(r, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("client %d, its connection kept idle by the ones before: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
