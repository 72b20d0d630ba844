package refserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDifferential sends the same raw requests, step by step, to a real
// Jupyter Server and to the reference server, and compares the answers:
// status, Content-Type, Location and JSON body, after replacing ids and
// timestamps (which differ by nature) with placeholders. It needs
// NBSERV_JUPYTER_URL and NBSERV_JUPYTER_TOKEN (scripts/with-jupyter.sh sets
// them) and a server nothing else uses meanwhile, since it compares whole
// lists; the wire tests cover the same rows against the notes without it.
//
// The only differences allowed, marked per step: where Jupyter crashes
// into a 500 the traceback text differs (status and keys must match), the
// HTML 404 page differs in markup, and execution_state moves on its own in
// a real kernel.
func TestDifferential(t *testing.T) {
	jurl := os.Getenv("NBSERV_JUPYTER_URL")
	if jurl == "" {
		t.Skip("NBSERV_JUPYTER_URL not set: run under scripts/with-jupyter.sh to compare with a real Jupyter Server")
	}
	token := os.Getenv("NBSERV_JUPYTER_TOKEN")
	u, err := url.Parse(jurl)
	if err != nil {
		t.Fatal(err)
	}
	ref := httptest.NewServer(New(Options{Token: token, BaseURL: u.Path}))
	defer ref.Close()
	jupyter := &peer{t: t, origin: u.Scheme + "://" + u.Host, prefix: strings.TrimSuffix(u.Path, "/") + "/", token: token, vars: map[string]string{}}
	refPeer := &peer{t: t, origin: ref.URL, prefix: jupyter.prefix, token: token, vars: map[string]string{}}
	defer jupyter.cleanup()

	type step struct {
		name, method, path, body, auth string
		capture                        map[string]string // var name -> JSON path ("id", "kernel.id")
		crash                          bool              // Jupyter raises an unhandled exception here
		html                           bool              // Jupyter answers its HTML page
	}
	steps := []step{
		{name: "create notebook", method: "POST", path: "api/sessions", body: `{"path": "diff/nb1.ipynb", "type": "notebook", "name": "nb1"}`, capture: map[string]string{"S1": "id", "K1": "kernel.id"}},
		{name: "create same path", method: "POST", path: "api/sessions", body: `{"path": "diff/nb1.ipynb", "type": "file", "name": "other"}`},
		{name: "create console", method: "POST", path: "api/sessions", body: `{"path": "diff/c1", "type": "console"}`, capture: map[string]string{"S2": "id", "K2": "kernel.id"}},
		{name: "create attach by id", method: "POST", path: "api/sessions", body: `{"path": "diff/att", "type": "file", "kernel": {"id": "$K2"}}`, capture: map[string]string{"S4": "id"}},
		{name: "create unknown kernelspec", method: "POST", path: "api/sessions", body: `{"path": "diff/x", "type": "file", "kernel": {"name": "nosuch"}}`},
		{name: "create empty body", method: "POST", path: "api/sessions"},
		{name: "create null", method: "POST", path: "api/sessions", body: `null`},
		{name: "create bad JSON", method: "POST", path: "api/sessions", body: `{bad`},
		{name: "create no path", method: "POST", path: "api/sessions", body: `{"type": "x"}`},
		{name: "create no type", method: "POST", path: "api/sessions", body: `{"path": "x"}`},
		{name: "create path 5", method: "POST", path: "api/sessions", body: `{"path": 5, "type": "file"}`},
		{name: "create array", method: "POST", path: "api/sessions", body: `[]`, crash: true},
		{name: "create kernel null", method: "POST", path: "api/sessions", body: `{"path": "diff/kn", "type": "file", "kernel": null}`, crash: true},
		{name: "create odd name", method: "POST", path: "api/sessions", body: `{"path": "diff/odd", "type": "file", "name": 5}`},
		{name: "create dict type", method: "POST", path: "api/sessions", body: `{"path": "diff/dict", "type": {"a": 1}}`},
		{name: "create empty kernel names", method: "POST", path: "api/sessions", body: `{"path": "diff/ek", "type": "file", "kernel": {"id": "", "name": ""}}`},
		{name: "create legacy", method: "POST", path: "api/sessions", body: `{"notebook": {"path": "diff/legacy.ipynb"}}`, capture: map[string]string{"S3": "id"}},
		{name: "get", method: "GET", path: "api/sessions/$S1"},
		{name: "get unknown", method: "GET", path: "api/sessions/a-b-c-d-e"},
		{name: "get malformed id", method: "GET", path: "api/sessions/abc", html: true},
		{name: "rename", method: "PATCH", path: "api/sessions/$S2", body: `{"name": "renamed", "path": "diff/renamed.ipynb"}`},
		{name: "type notebook", method: "PATCH", path: "api/sessions/$S2", body: `{"type": "notebook"}`},
		{name: "patch {}", method: "PATCH", path: "api/sessions/$S2", body: `{}`},
		{name: "patch []", method: "PATCH", path: "api/sessions/$S2", body: `[]`},
		{name: "type console", method: "PATCH", path: "api/sessions/$S2", body: `{"type": "console"}`},
		{name: "patch unknown kernel id", method: "PATCH", path: "api/sessions/$S2", body: `{"kernel": {"id": "nope"}}`},
		{name: "patch empty", method: "PATCH", path: "api/sessions/$S2"},
		{name: "patch null", method: "PATCH", path: "api/sessions/$S2", body: `null`},
		{name: "patch bad JSON", method: "PATCH", path: "api/sessions/$S2", body: `{bad`},
		{name: "patch unknown kernelspec", method: "PATCH", path: "api/sessions/$S2", body: `{"kernel": {"name": "nosuch"}}`, crash: true},
		{name: "patch number", method: "PATCH", path: "api/sessions/$S2", body: `5`, crash: true},
		{name: "patch kernel null", method: "PATCH", path: "api/sessions/$S2", body: `{"kernel": null}`, crash: true},
		{name: "patch list name", method: "PATCH", path: "api/sessions/$S2", body: `{"name": [1]}`, crash: true},
		{name: "patch kernel id 5", method: "PATCH", path: "api/sessions/$S2", body: `{"kernel": {"id": 5}}`},
		{name: "patch odd values", method: "PATCH", path: "api/sessions/$S2", body: `{"name": 5, "path": null, "type": "notebook"}`},
		{name: "patch bool name", method: "PATCH", path: "api/sessions/$S2", body: `{"name": true}`},
		{name: "patch unknown session", method: "PATCH", path: "api/sessions/a-b-c-d-e", body: `{}`},
		{name: "new kernel by name", method: "PATCH", path: "api/sessions/$S4", body: `{"kernel": {"name": "python3"}}`, capture: map[string]string{"K4": "kernel.id"}},
		{name: "shared kernel gone with it", method: "GET", path: "api/sessions/$S2"},
		{name: "old kernel gone", method: "GET", path: "api/kernels/$K2"},
		{name: "move by id", method: "PATCH", path: "api/sessions/$S4", body: `{"kernel": {"id": "$K1", "name": "nosuch"}}`},
		{name: "list", method: "GET", path: "api/sessions"},
		{name: "kernels", method: "GET", path: "api/kernels"},
		{name: "delete kernel", method: "DELETE", path: "api/kernels/$K1"},
		{name: "session culled", method: "GET", path: "api/sessions/$S1"},
		{name: "list after cull", method: "GET", path: "api/sessions"},
		{name: "delete kernel again", method: "DELETE", path: "api/kernels/$K1"},
		{name: "create to revive", method: "POST", path: "api/sessions", body: `{"path": "diff/revive", "type": "file"}`, capture: map[string]string{"K6": "kernel.id"}},
		{name: "its kernel dies", method: "DELETE", path: "api/kernels/$K6"},
		{name: "create on a dead session's path", method: "POST", path: "api/sessions", body: `{"path": "diff/revive", "type": "file"}`, capture: map[string]string{"S7": "id"}},
		{name: "numeric path", method: "PATCH", path: "api/sessions/$S7", body: `{"path": 7}`},
		{name: "create on a numeric path", method: "POST", path: "api/sessions", body: `{"path": 7, "type": "console"}`},
		{name: "405", method: "PUT", path: "api/sessions"},
		{name: "405 on id", method: "POST", path: "api/sessions/$S3"},
		{name: "trailing slash", method: "GET", path: "api/sessions/?x=1"},
		{name: "no token", method: "GET", path: "api/sessions", auth: "none"},
		{name: "no token write", method: "DELETE", path: "api/sessions/$S3", auth: "none"},
		{name: "bearer", method: "GET", path: "api/sessions", auth: "bearer"},
		{name: "query token", method: "GET", path: "api/sessions", auth: "query"},
		{name: "version", method: "GET", path: "api", auth: "none"},
		{name: "kernelspecs", method: "GET", path: "api/kernelspecs"},
		{name: "start kernel", method: "POST", path: "api/kernels", body: `{}`, capture: map[string]string{"K5": "id"}},
		{name: "get kernel", method: "GET", path: "api/kernels/$K5"},
		{name: "stop kernel", method: "DELETE", path: "api/kernels/$K5"},
		{name: "delete", method: "DELETE", path: "api/sessions/$S3"},
		{name: "delete again", method: "DELETE", path: "api/sessions/$S3"},
		{name: "status", method: "GET", path: "api/status"},
	}
	for _, st := range steps {
		want := jupyter.send(st.method, st.path, st.body, st.auth, st.capture)
		got := refPeer.send(st.method, st.path, st.body, st.auth, st.capture)
		if want.status != got.status || want.contentType != got.contentType || want.location != got.location {
			t.Errorf("%s: jupyter %d %q %q, refserver %d %q %q", st.name, want.status, want.contentType, want.location,
				got.status, got.contentType, got.location)
			continue
		}
		switch {
		case st.html:
			if !strings.Contains(got.raw, "404 : Not Found") {
				t.Errorf("%s: refserver page lacks Jupyter's heading", st.name)
			}
		case st.crash:
			if diff := cmp.Diff(keys(want.body), keys(got.body)); diff != "" {
				t.Errorf("%s: keys (-jupyter +refserver):\n%s", st.name, diff)
			}
		default:
			if diff := cmp.Diff(want.body, got.body); diff != "" {
				t.Errorf("%s: body (-jupyter +refserver):\n%s", st.name, diff)
			}
		}
	}
}

