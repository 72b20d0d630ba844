package nbserv_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
)

// Over https the token stays on its origin as over http: a redirect to
// another https origin, or down to http on the same host, is not followed
// (REST calls and the kernel channels' WebSocket handshake alike) and
// carries no credential there; the same-origin redirect is followed with
// the token. The client trusts the servers through its HTTPClient's TLS
// configuration.
func TestTLSTokenStaysOnItsOrigin(t *testing.T) {
	const token = "s3cret-t0ken"
	var mu sync.Mutex
	var leaks []string
	leaky := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" || strings.Contains(r.URL.RawQuery, token) {
				mu.Lock()
				leaks = append(leaks, name+" "+r.Method+" "+r.URL.Path)
				mu.Unlock()
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[]`))
		}
	}
	other := httptest.NewTLSServer(leaky("another https origin"))
	defer other.Close()
	plain := httptest.NewServer(leaky("http on the same host"))
	defer plain.Close()
	const kernelID = "6a2e3f7e-3bd5-4bd6-9b8a-3a3f7e2b1c00"
	var authorized int
	front := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/sessions": // a same-origin redirect
			http.Redirect(w, r, "/api/sessions/", http.StatusFound)
		case "/api/sessions/":
			mu.Lock()
			if r.Header.Get("Authorization") == "token "+token {
				authorized++
			}
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[]`))
		case "/api/status":
			http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
		default: // the kernel's REST and channels URLs, anything else
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		}
	}))
	defer front.Close()

	pool := x509.NewCertPool()
	pool.AddCert(front.Certificate()) // httptest's: other presents it too
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	c, err := nbserv.NewClient(nbserv.Config{BaseURL: front.URL, Token: nbserv.NewSecret(token), HTTPClient: &http.Client{Transport: tr},
		Timeout: time.Minute, RetryMax: nbserv.NoRetries})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx := context.Background()

	if _, err := c.Kernels.Get(ctx, kernelID); !errors.Is(err, nbserv.ErrRedirect) || !strings.Contains(err.Error(), other.URL) {
		t.Errorf("REST call redirected to another https origin: %v", err)
	}
	if _, err := c.Server.Status(ctx); !errors.Is(err, nbserv.ErrRedirect) || !strings.Contains(err.Error(), plain.URL) {
		t.Errorf("REST call redirected down to http: %v", err)
	}
	conn, err := c.Kernels.Connect(ctx, kernelID)
	if err == nil {
		conn.Close()
		t.Errorf("kernel channels redirected to another https origin: connected")
	} else if strings.Contains(err.Error(), token) {
		t.Errorf("the channels' error quotes the token: %v", err)
	}
	if _, err := c.Sessions.List(ctx); err != nil {
		t.Errorf("List through a same-origin redirect: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if authorized != 1 {
		t.Errorf("%d requests with the token reached the same-origin redirect's target, want 1", authorized)
	}
	if len(leaks) > 0 {
		t.Errorf("credentials reached another origin: %q", leaks)
	}
}
