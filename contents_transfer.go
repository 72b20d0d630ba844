package nbserv

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// DefaultChunkSize is the size of Upload's chunks when
// TransferOptions.ChunkSize is zero: 4 MiB, large enough that the request
// overhead is small on a real Jupyter Server (see BENCHMARKS.md), small
// enough that memory stays low.
const DefaultChunkSize = 4 << 20

// MaxChunkSize is the largest chunk Upload accepts: 256 MiB. Its base64
// request body stays below Jupyter's default 512 MiB body limit
// (ServerApp.max_body_size).
const MaxChunkSize = 256 << 20

// TransferOptions tune Upload and Download.
type TransferOptions struct {
	// ChunkSize is the number of bytes of the file each Upload request
	// carries; 0 means DefaultChunkSize. Upload's memory is a small
	// multiple of it (see Upload). Download ignores it.
	ChunkSize int
	// Progress, when set, is called with the number of bytes transferred
	// so far: by Upload after the server stored each chunk, by Download
	// after each write to its writer. It runs on the calling goroutine.
	Progress func(done int64)
}

// Upload writes everything r yields to the file at path, creating or
// replacing it, in chunks: memory is bounded by the chunk size, not the
// file's size. It returns the file's final model (without content).
//
// A file of at most one chunk goes in one ordinary PUT, written
// atomically. A larger one goes as Jupyter's chunked upload: PUTs of the
// model {"type": "file", "format": "base64", "chunk": n, "content": ...}
// with n = 1, 2, ... and -1 for the last. Chunk 1 creates or truncates the
// file, every later chunk appends to it, and -1 also runs the server's
// post-save hooks (docs/wire/contents.md C6). While an upload is in
// progress, readers of the file see a prefix of it.
//
// Memory: one chunk buffer of ChunkSize bytes, plus, per request, the
// JSON request body holding it as base64 (4/3 of the chunk, built by
// encoding/json in a buffer it keeps, then copied once); the bound is
// 16 × ChunkSize + 8 MiB of heap growth, whatever the size of the file
// (TestE2EContentsLargeFile measures 41.5 MiB with 4 MiB chunks for a
// 200 MiB file on Jupyter).
//
// Retries: chunk 1 and a one-chunk file are retried like any PUT that
// writes a whole file. A later chunk appends, so it is only retried when
// the server provably did not act; if the request fails without an answer
// that says what the server did (its answer lost, a 502 or 504 from a
// gateway, or a refusal such as a 503 with no retries left), Upload asks
// the server for the file's size, which tells whether the chunk was
// stored: if it was, the upload continues; if not, the chunk is sent once
// more; otherwise the upload fails, with the byte offset in the error. A
// chunk the server refuses (a 4xx: Jupyter checks before it writes, and a
// refused chunk changes nothing) fails the upload at once. A 500 fails it
// too (a 500 is not retried: it repeats).
//
// Every failure that may have left the file changed (any failure once the
// first request was sent, but that request's refusal with no earlier
// attempt of it carried out, as after a 502) is an *UploadError
// saying what the file now holds, for a one-chunk file as for a chunked
// one: Jupyter answers 500 when a post-save hook raises, after the file
// (or its last chunk) was stored, so UploadError.Whole tells a file stored
// whole whose hook failed from one cut short (docs/wire/contents.md C43).
// After every chunk Upload
// checks the size the server reports, so a chunk stored twice, or a file
// written by someone else meanwhile, fails the upload rather than leaving
// a corrupt file unnoticed.
//
// A reader that returns no bytes and no error 100 times in a row
// (maxEmptyReads) fails the upload, as bufio does, with an error matching
// io.ErrNoProgress, before the chunk it was reading is sent: an
// *UploadError when earlier chunks were stored.
func (s *ContentsService) Upload(ctx context.Context, path string, r io.Reader, t TransferOptions, opts ...CallOption) (*Contents, error) {
	p, err := contentsURL(path, false)
	if err != nil {
		return nil, err
	}
	size := t.ChunkSize
	switch {
	case size == 0:
		size = DefaultChunkSize
	case size < 0 || size > MaxChunkSize:
		return nil, &ValidationError{Field: "ChunkSize", Problem: fmt.Sprintf("must be between 1 and %d", MaxChunkSize)}
	}
	if r == nil {
		return nil, &ValidationError{Field: "r", Problem: "nil reader"}
	}
	r = progressingReader{r}
	buf := make([]byte, size)
	var look [1]byte // one byte read ahead, to know which chunk is the last
	haveLook := false
	var off int64
	for chunk := 1; ; chunk++ {
		n := 0
		if haveLook {
			buf[0], n, haveLook = look[0], 1, false
		}
		k, err := io.ReadFull(r, buf[n:])
		n += k
		last := false
		switch err {
		case nil:
			switch _, err := io.ReadFull(r, look[:]); err {
			case nil:
				haveLook = true
			case io.EOF:
				last = true
			default:
				return nil, s.readError(ctx, path, off, off+int64(n), err, opts)
			}
		case io.EOF, io.ErrUnexpectedEOF:
			last = true
		default:
			return nil, s.readError(ctx, path, off, off+int64(n), err, opts)
		}
		data := buf[:n]

		if chunk == 1 && last {
			sopts, r := transport.Observe(opts)
			m, err := s.Save(ctx, path, SaveRequest{Type: ContentsFile, Format: FormatBase64, Content: data}, sopts...)
			if err == nil {
				err = checkSize(m, int64(n))
			}
			if err != nil {
				if mayHaveWritten(r, m) {
					err = s.uploadError(ctx, path, err, int64(n), true, -1, opts)
				}
				return nil, fmt.Errorf("nbserv: upload %s: %w", path, err)
			}
			progress(t.Progress, int64(n))
			return m, nil
		}
		number := chunk
		if last {
			number = -1
		}
		m, r, err := s.putChunk(ctx, p, number, data, opts)
		if err != nil && chunk > 1 && ctx.Err() == nil && transport.Unsettled(r) {
			m, err = s.recoverChunk(ctx, path, p, number, data, off, err, opts)
		}
		if err == nil {
			err = checkSize(m, off+int64(n))
		}
		if err != nil && (chunk > 1 || mayHaveWritten(r, m)) {
			known := int64(-1) // the size to report without asking
			if chunk > 1 && r.StatusCode/100 == 4 {
				known = off // a refused chunk changes nothing (C6): the file holds what the last answer said
			}
			err = s.uploadError(ctx, path, err, off+int64(n), last, known, opts)
		}
		if err != nil {
			return nil, fmt.Errorf("nbserv: upload %s: chunk %d (bytes %d to %d): %w", path, chunk, off, off+int64(n), err)
		}
		off += int64(n)
		progress(t.Progress, off)
		if last {
			return m, nil
		}
	}
}

