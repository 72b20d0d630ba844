package nbserv_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/benchpair"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// Contents benchmarks: GET of a 1 MB notebook into the typed model against
// a hand-written encoding/json floor, and the throughput of Upload and
// Download against the loopback floor (see BENCHMARKS.md).

// plainContents is the floor's model: plain structs as one would write
// them for what Jupyter sends (strings for source and text, which the API
// always sends joined; raw JSON for bundles and metadata, as the SDK
// keeps them), so the floor does no less work than the SDK.
type plainContents struct {
	Name         string `json:"name"`
	Path         string `json:"path"`
	Type         string `json:"type"`
	Writable     bool   `json:"writable"`
	Created      string `json:"created"`
	LastModified string `json:"last_modified"`
	Mimetype     string `json:"mimetype"`
	Format       string `json:"format"`
	Size         *int64 `json:"size"`
	Content      struct {
		Cells []struct {
			ID             string                     `json:"id"`
			CellType       string                     `json:"cell_type"`
			Source         string                     `json:"source"`
			Metadata       map[string]json.RawMessage `json:"metadata"`
			ExecutionCount *int                       `json:"execution_count"`
			Outputs        []struct {
				OutputType     string                     `json:"output_type"`
				Name           string                     `json:"name"`
				Text           string                     `json:"text"`
				Data           map[string]json.RawMessage `json:"data"`
				Metadata       map[string]json.RawMessage `json:"metadata"`
				ExecutionCount *int                       `json:"execution_count"`
				EName          string                     `json:"ename"`
				EValue         string                     `json:"evalue"`
				Traceback      []string                   `json:"traceback"`
			} `json:"outputs"`
			Attachments map[string]map[string]json.RawMessage `json:"attachments"`
		} `json:"cells"`
		Metadata      map[string]json.RawMessage `json:"metadata"`
		NBFormat      int                        `json:"nbformat"`
		NBFormatMinor int                        `json:"nbformat_minor"`
	} `json:"content"`
}

// bigNotebook builds a notebook of about size bytes, as data science
// notebooks are: markdown, code with stream output, results with
// text/plain and text/html, PNG plots in base64, the odd traceback.
func bigNotebook(size int) *nbformat.Notebook {
	rng := rand.New(rand.NewPCG(1, 2))
	nb := nbformat.New()
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3", Language: "python"}
	words := strings.Fields("the quick brown fox jumps over a lazy dog while data frames and plots fill the notebook")
	text := func(n int) string {
		var sb strings.Builder
		for sb.Len() < n {
			sb.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(8) == 0 {
				sb.WriteString("\n")
			} else {
				sb.WriteString(" ")
			}
		}
		return sb.String()
	}
	png := make([]byte, 24<<10)
	total := 0
	for i := 0; total < size; i++ {
		md := nbformat.NewMarkdownCell("## Step " + strconv.Itoa(i) + "\n" + text(300))
		code := nbformat.NewCodeCell("df = load(" + strconv.Itoa(i) + ")\n" + text(200))
		n := i + 1
		code.ExecutionCount = &n
		res := nbformat.MIMEBundle{}
		res.SetText("text/plain", text(400))
		res.SetText("text/html", "<table><tr><td>"+strings.ReplaceAll(text(800), " ", "</td><td>")+"</td></tr></table>")
		code.Outputs = []nbformat.Output{
			{OutputType: nbformat.OutputStream, Name: "stdout", Text: text(300)},
			{OutputType: nbformat.OutputExecuteResult, ExecutionCount: &n, Data: res, Metadata: nbformat.Metadata{}},
		}
		if i%3 == 0 {
			for j := range png {
				png[j] = byte(rng.Uint32())
			}
			plot := nbformat.MIMEBundle{}
			plot.SetText("image/png", base64.StdEncoding.EncodeToString(png))
			plot.SetText("text/plain", "<Figure size 640x480 with 1 Axes>")
			code.Outputs = append(code.Outputs, nbformat.Output{OutputType: nbformat.OutputDisplayData, Data: plot, Metadata: nbformat.Metadata{}})
		}
		if i%10 == 9 {
			code.Outputs = append(code.Outputs, nbformat.Output{OutputType: nbformat.OutputError, EName: "ValueError", EValue: "bad value",
				Traceback: []string{"\x1b[0;31mValueError\x1b[0m Traceback (most recent call last)", text(200), text(200)}})
		}
		nb.Cells = append(nb.Cells, md, code)
		for _, c := range []*nbformat.Cell{&md, &code} {
			b, _ := c.MarshalJSON()
			total += len(b) + 1
		}
	}
	return nb
}

