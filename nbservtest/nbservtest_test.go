package nbservtest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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

// With a kernel start delay, concurrent creates for one path make a session
// each, as on Jupyter Server 1.23; without one they share a session.
func TestKernelStartDelayOpensJupytersRace(t *testing.T) {
	for _, c := range []struct {
		delay time.Duration
		want  int
	}{{200 * time.Millisecond, 3}, {0, 1}} {
		srv := nbservtest.NewServer(t)
		srv.SetKernelStartDelay(c.delay)
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := srv.Client.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "race.ipynb", Type: nbserv.SessionNotebook}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		list, err := srv.Client.Sessions.List(context.Background())
		if err != nil || len(list) != c.want {
			t.Errorf("delay %v: %d sessions (%v), want %d", c.delay, len(list), err, c.want)
		}
	}
}

// Controls named for a session take a session id, those named for a
// kernel a kernel id, and say which was unknown: every one of them, the
// same way, for another kind's id and for an id nothing has.
func TestControlsTakeTheIdTheyName(t *testing.T) {
	srv := nbservtest.NewServer(t)
	ctx := context.Background()
	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a", Type: "file"})
	if err != nil {
		t.Fatal(err)
	}
	kernelControls := map[string]func(id string) error{
		"KillKernel":            srv.KillKernel,
		"SetKernelActivity":     func(id string) error { return srv.SetKernelActivity(id, "idle", time.Now()) },
		"FailRestarts":          func(id string) error { return srv.FailRestarts(id, 1) },
		"CrashKernel":           func(id string) error { return srv.CrashKernel(id, false) },
		"CrashKernel, for good": func(id string) error { return srv.CrashKernel(id, true) },
	}
	sessionControls := map[string]func(id string) error{
		"KillSessionKernel": srv.KillSessionKernel,
		"GoneOnDelete":      srv.GoneOnDelete,
	}
	for _, id := range []string{s.ID, "a-b-c-d-e"} {
		for name, control := range kernelControls {
			if err := control(id); !errors.Is(err, nbservtest.ErrNoSuchKernel) || !strings.Contains(err.Error(), id) {
				t.Errorf("%s(%s) = %v, want ErrNoSuchKernel naming the id", name, id, err)
			}
		}
	}
	for _, id := range []string{s.Kernel.ID, "a-b-c-d-e"} {
		for name, control := range sessionControls {
			if err := control(id); !errors.Is(err, nbservtest.ErrNoSuchSession) || !strings.Contains(err.Error(), id) {
				t.Errorf("%s(%s) = %v, want ErrNoSuchSession naming the id", name, id, err)
			}
		}
	}
	if err := srv.KillKernel(s.Kernel.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.Sessions.Get(ctx, s.ID); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("session of a killed kernel: %v, want ErrNotFound", err)
	}
	s, _ = srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "b", Type: "file"})
	if err := srv.KillSessionKernel(s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.Sessions.Get(ctx, s.ID); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("session after KillSessionKernel: %v, want ErrNotFound", err)
	}
}
