package refserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDifferentialREST is TestDifferential for the endpoints beyond
// sessions: kernel actions, kernelspecs and their files, status and
// version, spec.yaml and the login page, config sections, /api/me and
// terminals. It sends the same raw requests to a real Jupyter Server and
// to the reference server and compares the answers, with the same
// harness (peer, normalize) and the same needs: NBSERV_JUPYTER_URL and
// NBSERV_JUPYTER_TOKEN (scripts/with-jupyter.sh sets them), and a server
// with no kernels or terminals of anyone else's.
//
// Compared per step: status, Content-Type and Location always, then by
// mode: the JSON body (ids, timestamps and execution_state normalized);
// only its keys (where Jupyter crashes; "keys+message" adds the message);
// an HTML page's heading and error text; or nothing more ("bytes": the
// logos and spec.yaml, which are the reference server's own files).
//
// Config sections outlive a real server (they are files in its config
// dir), so the section used here is emptied before and after.
func TestDifferentialREST(t *testing.T) {
	jurl := os.Getenv("NBSERV_JUPYTER_URL")
	if jurl == "" {
		t.Skip("NBSERV_JUPYTER_URL not set: run under scripts/with-jupyter.sh to compare with a real Jupyter Server")
	}
	token := os.Getenv("NBSERV_JUPYTER_TOKEN")
	u, err := url.Parse(jurl)
	if err != nil {
		t.Fatal(err)
	}
	ref, refClient := newDiffServer(t, New(Options{Token: token, BaseURL: u.Path, Generation: diffGeneration()}))
	jupyter := &peer{t: t, client: jupyterClient(t), origin: u.Scheme + "://" + u.Host, prefix: strings.TrimSuffix(u.Path, "/") + "/", token: token, vars: map[string]string{}}
	refPeer := &peer{t: t, client: refClient, origin: ref.URL, prefix: jupyter.prefix, token: token, vars: map[string]string{}}
	defer jupyter.cleanup()
	for _, list := range []string{"api/kernels", "api/terminals"} {
		if ex := jupyter.send("GET", list, "", "", nil); ex.raw != "[]" {
			t.Fatalf("the server already has %s: %s; this test compares whole lists and needs a server of its own", list, ex.raw)
		}
	}
	defer cleanupREST(jupyter)
	resetConfig(jupyter)
	defer resetConfig(jupyter)

	const (
		crashKeys   = "keys"         // Jupyter crashes: same keys
		keysMessage = "keys+message" // same keys and message
		page        = "html"         // an HTML page: same heading and error text
		bytesOnly   = "bytes"        // status, Content-Type and Location only
	)
	type step struct {
		name, method, path, body, auth string
		capture                        map[string]string
		mode                           string
	}
	cfg := "api/config/" + diffSection
	steps := []step{
		// Kernel actions.
		{name: "start kernel", method: "POST", path: "api/kernels", body: `{}`, capture: map[string]string{"K": "id"}},
		{name: "interrupt", method: "POST", path: "api/kernels/$K/interrupt"},
		{name: "kernel after interrupt", method: "GET", path: "api/kernels/$K"},
		{name: "restart", method: "POST", path: "api/kernels/$K/restart"},
		{name: "kernel after restart", method: "GET", path: "api/kernels/$K"},
		{name: "interrupt unknown", method: "POST", path: "api/kernels/a-b-c-d-e/interrupt"},
		{name: "restart unknown", method: "POST", path: "api/kernels/a-b-c-d-e/restart", mode: keysMessage},
		{name: "GET interrupt", method: "GET", path: "api/kernels/$K/interrupt"},
		{name: "GET restart without token", method: "GET", path: "api/kernels/$K/restart", auth: "none"},
		{name: "HEAD restart without token", method: "HEAD", path: "api/kernels/$K/restart", auth: "none"},
		{name: "interrupt without token", method: "POST", path: "api/kernels/$K/interrupt", auth: "none"},
		{name: "DELETE restart", method: "DELETE", path: "api/kernels/$K/restart"},
		{name: "other action", method: "POST", path: "api/kernels/$K/foo", mode: page},
		{name: "malformed id action", method: "POST", path: "api/kernels/abc/restart", mode: page},
		{name: "action trailing slash", method: "POST", path: "api/kernels/$K/restart/"},
		{name: "start PYTHON3", method: "POST", path: "api/kernels", body: `{"name": "PYTHON3"}`, capture: map[string]string{"K2": "id"}},
		{name: "session on PYTHON3", method: "POST", path: "api/sessions", body: `{"path": "diffrest/up", "type": "file", "kernel": {"name": "PYTHON3"}}`},
		{name: "stop PYTHON3", method: "DELETE", path: "api/kernels/$K2"},

		// Kernelspecs.
		{name: "kernelspec", method: "GET", path: "api/kernelspecs/python3"},
		{name: "kernelspec upper case", method: "GET", path: "api/kernelspecs/PYTHON3"},
		{name: "kernelspec unknown", method: "GET", path: "api/kernelspecs/nosuch"},
		{name: "kernelspec dotted", method: "GET", path: "api/kernelspecs/a.b"},
		{name: "kernelspec escaped", method: "GET", path: "api/kernelspecs/py%20thon"},
		{name: "kernelspec escaped twice", method: "GET", path: "api/kernelspecs/py%2520thon"},
		{name: "kernelspec escaped plus", method: "GET", path: "api/kernelspecs/py%2Bthon"},
		{name: "kernelspec plus", method: "GET", path: "api/kernelspecs/py+thon", mode: page},
		{name: "kernelspec not UTF-8", method: "GET", path: "api/kernelspecs/%ff"},
		{name: "kernelspec below", method: "GET", path: "api/kernelspecs/python3/x", mode: page},
		{name: "kernelspec trailing slash", method: "GET", path: "api/kernelspecs/python3/"},
		{name: "kernelspec without token", method: "GET", path: "api/kernelspecs/python3", auth: "none"},
		{name: "kernelspec POST", method: "POST", path: "api/kernelspecs/python3"},
		{name: "kernelspec POST without token", method: "POST", path: "api/kernelspecs/python3", auth: "none"},
		{name: "kernelspec HEAD", method: "HEAD", path: "api/kernelspecs/python3"},
		{name: "logo 32", method: "GET", path: "kernelspecs/python3/logo-32x32.png", mode: bytesOnly},
		{name: "logo 64", method: "GET", path: "kernelspecs/python3/logo-64x64.png", mode: bytesOnly},
		{name: "logo svg", method: "GET", path: "kernelspecs/python3/logo-svg.svg", mode: bytesOnly},
		{name: "kernel.json", method: "GET", path: "kernelspecs/python3/kernel.json"},
		{name: "logo upper-case spec", method: "GET", path: "kernelspecs/PYTHON3/logo-64x64.png", mode: bytesOnly},
		{name: "logo with a query", method: "GET", path: "kernelspecs/python3/logo-64x64.png?x=1", mode: bytesOnly},
		{name: "logo trailing slash", method: "GET", path: "kernelspecs/python3/logo-64x64.png/", mode: bytesOnly},
		{name: "logo escaped", method: "GET", path: "kernelspecs/python3/%6Cogo-64x64.png", mode: bytesOnly},
		{name: "logo through ..", method: "GET", path: "kernelspecs/python3/%2e%2e/python3/logo-64x64.png", mode: bytesOnly},
		{name: "logo HEAD", method: "HEAD", path: "kernelspecs/python3/logo-64x64.png", mode: bytesOnly},
		{name: "unknown file", method: "GET", path: "kernelspecs/python3/nope.png", mode: page},
		{name: "file case", method: "GET", path: "kernelspecs/python3/LOGO-64X64.PNG", mode: page},
		{name: "file of unknown spec", method: "GET", path: "kernelspecs/nosuch/logo-64x64.png", mode: page},
		{name: "spec dir", method: "GET", path: "kernelspecs/python3/", mode: page},
		{name: "spec dir no slash", method: "GET", path: "kernelspecs/python3", mode: page},
		{name: "kernelspecs root", method: "GET", path: "kernelspecs/"},
		{name: "file outside", method: "GET", path: "kernelspecs/python3/%2e%2e/x", mode: page},
		{name: "file far outside", method: "GET", path: "kernelspecs/python3/%2e%2e/%2e%2e/%2e%2e/etc/passwd", mode: page},
		{name: "absolute file", method: "GET", path: "kernelspecs/python3//logo-64x64.png", mode: page},
		{name: "file not UTF-8", method: "GET", path: "kernelspecs/python3/%ff", mode: page},
		{name: "file without token", method: "GET", path: "kernelspecs/python3/logo-64x64.png", auth: "none"},
		{name: "file with a bad query token", method: "GET", path: "kernelspecs/python3/logo-64x64.png?token=bad&x=a%20b", auth: "none"},
		{name: "file with a query token", method: "GET", path: "kernelspecs/python3/logo-64x64.png", auth: "query", mode: bytesOnly},
		{name: "file with bearer", method: "GET", path: "kernelspecs/python3/logo-64x64.png", auth: "bearer"},
		{name: "file POST", method: "POST", path: "kernelspecs/python3/logo-64x64.png", mode: page},
		{name: "file POST without token", method: "POST", path: "kernelspecs/python3/logo-64x64.png", auth: "none", mode: page},
		{name: "file OPTIONS", method: "OPTIONS", path: "kernelspecs/python3/kernel.json", mode: page},

		// Status, version, spec.yaml, login, identity.
		{name: "status", method: "GET", path: "api/status"},
		{name: "status without token", method: "GET", path: "api/status", auth: "none"},
		{name: "status HEAD", method: "HEAD", path: "api/status", auth: "none"},
		{name: "version", method: "GET", path: "api"},
		{name: "version without token", method: "GET", path: "api", auth: "none"},
		{name: "version POST", method: "POST", path: "api"},
		{name: "version POST without token", method: "POST", path: "api", auth: "none"},
		{name: "version HEAD", method: "HEAD", path: "api", auth: "none"},
		{name: "version trailing slash", method: "GET", path: "api/", auth: "none"},
		{name: "spec.yaml", method: "GET", path: "api/spec.yaml", mode: bytesOnly},
		{name: "spec.yaml query token", method: "GET", path: "api/spec.yaml", auth: "query", mode: bytesOnly},
		{name: "spec.yaml without token", method: "GET", path: "api/spec.yaml", auth: "none"},
		{name: "spec.yaml HEAD", method: "HEAD", path: "api/spec.yaml", mode: bytesOnly},
		{name: "spec.yaml HEAD without token", method: "HEAD", path: "api/spec.yaml", auth: "none", mode: bytesOnly},
		{name: "spec.yaml POST", method: "POST", path: "api/spec.yaml", mode: page},
		{name: "spec.yaml POST without token", method: "POST", path: "api/spec.yaml", auth: "none", mode: page},
		{name: "spec.yaml DELETE", method: "DELETE", path: "api/spec.yaml", mode: page},
		{name: "spec.yaml OPTIONS", method: "OPTIONS", path: "api/spec.yaml", mode: page},
		{name: "spec.yaml trailing slash", method: "GET", path: "api/spec.yaml/"},
		{name: "login page", method: "GET", path: "login?next=%2Fsomewhere", auth: "none", mode: bytesOnly},
		{name: "login with token", method: "GET", path: "login?next=" + url.QueryEscape(jupyter.prefix+"api/spec.yaml")},
		{name: "login with token, foreign next", method: "GET", path: "login?next=%2F%2Fevil.example%2F"},
		{name: "login with token, no next", method: "GET", path: "login"},
		{name: "login POST without token", method: "POST", path: "login", auth: "none", mode: page},
		{name: "login HEAD", method: "HEAD", path: "login", auth: "none", mode: bytesOnly},
		{name: "me", method: "GET", path: "api/me", mode: page},
		{name: "me without token", method: "GET", path: "api/me", auth: "none", mode: page},

		// Config sections.
		{name: "section never written", method: "GET", path: cfg},
		{name: "patch", method: "PATCH", path: cfg, body: `{"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": "x"}`},
		{name: "patch nulls", method: "PATCH", path: cfg, body: `{"b": {"c": null, "f": true}, "e": null, "g": null}`},
		{name: "get after patch", method: "GET", path: cfg},
		{name: "patch empties b", method: "PATCH", path: cfg, body: `{"b": {"d": null, "f": null}}`},
		{name: "patch empty objects", method: "PATCH", path: cfg, body: `{"h": {}, "i": {"j": {}}, "k": {"l": null}}`},
		{name: "patch {}", method: "PATCH", path: cfg, body: `{}`},
		{name: "patch scalars", method: "PATCH", path: cfg, body: `{"s": "xa", "z": 0, "e": "", "f": false, "n": 1.5, "l": ["q"]}`},
		{name: "patch {} over scalars", method: "PATCH", path: cfg, body: `{"s": {}, "z": {}, "e": {}, "f": {}, "n": {}, "l": {}}`},
		{name: "patch object over int", method: "PATCH", path: cfg, body: `{"a": {"x": 1}}`, mode: crashKeys},
		{name: "patch object over str", method: "PATCH", path: cfg, body: `{"s": {"q": 1}}`, mode: crashKeys},
		{name: "patch object over list", method: "PATCH", path: cfg, body: `{"l": {"q": 1}}`, mode: crashKeys},
		{name: "patch deep over int", method: "PATCH", path: cfg, body: `{"a": {"x": {"y": 1}}}`, mode: crashKeys},
		{name: "get after crashes", method: "GET", path: cfg},
		{name: "patch no body", method: "PATCH", path: cfg, mode: crashKeys},
		{name: "patch null", method: "PATCH", path: cfg, body: `null`, mode: crashKeys},
		{name: "patch list", method: "PATCH", path: cfg, body: `[1]`, mode: crashKeys},
		{name: "patch bad JSON", method: "PATCH", path: cfg, body: `{bad`},
		{name: "put", method: "PUT", path: cfg, body: `{"a": null, "b": {}, "c": {"d": null}, "e": 1}`},
		{name: "get after put", method: "GET", path: cfg},
		{name: "patch after put", method: "PATCH", path: cfg, body: `{"f": 2}`},
		{name: "put no body", method: "PUT", path: cfg, mode: crashKeys},
		{name: "put list", method: "PUT", path: cfg, body: `[1]`, mode: crashKeys},
		{name: "config DELETE", method: "DELETE", path: cfg},
		{name: "config POST", method: "POST", path: cfg, body: `{}`},
		{name: "config HEAD", method: "HEAD", path: cfg, auth: "none"},
		{name: "config without token", method: "GET", path: cfg, auth: "none"},
		{name: "config PATCH without token", method: "PATCH", path: cfg, body: `{}`, auth: "none"},
		{name: "config odd name", method: "GET", path: "api/config/a-b", mode: page},
		{name: "config no name", method: "GET", path: "api/config", mode: page},
		{name: "config trailing slash", method: "GET", path: "api/config/"},
		{name: "config trailing slash PATCH", method: "PATCH", path: cfg + "/", body: `{}`},
		{name: "config trailing slash HEAD", method: "HEAD", path: cfg + "/"},
		{name: "config trailing slash OPTIONS", method: "OPTIONS", path: cfg + "/", auth: "none"},

		// Terminals.
		{name: "no terminals", method: "GET", path: "api/terminals"},
		{name: "terminal 1", method: "POST", path: "api/terminals"},
		{name: "terminal 2", method: "POST", path: "api/terminals", body: `{}`},
		{name: "terminal 3 in no such cwd", method: "POST", path: "api/terminals", body: `{"cwd": "no/such/dir"}`},
		{name: "get terminal 2", method: "GET", path: "api/terminals/2"},
		{name: "delete terminal 2", method: "DELETE", path: "api/terminals/2"},
		{name: "terminal 2 gone", method: "GET", path: "api/terminals/2"},
		{name: "delete terminal 2 again", method: "DELETE", path: "api/terminals/2"},
		{name: "lowest free name", method: "POST", path: "api/terminals"},
		{name: "terminals in order", method: "GET", path: "api/terminals"},
		{name: "named terminal", method: "POST", path: "api/terminals", body: `{"name": "nbx"}`},
		{name: "named again", method: "POST", path: "api/terminals", body: `{"name": "nbx"}`},
		{name: "falsy body", method: "POST", path: "api/terminals", body: `[]`},
		{name: "null body", method: "POST", path: "api/terminals", body: `null`},
		{name: "terminals after names", method: "GET", path: "api/terminals"},
		{name: "terminal list body", method: "POST", path: "api/terminals", body: `[1]`, mode: crashKeys},
		{name: "terminal string body", method: "POST", path: "api/terminals", body: `"x"`, mode: crashKeys},
		{name: "terminal number body", method: "POST", path: "api/terminals", body: `5`, mode: crashKeys},
		{name: "terminal cwd 5", method: "POST", path: "api/terminals", body: `{"cwd": 5}`, mode: crashKeys},
		{name: "terminal width a", method: "POST", path: "api/terminals", body: `{"width": "a"}`, mode: crashKeys},
		{name: "terminal bad JSON", method: "POST", path: "api/terminals", body: `{bad`},
		{name: "terminals after refusals", method: "GET", path: "api/terminals"},
		{name: "terminal unknown", method: "GET", path: "api/terminals/99"},
		{name: "terminal odd name", method: "GET", path: "api/terminals/a-b", mode: page},
		{name: "terminals without token", method: "GET", path: "api/terminals", auth: "none"},
		{name: "terminal without token", method: "GET", path: "api/terminals/1", auth: "none"},
		{name: "terminal POST without token", method: "POST", path: "api/terminals", auth: "none"},
		{name: "terminal DELETE without token", method: "DELETE", path: "api/terminals/1", auth: "none"},
		{name: "POST on a terminal without token", method: "POST", path: "api/terminals/1", auth: "none"},
		{name: "PATCH on a terminal", method: "PATCH", path: "api/terminals/1"},
		{name: "PUT terminals", method: "PUT", path: "api/terminals"},
		{name: "PUT terminals without token", method: "PUT", path: "api/terminals", auth: "none"},
		{name: "HEAD terminals", method: "HEAD", path: "api/terminals", auth: "none"},
		{name: "end terminal 1", method: "DELETE", path: "api/terminals/1"},
		{name: "end terminal 2", method: "DELETE", path: "api/terminals/2"},
		{name: "end terminal 3", method: "DELETE", path: "api/terminals/3"},
		{name: "end terminal 4", method: "DELETE", path: "api/terminals/4"},
		{name: "end terminal 5", method: "DELETE", path: "api/terminals/5"},
		{name: "end terminal nbx", method: "DELETE", path: "api/terminals/nbx"},
		{name: "no terminals left", method: "GET", path: "api/terminals"},

		{name: "stop kernel", method: "DELETE", path: "api/kernels/$K"},
		{name: "status at the end", method: "GET", path: "api/status"},
	}
	for _, st := range steps {
		want := jupyter.send(st.method, st.path, st.body, st.auth, st.capture)
		got := refPeer.send(st.method, st.path, st.body, st.auth, st.capture)
		if unmirrored(t, "rest", st.name) {
			continue
		}
		if want.status != got.status || want.contentType != got.contentType || want.location != got.location {
			t.Errorf("%s: jupyter %d %q %q, refserver %d %q %q", st.name, want.status, want.contentType, want.location,
				got.status, got.contentType, got.location)
			continue
		}
		if statusOnly(t, "rest", st.name) {
			continue
		}
		switch st.mode {
		case bytesOnly:
			if st.method == "GET" && want.status == 200 && (want.raw == "") != (got.raw == "") {
				t.Errorf("%s: jupyter sent %d bytes, refserver %d", st.name, len(want.raw), len(got.raw))
			}
		case page:
			// 2.x answers some errors with an empty page: both must then be empty.
			if w, g := pageText(want.raw), pageText(got.raw); w == "" && want.raw != "" || w != g || want.raw == "" && got.raw != "" {
				t.Errorf("%s: jupyter's page says %q, refserver's %q", st.name, w, g)
			}
		case crashKeys, keysMessage:
			if diff := cmp.Diff(keys(want.body), keys(got.body)); diff != "" {
				t.Errorf("%s: keys (-jupyter +refserver):\n%s", st.name, diff)
			}
			if wm, gm := lookupPath(want.body, "message"), lookupPath(got.body, "message"); st.mode == keysMessage && wm != gm {
				t.Errorf("%s: message %q, refserver %q", st.name, wm, gm)
			}
		default:
			if diff := cmp.Diff(want.body, got.body); diff != "" {
				t.Errorf("%s: body (-jupyter +refserver):\n%s", st.name, diff)
			}
			if want.body == nil && want.raw != got.raw {
				t.Errorf("%s: jupyter sent %q, refserver %q", st.name, want.raw, got.raw)
			}
		}
	}
	compareFileHeaders(t, jupyter, refPeer)
}

