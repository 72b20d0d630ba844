package nbserv

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// streamServer serves a file's model (its size from size) and, at /files/
// and /kernelspecs/, a body written by files.
type streamServer struct {
	size  atomic.Int64
	stats atomic.Int32 // the model requests
	files func(w http.ResponseWriter, r *http.Request)
}

func (s *streamServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/contents/"):
		s.stats.Add(1)
		fmt.Fprintf(w, `{"name": "f.bin", "path": "f.bin", "last_modified": "2026-11-27T21:34:05.017925Z", "created": "2026-11-27T21:34:05.017925Z", "content": null, "format": null, "mimetype": "application/octet-stream", "size": %d, "writable": true, "type": "file"}`, s.size.Load())
	default:
		s.files(w, r)
	}
}

func newStreamServer(t *testing.T, size int64, files func(w http.ResponseWriter, r *http.Request), adjust ...func(*Config)) (*streamServer, *Client) {
	s := &streamServer{files: files}
	s.size.Store(size)
	c, _ := serve(t, s.ServeHTTP, adjust...)
	return s, c
}

// within runs f and fails the test if it has not returned after a bound
// far above every timeout the tests set (it is a guard against a hang,
// not a measure of time).
func within[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still blocked after 30s", what)
		panic("unreachable")
	}
}

// stall sends the headers and the first n bytes of a 1,000-byte file,
// then nothing until the client goes away or the test ends.
func stall(t *testing.T, n int) func(w http.ResponseWriter, r *http.Request) {
	end := make(chan struct{})
	t.Cleanup(func() { close(end) })
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Header().Set("Content-Type", "image/png")
		w.WriteHeader(200)
		w.Write(bytes.Repeat([]byte("x"), n))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-end:
		}
	}
}

// A server that sends the headers and a few bytes and then nothing: every
// streamed read (Download, Open, KernelSpecs.Resource) ends after
// Config.StreamIdleTimeout of silence with an error matching
// ErrStreamStalled and context.DeadlineExceeded, though the caller's
// context has no deadline. Before, Download never returned.
func TestStalledStreamEndsAfterStreamIdleTimeout(t *testing.T) {
	ctx := context.Background()
	for _, sent := range []int{10, 0, 999} {
		_, c := newStreamServer(t, 1000, stall(t, sent), func(cfg *Config) {
			cfg.Timeout, cfg.StreamIdleTimeout = time.Second, 300*time.Millisecond
		})
		check := func(what string, n int64, err error) {
			t.Helper()
			var se *StalledError
			if !errors.Is(err, ErrStreamStalled) || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &se) ||
				n != int64(sent) || se.Read != int64(sent) || !strings.Contains(err.Error(), "StreamIdleTimeout") {
				t.Errorf("%s after %d bytes: %d, %v", what, sent, n, err)
			}
		}
		type result struct {
			n   int64
			err error
		}
		r := within(t, "Download", func() result {
			n, err := c.Contents.Download(ctx, "f.bin", io.Discard, TransferOptions{})
			return result{n, err}
		})
		check("Download", r.n, r.err)

		body, err := c.Contents.Open(ctx, "f.bin")
		if err != nil {
			t.Fatal(err)
		}
		r = within(t, "Open", func() result { n, err := io.Copy(io.Discard, body); return result{n, err} })
		body.Close()
		check("Open", r.n, r.err)

		res, err := c.KernelSpecs.Resource(ctx, "python3", "logo-64x64.png")
		if err != nil {
			t.Fatal(err)
		}
		r = within(t, "Resource", func() result { n, err := io.Copy(io.Discard, res); return result{n, err} })
		res.Close()
		check("Resource", r.n, r.err)
	}
}

// The input that once hung for ever: a Download with a 1s Timeout and no
// StreamIdleTimeout, from a server that sends 10 of 1,000 bytes and then
// nothing, ends as stalled; so does one whose timeout is WithTimeout's,
// though the Config's is NoTimeout.
func TestStalledDownloadEndsWithTheCallsTimeout(t *testing.T) {
	for _, tc := range []struct {
		cfg  time.Duration
		opts []CallOption
	}{{time.Second, nil}, {NoTimeout, []CallOption{WithTimeout(time.Second)}}} {
		_, c := newStreamServer(t, 1000, stall(t, 10), func(cfg *Config) { cfg.Timeout = tc.cfg })
		err := within(t, "Download", func() error {
			_, err := c.Contents.Download(context.Background(), "f.bin", io.Discard, TransferOptions{}, tc.opts...)
			return err
		})
		var se *StalledError
		if !errors.As(err, &se) || se.Idle != time.Second || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Timeout %v, options %d: %v", tc.cfg, len(tc.opts), err)
		}
	}
}

