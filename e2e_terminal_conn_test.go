package nbserv_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
)

// termBound bounds every wait of the terminal connection tests: far
// beyond the milliseconds a shell takes to answer, even on a loaded
// machine.
const termBound = 60 * time.Second

// connectTerminal opens a connection to a terminal, closed when the test
// ends.
func connectTerminal(t *testing.T, ctx context.Context, c *nbserv.Client, name string) *nbserv.TerminalConn {
	t.Helper()
	tc, err := c.Terminals.Connect(ctx, name)
	if err != nil {
		t.Fatalf("Terminals.Connect(%s): %v", name, err)
	}
	t.Cleanup(func() { _ = tc.Close() })
	return tc
}

// typeAndRead writes input to a terminal and reads its output up to
// marker, failing the test otherwise.
func typeAndRead(t *testing.T, ctx context.Context, tc *nbserv.TerminalConn, input, marker string) string {
	t.Helper()
	if err := tc.Write(ctx, input); err != nil {
		t.Fatalf("Write(%q): %v", input, err)
	}
	out, err := tc.ReadUntil(ctx, marker)
	if err != nil {
		t.Fatalf("after %q, waiting for %q: %v", input, marker, err)
	}
	return out
}

// readToEnd reads a connection's output until it ends, and returns the
// output and the end.
func readToEnd(ctx context.Context, tc *nbserv.TerminalConn) (string, error) {
	var out strings.Builder
	for {
		s, err := tc.Next(ctx)
		out.WriteString(s)
		if err != nil {
			return out.String(), err
		}
	}
}

// TestE2ETerminalConn runs shell commands in a terminal over its
// WebSocket (docs/wire/terminals.md TM1-TM4): output is read, a resize
// reaches the shell, a second connection gets the terminal's recent
// output and then the same output as the first, closing one leaves the
// other working, and the shell's exit ends the connection with io.EOF.
// The commands' output differs from their echo (quotes removed, a size
// not typed), so reading the echo cannot pass for running them.
func TestE2ETerminalConn(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx, cancel := context.WithTimeout(t.Context(), termBound)
		defer cancel()
		term := createTerminal(t, c, "")
		tc := connectTerminal(t, ctx, c, term.Name)
		if tc.Name() != term.Name {
			t.Errorf("Name() = %q, want %q", tc.Name(), term.Name)
		}
		if err := tc.Resize(ctx, 33, 101); err != nil {
			t.Fatal(err)
		}
		typeAndRead(t, ctx, tc, "stty size\r", "33 101") // after a resize to 33x101
		typeAndRead(t, ctx, tc, "echo 'nb''serv-term'\r", "nbserv-term")

		second := connectTerminal(t, ctx, c, term.Name)
		if _, err := second.ReadUntil(ctx, "nbserv-term"); err != nil {
			t.Fatalf("a second connection does not start with the terminal's recent output: %v", err)
		}
		if err := second.Write(ctx, "echo 'seen-by''-both'\r"); err != nil {
			t.Fatal(err)
		}
		for i, conn := range []*nbserv.TerminalConn{tc, second} {
			if _, err := conn.ReadUntil(ctx, "seen-by-both"); err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
		}
		if err := second.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := second.Next(ctx); !errors.Is(err, nbserv.ErrTerminalClosed) {
			t.Errorf("Next after Close: %v", err)
		}
		if err := second.Write(ctx, "echo x\r"); !errors.Is(err, nbserv.ErrTerminalClosed) {
			t.Errorf("Write after Close: %v", err)
		}

		typeAndRead(t, ctx, tc, "echo 'still''-here'\r", "still-here") // after the other connection closed
		if err := tc.Write(ctx, "exit\r"); err != nil {
			t.Fatal(err)
		}
		if out, err := readToEnd(ctx, tc); err != io.EOF {
			t.Fatalf("after exit: %q, %v; want io.EOF", out, err)
		}
		if err := tc.Write(ctx, "echo x\r"); !errors.Is(err, nbserv.ErrTerminalClosed) {
			t.Errorf("Write after the shell exited: %v", err)
		}
		if err := tc.Close(); err != nil {
			t.Errorf("Close after the shell exited: %v", err)
		}
		// The shell's end removes the terminal.
		if _, err := c.Terminals.Get(ctx, term.Name); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("Get after exit: %v", err)
		}
	})
}

// TestE2ETerminalConnDeleted: deleting a terminal ends its connections
// with io.EOF (docs/wire/terminals.md TM4); an unknown terminal is
// ErrNotFound.
func TestE2ETerminalConnDeleted(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx, cancel := context.WithTimeout(t.Context(), termBound)
		defer cancel()
		term := createTerminal(t, c, "")
		tc := connectTerminal(t, ctx, c, term.Name)
		if err := c.Terminals.Delete(ctx, term.Name); err != nil {
			t.Fatal(err)
		}
		if out, err := readToEnd(ctx, tc); err != io.EOF {
			t.Fatalf("after Delete: %q, %v; want io.EOF", out, err)
		}
		if _, err := c.Terminals.Connect(ctx, term.Name); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("Connect to a deleted terminal: %v", err)
		}
	})
}
