package nbserv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/benchpair"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// Benchmarks over loopback with keep-alive. "sdk" goes through the Client;
// "raw" is the floor: the same requests written by hand with net/http and
// encoding/json into plain structs. With NBSERV_JUPYTER_URL and
// NBSERV_JUPYTER_TOKEN set, the server benchmarks also measure a real
// Jupyter Server in the same run (see BENCHMARKS.md).

// plainSession is the floor's model: plain structs, no leniency.
type plainSession struct {
	ID     string `json:"id"`
	Path   string `json:"path"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Kernel struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		LastActivity   string `json:"last_activity"`
		ExecutionState string `json:"execution_state"`
		Connections    int    `json:"connections"`
	} `json:"kernel"`
}

// raw is a hand-written client: one pooled transport, a token header.
type raw struct {
	base, token string
	hc          *http.Client
}

func newRaw(b testing.TB, base, token string) *raw {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 100
	b.Cleanup(tr.CloseIdleConnections)
	return &raw{base: base, token: token, hc: &http.Client{Transport: tr}}
}

func (r *raw) do(b testing.TB, method, path string, body any, want int, out any) {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Authorization", "token "+r.token)
	resp, err := r.hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			b.Fatal(err)
		}
	} else {
		io.Copy(io.Discard, resp.Body)
	}
}

func benchServer(b *testing.B) *nbservtest.Server {
	srv, err := nbservtest.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkGet(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "bench.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := srv.Client.Sessions.Get(ctx, s.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		r := newRaw(b, srv.URL, srv.Token)
		b.ReportAllocs()
		for b.Loop() {
			var out plainSession
			r.do(b, "GET", "api/sessions/"+s.ID, nil, 200, &out)
		}
	})
	b.Run("paired", func(b *testing.B) {
		r := newRaw(b, srv.URL, srv.Token)
		benchpair.Run(b, func() {
			if _, err := srv.Client.Sessions.Get(ctx, s.ID); err != nil {
				b.Fatal(err)
			}
		}, func() {
			var out plainSession
			r.do(b, "GET", "api/sessions/"+s.ID, nil, 200, &out)
		})
	})
}

func BenchmarkLifecycle(b *testing.B) {
	srv := benchServer(b)
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			sdkCycle(b, srv.Client, fmt.Sprintf("sdk/%d.ipynb", i))
		}
	})
	b.Run("raw", func(b *testing.B) {
		r := newRaw(b, srv.URL, srv.Token)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			rawCycle(b, r, fmt.Sprintf("raw/%d.ipynb", i))
		}
	})
	b.Run("paired", func(b *testing.B) {
		r := newRaw(b, srv.URL, srv.Token)
		i := 0
		benchpair.Run(b, func() {
			i++
			sdkCycle(b, srv.Client, fmt.Sprintf("paired-sdk/%d.ipynb", i))
		}, func() {
			rawCycle(b, r, fmt.Sprintf("paired-raw/%d.ipynb", i))
		})
	})
}

// sdkCycle is create→get→rename→list→delete through the SDK.
func sdkCycle(b testing.TB, c *nbserv.Client, path string) {
	ctx := context.Background()
	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: path, Type: nbserv.SessionNotebook})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Sessions.Get(ctx, s.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Sessions.Rename(ctx, s.ID, "renamed", ""); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Sessions.List(ctx); err != nil {
		b.Fatal(err)
	}
	if err := c.Sessions.Delete(ctx, s.ID); err != nil {
		b.Fatal(err)
	}
}

// rawCycle is create→get→rename→list→delete by hand.
func rawCycle(b testing.TB, r *raw, path string) {
	var s plainSession
	r.do(b, "POST", "api/sessions", map[string]string{"path": path, "type": "notebook"}, 201, &s)
	r.do(b, "GET", "api/sessions/"+s.ID, nil, 200, &s)
	r.do(b, "PATCH", "api/sessions/"+s.ID, map[string]string{"name": "renamed"}, 200, &s)
	var list []plainSession
	r.do(b, "GET", "api/sessions", nil, 200, &list)
	r.do(b, "DELETE", "api/sessions/"+s.ID, nil, 204, nil)
}

const floorSession = `{"id":"9d57c6a3-dc0d-4bd6-832f-36e1a87543ed","path":"bench-get.ipynb","name":null,"type":"notebook","kernel":{"id":"09afe188-8331-492d-aac8-b288c566db1f","name":"python3","last_activity":"2026-11-27T00:33:37.715493Z","execution_state":"starting","connections":0},"notebook":{"path":"bench-get.ipynb","name":null}}`

// servers returns the reference server and, when configured, a real
// Jupyter Server, for the server benchmarks.
func servers(b *testing.B) map[string]*raw {
	srv := benchServer(b)
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		} else if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, floorSession)
	}))
	b.Cleanup(floor.Close)
	m := map[string]*raw{
		"refserver": newRaw(b, srv.URL, srv.Token),
		"floor":     newRaw(b, floor.URL+"/", ""),
	}
	if u := os.Getenv("NBSERV_JUPYTER_URL"); u != "" {
		m["jupyter"] = newRaw(b, u, os.Getenv("NBSERV_JUPYTER_TOKEN"))
	}
	return m
}

// BenchmarkServerGet is GET /api/sessions/{id} from one client: 1e9/ns_op
// is requests per second. "floor" is a net/http handler that answers a
// constant session body: the cost of the loopback HTTP round trip alone.
func BenchmarkServerGet(b *testing.B) {
	for _, name := range []string{"floor", "refserver", "jupyter"} {
		r := servers(b)[name]
		if r == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			var s plainSession
			r.do(b, "POST", "api/sessions", map[string]string{"path": "bench-get.ipynb", "type": "notebook"}, 201, &s)
			defer r.do(b, "DELETE", "api/sessions/"+s.ID, nil, 204, nil)
			for b.Loop() {
				var out plainSession
				r.do(b, "GET", "api/sessions/"+s.ID, nil, 200, &out)
			}
		})
	}
}

// BenchmarkServerCycle is create→get→patch→list→delete from one client.
// On a real server each create starts a kernel process.
func BenchmarkServerCycle(b *testing.B) {
	for _, name := range []string{"refserver", "jupyter"} {
		r := servers(b)[name]
		if r == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				rawCycle(b, r, fmt.Sprintf("bench-cycle/%d.ipynb", i))
			}
		})
	}
}

// BenchmarkServerStartup is starting a reference server and getting its
// first answer (a real Jupyter Server takes seconds).
func BenchmarkServerStartup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		srv, err := nbservtest.Start(nbservtest.WithToken(""))
		if err != nil {
			b.Fatal(err)
		}
		resp, err := http.Get(srv.URL + "api")
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
	}
	http.DefaultClient.CloseIdleConnections()
}

// BenchmarkServerList10k lists 10,000 sessions through the SDK; it reports
// time and allocated bytes per session.
func BenchmarkServerList10k(b *testing.B) {
	const n = 10000
	srv := benchServer(b)
	ctx := context.Background()
	for i := range n {
		if _, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: fmt.Sprintf("big/%05d.ipynb", i), Type: nbserv.SessionNotebook}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var mem testing.BenchmarkResult
	_ = mem
	for b.Loop() {
		list, err := srv.Client.Sessions.List(ctx)
		if err != nil || len(list) != n {
			b.Fatalf("%d sessions, %v", len(list), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/session")
}