// The bound is the silence, not the transfer's length: a body that
// trickles in for longer than both Timeout and StreamIdleTimeout, with
// short gaps, arrives whole; and a caller that waits between reads longer
// than the idle timeout loses nothing, since only time spent in a read
// counts.
func TestStreamIdleTimeoutBoundsSilenceOnly(t *testing.T) {
	ctx := context.Background()
	_, c := newStreamServer(t, 20, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "20")
		for range 20 {
			w.Write([]byte("y"))
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	}, func(cfg *Config) { cfg.Timeout, cfg.StreamIdleTimeout = 500*time.Millisecond, time.Second })
	var buf bytes.Buffer
	if n, err := c.Contents.Download(ctx, "f.bin", &buf, TransferOptions{}); err != nil || n != 20 || buf.String() != strings.Repeat("y", 20) {
		t.Errorf("trickle: %d, %v", n, err)
	}

	_, c = newStreamServer(t, 1000, func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("z"), 1000))
	}, func(cfg *Config) { cfg.StreamIdleTimeout = 100 * time.Millisecond })
	body, err := c.Contents.Open(ctx, "f.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	var got []byte
	p := make([]byte, 100)
	for {
		time.Sleep(300 * time.Millisecond) // a slow consumer: three idle timeouts between reads
		n, err := body.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("slow reader after %d bytes: %v", len(got), err)
		}
		if len(got) >= 300 {
			rest, err := io.ReadAll(body)
			got = append(got, rest...)
			if err != nil {
				t.Fatalf("after the slow reads: %v", err)
			}
			break
		}
	}
	if len(got) != 1000 {
		t.Errorf("slow reader got %d bytes", len(got))
	}
}

// Many stalled downloads at once each end on their own silence; with the
// idle timeout off (NoTimeout), the caller's context still ends the read.
func TestStalledStreamsConcurrentAndNoTimeout(t *testing.T) {
	_, c := newStreamServer(t, 1000, stall(t, 10), func(cfg *Config) { cfg.StreamIdleTimeout = 200 * time.Millisecond })
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Contents.Download(context.Background(), "f.bin", io.Discard, TransferOptions{})
			errs <- err
		}()
	}
	within(t, "16 stalled downloads", func() bool { wg.Wait(); return true })
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrStreamStalled) {
			t.Errorf("concurrent: %v", err)
		}
	}

	_, c = newStreamServer(t, 1000, stall(t, 10), func(cfg *Config) { cfg.StreamIdleTimeout = NoTimeout })
	ctx, cancel := context.WithCancel(context.Background())
	body, err := c.Contents.Open(ctx, "f.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if _, err := io.ReadFull(body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(300*time.Millisecond, cancel)
	err = within(t, "a read with NoTimeout", func() error { _, err := body.Read(make([]byte, 10)); return err })
	if err == nil || errors.Is(err, ErrStreamStalled) {
		t.Errorf("NoTimeout: the read ended with %v, want the context's end", err)
	}
}

// raw answers /files/ with a hand-written HTTP/1.1 response: header lines
// (none means a close-delimited body) and the body, then closes the
// connection, as a dropped connection would.
func raw(header string, body []byte) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n" + header + "\r\n")
		buf.Write(body)
		buf.Flush()
	}
}

