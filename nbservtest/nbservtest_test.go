package nbservtest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

func TestNewServerStopsWithTheTest(t *testing.T) {
	var url string
	t.Run("user test", func(t *testing.T) {
		srv := nbservtest.NewServer(t)
		url = srv.URL
		if srv.Token == "" {
			t.Error("no token by default; a stock Jupyter Server requires one")
		}
		if _, err := srv.Client.Sessions.List(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	if resp, err := http.Get(url + "api"); err == nil {
		resp.Body.Close()
		t.Errorf("server still answering after its test ended")
	}
}

func TestOptions(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithToken(""), nbservtest.WithBaseURL("hub/x"),
		nbservtest.WithKernelSpecs("ir", "python3"), nbservtest.WithVersion("2.14.0"),
		nbservtest.WithClientConfig(func(c *nbserv.Config) { c.RetryMax = nbserv.NoRetries }))
	if !strings.HasSuffix(srv.URL, "/hub/x/") || srv.Token != "" {
		t.Errorf("URL %q token %q", srv.URL, srv.Token)
	}
	resp, err := http.Get(srv.URL + "api")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"version":"2.14.0"}` {
		t.Errorf("version %s", body)
	}
	s, err := srv.Client.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "a", Type: "file"})
	if err != nil || s.Kernel.Name != "ir" {
		t.Errorf("default kernelspec: %+v, %v", s, err)
	}
	// No retries configured: one injected 503 is seen.
	srv.FailNext(1, nbservtest.Fault{Status: 503})
	if _, err := srv.Client.Sessions.List(context.Background()); !errors.Is(err, nbserv.ErrServer) {
		t.Errorf("err = %v", err)
	}
	if srv.Requests() != 3 || srv.Handler() == nil {
		t.Errorf("Requests() = %d", srv.Requests())
	}
}