// diffSection is the config section the test writes. A real server keeps
// it in a file of the config dir of whoever runs the test.
const diffSection = "nbserv_differential"

// resetConfig empties the test's section on the real server.
func resetConfig(p *peer) {
	nulls := map[string]any{}
	if m, ok := p.send("GET", "api/config/"+diffSection, "", "", nil).body.(map[string]any); ok {
		for k := range m {
			nulls[k] = nil
		}
	}
	if len(nulls) > 0 {
		b, _ := json.Marshal(nulls)
		p.send("PATCH", "api/config/"+diffSection, string(b), "", nil)
	}
}

// cleanupREST ends what the steps left on the real server when a step
// failed midway: every terminal (the server had none before) and the
// kernels the steps started.
func cleanupREST(p *peer) {
	if list, ok := p.send("GET", "api/terminals", "", "", nil).body.([]any); ok {
		for _, m := range list {
			if name, ok := m.(map[string]any)["name"].(string); ok {
				p.send("DELETE", "api/terminals/"+url.PathEscape(name), "", "", nil)
			}
		}
	}
	for _, v := range []string{"K", "K2"} {
		if id := p.vars[v]; id != "" {
			p.send("DELETE", "api/kernels/"+id, "", "", nil)
		}
	}
}

var (
	h1RE  = regexp.MustCompile(`<h1>([^<]*)</h1>`)
	preRE = regexp.MustCompile(`<pre class="traceback">([^<]*)</pre>`)
)