// A download cut short is an error, never (10, nil): with a
// Content-Length, at once; without one (a close-delimited or chunked
// body), when the file's size in its model differs and a second look
// finds the file still that size. A file that changed between the two
// requests (the second look finds the size received) is no error.
func TestTruncatedDownloadIsAnError(t *testing.T) {
	ctx := context.Background()
	ten, full, more := bytes.Repeat([]byte("a"), 10), bytes.Repeat([]byte("a"), 1000), bytes.Repeat([]byte("a"), 1010)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(full)
	zw.Close()
	gz := fmt.Sprintf("Content-Encoding: gzip\r\nContent-Length: %d\r\n", zipped.Len())
	for _, tc := range []struct {
		name      string
		files     func(w http.ResponseWriter, r *http.Request)
		sizeAfter int64 // the size the second look finds
		n         int64
		short     bool // the error matches io.ErrUnexpectedEOF
		ok        bool
		stats     int32
	}{
		{"close-delimited, short", raw("", ten), 1000, 10, true, false, 2},
		{"close-delimited, short, the file changed", raw("", ten), 10, 10, false, true, 2},
		{"close-delimited, long", raw("", more), 1000, 1010, false, false, 2},
		{"close-delimited, long, the file changed", raw("", more), 1010, 1010, false, true, 2},
		{"close-delimited, whole", raw("", full), 1000, 1000, false, true, 1},
		{"empty, close-delimited", raw("", nil), 1000, 0, true, false, 2},
		{"Content-Length, short", raw("Content-Length: 1000\r\n", ten), 1000, 10, true, false, 1},
		{"Content-Length, short, the model agreeing", raw("Content-Length: 1000\r\n", ten), 10, 10, true, false, 1},
		{"Content-Length, whole, the model differing", raw("Content-Length: 10\r\n", ten), 1000, 10, false, true, 1},
		// net/http unzips a gzip body it asked for: the Content-Length is
		// the zip's, so the file's size is what the bytes are checked against.
		{"gzip, whole", raw(gz, zipped.Bytes()), 1000, 1000, false, true, 1},
		{"chunked, cut", func(w http.ResponseWriter, r *http.Request) {
			w.Write(ten)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}, 1000, 10, true, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newStreamServer(t, 1000, nil)
			s.files = func(w http.ResponseWriter, r *http.Request) {
				s.size.Store(tc.sizeAfter)
				tc.files(w, r)
			}
			n, err := c.Contents.Download(ctx, "f.bin", io.Discard, TransferOptions{})
			if n != tc.n || (err == nil) != tc.ok || errors.Is(err, io.ErrUnexpectedEOF) != tc.short {
				t.Errorf("Download = %d, %v; want %d bytes, ok %t, short %t", n, err, tc.n, tc.ok, tc.short)
			}
			var le *LengthError
			if !tc.ok && !strings.HasPrefix(tc.name, "chunked") && (!errors.As(err, &le) || le.Got != tc.n) {
				t.Errorf("want a *LengthError with Got %d: %#v", tc.n, err)
			}
			if got := s.stats.Load(); got != tc.stats {
				t.Errorf("%d model requests, want %d", got, tc.stats)
			}
		})
	}
}

// A server that sends a file's body without a length and without end
// (fast enough that no idle timeout fires) is stopped once more bytes
// arrived than the file holds, asked again, rather than read for ever; a
// file that grew meanwhile is read to its new size. (Download read the
// endless body until its context ended: with a background context, never.)
func TestEndlessDownloadIsStoppedAtTheFilesSize(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sizeAfter int64 // the size the second look finds
		body      int64 // -1: without end
		ok        bool
	}{
		{"endless", 1000, -1, false},
		{"endless, the file grown to 5000", 5000, -1, false},
		{"longer, the file grown to 5000", 5000, 5000, true},
		{"longer, the file grown past the body", 9000, 5000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newStreamServer(t, 1000, nil)
			s.files = func(w http.ResponseWriter, r *http.Request) {
				s.size.Store(tc.sizeAfter)
				w.Header().Set("Content-Type", "application/octet-stream")
				chunk := bytes.Repeat([]byte("a"), 512)
				for sent := int64(0); tc.body < 0 || sent < tc.body; sent += int64(len(chunk)) {
					if tc.body >= 0 {
						chunk = chunk[:min(int64(len(chunk)), tc.body-sent)]
					}
					if _, err := w.Write(chunk); err != nil {
						return // the client went away
					}
					w.(http.Flusher).Flush() // chunked: no Content-Length
				}
			}
			// The writer is the guard: without the check, the copy ends
			// only here, with errTooMuch, after 1 MiB.
			w := &cappedWriter{limit: 1 << 20}
			n, err := c.Contents.Download(context.Background(), "f.bin", w, TransferOptions{})
			if errors.Is(err, errTooMuch) {
				t.Fatalf("Download read %d bytes of a %d-byte file", n, tc.sizeAfter)
			}
			var le *LengthError
			switch {
			case tc.ok && (err != nil || n != tc.body):
				t.Errorf("Download = %d, %v; want %d bytes", n, err, tc.body)
			case !tc.ok && tc.body < 0 && (!errors.As(err, &le) || le.Got <= tc.sizeAfter || le.Got > tc.sizeAfter+64<<10 || errors.Is(err, io.ErrUnexpectedEOF)):
				t.Errorf("Download = %d, %v; want a *LengthError just past %d bytes", n, err, tc.sizeAfter)
			case !tc.ok && tc.body >= 0 && (!errors.As(err, &le) || le.Got != tc.body || !errors.Is(err, io.ErrUnexpectedEOF)):
				t.Errorf("Download = %d, %v; want a short *LengthError", n, err)
			}
		})
	}
}

var errTooMuch = errors.New("more than the test allows")

// cappedWriter discards what it is given, and fails past limit bytes.
type cappedWriter struct{ limit, n int64 }

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.n += int64(len(p)); w.n > w.limit {
		return 0, errTooMuch
	}
	return len(p), nil
}