func BenchmarkGetNotebook(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	body, err := bigNotebook(1 << 20).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.WriteFile("big.ipynb", body); err != nil {
		b.Fatal(err)
	}
	r := newRaw(b, srv.URL, srv.Token)
	sdk := func() *nbformat.Notebook {
		nb, err := srv.Client.Contents.GetNotebook(ctx, "big.ipynb")
		if err != nil {
			b.Fatal(err)
		}
		return nb
	}
	floor := func() *plainContents {
		var out plainContents
		r.do(b, "GET", "api/contents/big.ipynb?type=notebook", nil, 200, &out)
		return &out
	}
	// The same work on both sides: the same cells and outputs decoded.
	nb, plain := sdk(), floor()
	if len(nb.Cells) != len(plain.Content.Cells) || nb.Cells[1].Outputs[0].Text != plain.Content.Cells[1].Outputs[0].Text {
		b.Fatalf("SDK and floor disagree: %d and %d cells", len(nb.Cells), len(plain.Content.Cells))
	}
	b.Logf("notebook: %d bytes, %d cells", len(body), len(nb.Cells))
	b.Run("sdk", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			sdk()
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			floor()
		}
	})
	b.Run("paired", func(b *testing.B) { benchpair.Run(b, func() { sdk() }, func() { floor() }) })

	// The same pair against a real Jupyter Server, when configured.
	u := os.Getenv("NBSERV_JUPYTER_URL")
	if u == "" {
		return
	}
	jc, err := nbserv.NewClient(nbserv.Config{BaseURL: u, Token: nbserv.NewSecret(os.Getenv("NBSERV_JUPYTER_TOKEN"))})
	if err != nil {
		b.Fatal(err)
	}
	defer jc.CloseIdleConnections()
	if _, err := jc.Contents.WriteFile(ctx, "bench-big.ipynb", body); err != nil {
		b.Fatal(err)
	}
	jr := newRaw(b, u, os.Getenv("NBSERV_JUPYTER_TOKEN"))
	b.Run("jupyter-paired", func(b *testing.B) {
		benchpair.Run(b, func() {
			if _, err := jc.Contents.GetNotebook(ctx, "bench-big.ipynb"); err != nil {
				b.Fatal(err)
			}
		}, func() {
			var out plainContents
			jr.do(b, "GET", "api/contents/bench-big.ipynb?type=notebook", nil, 200, &out)
		})
	})
}

