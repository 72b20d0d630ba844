package nbserv

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Terminal bodies as Jupyter Server 1.23.3 sent them
// (docs/wire/terminals.md T1, T2, T3, T4, T6, T7).
const (
	wireTerminal     = `{"name": "1", "last_activity": "2026-11-27T21:29:40.345179Z"}`
	wireTerminals    = `[{"name": "1", "last_activity": "2026-11-27T21:29:40.345179Z"}, {"name": "2", "last_activity": "2026-11-27T21:29:40.372490Z"}, {"name": "3", "last_activity": "2026-11-27T21:29:40.401508Z"}, {"name": "mine", "last_activity": "2026-11-27T21:29:40.425272Z"}]`
	wireNoTerminal   = `{"message": "Terminal not found: 99", "reason": null}`
	testTerminalsURL = "http://jupyter.test/api/terminals"
)

func TestTerminalsList(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", testTerminalsURL, 200, wireTerminals)
	list, err := c.Terminals.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Terminal{
		{"1", mustTime(t, "2026-11-27T21:29:40.345179Z")}, {"2", mustTime(t, "2026-11-27T21:29:40.372490Z")},
		{"3", mustTime(t, "2026-11-27T21:29:40.401508Z")}, {"mine", mustTime(t, "2026-11-27T21:29:40.425272Z")},
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	c, m = newMock(t, "http://jupyter.test")
	m.on("GET", testTerminalsURL, 200, `[]`)
	if list, err := c.Terminals.List(context.Background()); err != nil || list == nil || len(list) != 0 {
		t.Errorf("empty List = %#v, %v", list, err)
	}
}

func TestTerminalsCreate(t *testing.T) {
	for cwd, body := range map[string]string{"": "", "/srv/data": `{"cwd":"/srv/data"}`, "sub dir": `{"cwd":"sub dir"}`} {
		c, m := newMock(t, "http://jupyter.test/user/alice")
		m.on("POST", "http://jupyter.test/user/alice/api/terminals", 200, wireTerminal)
		term, err := c.Terminals.Create(context.Background(), cwd)
		if err != nil || term.Name != "1" || !term.LastActivity.Equal(mustTime(t, "2026-11-27T21:29:40.345179Z")) {
			t.Fatalf("Create(%q) = %+v, %v", cwd, term, err)
		}
		r := m.requests()[0]
		if r.Method != "POST" || r.Body != body || (body != "") != (r.Header.Get("Content-Type") == "application/json") {
			t.Errorf("Create(%q) sent %s %q (Content-Type %q)", cwd, r.Method, r.Body, r.Header.Get("Content-Type"))
		}
	}
}

func TestTerminalsGetAndDelete(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", testTerminalsURL+"/1", 200, wireTerminal)
	m.on("GET", testTerminalsURL+"/99", 404, wireNoTerminal)
	m.on("DELETE", testTerminalsURL+"/1", 204, "")
	m.on("DELETE", testTerminalsURL+"/99", 404, wireNoTerminal)
	ctx := context.Background()
	if term, err := c.Terminals.Get(ctx, "1"); err != nil || term.Name != "1" {
		t.Errorf("Get = %+v, %v", term, err)
	}
	var e *Error
	if _, err := c.Terminals.Get(ctx, "99"); !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || e.Message != "Terminal not found: 99" {
		t.Errorf("Get 99: %v", err)
	}
	if err := c.Terminals.Delete(ctx, "1"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := c.Terminals.Delete(ctx, "99"); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotSupported) {
		t.Errorf("Delete 99: %v", err)
	}
	if n := len(m.requests()); n != 4 {
		t.Errorf("%d requests, want 4 (a JSON 404 needs no version check)", n)
	}
}

// A 404 after an attempt that may have been carried out (a gateway's 502)
// means that attempt deleted the terminal; after a refusal (503) it does
// not.
func TestTerminalsDeleteRetried404IsSuccess(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	sequence(m, "DELETE", testTerminalsURL+"/1", []int{502, 404})
	var r Response
	if err := c.Terminals.Delete(context.Background(), "1", WithResponse(&r)); err != nil || r.Attempts != 2 {
		t.Errorf("Delete = %v after %d attempts", err, r.Attempts)
	}
	c, m = newMock(t, "http://jupyter.test")
	sequence(m, "DELETE", testTerminalsURL+"/2", []int{503, 404})
	if err := c.Terminals.Delete(context.Background(), "2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete after a refusal and a 404 = %v, want ErrNotFound", err)
	}
}

func TestTerminalNames(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	ctx := context.Background()
	for _, name := range []string{"", "a-b", "../1", "1/2", "é", "1 2", "%31"} {
		if _, err := c.Terminals.Get(ctx, name); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Get(%q) = %v", name, err)
		}
		if err := c.Terminals.Delete(ctx, name); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Delete(%q) = %v", name, err)
		}
	}
	if n := len(m.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// A server with terminals disabled answers every terminals URL with its
// HTML 404 page (docs/wire/terminals.md T8): every call reports ErrNotSupported.
func TestTerminalsDisabledIsNotSupported(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", `=~^http://jupyter\.test/api/terminals`, 404, wireHTML404, "Content-Type", "text/html")
	m.on("POST", testTerminalsURL, 404, wireHTML404, "Content-Type", "text/html")
	m.on("DELETE", testTerminalsURL+"/1", 404, wireHTML404, "Content-Type", "text/html")
	m.on("GET", testVersionURL, 200, wireVersion)
	ctx := context.Background()
	calls := map[string]func() error{
		"GET /api/terminals":           func() error { _, err := c.Terminals.List(ctx); return err },
		"POST /api/terminals":          func() error { _, err := c.Terminals.Create(ctx, ""); return err },
		"GET /api/terminals/{name}":    func() error { _, err := c.Terminals.Get(ctx, "1"); return err },
		"DELETE /api/terminals/{name}": func() error { return c.Terminals.Delete(ctx, "1") },
	}
	for feature, call := range calls {
		err := call()
		var ns *NotSupportedError
		if !errors.Is(err, ErrNotSupported) || !errors.As(err, &ns) || ns.Feature != feature || ns.ServerVersion != "1.23.3" {
			t.Errorf("%s: %v", feature, err)
		}
	}
}