type peer struct {
	t                     *testing.T
	origin, prefix, token string
	vars                  map[string]string
	created               []string
}

type exchange struct {
	status                int
	contentType, location string
	body                  any
	raw                   string
}

var (
	anyUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	tsRE    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
	varRE   = regexp.MustCompile(`\$[A-Z]\w*`)
)

func (p *peer) expand(s string) string {
	return varRE.ReplaceAllStringFunc(s, func(v string) string { return p.vars[v[1:]] })
}

func (p *peer) send(method, path, body, auth string, capture map[string]string) exchange {
	p.t.Helper()
	target := p.origin + p.prefix + p.expand(path)
	if auth == "query" {
		target += "?token=" + p.token
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(p.expand(body))
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		p.t.Fatal(err)
	}
	switch auth {
	case "":
		req.Header.Set("Authorization", "token "+p.token)
	case "bearer":
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ex := exchange{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"),
		location: anyUUID.ReplaceAllString(resp.Header.Get("Location"), "<id>"), raw: string(raw)}
	var v any
	if json.Unmarshal(raw, &v) == nil {
		for name, field := range capture {
			p.vars[name] = lookupPath(v, field)
		}
		if method == "POST" && path == "api/sessions" && resp.StatusCode == 201 {
			p.created = append(p.created, lookupPath(v, "id"))
		}
		ex.body = normalize(v, "")
	}
	return ex
}

func (p *peer) cleanup() {
	for _, id := range p.created {
		req, _ := http.NewRequest("DELETE", p.origin+p.prefix+"api/sessions/"+id, nil)
		req.Header.Set("Authorization", "token "+p.token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

func lookupPath(v any, path string) string {
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// normalize replaces what legitimately differs between two servers: ids,
// timestamps, a kernel's execution_state, the status counters' values.
func normalize(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = normalize(x, k)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x, key)
		}
		return out
	case string:
		if key == "execution_state" {
			return "<state>"
		}
		if tsRE.MatchString(v) {
			return "<ts>"
		}
		return anyUUID.ReplaceAllString(v, "<id>")
	}
	return v
}

// keys lists an object's keys, for comparing bodies whose texts differ.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