// pageText is what an HTML error page tells: its heading and error text.
func pageText(html string) string {
	h := h1RE.FindStringSubmatch(html)
	if h == nil {
		return ""
	}
	text := strings.TrimSpace(h[1])
	if m := preRE.FindStringSubmatch(html); m != nil {
		text += " / " + m[1]
	}
	return text
}

// compareFileHeaders compares what the status, Content-Type and body
// leave out for a logo: caching headers, a Range answer and a conditional
// GET with the server's own Etag.
func compareFileHeaders(t *testing.T, jupyter, ref *peer) {
	t.Helper()
	type view struct {
		Status                                   int
		CacheControl, AcceptRanges, ContentRange string
		HasEtag, HasLastModified                 bool
	}
	look := func(p *peer, file string, h http.Header) (view, string) {
		req, err := http.NewRequest("GET", p.origin+p.prefix+"kernelspecs/python3/"+file, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range h {
			req.Header[k] = v
		}
		req.Header.Set("Authorization", "token "+p.token)
		resp, err := p.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cr, _, _ := strings.Cut(resp.Header.Get("Content-Range"), "/") // the total is the file's size
		return view{resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Accept-Ranges"), cr,
			resp.Header.Get("Etag") != "", resp.Header.Get("Last-Modified") != ""}, resp.Header.Get("Etag")
	}
	for _, file := range []string{"logo-64x64.png", "logo-svg.svg", "kernel.json"} {
		jv, jetag := look(jupyter, file, nil)
		rv, retag := look(ref, file, nil)
		if jv != rv {
			t.Errorf("%s: jupyter %+v, refserver %+v", file, jv, rv)
		}
		jv, _ = look(jupyter, file, http.Header{"Range": {"bytes=0-9"}})
		rv, _ = look(ref, file, http.Header{"Range": {"bytes=0-9"}})
		if jv != rv {
			t.Errorf("%s, range: jupyter %+v, refserver %+v", file, jv, rv)
		}
		jv, _ = look(jupyter, file, http.Header{"If-None-Match": {jetag}})
		rv, _ = look(ref, file, http.Header{"If-None-Match": {retag}})
		if jv.Status != rv.Status || jv.Status != http.StatusNotModified {
			t.Errorf("%s, If-None-Match: jupyter %+v, refserver %+v", file, jv, rv)
		}
	}
	jupyter.client.CloseIdleConnections()
	ref.client.CloseIdleConnections()
}
