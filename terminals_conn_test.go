package nbserv_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The terminal connection's bounds and failures, against the reference
// server's scripted terminal (internal/refserver/terminals_ws.go): a
// prompt "$ ", input echoed with "\r" as "\r\n", `echo` printing its
// words.

// smallTerminalBound is the MaxResponseBytes of the bound tests.
const smallTerminalBound = 4096

// refTerminal connects to a new terminal of a new reference server.
func refTerminal(t *testing.T, ctx context.Context, opts ...nbservtest.Option) (*nbservtest.Server, *nbserv.TerminalConn) {
	t.Helper()
	srv := nbservtest.NewServer(t, opts...)
	term := createTerminal(t, srv.Client, "")
	return srv, connectTerminal(t, ctx, srv.Client, term.Name)
}

// boundedTerminal connects to a new terminal of a reference server whose
// client bounds unread output at smallTerminalBound, and reads the first
// prompt.
func boundedTerminal(t *testing.T, ctx context.Context, opts ...nbservtest.Option) *nbserv.TerminalConn {
	t.Helper()
	opts = append(opts, nbservtest.WithClientConfig(func(cfg *nbserv.Config) { cfg.MaxResponseBytes = smallTerminalBound }))
	_, tc := refTerminal(t, ctx, opts...)
	if out, err := tc.ReadUntil(ctx, "$ "); err != nil || out != "$ " {
		t.Fatalf("the first prompt: %q, %v", out, err)
	}
	return tc
}

// echoTranscript is what the scripted terminal prints for echo lines.
func echoTranscript(words []string) string {
	var b strings.Builder
	for _, w := range words {
		fmt.Fprintf(&b, "echo %s\r\n%s\r\n$ ", w, w)
	}
	return b.String()
}

// TestTerminalConnSlowReaderOverflows: output that a reader lets pile up
// past MaxResponseBytes ends the connection; what was received before is
// still read, in order and whole (a prefix of what the terminal printed),
// and then the error matches ErrResponseTooLarge: nothing is lost
// silently. The same output read as it comes passes through the same
// bound.
func TestTerminalConnSlowReaderOverflows(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	var words []string
	for i := range 100 {
		words = append(words, fmt.Sprintf("w%03d-%s", i, strings.Repeat("x", 60)))
	}
	want := echoTranscript(words)
	if len(want) < 3*smallTerminalBound {
		t.Fatalf("the transcript (%d bytes) does not pass the bound several times", len(want))
	}

	t.Run("slow", func(t *testing.T) {
		tc := boundedTerminal(t, ctx)
		if err := tc.Write(ctx, "echo "+strings.Join(words, "\recho ")+"\r"); err != nil {
			t.Fatal(err)
		}
		// ReadUntil reads nothing unless the marker comes: it waits for the
		// connection's end with the output left unread.
		if _, err := tc.ReadUntil(ctx, "never printed"); !errors.Is(err, nbserv.ErrResponseTooLarge) {
			t.Fatalf("ReadUntil: %v, want ErrResponseTooLarge", err)
		}
		got, err := readToEnd(ctx, tc)
		if !errors.Is(err, nbserv.ErrResponseTooLarge) {
			t.Errorf("the end: %v, want ErrResponseTooLarge", err)
		}
		if len(got) == 0 || len(got) > smallTerminalBound || !strings.HasPrefix(want, got) {
			t.Errorf("read %d bytes before the overflow, not a prefix of the transcript within %d: %q", len(got), smallTerminalBound, got)
		}
		if err := tc.Write(ctx, "echo x\r"); !errors.Is(err, nbserv.ErrTerminalClosed) {
			t.Errorf("Write after the overflow: %v", err)
		}
	})

	t.Run("keeping up", func(t *testing.T) {
		tc := boundedTerminal(t, ctx)
		var got strings.Builder
		for _, w := range words {
			if err := tc.Write(ctx, "echo "+w+"\r"); err != nil {
				t.Fatal(err)
			}
			out, err := tc.ReadUntil(ctx, w+"\r\n$ ")
			if err != nil {
				t.Fatalf("after %d bytes: %v", got.Len(), err)
			}
			got.WriteString(out)
		}
		if got.String() != want {
			t.Errorf("read %q, want %q", got.String(), want)
		}
	})
}

