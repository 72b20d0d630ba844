package nbserv_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The SDK against Jupyter Enterprise Gateway itself (the TestE2EGateway
// tests). With NBSERV_GATEWAY_URL and NBSERV_GATEWAY_TOKEN set
// (scripts/with-gateway.sh sets them, and NBSERV_GATEWAY_LIST_KERNELS to 0
// or 1 after the gateway's list_kernels) they run against that gateway;
// without, as the other E2E tests fall back to the reference server, they
// run against a stand-in: the reference server behind a handler that
// answers, from the recordings in testdata/enterprise-gateway-3.3.0, what
// the gateway answers differently (docs/wire/gateway.md), once with
// list_kernels off and once on.

// gatewayTarget is one gateway the tests run against.
type gatewayTarget struct {
	name, url, token string
	// listKernels is the gateway's list_kernels: off, it refuses GET
	// /api/kernels and /api/sessions with a 403.
	listKernels bool
	// standIn is the stand-in, nil against a real gateway, whose kernels
	// are ipykernel's: they can print their environment.
	standIn *gatewayStandIn
}

func gatewayTargets(t *testing.T) []gatewayTarget {
	if u := os.Getenv("NBSERV_GATEWAY_URL"); u != "" {
		return []gatewayTarget{{name: "gateway", url: u, token: os.Getenv("NBSERV_GATEWAY_TOKEN"),
			listKernels: os.Getenv("NBSERV_GATEWAY_LIST_KERNELS") == "1"}}
	}
	var out []gatewayTarget
	for _, list := range []bool{false, true} {
		g := newGatewayStandIn(t, list)
		name := "stand-in-list-off"
		if list {
			name = "stand-in-list-on"
		}
		out = append(out, gatewayTarget{name: name, url: g.url, token: g.token, listKernels: list, standIn: g})
	}
	return out
}

func forEachGateway(t *testing.T, f func(t *testing.T, g gatewayTarget, c *nbserv.Client)) {
	for _, g := range gatewayTargets(t) {
		t.Run(g.name, func(t *testing.T) { f(t, g, newClient(t, g.url, g.token)) })
	}
}

// gatewayEnv is a start request's env the gateway accepts: it refuses a
// kernel without a KERNEL_USERNAME it allows (docs/wire/gateway.md GW4).
func gatewayEnv(extra map[string]string) map[string]string {
	env := map[string]string{"KERNEL_USERNAME": "ci"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// startGatewayKernel starts a kernel with env and deletes it when the test
// ends.
func startGatewayKernel(t *testing.T, c *nbserv.Client, env map[string]string) *nbserv.Kernel {
	t.Helper()
	k, err := c.Kernels.Start(context.Background(), nbserv.StartKernelRequest{Name: "python3", Env: gatewayEnv(env)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Kernels.Delete(context.Background(), k.ID); err != nil && !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("cleanup: Delete %s: %v", k.ID, err)
		}
	})
	return k
}

// checkForbidden asserts the refusal of a call the gateway does not allow
// with the token it accepted: ErrForbidden, never ErrUnauthorized.
func checkForbidden(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, nbserv.ErrForbidden) || errors.Is(err, nbserv.ErrUnauthorized) || errors.Is(err, nbserv.ErrNotSupported) {
		t.Errorf("%s: %v; want ErrForbidden only", what, err)
	}
}

// gatewayContext bounds a test's calls, kernel executions included, to
// two minutes: a kernel the local process proxy starts answers within
// seconds, so only a hang reaches the bound, which then fails the test
// rather than the whole run.
func gatewayContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestE2EGatewayVersion(t *testing.T) {
	forEachGateway(t, func(t *testing.T, g gatewayTarget, c *nbserv.Client) {
		v, err := c.Server.Version(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v.GatewayVersion != "3.3.0" || v.Major != 1 {
			t.Errorf("Version = %+v; want Jupyter Server 1.x and gateway_version 3.3.0", *v)
		}
	})
}

// The three refusals are three typed errors: a wrong token, a call the
// gateway does not allow, an API it does not serve.
func TestE2EGatewayRefusals(t *testing.T) {
	forEachGateway(t, func(t *testing.T, g gatewayTarget, c *nbserv.Client) {
		ctx := gatewayContext(t)
		wrong := newClient(t, g.url, "wrong-"+g.token)
		_, err := wrong.KernelSpecs.List(ctx)
		if !errors.Is(err, nbserv.ErrUnauthorized) || errors.Is(err, nbserv.ErrForbidden) {
			t.Errorf("wrong token: %v; want ErrUnauthorized only", err)
		}
		_, err = c.Kernels.Start(ctx, nbserv.StartKernelRequest{Name: "python3", Env: map[string]string{"KERNEL_USERNAME": "root"}})
		checkForbidden(t, "Start as root", err)

		for call, err := range map[string]error{
			"/api/contents/": func() error { _, err := c.Contents.Get(ctx, "a.ipynb", nbserv.GetOptions{}); return err }(),
			"/api/terminals": func() error { _, err := c.Terminals.List(ctx); return err }(),
			"/api/status":    func() error { _, err := c.Server.Status(ctx); return err }(),
		} {
			var ns *nbserv.NotSupportedError
			if !errors.Is(err, nbserv.ErrNotSupported) || !errors.As(err, &ns) || !strings.Contains(ns.Feature, call) ||
				errors.Is(err, nbserv.ErrForbidden) || errors.Is(err, nbserv.ErrUnauthorized) {
				t.Errorf("%s: %v; want ErrNotSupported naming it", call, err)
			}
		}
	})
}

func TestE2EGatewayKernels(t *testing.T) {
	forEachGateway(t, func(t *testing.T, g gatewayTarget, c *nbserv.Client) {
		ctx := gatewayContext(t)
		mark := "m" + strings.ReplaceAll(uniquePath(t, ""), "/", "_")
		k := startGatewayKernel(t, c, map[string]string{"KERNEL_GO_NBSERV_MARK": mark})
		if got, err := c.Kernels.Get(ctx, k.ID); err != nil || got.ID != k.ID || got.Name != "python3" {
			t.Errorf("Get: %+v, %v", got, err)
		}
		list, err := c.Kernels.List(ctx)
		if g.listKernels {
			if err != nil || !slices.ContainsFunc(list, func(x nbserv.Kernel) bool { return x.ID == k.ID }) {
				t.Errorf("List: %+v, %v; want %s in it", list, err, k.ID)
			}
		} else {
			checkForbidden(t, "List", err)
		}

		// The env reached the kernel: the gateway put it in its environment.
		if g.standIn == nil {
			conn, err := c.Kernels.Connect(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := conn.Execute(ctx, `import os; print(os.environ.get("KERNEL_GO_NBSERV_MARK"))`)
			conn.Close()
			if err != nil || ex.Stdout() != mark+"\n" {
				t.Errorf("the kernel's KERNEL_GO_NBSERV_MARK: %+v, %v; want %s", ex, err, mark)
			}
		} else if !g.standIn.started(mark) {
			t.Errorf("the stand-in got no start with KERNEL_GO_NBSERV_MARK %s", mark)
		}

		if _, err := c.Kernels.Interrupt(ctx, k.ID); err != nil {
			t.Errorf("Interrupt: %v", err)
		}
		if r, err := c.Kernels.Restart(ctx, k.ID); err != nil || r.ID != k.ID {
			t.Errorf("Restart: %+v, %v", r, err)
		}
		if err := c.Kernels.Delete(ctx, k.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		// A missing kernel is not a missing API.
		_, err = c.Kernels.Get(ctx, k.ID)
		if !errors.Is(err, nbserv.ErrNotFound) || errors.Is(err, nbserv.ErrNotSupported) {
			t.Errorf("Get after Delete: %v; want ErrNotFound, not ErrNotSupported", err)
		}
	})
}

func TestE2EGatewayKernelSpecs(t *testing.T) {
	forEachGateway(t, func(t *testing.T, g gatewayTarget, c *nbserv.Client) {
		specs, err := c.KernelSpecs.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if specs.Default != "python3" || specs.KernelSpecs["python3"] == nil {
			t.Errorf("List: %+v", specs)
		}
		if ks, err := c.KernelSpecs.Get(context.Background(), "python3"); err != nil || ks.Name != "python3" {
			t.Errorf("Get python3: %+v, %v", ks, err)
		}
	})
}

func TestE2EGatewayChannelsExecute(t *testing.T) {
	forEachGateway(t, func(t *testing.T, g gatewayTarget, c *nbserv.Client) {
		ctx := gatewayContext(t)
		k := startGatewayKernel(t, c, nil)
		for _, p := range []string{kernel.ProtocolV1, kernel.ProtocolLegacy} {
			conn, err := c.Kernels.Connect(ctx, k.ID, kernel.WithProtocol(p))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			ex, err := conn.Execute(ctx, `print("x")`)
			if err != nil || ex.Stdout() != "x\n" || conn.Subprotocol() != p {
				t.Errorf("%s: %+v, %v (spoke %s)", p, ex, err, conn.Subprotocol())
			}
			conn.Close()
		}
	})
}

// The gateway keeps sessions in memory, and starts a session's kernel with
// no env: its own user's name must be one it allows (scripts/with-gateway.sh,
// docs/wire/gateway.md GW4).
func TestE2EGatewaySessions(t *testing.T) {
	forEachGateway(t, func(t *testing.T, g gatewayTarget, c *nbserv.Client) {
		ctx := gatewayContext(t)
		s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: uniquePath(t, "g.ipynb"), Type: nbserv.SessionNotebook,
			Kernel: &nbserv.KernelRequest{Name: "python3"}})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		// The gateway answers the Delete of a session it no longer has with
		// a 410 (docs/wire/gateway.md GW8).
		t.Cleanup(func() {
			err := c.Sessions.Delete(context.Background(), s.ID)
			if err != nil && !errors.Is(err, nbserv.ErrNotFound) && !errors.Is(err, nbserv.ErrKernelGone) {
				t.Errorf("cleanup: Delete %s: %v", s.ID, err)
			}
		})
		if s.Kernel == nil || s.Kernel.ID == "" {
			t.Fatalf("Create: no kernel: %+v", s)
		}
		// Enterprise Gateway 3.3.0 crashes on GET and PATCH of a session it
		// has (docs/wire/gateway.md GW8): the SDK reports the 500.
		if got, err := c.Sessions.Get(ctx, s.ID); !errors.Is(err, nbserv.ErrServer) {
			t.Errorf("Get: %+v, %v; want the gateway's 500", got, err)
		}
		list, err := c.Sessions.List(ctx)
		if g.listKernels {
			if err != nil || !slices.ContainsFunc(list, func(x nbserv.Session) bool { return x.ID == s.ID }) {
				t.Errorf("List: %+v, %v; want %s in it", list, err, s.ID)
			}
		} else {
			checkForbidden(t, "List", err)
		}
		// Sessions.Connect asks for the session (that 500); its kernel's id
		// came with Create.
		conn, err := c.Kernels.Connect(ctx, s.Kernel.ID)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := conn.Execute(ctx, `print("x")`)
		conn.Close()
		if err != nil || ex.Stdout() != "x\n" {
			t.Errorf("Execute: %+v, %v", ex, err)
		}
		if err := c.Sessions.Delete(ctx, s.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := c.Sessions.Get(ctx, s.ID); !errors.Is(err, nbserv.ErrNotFound) || errors.Is(err, nbserv.ErrNotSupported) {
			t.Errorf("Get after Delete: %v; want ErrNotFound", err)
		}
	})
}

// The README's gateway snippet starts and deletes a kernel with its env.
func TestREADMEGatewaySnippet(t *testing.T) {
	forEachGateway(t, func(t *testing.T, g gatewayTarget, c *nbserv.Client) {
		if err := runReadmeGateway(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	})
}

// gatewayStandIn is the reference server answering as Enterprise Gateway
// 3.3.0 where the gateway's answers differ, from their recordings.
type gatewayStandIn struct {
	url, token  string
	listKernels bool
	ref         *nbservtest.Server
	proxy       *httputil.ReverseProxy

	mu    sync.Mutex
	marks []string // each start's KERNEL_GO_NBSERV_MARK
}

func newGatewayStandIn(t *testing.T, listKernels bool) *gatewayStandIn {
	ref := nbservtest.NewServer(t)
	target, err := url.Parse(ref.URL)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatewayStandIn{token: "gw-" + ref.Token, listKernels: listKernels, ref: ref}
	g.proxy = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Set("Authorization", "token "+ref.Token)
	}, ModifyResponse: func(resp *http.Response) error {
		// The gateway's crash on a session it has; a missing one is its 404.
		if resp.Request.Method == http.MethodGet && strings.HasPrefix(resp.Request.URL.Path, "/api/sessions/") && resp.StatusCode == http.StatusOK {
			rec := readGatewayRecording("session-get.http")
			resp.Body.Close()
			resp.StatusCode, resp.Header, resp.Body, resp.ContentLength = rec.StatusCode, rec.Header, rec.Body, rec.ContentLength
		}
		return nil
	}}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	g.url = srv.URL + "/"
	return g
}

func (g *gatewayStandIn) started(mark string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Contains(g.marks, mark)
}

// ServeHTTP answers as the gateway: the token first (401), then the routes
// it has not, the lists list_kernels refuses, the starts whose user it
// refuses; the rest is the reference server's.
func (g *gatewayStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case r.Header.Get("Authorization") != "token "+g.token:
		replayGateway(w, "wrong-token.http")
	case p == "/api" && r.Method == http.MethodGet:
		replayGateway(w, "api.http")
	case (p == "/api/kernels" || p == "/api/sessions") && r.Method == http.MethodGet && !g.listKernels:
		replayGateway(w, "kernels-list-off.http")
	case p == "/api/status" || p == "/api/me" || strings.HasPrefix(p, "/api/contents") || strings.HasPrefix(p, "/api/terminals"):
		replayGateway(w, "contents.http")
	case p == "/api/kernels" && r.Method == http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		var req struct{ Env map[string]string }
		_ = json.Unmarshal(body, &req)
		if u, ok := req.Env["KERNEL_USERNAME"]; !ok || u == "root" {
			replayGateway(w, "start-as-root.http")
			return
		}
		g.mu.Lock()
		g.marks = append(g.marks, req.Env["KERNEL_GO_NBSERV_MARK"])
		g.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		g.proxy.ServeHTTP(w, r)
	default:
		g.proxy.ServeHTTP(w, r)
	}
}

// readGatewayRecording reads an answer of the gateway's as `curl -i`
// saved it; a recording that cannot be read is a 500 saying so.
func readGatewayRecording(file string) *http.Response {
	raw, err := os.ReadFile(filepath.Join("testdata", "enterprise-gateway-3.3.0", file))
	if err == nil {
		var resp *http.Response
		if resp, err = http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil); err == nil {
			return resp
		}
	}
	msg := "stand-in: " + err.Error()
	return &http.Response{StatusCode: http.StatusInternalServerError, Header: http.Header{"Content-Type": {"text/plain"}},
		Body: io.NopCloser(strings.NewReader(msg)), ContentLength: int64(len(msg))}
}

// replayGateway writes a recorded answer of the gateway's.
func replayGateway(w http.ResponseWriter, file string) {
	resp := readGatewayRecording(file)
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
