package nbserv_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The kernel channels end to end, through the public SDK only: against the
// reference server and its reference kernel by default (plain and under a
// prefix), or against a real Jupyter Server and ipykernel with
// scripts/with-jupyter.sh:
//
//	scripts/with-jupyter.sh go test -race -count=1 -run 'E2EChannels' -v .
//
// The code run is Python that the reference kernel runs too (its default
// forms: print, literals, raise, import time, time.sleep, input), so the
// assertions are the same on both, except where marked.

// chanTarget is targets' server, with the reference server's handle for the
// faults only it can script (nil against real Jupyter).
type chanTarget struct {
	target
	ref *nbservtest.Server
}

func chanTargets(t *testing.T) []chanTarget {
	if os.Getenv("NBSERV_JUPYTER_URL") != "" {
		return []chanTarget{{target: targets(t)[0]}}
	}
	plain := newRefServer(t)
	prefixed := newRefServer(t, nbservtest.WithBaseURL("/user/ci/"))
	return []chanTarget{
		{target{name: "refserver", url: plain.URL, token: plain.Token}, plain},
		{target{name: "refserver-prefixed", url: prefixed.URL, token: prefixed.Token}, prefixed},
	}
}

func forEachChanTarget(t *testing.T, f func(t *testing.T, tg chanTarget, c *nbserv.Client)) {
	for _, tg := range chanTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			f(t, tg, newClient(t, tg.url, tg.token))
		})
	}
}

// connectSession creates a notebook session (deleted at the end) and
// connects to its kernel (closed at the end).
func connectSession(t *testing.T, c *nbserv.Client, opts ...kernel.Option) (*nbserv.Session, *kernel.Conn) {
	t.Helper()
	s := create(t, c, nbserv.CreateSessionRequest{Path: uniquePath(t, "run.ipynb"), Type: nbserv.SessionNotebook})
	conn, err := c.Sessions.Connect(context.Background(), s.ID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return s, conn
}

func TestE2EChannelsExecute(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		ctx := context.Background()
		_, conn := connectSession(t, c)
		if info := conn.Info(); info.LanguageInfo.Name != "python" || info.ProtocolVersion == "" || info.Implementation != "ipython" {
			t.Errorf("kernel info %+v", info)
		}
		ex, err := conn.Execute(ctx, `print("hello")`)
		if err != nil || ex.Stdout() != "hello\n" || ex.ExecutionCount != 1 || ex.Status != kernel.StatusOK {
			t.Fatalf("print: %+v, %v", ex, err)
		}
		ex, err = conn.Execute(ctx, "6*7")
		if r := ex.Result(); err != nil || r == nil || ex.ExecutionCount != 2 || r.ExecutionCount != 2 {
			t.Fatalf("6*7: %+v, %v", ex, err)
		}
		if txt, _ := ex.Result().Data.Text("text/plain"); txt != "42" {
			t.Errorf("6*7 = %q", txt)
		}
		info, err := conn.KernelInfo(ctx)
		if err != nil || info.LanguageInfo.FileExtension != ".py" {
			t.Errorf("KernelInfo: %+v, %v", info, err)
		}
		cr, err := conn.Complete(ctx, "pri", -1)
		if err != nil || cr.Status != kernel.StatusOK || cr.CursorEnd != 3 {
			t.Errorf("Complete: %+v, %v", cr, err)
		}
		if tg.real && (len(cr.Matches) == 0 || cr.Matches[0] != "print") {
			t.Errorf("ipykernel's completions of pri: %q", cr.Matches)
		}
		if _, err := conn.Inspect(ctx, "print", 5, 0); err != nil {
			t.Errorf("Inspect: %v", err)
		}
		// The same kernel through its id, at the same time.
		other, err := c.Kernels.Connect(ctx, conn.KernelID())
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if ex, err := other.Execute(ctx, "1+1"); err != nil || ex.ExecutionCount != 3 {
			t.Errorf("second connection: %+v, %v", ex, err)
		}
	})
}