// maxEmptyReads is how many reads in a row may return no bytes and no
// error before Upload gives up on the caller's reader, as bufio does. The
// io.Reader contract discourages (0, nil) without forbidding it, and
// io.ReadFull asks again at once, so a reader that returns it for ever
// would hold Upload for ever, spinning.
const maxEmptyReads = 100

// progressingReader fails a read that got nothing from the reader
// maxEmptyReads times in a row, with an error matching io.ErrNoProgress.
// Upload reads a chunk whole before sending it, so the chunk being read
// is never sent: the file holds the chunks before it (an *UploadError
// says so when there were any).
type progressingReader struct{ r io.Reader }

func (p progressingReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return p.r.Read(b)
	}
	for i := 0; i < maxEmptyReads; i++ {
		if n, err := p.r.Read(b); n > 0 || err != nil {
			return n, err
		}
	}
	return 0, fmt.Errorf("the reader returned no bytes and no error %d times in a row: %w", maxEmptyReads, io.ErrNoProgress)
}

// chunkModel is the body of one chunked-upload PUT. Content is a []byte,
// which encoding/json writes as base64 straight into its buffer: no
// base64 string in between, and no per-byte escaping pass over it.
type chunkModel struct {
	Type    ContentsType `json:"type"`
	Format  string       `json:"format"`
	Chunk   int          `json:"chunk"`
	Content []byte       `json:"content"`
}

// putChunk sends one chunk, and returns with its outcome how its call
// went, for the transport's rule on whether the server acted.
func (s *ContentsService) putChunk(ctx context.Context, p string, number int, data []byte, opts []CallOption) (*Contents, *Response, error) {
	body := chunkModel{Type: ContentsFile, Format: FormatBase64, Chunk: number, Content: data}
	opts, r := transport.Observe(opts)
	// Chunk 1 truncates the file, so repeating it is harmless; the others
	// append.
	m, err := s.model(ctx, transport.Call{Method: "PUT", Path: p, Body: body, Idempotent: number == 1}, opts)
	return m, r, err
}

// recoverChunk finds out from the file's size whether a failed chunk was
// stored, and sends it again if it was not.
func (s *ContentsService) recoverChunk(ctx context.Context, path, p string, number int, data []byte, off int64, cause error, opts []CallOption) (*Contents, error) {
	st, err := s.Stat(ctx, path, opts...)
	if err != nil || st.Size == nil {
		return nil, cause
	}
	switch *st.Size {
	case off + int64(len(data)):
		return st, nil // stored; the answer was lost
	case off:
		m, _, err := s.putChunk(ctx, p, number, data, opts)
		return m, err
	}
	return nil, fmt.Errorf("%w (and the file now has %d bytes, neither before nor after the chunk)", cause, *st.Size)
}