// TestTerminalConnMessageBound: a single message of output larger than
// MaxResponseBytes ends the connection with ErrResponseTooLarge, after
// the output before it; output just within the bound, unread, passes.
func TestTerminalConnMessageBound(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()

	tc := boundedTerminal(t, ctx)
	word := strings.Repeat("y", 2000)
	if err := tc.Write(ctx, "echo "+word+"\r"); err != nil {
		t.Fatal(err)
	}
	want := echoTranscript([]string{word}) // 4011 bytes: within 4096, unread until whole
	if out, err := tc.ReadUntil(ctx, word+"\r\n$ "); err != nil || out != want {
		t.Fatalf("%d bytes within the bound: %d bytes, %v", len(want), len(out), err)
	}

	big := strings.Repeat("z", smallTerminalBound+100)
	if err := tc.Write(ctx, "echo "+big+"\r"); err != nil {
		t.Fatal(err)
	}
	if out, err := readToEnd(ctx, tc); !errors.Is(err, nbserv.ErrResponseTooLarge) || out != "" {
		t.Errorf("an echo of %d bytes: %d bytes read, %v; want ErrResponseTooLarge", len(big), len(out), err)
	}
}

// TestTerminalConnRefusals: what Connect, Write, Resize and ReadUntil
// refuse, and a server without terminals.
func TestTerminalConnRefusals(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	srv := nbservtest.NewServer(t)
	if _, err := srv.Client.Terminals.Connect(ctx, "99"); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("an unknown terminal: %v", err)
	}
	if _, err := srv.Client.Terminals.Connect(ctx, "a-b"); !errors.Is(err, nbserv.ErrInvalidArgument) {
		t.Errorf("a name outside \\w+: %v", err)
	}
	none := nbservtest.NewServer(t, nbservtest.WithoutTerminals())
	var ns *nbserv.NotSupportedError
	if _, err := none.Client.Terminals.Connect(ctx, "1"); !errors.As(err, &ns) || !errors.Is(err, nbserv.ErrNotSupported) {
		t.Errorf("a server without terminals: %v", err)
	}
	bad := nbservtest.NewServer(t, nbservtest.WithClientConfig(func(cfg *nbserv.Config) { cfg.Token = nbserv.NewSecret("wrong") }))
	term := createTerminal(t, srv.Client, "")
	badClient := newClient(t, bad.URL, "wrong")
	if _, err := badClient.Terminals.Connect(ctx, term.Name); !errors.Is(err, nbserv.ErrUnauthorized) {
		t.Errorf("a wrong token: %v", err)
	}

	tc := connectTerminal(t, ctx, srv.Client, term.Name)
	for _, size := range [][2]int{{0, 80}, {24, 0}, {-1, 80}, {24, 10001}} {
		if err := tc.Resize(ctx, size[0], size[1]); !errors.Is(err, nbserv.ErrInvalidArgument) {
			t.Errorf("Resize%v: %v", size, err)
		}
	}
	if err := tc.Resize(ctx, 10000, 1); err != nil {
		t.Errorf("Resize(10000, 1): %v", err)
	}
	if err := tc.Write(ctx, "echo \xff\r"); !errors.Is(err, nbserv.ErrInvalidArgument) {
		t.Errorf("Write of invalid UTF-8: %v", err)
	}
	if _, err := tc.ReadUntil(ctx, ""); !errors.Is(err, nbserv.ErrInvalidArgument) {
		t.Errorf("ReadUntil of an empty marker: %v", err)
	}
}

// TestTerminalConnContexts: a read whose context ends returns its error
// and reads nothing: the output stays for the next read.
func TestTerminalConnContexts(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	_, tc := refTerminal(t, ctx)
	typeAndRead(t, ctx, tc, "echo 'kept'\r", "kept\r\n$ ")
	ended, end := context.WithCancel(ctx)
	end()
	if _, err := tc.Next(ended); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with no output and an ended context: %v", err)
	}
	if err := tc.Write(ctx, "echo 'again'\r"); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.ReadUntil(ended, "never printed"); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadUntil with an ended context: %v", err)
	}
	if out, err := tc.ReadUntil(ctx, "again\r\n$ "); err != nil || out != "echo 'again'\r\nagain\r\n$ " {
		t.Errorf("the output after a cancelled ReadUntil: %q, %v", out, err)
	}
}

