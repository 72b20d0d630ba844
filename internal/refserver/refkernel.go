package refserver

// The reference kernel: what stands behind a kernel's channels. It answers
// the messaging protocol as ipykernel 6.17 does behind Jupyter Server
// 1.23.3 (docs/wire/kernel-channels.md KC10-KC17): one shell queue worked in
// order, control requests answered at once, iopub broadcast to every
// connection, replies routed to the connection that asked, and a
// disconnected session's messages kept for its return. What executing code
// emits comes from a test's script or, failing that, from running it with
// gpython (refkernel_interp.go).
//
// Locking: everything here runs under Server.mu. The shell worker holds it
// while it emits and releases it only to wait (a sleep, an input reply), so
// an interrupt or a restart finds the kernel between two messages.

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"
)

// maxOffline bounds the messages Jupyter keeps for a disconnected session
// (Jupyter keeps them all): beyond 32 MiB the oldest go, so the end of an
// execution (its reply, its idle status) survives.
const maxOffline = 32 << 20

// process is one run of a kernel's process: what a restart replaces.
type process struct {
	session string // the kernel's Session id, as jupyter_client makes it
	pid     int
	n       int     // message counter, in msg_ids
	engine  string  // ipykernel's ident: execute_reply metadata["engine"]
	count   int     // IPython's execution_count: the number of the next execution
	py      *interp // the interpreter, made by the first execution
}

func newProcess() process {
	return process{session: sessionID(), pid: 1000 + mrand.IntN(60000), engine: newID(), count: 1}
}

// sessionID is jupyter_client's new_id(): 32 hex digits as 8-24.
func sessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := fmt.Sprintf("%x", b[:])
	return h[:8] + "-" + h[8:]
}

// route is where replies to a client's requests go: its connection, or
// nothing while it is away (unless the kernel is keeping messages for it).
// A client that reconnects with the same session id takes its route back,
// as Jupyter reuses the old connection's ZMQ sockets.
type route struct{ c *conn }

// offline holds the messages for the last session to disconnect.
type offline struct {
	key   string // kernel id:session id
	route *route
	msgs  []*kmsg
	bytes int
}

func (o *offline) add(m *kmsg) {
	o.msgs = append(o.msgs, m)
	o.bytes += m.size()
	for o.bytes > maxOffline && len(o.msgs) > 1 {
		o.bytes -= o.msgs[0].size()
		o.msgs[0] = nil
		o.msgs = o.msgs[1:]
	}
}

// kernelRuntime is a kernel's channel side.
type kernelRuntime struct {
	k    *kernel
	proc process
	km   struct {
		session string
		n       int
	} // the KernelManager's Session: restart and shutdown requests
	conns []*conn // open connections, in connection order
	buf   *offline
	queue []*request
	// queuedBytes is the size of queue's requests, bounded by
	// MaxShellQueue.
	queuedBytes int
	// worker is non-nil while the shell worker runs, and closed when it
	// exits.
	worker   chan struct{}
	cur      *execution
	infoDone bool // Jupyter's one kernel_info request, on the first connection, is done
	dying    bool // shutting down: finish the current request, answer aborted ones, drop the rest
	gone     bool // deleted: nothing new starts
	gen      int  // process generation
	// version is the version in message headers; gen2 says the kernel
	// is ipykernel 7.4.0 (behind Jupyter Server 2.21.1), not 6.17.
	version string
	gen2    bool
	user    string // the username in message headers (Options.User)
}

// runtime returns the kernel's runtime, creating it on first use. The
// caller holds s.mu.
func (s *Server) runtime(k *kernel) *kernelRuntime {
	if k.rt == nil {
		k.rt = &kernelRuntime{k: k, proc: newProcess(), version: s.headerVersion(), gen2: s.isGen2(), user: s.user}
		k.rt.km.session = sessionID()
	}
	return k.rt
}

// style is the IPython whose tracebacks the kernel writes.
func (rt *kernelRuntime) style() tbStyle {
	if rt.gen2 {
		return ipython9
	}
	return ipython8
}

