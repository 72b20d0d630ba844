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

// The default server answers as Jupyter Server 2.21.1; WithGeneration(1)
// as 1.23.3, which the SDK sees through Identity.Me and the Bearer token.
// WithVersion changes only what Version reports.
func TestGenerations(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		opts    []nbservtest.Option
		gen     int
		version string
	}{
		{"default", nil, 2, "2.21.1"},
		{"WithVersion 1.x changes only the version", []nbservtest.Option{nbservtest.WithVersion("1.23.3")}, 2, "1.23.3"},
		{"WithGeneration(1)", []nbservtest.Option{nbservtest.WithGeneration(1)}, 1, "1.23.3"},
		{"WithJupyterServer2", []nbservtest.Option{nbservtest.WithJupyterServer2()}, 2, "2.21.1"},
		{"WithVersion 2.x", []nbservtest.Option{nbservtest.WithVersion("2.14.0")}, 2, "2.14.0"},
		{"WithVersion 2.x, generation 1", []nbservtest.Option{nbservtest.WithVersion("2.14.0"), nbservtest.WithGeneration(1)}, 1, "2.14.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := nbservtest.NewServer(t, c.opts...)
			if srv.Generation() != c.gen {
				t.Errorf("Generation() = %d, want %d", srv.Generation(), c.gen)
			}
			v, err := srv.Client.Server.Version(ctx)
			if err != nil || v.Raw != c.version {
				t.Errorf("Version = %+v, %v; want %s", v, err, c.version)
			}
			me, err := srv.Client.Identity.Me(ctx, map[string][]string{"contents": {"read", "write"}})
			switch c.gen {
			case 1:
				if !errors.Is(err, nbserv.ErrNotSupported) {
					t.Errorf("Me on 1.x: %+v, %v; want ErrNotSupported", me, err)
				}
			case 2:
				if err != nil || !strings.HasPrefix(me.Identity.Name, "Anonymous ") || len(me.Identity.Username) != 32 ||
					!me.Permissions.Allows("contents", "write") || me.Permissions.Allows("kernels", "execute") {
					t.Errorf("Me on 2.x: %+v, %v", me, err)
				}
			}
			req, _ := http.NewRequest("GET", srv.URL+"api/sessions", nil)
			req.Header.Set("Authorization", "Bearer "+srv.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if want := map[int]int{1: 403, 2: 200}[c.gen]; resp.StatusCode != want {
				t.Errorf("Bearer token: %d, want %d", resp.StatusCode, want)
			}
		})
	}
}

// On 2.x a kernel can be started under an id the client chooses, and a
// session created with a kernel id that is not running starts one under it.
func TestJupyterServer2KernelIDs(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithJupyterServer2())
	ctx := context.Background()
	const id = "11111111-2222-4333-8444-555555555555"
	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "k.ipynb", Type: nbserv.SessionNotebook,
		Kernel: &nbserv.KernelRequest{ID: id}})
	if err != nil || s.Kernel.ID != id {
		t.Fatalf("Create with kernel id %s: %+v, %v", id, s, err)
	}
	if _, err := srv.Client.Kernels.Get(ctx, id); err != nil {
		t.Errorf("the kernel under the id asked for: %v", err)
	}
}