// TestTerminalConnConcurrent: writers on several goroutines and one
// reader share a connection (under -race); every command's output
// arrives.
func TestTerminalConnConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	_, tc := refTerminal(t, ctx)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := tc.Write(ctx, fmt.Sprintf("echo 'g%d-%d'\r", g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var out strings.Builder
	missing := func() int {
		n := 0
		for g := range writers {
			for i := range each {
				if !strings.Contains(out.String(), fmt.Sprintf("\r\ng%d-%d\r\n", g, i)) {
					n++
				}
			}
		}
		return n
	}
	for missing() > 0 {
		s, err := tc.Next(ctx)
		if err != nil {
			t.Fatalf("%d outputs missing: %v", missing(), err)
		}
		out.WriteString(s)
	}
	wg.Wait()
}

// TestTerminalConnServerGone: a server that stops under a connection ends
// it with ErrTerminalClosed (not io.EOF: the shell did not exit).
func TestTerminalConnServerGone(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	srv, err := nbservtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	term, err := srv.Client.Terminals.Create(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	tc := connectTerminal(t, ctx, srv.Client, term.Name)
	typeAndRead(t, ctx, tc, "echo 'last'\r", "last\r\n$ ")
	srv.Close()
	out, err := readToEnd(ctx, tc)
	if !errors.Is(err, nbserv.ErrTerminalClosed) || err == io.EOF || out != "" {
		t.Errorf("after the server stopped: %q, %v", out, err)
	}
}

// TestTerminalConnAnswersPings: a connection whose output waits unread
// answers the server's pings, so the server keeps it through many ping
// intervals: it still works after them.
func TestTerminalConnAnswersPings(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	// Each ping must be answered within three intervals: 1.5 s, a margin
	// a loaded CI machine under -race keeps (200 ms gave it 600 ms).
	_, tc := refTerminal(t, ctx, nbservtest.WithWebSocketPing(500*time.Millisecond))
	// Ten intervals, over three times the three a silent client is given.
	time.Sleep(5 * time.Second)
	typeAndRead(t, ctx, tc, "echo 'alive'\r", "alive\r\n$ ")
}

// TestTerminalConnRepeated: connections opened and closed over and over,
// several at once, on one terminal: each gets the terminal's output, and
// none is left behind (goleak checks the goroutines when the suite ends).
func TestTerminalConnRepeated(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	srv, first := refTerminal(t, ctx)
	typeAndRead(t, ctx, first, "echo 'mark''er'\r", "marker\r\n$ ")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				tc, err := srv.Client.Terminals.Connect(ctx, first.Name())
				if err != nil {
					t.Error(err)
					return
				}
				_, err = tc.ReadUntil(ctx, "marker\r\n$ ")
				if cerr := tc.Close(); err != nil || cerr != nil {
					t.Errorf("the replay: %v; Close: %v", err, cerr)
					return
				}
			}
		}()
	}
	wg.Wait()
	typeAndRead(t, ctx, first, "echo 'still''-there'\r", "still-there\r\n$ ")
}

// TestTerminalConnReadUntilAfterAnotherRead: a ReadUntil waiting while
// another reader (Next) takes the output it had searched still finds its
// marker in what comes next. It skipped as much of the new output as it
// had searched of the old, and waited for good for a marker already
// there.
func TestTerminalConnReadUntilAfterAnotherRead(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	_, tc := refTerminal(t, ctx)
	if _, err := tc.ReadUntil(ctx, "$ "); err != nil {
		t.Fatal(err)
	}
	// One message (the echo of one write): what follows "Y" waits unread.
	rest := strings.Repeat("b", 300)
	if err := tc.Write(ctx, "Y"+rest); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.ReadUntil(ctx, "Y"); err != nil {
		t.Fatal(err)
	}
	type result struct {
		out string
		err error
	}
	got := make(chan result, 1)
	go func() {
		out, err := tc.ReadUntil(ctx, "MARK")
		got <- result{out, err}
	}()
	// Until the ReadUntil waits on the output it has searched: blocked in
	// its select (a wake-up it has not taken would show it runnable).
	for !readUntilBlocked() {
		if ctx.Err() != nil {
			t.Fatal("ReadUntil never waited")
		}
		runtime.Gosched()
	}
	if out, err := tc.Next(ctx); out != rest || err != nil {
		t.Fatalf("Next: %q, %v", out, err)
	}
	if err := tc.Write(ctx, "MARK"); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.out != "MARK" || r.err != nil {
		t.Errorf("ReadUntil: %q, %v", r.out, r.err)
	}
}

// readUntilBlocked reports a goroutine blocked in TerminalConn.ReadUntil's
// wait.
func readUntilBlocked() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[select") && strings.Contains(g, "(*TerminalConn).ReadUntil") {
			return true
		}
	}
	return false
}
