package nbserv

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// chunkServer speaks the part of Jupyter's contents API that Upload and
// Download use, with Jupyter 1.23.3's chunk rules as recorded in
// docs/wire/contents.md C6: a PUT without "chunk" or with chunk 1
// creates or truncates the file, any other chunk appends (creating the
// file if needed); the answer is 201 if the file did not exist, else 200,
// with the model's size after the write; content=0 GETs return the
// model; GET /files/{path} returns the bytes.
//
// With keep false it keeps only each file's size and SHA-256, so that a
// test can push hundreds of MB through it without the server's memory
// showing in the heap it measures; /files/ then serves gen's bytes.
type chunkServer struct {
	keep bool
	gen  func(path string) (io.Reader, int64)

	mu     sync.Mutex
	files  map[string]*fakeFile
	chunks []int // the "chunk" of each PUT, 0 for none
	// fault, when set, decides the fate of each PUT: act says whether the
	// write happens; a non-zero status replaces the answer.
	fault func(n int, chunk int) (act bool, status int)
	stats int // content=0 GETs of a model
}

type fakeFile struct {
	data []byte
	size int64
	sum  hash.Hash
}

func newChunkServer(t testing.TB, keep bool) (*chunkServer, *Client) {
	cs := &chunkServer{keep: keep, files: map[string]*fakeFile{}}
	c, _ := serveWith(t, httptest.NewUnstartedServer(cs), func(cfg *Config) {
		cfg.BaseURL += "/user/x/"
		cfg.Token, cfg.Timeout = NewSecret(testToken), NoTimeout
	})
	return cs, c
}

func (cs *chunkServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasPrefix(r.URL.Path, "/user/x/api/contents/"):
		path := strings.TrimPrefix(r.URL.Path, "/user/x/api/contents/")
		switch r.Method {
		case "PUT":
			cs.put(w, r, path)
		case "GET":
			cs.mu.Lock()
			f := cs.files[path]
			cs.stats++
			cs.mu.Unlock()
			if f == nil {
				w.WriteHeader(404)
				fmt.Fprintf(w, `{"message": "file or directory does not exist: '%s'", "reason": null}`, path)
				return
			}
			cs.model(w, 200, path, f)
		}
	case strings.HasPrefix(r.URL.Path, "/user/x/files/"):
		path := strings.TrimPrefix(r.URL.Path, "/user/x/files/")
		cs.mu.Lock()
		f := cs.files[path]
		cs.mu.Unlock()
		if f == nil {
			w.WriteHeader(404)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if cs.keep {
			w.Write(f.data)
			return
		}
		body, n := cs.gen(path)
		w.Header().Set("Content-Length", fmt.Sprint(n))
		io.Copy(w, body)
	default:
		w.WriteHeader(404)
	}
}

