package refserver

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/nbserv/go-nbserv/internal/trustpem"
)

// The differential tests reach both peers the same way: when the real
// server is served over https (WITH_JUPYTER_TLS=1 scripts/with-jupyter.sh
// sets an https NBSERV_JUPYTER_URL and NBSERV_JUPYTER_CA, the PEM file of
// its certificate), the reference server is served over https too, so
// that both answer through TLS and their WebSockets are wss://. Each
// peer's client trusts its own server's certificate and nothing else.

// diffOverTLS reports whether the real server named by NBSERV_JUPYTER_URL
// is served over https.
func diffOverTLS() bool {
	return strings.HasPrefix(os.Getenv("NBSERV_JUPYTER_URL"), "https:")
}

// newDiffServer serves h for a differential test, over https when the
// real server is (diffOverTLS), and returns the server, closed when the
// test ends, and a client for it.
func newDiffServer(t testing.TB, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	var ts *httptest.Server
	if diffOverTLS() {
		ts = httptest.NewTLSServer(h)
		t.Logf("both peers over TLS: the reference server at %s", ts.URL)
	} else {
		ts = httptest.NewServer(h)
	}
	t.Cleanup(ts.Close)
	return ts, ts.Client()
}

// jupyterClient is a client for the real server of a differential test:
// a transport of the test's own (its idle connections closed when the
// test ends) that trusts the certificate in NBSERV_JUPYTER_CA, when set,
// instead of the system's roots.
func jupyterClient(t testing.TB) *http.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if ca := os.Getenv("NBSERV_JUPYTER_CA"); ca != "" {
		var err error
		if tr, err = trustpem.Transport(ca); err != nil {
			t.Fatalf("NBSERV_JUPYTER_CA: %v", err)
		}
	} else if diffOverTLS() {
		t.Fatal("NBSERV_JUPYTER_URL is https but NBSERV_JUPYTER_CA is not set: WITH_JUPYTER_TLS=1 scripts/with-jupyter.sh sets both")
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestDiffServerTLS: with an https real server the reference peer is
// served over https too, and each peer's client trusts its own server
// (the real one's from NBSERV_JUPYTER_CA), which the system's roots do
// not.
func TestDiffServerTLS(t *testing.T) {
	other := httptest.NewTLSServer(http.NotFoundHandler()) // stands for the real server
	defer other.Close()
	ca := t.TempDir() + "/ca.pem"
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NBSERV_JUPYTER_URL", other.URL+"/user/ci/")
	t.Setenv("NBSERV_JUPYTER_CA", ca)

	ref, refClient := newDiffServer(t, http.NotFoundHandler())
	if !strings.HasPrefix(ref.URL, "https://") {
		t.Fatalf("reference peer at %s: want https", ref.URL)
	}
	jc := jupyterClient(t)
	for _, c := range []struct {
		name   string
		client *http.Client
		url    string
		ok     bool
	}{
		{"reference client, reference server", refClient, ref.URL, true},
		{"real client, real server", jc, other.URL, true},
		{"the default client, reference server", http.DefaultClient, ref.URL, false},
	} {
		resp, err := c.client.Get(c.url)
		if err == nil {
			resp.Body.Close()
		}
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok %v", c.name, err, c.ok)
		}
	}

	t.Setenv("NBSERV_JUPYTER_URL", "http://127.0.0.1:1/")
	if plain, _ := newDiffServer(t, http.NotFoundHandler()); !strings.HasPrefix(plain.URL, "http://") {
		t.Errorf("reference peer at %s with an http real server: want http", plain.URL)
	}
}