// connections is the kernel model's count. The caller holds s.mu.
func (k *kernel) connections() int {
	if k.rt == nil {
		return 0
	}
	return len(k.rt.conns)
}

// msg makes a message from the kernel process.
func (rt *kernelRuntime) msg(channel, msgType string, parent []byte, metadata, content any, buffers [][]byte) *kmsg {
	p := &rt.proc
	id := fmt.Sprintf("%s_%d_%d", p.session, p.pid, p.n)
	p.n++
	if parent == nil {
		parent = []byte("{}")
	}
	if metadata == nil {
		metadata = obj{}
	}
	return &kmsg{channel: channel, msgType: msgType, msgID: id, header: header(id, msgType, rt.user, p.session, rt.version, time.Now()),
		parent: parent, metadata: mustJSON(metadata), content: mustJSON(content), buffers: buffers}
}

// kmRequest is a header for a request the KernelManager sends (shutdown on
// restart or delete, kernel_info after a restart): a parent header.
func (s *Server) kmRequest(rt *kernelRuntime, msgType string) []byte {
	id := fmt.Sprintf("%s_%d_%d", rt.km.session, s.pid(), rt.km.n)
	rt.km.n++
	return header(id, msgType, rt.user, rt.km.session, rt.version, time.Now())
}

// publish sends m on iopub to every connection and to the offline buffer,
// and records the activity Jupyter's kernel manager watches for.
func (s *Server) publish(rt *kernelRuntime, m *kmsg) {
	if !rt.gone {
		now := time.Now().UTC()
		rt.k.lastActivity, s.kernelAct = now, now
		if m.msgType == "status" {
			var c struct {
				State string `json:"execution_state"`
			}
			if json.Unmarshal(m.content, &c) == nil {
				rt.k.state = c.State
			}
		}
	}
	for _, c := range rt.conns {
		c.enqueue(m)
	}
	if rt.buf != nil {
		rt.buf.add(m)
	}
}

// send sends a reply to the client it answers: its connection, or the
// offline buffer when it is the session being kept. Otherwise the reply is
// lost, as when a Jupyter connection closes while others stay open.
func (s *Server) send(rt *kernelRuntime, to *route, m *kmsg) {
	switch {
	case to == nil:
	case to.c != nil:
		to.c.enqueue(m)
	case rt.buf != nil && rt.buf.route == to:
		rt.buf.add(m)
	}
}

func (s *Server) setStatus(rt *kernelRuntime, state string, parent []byte) {
	s.publish(rt, rt.msg("iopub", "status", parent, nil, obj{{"execution_state", state}}, nil))
}

// enqueue queues a shell request, starting the worker if it is not
// running. A kernel that is shutting down takes no more work: its process
// is going away.
func (s *Server) enqueue(rt *kernelRuntime, req *request) {
	if rt.gone || rt.dying || s.ch.closed {
		return
	}
	rt.queue = append(rt.queue, req)
	rt.queuedBytes += req.size
	if rt.worker == nil {
		done := make(chan struct{})
		rt.worker = done
		if s.ch.working == nil {
			s.ch.working = map[*kernelRuntime]bool{}
		}
		s.ch.working[rt] = true
		s.ch.wg.Add(1)
		go s.work(rt, done)
	}
}

// work is the shell worker: it answers queued requests in order and exits
// when the queue is empty, so an idle kernel holds no goroutine.
func (s *Server) work(rt *kernelRuntime, done chan struct{}) {
	defer s.ch.wg.Done()
	s.mu.Lock()
	defer func() {
		rt.worker = nil
		delete(s.ch.working, rt)
		close(done)
		s.mu.Unlock()
	}()
	for len(rt.queue) > 0 {
		req := rt.queue[0]
		rt.queue[0] = nil
		rt.queue = rt.queue[1:]
		rt.queuedBytes -= req.size
		if rt.dying && !req.abort {
			continue // the process exits before it reads them
		}
		s.shell(rt, req)
	}
}