func TestE2EChannelsProtocols(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		s := create(t, c, nbserv.CreateSessionRequest{Path: uniquePath(t, "p.ipynb"), Type: nbserv.SessionNotebook})
		for _, p := range []string{kernel.ProtocolLegacy, kernel.ProtocolV1} {
			conn, err := c.Sessions.Connect(context.Background(), s.ID, kernel.WithProtocol(p))
			if tg.gateway && p == kernel.ProtocolV1 {
				// A server on a gateway offers only the legacy format
				// (docs/wire/gateway.md GW9): the Conn asked for v1 alone
				// refuses the socket rather than speak another format.
				if err == nil {
					conn.Close()
					t.Fatalf("%s through a gateway: connected, speaking %s", p, conn.Subprotocol())
				}
				if !errors.Is(err, kernel.ErrNotSupported) {
					t.Fatalf("%s through a gateway: %v, want kernel.ErrNotSupported", p, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			ex, err := conn.Execute(context.Background(), `print("x")`)
			if err != nil || ex.Stdout() != "x\n" || conn.Subprotocol() != p {
				t.Errorf("%s: %+v, %v (spoke %s)", p, ex, err, conn.Subprotocol())
			}
			conn.Close()
		}
		if tg.gateway {
			// Left to negotiate, the Conn offers v1 and falls back to the
			// legacy format the server answers with.
			conn, err := c.Sessions.Connect(context.Background(), s.ID)
			if err != nil {
				t.Fatalf("default protocol through a gateway: %v", err)
			}
			defer conn.Close()
			if ex, err := conn.Execute(context.Background(), `print("x")`); err != nil || ex.Stdout() != "x\n" || conn.Subprotocol() != kernel.ProtocolLegacy {
				t.Errorf("default protocol through a gateway: %+v, %v (spoke %s)", ex, err, conn.Subprotocol())
			}
		}
	})
}

func TestE2EChannelsError(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		_, conn := connectSession(t, c)
		ex, err := conn.Execute(context.Background(), `raise ValueError("boom")`)
		var ke *kernel.Error
		if !errors.As(err, &ke) || ke.Ename != "ValueError" || ke.Evalue != "boom" {
			t.Fatalf("%v", err)
		}
		if !strings.Contains(ke.PlainTraceback(), "ValueError: boom") || strings.Contains(ke.PlainTraceback(), "\x1b[") {
			t.Errorf("traceback %q", ke.PlainTraceback())
		}
		if ex == nil || ex.Status != kernel.StatusError || len(ex.Outputs) != 1 {
			t.Fatalf("%+v", ex)
		}
		if out, ok := ex.Outputs[0].(*kernel.Error); !ok || out.Ename != "ValueError" {
			t.Errorf("%#v", ex.Outputs[0])
		}
	})
}

func TestE2EChannelsStream(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		ctx := context.Background()
		_, conn := connectSession(t, c)
		// "a" must arrive while the kernel still sleeps: the test interrupts
		// the sleep when it sees "a", so "b" is never printed. A stream
		// that held outputs back would wait out the 30 s and print "b".
		var got []string
		for out, err := range conn.ExecuteStream(ctx, "import time\nprint(\"a\")\ntime.sleep(30)\nprint(\"b\")") {
			if err != nil {
				var ke *kernel.Error
				if !errors.As(err, &ke) || ke.Ename != "KeyboardInterrupt" {
					t.Fatalf("%v", err)
				}
				got = append(got, ke.Ename)
				continue
			}
			switch v := out.(type) {
			case *kernel.Stream:
				got = append(got, v.Text)
				if err := conn.Interrupt(ctx); err != nil {
					t.Fatal(err)
				}
			case *kernel.Error:
				got = append(got, "error output")
			}
		}
		if strings.Join(got, "|") != "a\n|error output|KeyboardInterrupt" {
			t.Errorf("got %q", got)
		}
	})
}

