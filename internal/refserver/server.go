// Package refserver is an in-memory Jupyter Server that answers the
// sessions API, and what sessions depend on, exactly as Jupyter Server
// 1.23 does on the wire: the same statuses, JSON error messages, headers
// and quirks. Kernels are simulated; no process is started.
//
// Where real Jupyter crashes into a 500 with a Python traceback, Server
// answers the same status and keys with a short explanation instead of a
// traceback, and its state is unchanged.
package refserver

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultVersion is the Jupyter Server version Server reports by default:
// the one its behaviour was recorded from.
const DefaultVersion = "1.23.3"

// Options configures a Server. The zero value is a server with no token at
// the root, offering a single "python3" kernelspec.
type Options struct {
	// Token, when set, is required as "Authorization: token <t>" or
	// "?token=<t>".
	Token string
	// BaseURL is the path prefix, such as "/user/alice/" (slashes around it
	// are optional). Empty means "/".
	BaseURL string
	// KernelSpecs names the installed kernelspecs; the first is the
	// default. Empty means just "python3".
	KernelSpecs []string
	// Version is what GET /api reports. Empty means DefaultVersion.
	Version string
}

// Server is the reference server: an http.Handler safe for concurrent use.
type Server struct {
	prefix  string // "/" or "/user/alice/"
	token   []byte
	specs   []string
	version string
	started time.Time

	mu       sync.Mutex
	sessions []*session // creation order, as Jupyter's SQLite rowid
	byID     map[string]*session
	kernels  map[string]*kernel
	kOrder   []*kernel
	faults   []*fault
	gone     map[string]bool // session ids whose next DELETE answers 410
	latency  time.Duration
	requests int
	lastAct  time.Time
	ch       chanServer // kernel channels: connections, workers, scripts (channels.go)
}

type session struct {
	id       string
	path     any // string, nil or json.Number: SQLite keeps what was sent
	name     any
	typ      any
	kernelID string
}

type kernel struct {
	id, name     string
	lastActivity time.Time
	state        string
	rt           *kernelRuntime // its channels and reference kernel (refkernel.go); nil until used
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	prefix := "/" + strings.Trim(opts.BaseURL, "/") + "/"
	if prefix == "//" {
		prefix = "/"
	}
	specs := opts.KernelSpecs
	if len(specs) == 0 {
		specs = []string{"python3"}
	}
	version := opts.Version
	if version == "" {
		version = DefaultVersion
	}
	now := time.Now().UTC()
	s := &Server{
		prefix:  prefix,
		specs:   append([]string(nil), specs...),
		version: version,
		started: now,
		lastAct: now,
		byID:    map[string]*session{},
		kernels: map[string]*kernel{},
		gone:    map[string]bool{},
	}
	if opts.Token != "" {
		s.token = []byte(opts.Token)
	}
	return s
}

// Prefix returns the base-URL prefix the server answers under, with
// leading and trailing slashes.
func (s *Server) Prefix() string { return s.prefix }

// authorized reports whether the request carries the token, compared in
// constant time so response timing leaks nothing about it.
func (s *Server) authorized(r *http.Request) bool {
	if s.token == nil {
		return true
	}
	got := ""
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token "); ok {
		got = strings.TrimSpace(h)
	} else if q := r.URL.Query().Get("token"); q != "" {
		got = q
	}
	return subtle.ConstantTimeCompare([]byte(got), s.token) == 1
}

// newID returns a random UUIDv4, as Python's uuid.uuid4().
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// isoformat formats t as Jupyter does: UTC, microseconds, "Z".
func isoformat(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}