// shell answers one shell request as ipykernel's dispatch_shell does:
// status busy, the handler, status idle.
func (s *Server) shell(rt *kernelRuntime, req *request) {
	gen := rt.gen
	s.setStatus(rt, "busy", req.header)
	if req.abort && req.msgType == "execute_request" {
		md := obj{{"started", isoDate(time.Now())}, {"dependencies_met", true}, {"engine", rt.proc.engine}, {"status", "aborted"}}
		s.send(rt, req.origin, rt.msg(req.channel, "execute_reply", req.header, md, obj{{"status", "aborted"}}, nil))
		s.setStatus(rt, "idle", req.header)
		return
	}
	if req.msgType == "execute_request" {
		if !s.execute(rt, req) || rt.gen != gen {
			return // the process died mid-execution: no reply, no idle
		}
	} else {
		s.query(rt, req)
	}
	s.setStatus(rt, "idle", req.header)
}

// control answers a control request at once, as ipykernel's control
// thread does, even while the shell is busy.
func (s *Server) control(rt *kernelRuntime, req *request) {
	s.setStatus(rt, "busy", req.header)
	switch req.msgType {
	case "execute_request":
		// ipykernel would run it on its control thread; the reference
		// kernel runs code only from the shell queue.
	default:
		if s.query(rt, req) {
			return // shutdown: the process is gone, and with it the idle status
		}
	}
	s.setStatus(rt, "idle", req.header)
}

// query answers the requests that are not executions. It reports whether
// the process exited (a shutdown_request).
func (s *Server) query(rt *kernelRuntime, req *request) (exited bool) {
	c := req.content
	reply := func(msgType string, content any) {
		s.send(rt, req.origin, rt.msg(req.channel, msgType, req.header, nil, content, nil))
	}
	switch req.msgType {
	case "kernel_info_request":
		reply("kernel_info_reply", kernelInfo(rt.gen2))
	case "complete_request":
		_, isCode := c.str("code")
		if pos, ok := c.number("cursor_pos"); ok && isCode {
			reply("complete_reply", obj{{"matches", []string{}}, {"cursor_end", pos}, {"cursor_start", pos},
				{"metadata", obj{{"_jupyter_types_experimental", []string{}}}}, {"status", "ok"}})
		}
	case "inspect_request":
		if _, isCode := c.str("code"); isCode && c.has("cursor_pos") {
			reply("inspect_reply", obj{{"status", "ok"}, {"data", obj{}}, {"metadata", obj{}}, {"found", false}})
		}
	case "is_complete_request":
		if code, ok := c.str("code"); ok {
			reply("is_complete_reply", isComplete(code))
		}
	case "comm_info_request":
		if c != nil {
			reply("comm_info_reply", obj{{"comms", obj{}}, {"status", "ok"}})
		}
	case "history_request":
		if c != nil {
			reply("history_reply", obj{{"status", "ok"}, {"history", []any{}}})
		}
	case "comm_open":
		// No comm target is registered: ipykernel closes the comm.
		if id, ok := c["comm_id"]; ok {
			if target, ok := c.str("target_name"); ok && rt.gen2 {
				// ipykernel 7.4.0 says so on stderr (docs/wire/kernel-channels.md KC51).
				s.publish(rt, rt.msg("iopub", "stream", req.header, nil,
					obj{{"name", "stderr"}, {"text", "No such comm target registered: " + target + "\n"}}, nil))
			}
			s.publish(rt, rt.msg("iopub", "comm_close", req.header, nil, obj{{"data", obj{}}, {"comm_id", id}}, nil))
		}
	case "interrupt_request":
		if c != nil {
			if rt.gen2 {
				reply("interrupt_reply", obj{{"status", "ok"}}) // docs/wire/kernel-channels.md KC51
			} else {
				reply("interrupt_reply", c)
			}
			s.interrupt(rt)
		}
	case "shutdown_request":
		restart, ok := c["restart"]
		if !ok {
			return false
		}
		content := obj{{"status", "ok"}, {"restart", restart}}
		s.publish(rt, rt.msg("iopub", "shutdown_reply", req.header, nil, content, nil))
		reply("shutdown_reply", content)
		s.setStatus(rt, "idle", req.header)
		// The process exits; Jupyter's restarter sees it die and starts
		// another, whatever "restart" said.
		s.crash(rt, true)
		return true
	}
	return false
}

