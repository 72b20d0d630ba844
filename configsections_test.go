package nbserv

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Config section bodies as Jupyter Server 1.23.3 sent them
// (docs/wire/server.md SV19, SV20, SV21, SV22).
const (
	wireConfigMerged = `{"a": 1, "nested": {"y": {"z": true}, "w": 2}, "list": [3], "b": "two"}`
	wireConfigCrash  = `{"message": "Unhandled error", "reason": null, "traceback": "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/jupyter_server/config_manager.py\", line 32, in recursive_update\n    target[k] = v\n    ~~~~~~^^^\nTypeError: 'int' object does not support item assignment\n"}`
	testConfigURL    = "http://jupyter.test/api/config/notebook"
)

func TestConfigGet(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", testConfigURL, 200, wireConfigMerged)
	got, err := c.ConfigSections.Get(context.Background(), "notebook")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": 1.0, "nested": map[string]any{"y": map[string]any{"z": true}, "w": 2.0}, "list": []any{3.0}, "b": "two"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	var typed struct {
		A      int64 `json:"a"`
		Nested struct {
			W int `json:"w"`
		} `json:"nested"`
		B string `json:"b"`
	}
	if err := c.ConfigSections.GetInto(context.Background(), "notebook", &typed); err != nil || typed.A != 1 || typed.Nested.W != 2 || typed.B != "two" {
		t.Errorf("GetInto: %+v, %v", typed, err)
	}
	if reqs := m.requests(); len(reqs) != 2 || reqs[0].Method != "GET" || reqs[0].URL != testConfigURL {
		t.Errorf("requests %+v", reqs)
	}
}

// A section never written is {} (docs/wire/server.md SV19); a server answering null still gives
// an empty map, never nil; anything but an object is an error.
func TestConfigGetShapes(t *testing.T) {
	for body, ok := range map[string]bool{`{}`: true, `null`: true, `[]`: false, `"x"`: false, `{`: false} {
		c, m := newMock(t, "http://jupyter.test")
		m.on("GET", testConfigURL, 200, body)
		got, err := c.ConfigSections.Get(context.Background(), "notebook")
		if ok && (err != nil || got == nil || len(got) != 0) || !ok && err == nil {
			t.Errorf("Get of %s = %#v, %v", body, got, err)
		}
	}
}

func TestConfigUpdateSendsTheMergePatch(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test/user/alice")
	url := "http://jupyter.test/user/alice/api/config/notebook"
	m.on("PATCH", url, 200, wireConfigMerged)
	got, err := c.ConfigSections.Update(context.Background(), "notebook", map[string]any{
		"b": "two", "nested": map[string]any{"x": nil, "w": 2}, "list": []int{3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["b"] != "two" || got["list"].([]any)[0] != 3.0 {
		t.Errorf("Update = %v", got)
	}
	r := m.requests()[0]
	if r.Method != "PATCH" || r.URL != url || r.Body != `{"b":"two","list":[3],"nested":{"w":2,"x":null}}` ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %s (%s)", r.Method, r.URL, r.Body, r.Header.Get("Content-Type"))
	}
}

// A nil patch is sent as {}: JSON null crashes Jupyter (docs/wire/server.md SV22).
func TestConfigUpdateNilPatch(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("PATCH", testConfigURL, 200, `{}`)
	if got, err := c.ConfigSections.Update(context.Background(), "notebook", nil); err != nil || got == nil {
		t.Fatalf("Update(nil) = %v, %v", got, err)
	}
	if body := m.requests()[0].Body; body != `{}` {
		t.Errorf("body %q, want {}", body)
	}
}

func TestConfigUpdateCrash(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("PATCH", testConfigURL, 500, wireConfigCrash)
	_, err := c.ConfigSections.Update(context.Background(), "notebook", map[string]any{"a": map[string]any{"k": 1}})
	var e *Error
	if !errors.Is(err, ErrServer) || !errors.As(err, &e) || e.Message != "Unhandled error" {
		t.Errorf("err = %v", err)
	}
	if n := len(m.requests()); n != 1 {
		t.Errorf("a 500 was retried: %d requests", n)
	}
}

// A merge patch applied twice gives the result of applying it once, so an
// Update whose answer was lost is sent again.
func TestConfigUpdateIsRetriedAfterALostAnswer(t *testing.T) {
	var n atomic.Int32
	c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 { // act, then lose the answer
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		w.Write([]byte(`{"k": 1}`))
	}, fastRetries)
	var r Response
	if got, err := c.ConfigSections.Update(context.Background(), "notebook", map[string]any{"k": 1}, WithResponse(&r)); err != nil || got["k"] != 1.0 {
		t.Fatalf("Update = %v, %v", got, err)
	}
	if n.Load() != 2 || r.Attempts != 2 {
		t.Errorf("%d requests, %d attempts; want 2", n.Load(), r.Attempts)
	}
}

// Section names are what Jupyter's \w+ route matches on the encoded path
// (docs/wire/server.md SV24); anything else fails before any request.
func TestConfigSectionNames(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", `=~^http://jupyter\.test/api/config/`, 200, `{}`)
	m.on("PATCH", `=~^http://jupyter\.test/api/config/`, 200, `{}`)
	ctx := context.Background()
	for _, s := range []string{"notebook", "tree", "common", "e2e_123", "X9"} {
		if _, err := c.ConfigSections.Get(ctx, s); err != nil {
			t.Errorf("Get(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "a-b", "a.b", "é", "a/b", "../x", "a b", "a%20b"} {
		if _, err := c.ConfigSections.Get(ctx, s); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Get(%q) = %v", s, err)
		}
		if err := c.ConfigSections.GetInto(ctx, s, &map[string]any{}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("GetInto(%q) = %v", s, err)
		}
		if _, err := c.ConfigSections.Update(ctx, s, map[string]any{"a": 1}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Update(%q) = %v", s, err)
		}
	}
	if n := len(m.requests()); n != 5 {
		t.Errorf("%d requests, want 5", n)
	}
}