// mayHaveWritten reports whether a failed first request (a one-chunk
// file's save, or chunk 1) may have changed the file: anything but a
// refusal (a 4xx, which Jupyter answers before writing) of every attempt
// that reached the server (a retry refused after a 502 may follow a write)
// or a request never sent. An answer whose size is wrong (m set) was
// written.
func mayHaveWritten(r *Response, m *Contents) bool {
	return m != nil || r.Attempts > 0 && !transport.Refused(r)
}

// uploadError returns cause as an *UploadError saying what the file
// holds: known if it is not -1, else the size the server reports when
// asked just after, or -1 (unknown) when it does not answer or ctx has
// ended (the caller's context bounds the asking too).
func (s *ContentsService) uploadError(ctx context.Context, path string, cause error, sent int64, last bool, known int64, opts []CallOption) error {
	e := &UploadError{Path: path, Sent: sent, Size: known, Last: last, Err: cause}
	if known < 0 && ctx.Err() == nil {
		if st, err := s.Stat(ctx, path, transport.WithoutResponse(opts)...); err == nil && st.Size != nil {
			e.Size = *st.Size
		}
	}
	return e
}

// readError is Upload's error when reading r fails at byte at: after
// chunks were stored (stored > 0) the file holds a prefix, which the
// *UploadError says; before, the server was never asked anything.
func (s *ContentsService) readError(ctx context.Context, path string, stored, at int64, err error, opts []CallOption) error {
	err = fmt.Errorf("reading at byte %d: %w", at, err)
	if stored > 0 {
		err = s.uploadError(ctx, path, err, stored, false, stored, opts)
	}
	return fmt.Errorf("nbserv: upload %s: %w", path, err)
}

// UploadError is an Upload that failed once it may have changed the file:
// every failure after the first request was sent, but a refusal (a 4xx)
// of that first request, which leaves the file as it was when no earlier
// attempt of it (retried after a 502, say) may have been carried out. It says what
// the file holds then, as the server reported it (asked just after, or
// in the last chunk's answer). Jupyter answers 500 when a post-save hook
// raises, once the file (a one-chunk file, or the last chunk) is stored
// (docs/wire/contents.md C43): Whole tells that case, where the file is
// complete and only the hook failed, from a file cut short. It unwraps to
// the cause: the server's *Error (a 500 matches ErrServer), the
// context's error, or the reader's.
type UploadError struct {
	// Path is the file's path.
	Path string
	// Sent is how many bytes Upload had sent, the failed chunk's included.
	Sent int64
	// Size is the file's size after the failure; -1 when it is unknown:
	// the server did not say, or the context had ended (the file then
	// holds at most Sent bytes, of which a prefix may be stored).
	Size int64
	// Last reports that the failed chunk was the last one.
	Last bool
	// Err is the cause: the server's answer to the chunk, the context's
	// error, or the reader's.
	Err error
}

// Whole reports that the file holds every byte of the upload: the last
// chunk was stored, and the server failed after (a post-save hook).
func (e *UploadError) Whole() bool { return e.Last && e.Size == e.Sent }

// Error says what failed and what the file holds.
func (e *UploadError) Error() string {
	switch {
	case e.Whole():
		return fmt.Sprintf("%v (the file holds all %d bytes: the server failed after storing them, as when a post-save hook fails)", e.Err, e.Size)
	case e.Size == e.Sent:
		return fmt.Sprintf("%v (the file holds the %d bytes sent so far)", e.Err, e.Size)
	case e.Size >= 0:
		return fmt.Sprintf("%v (the file holds %d of the %d bytes sent so far)", e.Err, e.Size, e.Sent)
	}
	return fmt.Sprintf("%v (the file's size is unknown)", e.Err)
}

// Unwrap returns the cause.
func (e *UploadError) Unwrap() error { return e.Err }

// checkSize checks the size the server reports after a chunk, which
// catches a chunk appended twice (a retry the transport should not have
// made) or another writer, instead of leaving a corrupt file unnoticed.
func checkSize(m *Contents, want int64) error {
	if m != nil && m.Size != nil && *m.Size != want {
		return fmt.Errorf("the server reports %d bytes where %d were sent: the file was changed meanwhile, or a chunk stored twice", *m.Size, want)
	}
	return nil
}

func progress(f func(int64), done int64) {
	if f != nil {
		f(done)
	}
}