// interrupt is SIGINT: a running execution ends with KeyboardInterrupt at
// its next wait. An idle kernel ignores it.
func (s *Server) interrupt(rt *kernelRuntime) {
	if x := rt.cur; x != nil && !x.interrupted {
		x.interrupted = true
		close(x.intr)
	}
}

// shutdownSequence is what clients see when the KernelManager shuts the
// process down (restart or delete): it interrupts, then sends
// shutdown_request on control, which the kernel announces on iopub.
func (s *Server) shutdownSequence(rt *kernelRuntime, restart bool) {
	parent := s.kmRequest(rt, "shutdown_request")
	s.setStatus(rt, "busy", parent)
	s.publish(rt, rt.msg("iopub", "shutdown_reply", parent, nil, obj{{"status", "ok"}, {"restart", restart}}, nil))
	s.setStatus(rt, "idle", parent)
	rt.dying = true
	s.interrupt(rt)
}

// stopRuntime shuts a deleted kernel down: clients see the shutdown, the
// running execution ends with KeyboardInterrupt and the worker exits. The
// connections stay open and silent, as Jupyter leaves them. The caller
// holds s.mu and has removed the kernel.
func (s *Server) stopRuntime(k *kernel) {
	rt := k.rt
	if rt == nil || rt.gone {
		return
	}
	s.shutdownSequence(rt, false)
	rt.gone = true
	rt.buf = nil
}

// crash is the kernel process dying: Jupyter's restarter tells every open
// connection "restarting" (or "dead" when it gives up), nothing pending is
// ever answered, and a new process starts with execution count 1. The
// status is Jupyter Server's own message, sent to open connections only.
func (s *Server) crash(rt *kernelRuntime, restarts bool) {
	state := "restarting"
	if !restarts {
		state = "dead"
	}
	for _, c := range rt.conns {
		c.enqueue(c.serverMsg("status", obj{{"execution_state", state}}))
	}
	if x := rt.cur; x != nil {
		x.crashed = true
		s.interrupt(rt)
	}
	for i := range rt.queue {
		rt.queue[i] = nil
	}
	rt.queue, rt.queuedBytes = rt.queue[:0], 0
	s.startProcess(rt)
}

// startProcess replaces the kernel's process; the new one announces
// itself on iopub. The caller holds s.mu.
func (s *Server) startProcess(rt *kernelRuntime) {
	rt.gen++
	rt.proc = newProcess()
	s.setStatus(rt, "starting", nil)
	if rt.gen2 {
		// ipykernel 7.4.0's IOPub is an XPUB socket: it welcomes Jupyter's
		// subscription to the new process (docs/wire/kernel-channels.md KC51).
		s.publish(rt, rt.msg("iopub", "iopub_welcome", nil, nil, obj{{"subscription", ""}}, nil))
	}
}

// nudge is what Jupyter does when a client connects to a kernel that is
// not busy: kernel_info requests on shell and control until iopub answers.
// The kernel's four status messages reach the other connections; the new
// connection misses the first (the one that told Jupyter iopub works) and
// gets the messages kept for its session, if any, before the rest.
func (s *Server) nudge(rt *kernelRuntime, c *conn, replay []*kmsg) {
	if rt.k.state == "busy" {
		for _, m := range replay {
			c.enqueue(m)
		}
		return
	}
	shell, ctl := c.serverHeader("kernel_info_request"), c.serverHeader("kernel_info_request")
	first := rt.msg("iopub", "status", shell, nil, obj{{"execution_state", "busy"}}, nil)
	for _, o := range rt.conns {
		if o != c {
			o.enqueue(first)
		}
	}
	if rt.buf != nil {
		rt.buf.add(first)
	}
	s.recordStatus(rt, "busy")
	for _, m := range replay {
		c.enqueue(m)
	}
	s.setStatus(rt, "busy", ctl)
	s.setStatus(rt, "idle", shell)
	s.setStatus(rt, "idle", ctl)
}