func TestE2EChannelsStdin(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		_, conn := connectSession(t, c)
		var prompt string
		ex, err := conn.Execute(context.Background(), `input("name? ")`, kernel.WithStdin(
			func(ctx context.Context, req *kernel.InputRequest) (string, error) {
				prompt = req.Prompt
				return "Ada", nil
			}))
		if err != nil || prompt != "name? " || ex.Result() == nil {
			t.Fatalf("%+v, %v (prompt %q)", ex, err, prompt)
		}
		if txt, _ := ex.Result().Data.Text("text/plain"); txt != "'Ada'" {
			t.Errorf("result %q", txt)
		}
		// Without WithStdin, the kernel refuses to read.
		_, err = conn.Execute(context.Background(), `input("name? ")`)
		var ke *kernel.Error
		if !errors.As(err, &ke) || ke.Ename != "StdinNotImplementedError" {
			t.Errorf("without stdin: %v", err)
		}
	})
}

func TestE2EChannelsInterrupt(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		ctx := context.Background()
		_, conn := connectSession(t, c)
		started := make(chan struct{})
		var once sync.Once
		done := make(chan error, 1)
		var took time.Duration
		go func() {
			_, err := conn.Execute(ctx, "import time\nprint(\"sleeping\")\ntime.sleep(30)",
				kernel.WithOutputFunc(func(kernel.Content) { once.Do(func() { close(started) }) }))
			done <- err
		}()
		<-started
		start := time.Now()
		if err := conn.Interrupt(ctx); err != nil {
			t.Fatal(err)
		}
		err := <-done
		took = time.Since(start)
		var ke *kernel.Error
		if !errors.As(err, &ke) || ke.Ename != "KeyboardInterrupt" {
			t.Fatalf("%v", err)
		}
		t.Logf("the interrupted execution ended %v after Interrupt was called", took)
		if ex, err := conn.Execute(ctx, "1+1"); err != nil || ex.Result() == nil {
			t.Errorf("after the interrupt: %v", err)
		}
	})
}

func TestE2EChannelsRestart(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		ctx := context.Background()
		_, conn := connectSession(t, c)
		if _, err := conn.Execute(ctx, "1+1"); err != nil {
			t.Fatal(err)
		}
		done := running(t, conn, "import time\nprint(\"sleeping\")\ntime.sleep(30)")
		if err := conn.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, kernel.ErrKernelRestarted) {
			t.Errorf("execution during the restart: %v", err)
		}
		// A new process: the execution count starts again.
		ex, err := conn.Execute(ctx, "1+1")
		if err != nil || ex.ExecutionCount != 1 {
			t.Errorf("after the restart: %+v, %v", ex, err)
		}
	})
}

// running starts an Execute of code, which must print before anything
// else, and returns its error's channel once the first output arrived.
func running(t *testing.T, conn *kernel.Conn, code string) <-chan error {
	started := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := conn.Execute(context.Background(), code,
			kernel.WithOutputFunc(func(kernel.Content) { once.Do(func() { close(started) }) }))
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("ended before its first output: %v", err)
	}
	return done
}

func TestE2EChannelsKernelKilled(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		ctx := context.Background()
		_, conn := connectSession(t, c)
		done := running(t, conn, "import time\nprint(\"sleeping\")\ntime.sleep(30)")
		killKernel(t, tg, conn.KernelID())
		// Jupyter's restarter notices, tells us "restarting", and starts a
		// new process; the running execution is lost, not left hanging.
		select {
		case err := <-done:
			if !errors.Is(err, kernel.ErrKernelRestarted) {
				t.Fatalf("execution in a killed kernel: %v", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("the execution in a killed kernel still waits after a minute")
		}
		ex, err := executeWithin(ctx, conn, "1+1")
		if errors.Is(err, context.DeadlineExceeded) && tg.ref == nil {
			// Jupyter 1.23.3 sometimes leaves the socket that lived through
			// the automatic restart without the new process's iopub
			// (docs/wire/kernel-channels.md KC5); a new connection works.
			t.Log("no answer on the socket that saw the restart; reconnecting")
			fresh, cerr := c.Kernels.Connect(ctx, conn.KernelID())
			if cerr != nil {
				t.Fatal(cerr)
			}
			t.Cleanup(func() { fresh.Close() })
			ex, err = executeWithin(ctx, fresh, "1+1")
		}
		if err != nil || ex.ExecutionCount != 1 {
			t.Errorf("after the kernel came back: %+v, %v", ex, err)
		}
	})
}