// Download copies the file at path to w, streaming it from
// GET /files/{path} (the file's raw bytes) in small reads: memory does not
// grow with the file's size. It returns the number of bytes written.
// Errors are as for Open: a server gone silent for
// Config.StreamIdleTimeout ends it with a *StalledError, a body cut short
// with a *LengthError.
func (s *ContentsService) Download(ctx context.Context, path string, w io.Writer, t TransferOptions, opts ...CallOption) (int64, error) {
	body, err := s.Open(ctx, path, opts...)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	if t.Progress != nil {
		w = &progressWriter{w: w, f: t.Progress}
	}
	n, err := io.Copy(w, body)
	if err != nil {
		return n, fmt.Errorf("nbserv: download %s: after %d bytes: %w", path, n, err)
	}
	return n, nil
}

// Open starts a download of the file at path and returns its bytes as a
// stream, from GET /files/{path}; the caller reads it and closes it.
//
// Open first asks for the file's model (without content), so that a
// missing or hidden file fails with ErrNotFound and a wrong token with
// ErrUnauthorized, each with Jupyter's JSON message (Jupyter answers
// /files with an HTML page, or a redirect to its login page, instead), and
// a directory with a *ValidationError. Notebooks come as their .ipynb
// file. Response (WithResponse) describes the GET /files answer.
//
// Reading the stream is bounded by ctx and Config.StreamIdleTimeout: a
// read that waits longer than that for data fails with a *StalledError
// (matching ErrStreamStalled and context.DeadlineExceeded). A body that
// ends before its Content-Length, or, without one, at another length than
// the file's size (asked again then, since the file may have changed),
// fails its last read with a *LengthError (matching io.ErrUnexpectedEOF
// when short) instead of io.EOF; one without a Content-Length that goes
// past the file's size fails as soon as it does, unless the file, asked
// again, has grown at least as large, so that a body without end is not
// read for ever.
func (s *ContentsService) Open(ctx context.Context, path string, opts ...CallOption) (io.ReadCloser, error) {
	clean, err := cleanPath("path", path, false)
	if err != nil {
		return nil, err
	}
	st, err := s.Stat(ctx, clean, opts...)
	if err != nil {
		return nil, err
	}
	if st.Type == ContentsDirectory {
		return nil, &ValidationError{Field: "path", Problem: "is a directory"}
	}
	body, r, err := s.c.t.Stream(ctx, transport.Call{Method: "GET", Path: "files/" + escapePath(clean)}, opts)
	if err != nil {
		return nil, err
	}
	if r != nil && r.StatusCode != http.StatusOK {
		body.Close()
		return nil, fmt.Errorf("nbserv: GET files/%s: unexpected status %d", clean, r.StatusCode)
	}
	if transport.StreamLength(body) >= 0 || st.Size == nil {
		return body, nil // the transport checks a Content-Length, which Jupyter sends (docs/wire/contents.md C12)
	}
	return &sizedBody{ReadCloser: body, want: *st.Size, path: s.c.t.BasePath() + "files/" + escapePath(clean),
		restat: func() (*Contents, error) { return s.Stat(ctx, clean, transport.WithoutResponse(opts)...) }}, nil
}

// sizedBody checks a file's body that came without a Content-Length (a
// close-delimited or chunked answer, which a dropped connection cuts short
// unseen) against the file's size in its model. A body of another length
// is a *LengthError only if the file still has the size the model said:
// if it now has the length received, it was changed between the two
// requests and the body is the new file. The check is made at the end of
// a short body, and as soon as a body passes the size: a server sending
// without end (whose bytes keep every idle timeout away) is stopped once
// the file, asked again, is smaller than what arrived, rather than read
// for ever.
type sizedBody struct {
	io.ReadCloser
	want   int64
	path   string
	restat func() (*Contents, error)
	got    int64
	end    error // the verdict, so that reads after it return it again
}

func (b *sizedBody) Read(p []byte) (int, error) {
	if b.end != nil {
		return 0, b.end
	}
	n, err := b.ReadCloser.Read(p)
	b.got += int64(n)
	if b.got > b.want {
		// Past the size: the file grew (ask again, and go on to its new
		// size), or the server sends more than the file holds.
		st, serr := b.restat()
		if serr != nil || st.Size == nil || *st.Size < b.got {
			b.end = &LengthError{Method: "GET", Path: b.path, Got: b.got, Want: b.want}
			return n, b.end
		}
		b.want = *st.Size
	}
	if err != io.EOF || b.got == b.want {
		return n, err
	}
	b.end = &LengthError{Method: "GET", Path: b.path, Got: b.got, Want: b.want}
	if st, serr := b.restat(); serr == nil && st.Size != nil && *st.Size == b.got {
		b.end = io.EOF
	}
	return n, b.end
}

// progressWriter reports the bytes written through it.
type progressWriter struct {
	w    io.Writer
	f    func(int64)
	done int64
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.f(p.done)
	return n, err
}