func (s *Server) recordStatus(rt *kernelRuntime, state string) {
	if !rt.gone {
		now := time.Now().UTC()
		rt.k.lastActivity, s.kernelAct, rt.k.state = now, now, state
	}
}

// kernelInfo is ipykernel 6.17's kernel_info_reply on Debian bookworm's
// Python 3.11 or, for gen2, ipykernel 7.4.0's (IPython 9.18.1, with
// supported_features: docs/wire/kernel-channels.md KC50), but for a banner
// that says what this kernel is.
func kernelInfo(gen2 bool) obj {
	ipython, ipythonRef := "8.5.0", "https://ipython.org/documentation.html"
	if gen2 {
		ipython, ipythonRef = "9.18.1", "https://ipython.readthedocs.io/en/stable/"
	}
	link := func(text, url string) obj { return obj{{"text", text}, {"url", url}} }
	info := obj{
		{"status", "ok"},
		{"protocol_version", protocolVersion},
		{"implementation", "ipython"},
		{"implementation_version", ipython},
		{"language_info", obj{
			{"name", "python"}, {"version", "3.11.2"}, {"mimetype", "text/x-python"},
			{"codemirror_mode", obj{{"name", "ipython"}, {"version", 3}}},
			{"pygments_lexer", "ipython3"}, {"nbconvert_exporter", "python"}, {"file_extension", ".py"},
		}},
		{"banner", "nbserv reference kernel: answers as ipykernel " + map[bool]string{false: "6.17", true: "7.4.0"}[gen2] +
			" (IPython " + ipython + ", Python 3.11.2) does, " +
			"but runs Python with gpython (about Python 3.4), or what a test scripts (see docs/wire/kernel-channels.md KC18).\n"},
		{"help_links", []obj{
			link("Python Reference", "https://docs.python.org/3.11"),
			link("IPython Reference", ipythonRef),
			link("NumPy Reference", "https://docs.scipy.org/doc/numpy/reference/"),
			link("SciPy Reference", "https://docs.scipy.org/doc/scipy/reference/"),
			link("Matplotlib Reference", "https://matplotlib.org/contents.html"),
			link("SymPy Reference", "http://docs.sympy.org/latest/index.html"),
			link("pandas Reference", "https://pandas.pydata.org/pandas-docs/stable/"),
		}},
	}
	if gen2 {
		info = append(info, kv{"supported_features", []string{"kernel subshells", "debugger"}})
	}
	return info
}

// isComplete approximates IPython's is_complete for the code the
// reference kernel knows: open brackets or a block opener wait for more,
// a dangling operator or stray closer is invalid.
func isComplete(code string) obj {
	depth, quote := 0, byte(0)
	for i := 0; i < len(code); i++ {
		ch := code[i]
		switch {
		case quote != 0:
			if ch == '\\' {
				i++
			} else if ch == quote {
				quote = 0
			} else if ch == '\n' {
				return obj{{"status", "invalid"}}
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '#':
			for i < len(code) && code[i] != '\n' {
				i++
			}
		case strings.IndexByte("([{", ch) >= 0:
			depth++
		case strings.IndexByte(")]}", ch) >= 0:
			depth--
			if depth < 0 {
				return obj{{"status", "invalid"}}
			}
		}
	}
	trimmed := strings.TrimRight(code, " \t\n")
	switch {
	case quote != 0:
		return obj{{"status", "invalid"}}
	case depth > 0:
		return obj{{"status", "incomplete"}, {"indent", ""}}
	case strings.HasSuffix(trimmed, ":"):
		return obj{{"status", "incomplete"}, {"indent", "    "}}
	case trimmed != "" && strings.IndexByte("+-*/%=<>&|^,\\", trimmed[len(trimmed)-1]) >= 0:
		return obj{{"status", "invalid"}}
	}
	return obj{{"status", "complete"}}
}