// BenchmarkNotebookDecode is the decoding alone, on the body Jupyter
// sends for a 1 MB notebook: nbformat.Parse against json.Unmarshal
// into the floor's structs.
func BenchmarkNotebookDecode(b *testing.B) {
	content, err := bigNotebook(1 << 20).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"name": "big.ipynb", "path": "big.ipynb", "last_modified": "2026-11-27T21:34:05.017925Z", "created": "2026-11-27T21:34:05.017925Z", "content": ` +
		string(content) + `, "format": "json", "mimetype": null, "size": 1048576, "writable": true, "type": "notebook"}`)
	b.Run("sdk", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := nbserv.DecodeContentsForBench(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var out plainContents
			if err := json.Unmarshal(body, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		nb, err := nbformat.Parse(content)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(content)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := nb.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// nullServer answers uploads as Jupyter does, from the request body's
// length alone (no decoding), and serves downloads from memory: the
// loopback floor for the SDK's own cost.
type nullServer struct {
	mu    sync.Mutex
	sizes map[string]int64
	file  []byte
}

func (s *nullServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == "PUT" && strings.HasPrefix(r.URL.Path, "/raw/"):
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(200)
	case r.Method == "PUT":
		body, _ := io.ReadAll(r.Body)
		i := bytes.Index(body, []byte(`"content":"`)) + len(`"content":"`)
		j := bytes.LastIndexByte(body, '"')
		b64 := body[i:j]
		n := int64(len(b64)) / 4 * 3
		n -= int64(bytes.Count(b64[max(0, len(b64)-2):], []byte("=")))
		s.mu.Lock()
		if !bytes.Contains(body, []byte(`"chunk"`)) || bytes.Contains(body, []byte(`"chunk":1,`)) {
			s.sizes[r.URL.Path] = 0
		}
		s.sizes[r.URL.Path] += n
		size := s.sizes[r.URL.Path]
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"name": "f", "path": "f", "type": "file", "size": %d, "content": null, "format": null}`, size)
	case strings.HasPrefix(r.URL.Path, "/api/contents/"):
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"name": "f", "path": "f", "type": "file", "size": %d, "content": null, "format": null}`, len(s.file))
	default:
		w.Header().Set("Content-Length", strconv.Itoa(len(s.file)))
		w.Write(s.file)
	}
}

// transferTargets are the servers the transfer benchmarks measure: the
// null server (the SDK's own cost over loopback), the reference server
// serving a directory, and a real Jupyter Server when configured.
func transferTargets(b *testing.B, file []byte) map[string]*nbserv.Client {
	null := httptest.NewServer(&nullServer{sizes: map[string]int64{}, file: file})
	b.Cleanup(null.Close)
	cl, _ := nbserv.NewClient(nbserv.Config{BaseURL: null.URL, Timeout: nbserv.NoTimeout})
	ref := nbservtest.NewServer(b, nbservtest.WithContentsRoot(b.TempDir()), nbservtest.WithClientConfig(func(c *nbserv.Config) { c.Timeout = nbserv.NoTimeout }))
	m := map[string]*nbserv.Client{"null": cl, "refserver": ref.Client}
	if u := os.Getenv("NBSERV_JUPYTER_URL"); u != "" {
		c, err := nbserv.NewClient(nbserv.Config{BaseURL: u, Token: nbserv.NewSecret(os.Getenv("NBSERV_JUPYTER_TOKEN")), Timeout: nbserv.NoTimeout})
		if err != nil {
			b.Fatal(err)
		}
		m["jupyter"] = c
	}
	for _, c := range m {
		b.Cleanup(c.CloseIdleConnections)
	}
	return m
}

// BenchmarkUpload moves 64 MiB per operation in 4 MiB chunks. "floor"
// sends the same bytes raw (no base64, no JSON) in 4 MiB PUTs to a
// handler that discards them.
func BenchmarkUpload(b *testing.B) {
	const size = 64 << 20
	file := make([]byte, size)
	rand.NewChaCha8([32]byte{3}).Read(file)
	ctx := context.Background()
	targets := transferTargets(b, nil)
	b.Run("floor", func(b *testing.B) {
		null := httptest.NewServer(&nullServer{})
		defer null.Close()
		hc := &http.Client{}
		defer hc.CloseIdleConnections()
		b.SetBytes(size)
		for b.Loop() {
			for off := 0; off < size; off += nbserv.DefaultChunkSize {
				req, _ := http.NewRequest("PUT", null.URL+"/raw/f", bytes.NewReader(file[off:off+nbserv.DefaultChunkSize]))
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	})
	upload := func(b *testing.B, c *nbserv.Client) {
		if _, err := c.Contents.Upload(ctx, "bench-upload.bin", bytes.NewReader(file), nbserv.TransferOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range []string{"null", "refserver", "jupyter"} {
		c := targets[name]
		if c == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				upload(b, c)
			}
		})
	}
	// The reference server against real Jupyter, alternately, so that the
	// machine's load hits both alike: sdk-ns/op is the reference server's,
	// raw-ns/op Jupyter's, and sdk/raw their ratio (below 1: the reference
	// server is faster).
	if ref, jup := targets["refserver"], targets["jupyter"]; jup != nil {
		b.Run("refserver-vs-jupyter", func(b *testing.B) {
			benchpair.Run(b, func() { upload(b, ref) }, func() { upload(b, jup) })
		})
	}
}

// BenchmarkDownload moves 32 MiB per operation. "floor" is a plain
// net/http GET of the same bytes from memory.
func BenchmarkDownload(b *testing.B) {
	const size = 32 << 20
	file := make([]byte, size)
	rand.NewChaCha8([32]byte{4}).Read(file)
	ctx := context.Background()
	targets := transferTargets(b, file)
	for name, c := range targets {
		if name != "null" {
			if _, err := c.Contents.Upload(ctx, "bench-download.bin", bytes.NewReader(file), nbserv.TransferOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("floor", func(b *testing.B) {
		null := httptest.NewServer(&nullServer{file: file})
		defer null.Close()
		hc := &http.Client{}
		defer hc.CloseIdleConnections()
		b.SetBytes(size)
		for b.Loop() {
			resp, err := hc.Get(null.URL + "/files/f")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	for _, name := range []string{"null", "refserver", "jupyter"} {
		c := targets[name]
		if c == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if n, err := c.Contents.Download(ctx, "bench-download.bin", io.Discard, nbserv.TransferOptions{}); err != nil || n != size {
					b.Fatal(n, err)
				}
			}
		})
	}
}
