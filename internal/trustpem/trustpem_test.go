package trustpem_test

import (
	"encoding/pem"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/nbserv/go-nbserv/internal/trustpem"
)

// A transport from the server's certificate reaches it, where the
// system's roots do not; a file without a certificate, or no file, is an
// error saying which.
func TestTransport(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	tr, err := trustpem.Transport(ca)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	get := func(c *http.Client, url string) error {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(&http.Client{Transport: tr}, srv.URL); err != nil {
		t.Errorf("trusting its certificate: %v", err)
	}
	if err := get(http.DefaultClient, srv.URL); err == nil {
		t.Error("the default client trusted httptest's certificate")
	}
	if tr == http.DefaultTransport {
		t.Error("Transport returned the shared default transport")
	}

	if _, err := trustpem.Transport(write("empty.pem", []byte("not a certificate\n"))); !errors.Is(err, trustpem.ErrNoCertificate) {
		t.Errorf("a file without a certificate: %v, want ErrNoCertificate", err)
	}
	if _, err := trustpem.Transport(filepath.Join(dir, "missing.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want fs.ErrNotExist", err)
	}
}
