// Package refserver is an in-memory Jupyter Server that answers the REST
// API exactly as Jupyter Server 2.21.1 does on the wire, or, with
// Options.Generation 1, as 1.23.3 does (docs/wire/jupyter-server-2.md G3):
// the same statuses, JSON error messages, headers and quirks. Kernels are
// simulated; no process is started.
//
// Where real Jupyter crashes into a 500 with a Python traceback, Server
// answers the same status and keys with a short explanation instead of a
// traceback, and its state is unchanged.
package refserver

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Version1 is the Jupyter Server 1.x release the 1.x personality mirrors
// (docs/wire/sessions.md and the other records): what GET /api reports in
// generation 1.
const Version1 = "1.23.3"

// Version2 is the Jupyter Server 2.x release the 2.x personality mirrors
// (docs/wire/jupyter-server-2.md G4): what GET /api reports in generation 2.
const Version2 = "2.21.1"

// DefaultGeneration is the personality of a Server whose Options name no
// generation: Jupyter Server 2.x, what most users run. It is the one
// default; nbservtest and nbserv-refserver take theirs from it.
const DefaultGeneration = 2

// Options configures a Server. The zero value is a server with no token at
// the root, offering a single "python3" kernelspec.
type Options struct {
	// Token, when set, is required as "Authorization: token <t>" or
	// "?token=<t>", matched as Jupyter matches it (docs/wire/server.md
	// SV1).
	Token string
	// BaseURL is the path prefix, such as "/user/alice/" (slashes around it
	// are optional). Empty means "/".
	BaseURL string
	// KernelSpecs names the installed kernelspecs; the first is the
	// default. Empty means just "python3".
	KernelSpecs []string
	// Generation chooses the personality, and is the only thing that does:
	// 1 answers as Jupyter Server 1.23.3, 2 as Jupyter Server 2.21.1
	// (docs/wire/jupyter-server-2.md G2 records each difference). 0 means
	// DefaultGeneration; other values are treated as 2 when larger, 1 when
	// smaller.
	Generation int
	// Version is what GET /api reports, and nothing else (a client's
	// handling of versions can be tested against either generation).
	// Empty means the generation's: Version1 or Version2.
	Version string
	// NoTerminals serves no terminals API, as Jupyter started with
	// --ServerApp.terminals_enabled=False or without terminado: every
	// /api/terminals URL is then the HTML 404 page.
	NoTerminals bool
	// ContentsRoot, when set, is the directory the contents API and
	// /files/ serve, read and written in place. Empty means a fresh
	// in-memory tree, private to the server.
	ContentsRoot string
	// WebSocketPing is how often the server pings each WebSocket it serves
	// (the kernel channels); one that answers no ping within three times
	// this is closed, so a vanished client does not hold its connection
	// for ever. Jupyter's ws_ping_interval, whose default this mirrors
	// (docs/wire/kernel-channels.md KC42).
	// 0 means DefaultWebSocketPing; tests make it short.
	WebSocketPing time.Duration
	// User is the username in every kernel message header. jupyter_client's
	// Session (the server's and ipykernel's alike) takes it from the USER
	// environment variable of its process, which JupyterHub's spawner sets
	// to the hub user's name (docs/wire/jupyterhub.md HB41). Empty means
	// "username", Session's name when USER is unset.
	User string
}

// DefaultWebSocketPing is Jupyter Server's ws_ping_interval (30 s), whose
// ping timeout is three intervals: an unresponsive socket is closed at
// most 120 s after it went silent.
const DefaultWebSocketPing = 30 * time.Second

// Server is the reference server: an http.Handler safe for concurrent use.
type Server struct {
	prefix  string // "/" or "/user/alice/"
	token   []byte
	specs   []string
	version string
	gen     int // 1 or 2: the Jupyter Server generation answered as
	started time.Time
	noTerms bool
	wsPing  time.Duration // Options.WebSocketPing, resolved
	user    string        // Options.User, resolved: the username in message headers

	contents *contents // the contents API's files, under their own lock

	mu          sync.Mutex
	sessions    ordered[*session]     // rowid order, as Jupyter's SQLite table lists them
	byID        map[string]*session   // session id → row
	byPath      map[string][]*session // pathKey → the rows holding that path, in rowid order
	rowid       uint64                // last rowid given
	kernels     map[string]*kernel
	kOrder      ordered[*kernel] // start order, as Jupyter lists kernels
	faults      []*fault
	gone        map[string]bool // session ids whose next DELETE answers 410
	latency     time.Duration
	kernelDelay time.Duration // how long a simulated kernel takes to start
	requests    int
	lastAct     time.Time                 // the last API activity
	kernelAct   time.Time                 // the last kernel activity or shutdown
	terms       []*terminal               // creation order, as terminado's dict (terminals.go)
	tsocks      termSockets               // terminal WebSockets (terminals_ws.go)
	termAct     time.Time                 // the last terminal WebSocket activity
	config      map[string]map[string]any // frontend config sections, as stored (config.go)
	ch          chanServer                // kernel channels: connections, workers, scripts (channels.go)
}

type session struct {
	id       string
	rowid    uint64
	path     any // string, nil or json.Number, as SQLite gives it back
	name     any
	typ      any
	kernelID string
}

type kernel struct {
	id, name     string
	lastActivity time.Time
	state        string
	noProcess    bool           // a restart failed: listed, but nothing runs (kernels.go)
	failRestarts int            // restarts left to fail (controls.go)
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
	gen := generation(opts.Generation)
	version := opts.Version
	if version == "" {
		version = Version1
		if gen == 2 {
			version = Version2
		}
	}
	now := time.Now().UTC()
	s := &Server{
		prefix:  prefix,
		specs:   append([]string(nil), specs...),
		version: version,
		gen:     gen,
		started: now,
		noTerms: opts.NoTerminals,
		lastAct: now,
		byID:    map[string]*session{},
		byPath:  map[string][]*session{},
		kernels: map[string]*kernel{},
		gone:    map[string]bool{},

		contents: newContents(opts.ContentsRoot),
	}
	s.contents.gen = gen
	s.user = cmp.Or(opts.User, "username")
	s.wsPing = opts.WebSocketPing
	if s.wsPing <= 0 {
		s.wsPing = DefaultWebSocketPing
	}
	if opts.Token != "" {
		s.token = []byte(opts.Token)
	}
	return s
}

// generation resolves Options.Generation to 1 or 2.
func generation(gen int) int {
	switch {
	case gen == 0:
		return DefaultGeneration
	case gen >= 2:
		return 2
	}
	return 1
}

// Generation reports the Jupyter Server generation the server answers
// as: 1 or 2.
func (s *Server) Generation() int { return s.gen }

// Prefix returns the base-URL prefix the server answers under, with
// leading and trailing slashes.
func (s *Server) Prefix() string { return s.prefix }

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