// killKernel kills a kernel's process as a crash would: the reference
// server's CrashKernel, or, for a real server on this machine, SIGKILL to
// the process whose command line names the kernel's connection file.
func killKernel(t *testing.T, tg chanTarget, kernelID string) {
	t.Helper()
	if tg.ref != nil {
		if err := tg.ref.CrashKernel(kernelID, false); err != nil {
			t.Fatal(err)
		}
		return
	}
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(b), "kernel-"+kernelID+".json") {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no process for kernel %s on this machine (the kill test needs the server here)", kernelID)
}

func TestE2EChannelsKernelDeleted(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		_, conn := connectSession(t, c)
		done := running(t, conn, "import time\nprint(\"sleeping\")\ntime.sleep(30)")
		if err := c.Kernels.Delete(context.Background(), conn.KernelID()); err != nil {
			t.Fatal(err)
		}
		// Jupyter leaves the socket open and silent; the kernel's
		// shutdown_reply is the word that it is gone.
		if err := <-done; !errors.Is(err, nbserv.ErrKernelDead) {
			t.Fatalf("execution in a deleted kernel: %v", err)
		}
		if _, err := conn.Execute(context.Background(), "1+1"); !errors.Is(err, nbserv.ErrKernelDead) {
			t.Errorf("after the delete: %v", err)
		}
	})
}

// TestE2EChannelsRestartFails is the reference server's alone: a real
// kernel cannot be made to fail its restarts from here.
func TestE2EChannelsRestartFails(t *testing.T) {
	srv := newRefServer(t)
	c := newClient(t, srv.URL, srv.Token)
	_, conn := connectSession(t, c)
	done := running(t, conn, "import time\nprint(\"sleeping\")\ntime.sleep(30)")
	if err := srv.CrashKernel(conn.KernelID(), true); err != nil {
		t.Fatal(err)
	}
	// Jupyter first says "restarting", then "dead" when the restarts fail.
	if err := <-done; !errors.Is(err, kernel.ErrKernelRestarted) {
		t.Fatalf("%v", err)
	}
	if _, err := conn.Execute(context.Background(), "1+1"); !errors.Is(err, nbserv.ErrKernelDead) {
		t.Errorf("after the failed restarts: %v", err)
	}
	if !errors.Is(conn.Err(), nbserv.ErrKernelDead) {
		t.Errorf("Err() = %v", conn.Err())
	}
}