func (cs *chunkServer) put(w http.ResponseWriter, r *http.Request, path string) {
	var m struct {
		Type, Format string
		Chunk        *int
		Content      string
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.Type != "file" || m.Format != "base64" {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"message": "bad model: %v", "reason": null}`, err)
		return
	}
	data, err := base64.StdEncoding.DecodeString(m.Content)
	if err != nil {
		w.WriteHeader(400)
		io.WriteString(w, `{"message": "Encoding error saving x: Incorrect padding", "reason": null}`)
		return
	}
	cs.mu.Lock()
	chunk := 0
	if m.Chunk != nil {
		chunk = *m.Chunk
	}
	cs.chunks = append(cs.chunks, chunk)
	act, status := true, 0
	if cs.fault != nil {
		act, status = cs.fault(len(cs.chunks), chunk)
	}
	f, existed := cs.files[path]
	if act {
		if !existed || chunk == 0 || chunk == 1 {
			f = &fakeFile{sum: sha256.New()}
			cs.files[path] = f
		}
		f.size += int64(len(data))
		f.sum.Write(data)
		if cs.keep {
			f.data = append(f.data, data...)
		}
	}
	cs.mu.Unlock()
	switch {
	case status == 500 && act && (chunk == -1 || chunk == 0): // stored, then the post-save hook raised: docs/wire/contents.md C43
		w.WriteHeader(status)
		io.WriteString(w, `{"message": "Unexpected error while running post hook save: hook says no", "reason": null}`)
	case status != 0:
		w.WriteHeader(status)
	case existed:
		cs.model(w, 200, path, f)
	default:
		cs.model(w, 201, path, f)
	}
}

func (cs *chunkServer) model(w http.ResponseWriter, status int, path string, f *fakeFile) {
	w.WriteHeader(status)
	cs.mu.Lock()
	size := f.size
	cs.mu.Unlock()
	fmt.Fprintf(w, `{"name": %q, "path": %q, "last_modified": "2026-11-27T21:34:05.017925Z", "created": "2026-11-27T21:34:05.017925Z", "content": null, "format": null, "mimetype": "application/octet-stream", "size": %d, "writable": true, "type": "file"}`,
		path[strings.LastIndex(path, "/")+1:], path, size)
}

func (cs *chunkServer) file(path string) []byte {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if f := cs.files[path]; f != nil {
		return f.data
	}
	return nil
}

func (cs *chunkServer) chunkLog() []int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return append([]int(nil), cs.chunks...)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(b)
	return b
}

func TestUploadChunks(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		size, chunk int
		want        []int
	}{
		{0, 4, []int{0}},            // an empty file: one plain PUT
		{3, 4, []int{0}},            // one chunk: one plain PUT, written atomically
		{4, 4, []int{0}},            // exactly one chunk
		{5, 4, []int{1, -1}},        // the last chunk is -1
		{8, 4, []int{1, -1}},        // a multiple of the chunk size
		{13, 4, []int{1, 2, 3, -1}}, // 4+4+4+1
		{1000, 100, append(seq(1, 9), -1)},
	} {
		cs, c := newChunkServer(t, true)
		data := randomBytes(tt.size)
		var progress []int64
		m, err := c.Contents.Upload(ctx, "dir/f.bin", bytes.NewReader(data), TransferOptions{ChunkSize: tt.chunk,
			Progress: func(n int64) { progress = append(progress, n) }})
		if err != nil {
			t.Fatalf("%d/%d: %v", tt.size, tt.chunk, err)
		}
		if got := cs.file("dir/f.bin"); !bytes.Equal(got, data) || *m.Size != int64(tt.size) || m.Path != "dir/f.bin" {
			t.Errorf("%d/%d: server has %d bytes, model %+v", tt.size, tt.chunk, len(got), m)
		}
		if got := cs.chunkLog(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%d/%d: chunks %v, want %v", tt.size, tt.chunk, got, tt.want)
		}
		if len(progress) != len(tt.want) || progress[len(progress)-1] != int64(tt.size) {
			t.Errorf("%d/%d: progress %v", tt.size, tt.chunk, progress)
		}
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// A reader that hands out a few bytes at a time, and one that fails.
type trickle struct {
	r io.Reader
	n int
}

func (t *trickle) Read(p []byte) (int, error) { return t.r.Read(p[:min(len(p), t.n)]) }

type failing struct{ after int }

func (f *failing) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk on fire")
	}
	n := min(len(p), f.after)
	f.after -= n
	return n, nil
}

func TestUploadReaders(t *testing.T) {
	ctx := context.Background()
	cs, c := newChunkServer(t, true)
	data := randomBytes(1000)
	if _, err := c.Contents.Upload(ctx, "t.bin", &trickle{bytes.NewReader(data), 7}, TransferOptions{ChunkSize: 64}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cs.file("t.bin"), data) {
		t.Error("trickled upload differs")
	}
	_, err := c.Contents.Upload(ctx, "f.bin", &failing{after: 300}, TransferOptions{ChunkSize: 64})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), "reading at byte 300") {
		t.Errorf("failing reader: %v", err)
	}
}

// stuck returns no bytes and no error once it has handed out its data,
// for ever, and counts the reads.
type stuck struct {
	data  []byte
	reads int
}

func (s *stuck) Read(p []byte) (int, error) {
	s.reads++
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// A reader that returns (0, nil) for ever held Upload for ever, spinning
// in io.ReadFull. It fails now after maxEmptyReads empty reads in a row,
// with io.ErrNoProgress; the chunk it was reading is never sent, the
// chunks before it are stored and an *UploadError says so. A reader that
// returns (0, nil) fewer times in a row between its bytes still uploads
// whole.
func TestUploadReaderWithoutProgress(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(1000)
	for _, tt := range []struct {
		name       string
		data       []byte
		chunk      int
		stored     int64
		upErr      bool
		wantChunks []int
	}{
		{"nothing at all", nil, 100, 0, false, nil},
		{"within the first chunk", data[:50], 100, 0, false, nil},
		{"after two chunks and a half", data[:250], 100, 200, true, []int{1, 2}},
		{"exactly after three chunks: the third waits for the byte after it", data[:300], 100, 200, true, []int{1, 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs, c := newChunkServer(t, true)
			r := &stuck{data: tt.data}
			done := make(chan error, 1)
			go func() {
				_, err := c.Contents.Upload(ctx, "s.bin", r, TransferOptions{ChunkSize: tt.chunk})
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute): // a generous bound: it takes microseconds
				t.Fatal("Upload still reading a reader that makes no progress after a minute")
			}
			var ue *UploadError
			if !errors.Is(err, io.ErrNoProgress) || errors.As(err, &ue) != tt.upErr || !strings.Contains(err.Error(), "no bytes and no error 100 times in a row") {
				t.Fatalf("Upload: %v", err)
			}
			if tt.upErr && (ue.Size != tt.stored || ue.Sent != tt.stored || ue.Whole()) {
				t.Errorf("UploadError %+v", ue)
			}
			if got := cs.file("s.bin"); int64(len(got)) != tt.stored || !bytes.Equal(got, tt.data[:tt.stored]) {
				t.Errorf("the file holds %d bytes, want %d", len(got), tt.stored)
			}
			if got := cs.chunkLog(); fmt.Sprint(got) != fmt.Sprint(tt.wantChunks) {
				t.Errorf("chunks sent %v, want %v", got, tt.wantChunks)
			}
			if r.reads > len(tt.data)+maxEmptyReads+1 {
				t.Errorf("%d reads", r.reads)
			}
		})
	}
	// Empty reads fewer than the bound in a row, between every byte.
	cs, c := newChunkServer(t, true)
	if _, err := c.Contents.Upload(ctx, "e.bin", &emptyReads{data: data, every: maxEmptyReads - 1}, TransferOptions{ChunkSize: 64}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cs.file("e.bin"), data) {
		t.Error("upload with empty reads between bytes differs")
	}
}

// emptyReads returns (0, nil) every times before each byte.
type emptyReads struct {
	data         []byte
	every, empty int
}

func (e *emptyReads) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, io.EOF
	}
	if e.empty < e.every {
		e.empty++
		return 0, nil
	}
	e.empty = 0
	p[0], e.data = e.data[0], e.data[1:]
	return 1, nil
}

// What happens to a failed chunk after the first: see Upload's doc.
func TestUploadRecoversAChunkWhoseFateIsUnknown(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(1000)
	for _, tt := range []struct {
		name   string
		fault  func(n, chunk int) (bool, int)
		ok     bool
		chunks string
	}{
		// The answer to chunk 3 is lost after the server stored it: the
		// size says so, the upload goes on without sending it again.
		{"stored, answer lost", func(n, chunk int) (bool, int) {
			if n == 3 {
				return true, 502
			}
			return true, 0
		}, true, "[1 2 3 4 5 6 7 8 9 -1]"},
		// Chunk 3 failed before the write: the size says so, and it is
		// sent once more.
		{"not stored", func(n, chunk int) (bool, int) {
			if n == 3 {
				return false, 503
			}
			return true, 0
		}, true, "[1 2 3 3 4 5 6 7 8 9 -1]"},
		// The last chunk's answer is lost.
		{"last chunk stored, answer lost", func(n, chunk int) (bool, int) {
			if chunk == -1 {
				return true, 504
			}
			return true, 0
		}, true, "[1 2 3 4 5 6 7 8 9 -1]"},
		// Refused (4xx): nothing written, the upload fails.
		{"refused", func(n, chunk int) (bool, int) {
			if n == 3 {
				return false, 400
			}
			return true, 0
		}, false, "[1 2 3]"},
		// Failing twice: the one resend fails too.
		{"fails twice", func(n, chunk int) (bool, int) {
			if chunk == 3 {
				return false, 503
			}
			return true, 0
		}, false, "[1 2 3 3]"},
		// A chunk stored twice (a transport that retried an append)
		// shows in the size the server reports, and fails the upload.
		{"stored twice", func(n, chunk int) (bool, int) { return true, 0 }, false, "[1 2 3]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs, c := newChunkServer(t, true)
			cs.fault = tt.fault
			r := io.Reader(bytes.NewReader(data))
			if tt.name == "stored twice" {
				cs.fault = func(n, chunk int) (bool, int) {
					if n == 3 { // store chunk 3's data twice
						f := cs.files["u.bin"]
						f.data = append(f.data, data[200:300]...)
						f.size += 100
					}
					return true, 0
				}
			}
			_, err := c.Contents.Upload(ctx, "u.bin", r, TransferOptions{ChunkSize: 100})
			if (err == nil) != tt.ok {
				t.Fatalf("Upload: %v", err)
			}
			if got := fmt.Sprint(cs.chunkLog()); got != tt.chunks {
				t.Errorf("chunks %s, want %s", got, tt.chunks)
			}
			if tt.ok && !bytes.Equal(cs.file("u.bin"), data) {
				t.Errorf("file differs: %d bytes", len(cs.file("u.bin")))
			}
			var e *Error
			if !tt.ok && (!strings.Contains(err.Error(), "chunk 3 (bytes 200 to 300)") ||
				tt.name == "refused" && (!errors.As(err, &e) || !errors.Is(err, ErrBadRequest))) {
				t.Errorf("error %v", err)
			}
		})
	}
}

// A chunk answered with a 500 is not sent again (a 500 repeats) and fails
// the upload with an *UploadError that says what the file holds, asked
// just after: whole when the file (one chunk) or its last chunk was stored
// and the server failed after it, as Jupyter does when a post-save hook
// raises (docs/wire/contents.md C43; C44 for one chunk, on both
// generations). A one-chunk file's failed hook was a plain *Error, unlike
// a chunked file's. A refused chunk (4xx) changes
// nothing (C6): no need to ask; after the first chunk, it still leaves a
// file cut short, which the *UploadError says from the last answer.
func TestUploadAfterA500SaysWhatTheFileHolds(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(1000)
	for _, tt := range []struct {
		name             string
		chunkSize        int // 0: 100
		fault            func(n, chunk int) (bool, int)
		chunks           string
		size, sent       int64
		whole, statAfter bool
		upErr            bool // an *UploadError
		says             string
	}{
		{"post-save hook fails", 0, func(n, chunk int) (bool, int) {
			if chunk == -1 {
				return true, 500
			}
			return true, 0
		}, "[1 2 3 4 5 6 7 8 9 -1]", 1000, 1000, true, true, true, "holds all 1000 bytes"},
		{"one chunk, post-save hook fails", 4096, func(n, chunk int) (bool, int) { return true, 500 },
			"[0]", 1000, 1000, true, true, true, "holds all 1000 bytes"},
		{"one chunk, not stored", 4096, func(n, chunk int) (bool, int) { return false, 500 },
			"[0]", -1, 1000, false, true, true, "size is unknown"},
		{"one chunk, refused", 4096, func(n, chunk int) (bool, int) { return false, 403 },
			"[0]", 0, 0, false, false, false, "403 Forbidden"},
		{"first chunk refused", 0, func(n, chunk int) (bool, int) { return false, 403 },
			"[1]", 0, 0, false, false, false, "403 Forbidden"},
		{"last chunk not stored", 0, func(n, chunk int) (bool, int) {
			if chunk == -1 {
				return false, 500
			}
			return true, 0
		}, "[1 2 3 4 5 6 7 8 9 -1]", 900, 1000, false, true, true, "holds 900 of the 1000 bytes"},
		{"middle chunk not stored", 0, func(n, chunk int) (bool, int) {
			if n == 3 {
				return false, 500
			}
			return true, 0
		}, "[1 2 3]", 200, 300, false, true, true, "holds 200 of the 300 bytes"},
		{"middle chunk stored", 0, func(n, chunk int) (bool, int) {
			if n == 3 {
				return true, 500
			}
			return true, 0
		}, "[1 2 3]", 300, 300, false, true, true, "holds the 300 bytes sent so far"},
		{"middle chunk refused", 0, func(n, chunk int) (bool, int) {
			if n == 3 {
				return false, 403
			}
			return true, 0
		}, "[1 2 3]", 200, 300, false, false, true, "holds 200 of the 300 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs, c := newChunkServer(t, true)
			cs.fault = tt.fault
			_, err := c.Contents.Upload(ctx, "u.bin", bytes.NewReader(data), TransferOptions{ChunkSize: cmp.Or(tt.chunkSize, 100)})
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Upload: %v, want it to say %q", err, tt.says)
			}
			if got := fmt.Sprint(cs.chunkLog()); got != tt.chunks {
				t.Errorf("chunks %s, want %s", got, tt.chunks)
			}
			cs.mu.Lock()
			stats := cs.stats
			cs.mu.Unlock()
			if (stats == 1) != tt.statAfter || stats > 1 {
				t.Errorf("%d requests for the size after the failure", stats)
			}
			var ue *UploadError
			var e *Error
			if !errors.As(err, &e) || e.StatusCode/100 != 4 && !errors.Is(err, ErrServer) {
				t.Errorf("not the server's answer: %v", err)
			}
			if !tt.upErr {
				if errors.As(err, &ue) {
					t.Errorf("an UploadError for a refusal that left the file as it was: %v", err)
				}
				return
			}
			if !errors.As(err, &ue) || ue.Size != tt.size || ue.Sent != tt.sent || ue.Whole() != tt.whole || ue.Path != "u.bin" {
				t.Errorf("UploadError %+v (whole %v), want size %d of %d, whole %v", ue, ue != nil && ue.Whole(), tt.size, tt.sent, tt.whole)
			}
			if tt.whole && (!strings.Contains(e.Message, "post hook") || !bytes.Equal(cs.file("u.bin"), data)) {
				t.Errorf("message %q, file of %d bytes", e.Message, len(cs.file("u.bin")))
			}
		})
	}
}

// A chunked upload that ends half-way for another reason than the
// server's answer leaves a file cut short, and says so with an
// *UploadError too: the caller's context cancelled between chunks (the
// size unknown: the context bounds the asking as well), and the reader
// failing after two chunks were stored (the size known from the last
// answer). A reader failing before anything was sent is a plain error.
func TestUploadCutShortIsAnUploadError(t *testing.T) {
	data := randomBytes(1000)
	t.Run("context cancelled mid-transfer", func(t *testing.T) {
		cs, c := newChunkServer(t, true)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := c.Contents.Upload(ctx, "u.bin", bytes.NewReader(data), TransferOptions{ChunkSize: 100, Progress: func(done int64) {
			if done == 300 {
				cancel()
			}
		}})
		var ue *UploadError
		if !errors.As(err, &ue) || !errors.Is(err, context.Canceled) || ue.Size != -1 || ue.Sent != 400 || ue.Whole() {
			t.Errorf("Upload cancelled after 300 bytes: %v (%+v)", err, ue)
		}
		if got := len(cs.file("u.bin")); got != 300 {
			t.Errorf("the file holds %d bytes", got)
		}
	})
	// Cancelled while the server holds a request, one chunk (atomic) or a
	// later one: the server may have acted, so the error is an
	// *UploadError, its size unknown.
	for _, tc := range []struct {
		name      string
		chunkSize int
		sent      int64
	}{{"one chunk, cancelled mid-request", 4096, 1000}, {"chunk 3, cancelled mid-request", 100, 300}} {
		t.Run(tc.name, func(t *testing.T) {
			cs := &chunkServer{keep: true, files: map[string]*fakeFile{}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			held := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// The body read first: net/http notices the client gone
				// (and ends r's context) only once the body was read.
				if r.Method == "PUT" && (strings.Contains(readAndRestore(r), `"chunk":3`) || tc.chunkSize > 1000) {
					close(held)
					<-r.Context().Done() // held until the client gives up
					return
				}
				cs.ServeHTTP(w, r)
			}))
			defer srv.Close()
			c2, err := NewClient(Config{BaseURL: srv.URL + "/user/x/", Token: NewSecret(testToken), Timeout: NoTimeout})
			if err != nil {
				t.Fatal(err)
			}
			defer c2.CloseIdleConnections()
			go func() { <-held; cancel() }()
			_, err = c2.Contents.Upload(ctx, "u.bin", bytes.NewReader(data), TransferOptions{ChunkSize: tc.chunkSize})
			var ue *UploadError
			if !errors.As(err, &ue) || !errors.Is(err, context.Canceled) || ue.Size != -1 || ue.Sent != tc.sent {
				t.Errorf("Upload cancelled mid-request: %v (%+v)", err, ue)
			}
		})
	}
	for _, tt := range []struct {
		name       string
		failAt     int
		upErr      bool
		size, sent int64
	}{
		{"reader fails after two chunks", 250, true, 200, 200},
		{"reader fails within the first chunk", 50, false, 0, 0},
		{"reader fails reading ahead of the first chunk", 100, false, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs, c := newChunkServer(t, true)
			broken := errors.New("disk gone")
			r := io.MultiReader(bytes.NewReader(data[:tt.failAt]), iotest.ErrReader(broken))
			_, err := c.Contents.Upload(context.Background(), "u.bin", r, TransferOptions{ChunkSize: 100})
			var ue *UploadError
			if !errors.Is(err, broken) || errors.As(err, &ue) != tt.upErr {
				t.Fatalf("Upload: %v", err)
			}
			if tt.upErr && (ue.Size != tt.size || ue.Sent != tt.sent || ue.Whole() || !strings.Contains(err.Error(), "holds the 200 bytes")) {
				t.Errorf("UploadError %+v: %v", ue, err)
			}
			if got := int64(len(cs.file("u.bin"))); got != tt.size {
				t.Errorf("the file holds %d bytes", got)
			}
		})
	}
}

func TestDownload(t *testing.T) {
	ctx := context.Background()
	_, c := newChunkServer(t, true)
	data := randomBytes(100000)
	if _, err := c.Contents.Upload(ctx, "d d/f#1.bin", bytes.NewReader(data), TransferOptions{ChunkSize: 30000}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var last int64
	n, err := c.Contents.Download(ctx, "d d/f#1.bin", &buf, TransferOptions{Progress: func(d int64) {
		if d < last {
			t.Errorf("progress went back: %d after %d", d, last)
		}
		last = d
	}})
	if err != nil || n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) || last != n {
		t.Errorf("Download: %d bytes, %v, progress %d", n, err, last)
	}
	rc, err := c.Contents.Open(ctx, "d d/f#1.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("Open: %d bytes, %v", len(got), err)
	}
	// A missing file fails with Jupyter's JSON 404, from the model.
	_, err = c.Contents.Download(ctx, "nope", io.Discard, TransferOptions{})
	var e *Error
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || !strings.Contains(e.Message, "does not exist") {
		t.Errorf("missing: %v", err)
	}
}

// HeapPeak is heapPeak for the E2E tests, in package nbserv_test.
var HeapPeak = heapPeak

// heapPeak samples the heap while f runs and returns how far HeapInuse
// rose above where it was before.
func heapPeak(f func()) (peak uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var max atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max.Load() {
				max.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	if max.Load() < base {
		return 0
	}
	return max.Load() - base
}

// genReader yields n pseudo-random bytes, the same for the same seed,
// without holding them.
func genReader(seed byte, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{seed}), n)
}

// The memory bound, in process: 64 MiB up and down through a server that
// keeps only hashes. The client and the server share this heap, so the
// bound covers both (the server decodes each chunk's JSON body), and it is
// half the file's size, so holding the file would fail it. The E2E test
// (TestE2EContentsLargeFile) moves 256 MiB and measures the client alone
// against a real Jupyter Server.
func TestUploadDownloadMemoryIsBounded(t *testing.T) {
	const size = 64 << 20
	const chunk = 1 << 20
	ctx := context.Background()
	cs, c := newChunkServer(t, false)
	cs.gen = func(string) (io.Reader, int64) { return genReader(7, size), size }
	want := sha256.New()
	io.Copy(want, genReader(7, size))

	var m *Contents
	var err error
	up := heapPeak(func() {
		m, err = c.Contents.Upload(ctx, "big.bin", genReader(7, size), TransferOptions{ChunkSize: chunk})
	})
	if err != nil || *m.Size != size {
		t.Fatalf("Upload: %v", err)
	}
	t.Logf("uploading %d MiB in %d KiB chunks: peak heap growth %.1f MiB", size>>20, chunk>>10, float64(up)/(1<<20))
	if got := cs.files["big.bin"].sum.Sum(nil); !bytes.Equal(got, want.Sum(nil)) {
		t.Fatal("the server received other bytes")
	}
	got := sha256.New()
	var n int64
	down := heapPeak(func() { n, err = c.Contents.Download(ctx, "big.bin", got, TransferOptions{}) })
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("Download: %d bytes, %v", n, err)
	}
	t.Logf("downloading %d MiB: peak heap growth %.1f MiB", size>>20, float64(down)/(1<<20))
	if limit := uint64(24*chunk + 8<<20); up > limit {
		t.Errorf("upload heap grew by %d bytes, bound %d", up, limit)
	}
	if limit := uint64(8 << 20); down > limit {
		t.Errorf("download heap grew by %d bytes, bound %d (is Client.stream a true stream?)", down, limit)
	}
}

// readAndRestore returns r's body, and leaves it to be read again.
func readAndRestore(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

// The first request's refusal leaves the file as it was only if no
// earlier attempt of it reached the server: a one-chunk save or chunk 1
// stored behind a gateway's 502 (the answer lost), retried, and the retry
// refused, left the file changed, so the failure is an *UploadError
// saying what the file holds, not a plain refusal.
func TestUploadRefusedAfterAStoredAttemptIsAnUploadError(t *testing.T) {
	data := randomBytes(1000)
	for _, tt := range []struct {
		name      string
		chunkSize int
		chunks    string
		size      int64
	}{
		{"one chunk", 4096, "[0 0]", 1000},
		{"chunk 1", 100, "[1 1]", 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs := &chunkServer{keep: true, files: map[string]*fakeFile{}}
			cs.fault = func(n, chunk int) (bool, int) {
				if n == 1 {
					return true, http.StatusBadGateway // stored; the gateway lost the answer
				}
				return false, http.StatusForbidden
			}
			c, _ := serveWith(t, httptest.NewUnstartedServer(cs), fastRetries, func(cfg *Config) {
				cfg.BaseURL += "/user/x/"
				cfg.Token, cfg.Timeout = NewSecret(testToken), NoTimeout
			})
			_, err := c.Contents.Upload(context.Background(), "u.bin", bytes.NewReader(data), TransferOptions{ChunkSize: tt.chunkSize})
			if got := fmt.Sprint(cs.chunkLog()); got != tt.chunks {
				t.Errorf("chunks %s, want %s", got, tt.chunks)
			}
			var ue *UploadError
			var e *Error
			if !errors.As(err, &e) || e.StatusCode != http.StatusForbidden || !errors.As(err, &ue) || ue.Size != tt.size || ue.Sent != tt.size {
				t.Errorf("Upload: %v (%+v), want an *UploadError saying the file holds %d bytes", err, ue, tt.size)
			}
		})
	}
}