func TestE2EChannelsDropAndReconnect(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		ctx := context.Background()
		proxy := newCutProxy(t, tg.url)
		s := create(t, c, nbserv.CreateSessionRequest{Path: uniquePath(t, "drop.ipynb"), Type: nbserv.SessionNotebook})
		// The connection goes through the proxy; c watches the kernel directly.
		viaProxy := newClient(t, proxy.baseURL(tg.url), tg.token)
		conn, err := viaProxy.Sessions.Connect(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var watch *kernel.Conn
		if tg.gateway {
			// A bound on each wait below, for a server that loses track.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			if watch, err = c.Kernels.Connect(ctx, s.Kernel.ID); err != nil {
				t.Fatal(err)
			}
			defer watch.Close()
		}

		cut := make(chan struct{})
		var once sync.Once
		type result struct {
			ex  *kernel.Execution
			err error
		}
		done := make(chan result, 1)
		go func() {
			ex, err := conn.Execute(ctx, "import time\nprint(\"a\")\ntime.sleep(2)\nprint(\"b\")\nprint(\"c\")\n6*7",
				kernel.WithOutputFunc(func(kernel.Content) { once.Do(func() { close(cut) }) }))
			done <- result{ex, err}
		}()
		<-cut
		// Cut the connection after the first output, and keep the way
		// closed until the kernel is idle again: everything after "a" is
		// sent while the client is away, and only Jupyter's buffer for the
		// session can bring it back.
		proxy.cutAndHold()
		if tg.gateway {
			// The server does not follow a gateway's kernel's state
			// (docs/wire/gateway.md GW10), so the kernel's own order says
			// when it is done: it runs a second connection's code after
			// the first execution's. (A second connection would stop a
			// Jupyter Server's own kernels' replay too: what this asserts
			// through a gateway is the SDK's answer to a loss, GW14.)
			if ex, err := watch.Execute(ctx, "1"); err != nil || ex.Result() == nil {
				t.Fatalf("the second connection's execution: %+v, %v", ex, err)
			}
		} else {
			waitIdle(t, c, s.Kernel.ID)
		}
		proxy.release()
		r := <-done
		switch {
		case tg.gateway:
			// Nothing replays what the kernel sent while the client was
			// away (GW10, GW14): everything after "a", the reply included,
			// is lost. The SDK never passes that off as a success: once the
			// kernel answers a request on the restored socket, the
			// execution ends with what arrived and ErrOutcomeUnknown (had
			// the reply come and an output not, ErrOutputMayBeLost).
			if !errors.Is(r.err, kernel.ErrOutcomeUnknown) || r.ex == nil || r.ex.Stdout() != "a\n" || r.ex.Reply != nil {
				t.Fatalf("through a gateway: %+v, %v; want stdout \"a\\n\", no reply, ErrOutcomeUnknown", r.ex, r.err)
			}
		case r.err != nil:
			t.Fatal(r.err)
		case r.ex.Stdout() != "a\nb\nc\n" || r.ex.Result() == nil || r.ex.Status != kernel.StatusOK:
			t.Errorf("outputs %+v (stdout %q)", r.ex.Outputs, r.ex.Stdout())
		}
		if n := proxy.accepted(); n < 2 {
			t.Errorf("%d connections through the proxy, want a reconnect", n)
		}
		if ex, err := conn.Execute(ctx, "1+1"); err != nil || ex.Result() == nil {
			t.Errorf("after the reconnect: %v", err)
		}
	})
}

// waitIdle polls the REST API until the kernel reports idle.
func waitIdle(t *testing.T, c *nbserv.Client, kernelID string) {
	t.Helper()
	for {
		k, err := c.Kernels.Get(context.Background(), kernelID)
		if err != nil {
			t.Fatal(err)
		}
		if k.ExecutionState == nbserv.StateIdle {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cutProxy is a TCP proxy to a server that a test can cut: close every
// connection through it, on both sides, and refuse new ones for a while
// (it accepts and closes them at once).
type cutProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	held  bool
	count int
}

func newCutProxy(t *testing.T, serverURL string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(strings.TrimPrefix(serverURL, "http://"), "https://")
	host = host[:strings.IndexByte(host, '/')]
	p := &cutProxy{ln: ln, target: host}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.cutAndHold()
		p.wg.Wait()
	})
	return p
}

// baseURL is serverURL through the proxy: same scheme (TLS passes through
// it untouched), same path.
func (p *cutProxy) baseURL(serverURL string) string {
	scheme, rest, _ := strings.Cut(serverURL, "://")
	return scheme + "://" + p.ln.Addr().String() + rest[strings.IndexByte(rest, '/'):]
}

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		held := p.held
		if !held {
			p.count++
		}
		p.mu.Unlock()
		if held {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

func (p *cutProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (p *cutProxy) cutAndHold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) release() {
	p.mu.Lock()
	p.held = false
	p.mu.Unlock()
}

func (p *cutProxy) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// executeWithin runs code with a 30-second bound, so that no test can hang.
func executeWithin(ctx context.Context, conn *kernel.Conn, code string) (*kernel.Execution, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return conn.Execute(ctx, code)
}
