package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain lets the tests run this test binary as the real command (for
// exit codes and signals), and checks that no test leaks a goroutine.
func TestMain(m *testing.M) {
	if os.Getenv("NBSERV_REFSERVER_AS_MAIN") == "1" {
		os.Args = append([]string{"nbserv-refserver"}, strings.Fields(os.Getenv("NBSERV_REFSERVER_ARGS"))...)
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// start runs the command in-process with args, its output going to the
// test's log, and returns the URL it serves; it stops with the test.
func start(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, testWriter{t}) }()
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("did not shut down")
		}
		pw.Close()
	})
	return strings.TrimSpace(url)
}

// testWriter sends what the command prints to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func TestServesUntilCanceled(t *testing.T) {
	url := start(t, "-token", "t", "-base-url", "/user/ci")
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/user/ci/") {
		t.Fatalf("printed %q", url)
	}
	req, _ := http.NewRequest("GET", url+"api/sessions", nil)
	req.Header.Set("Authorization", "token t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "[]" {
		t.Errorf("GET api/sessions: %d %s", resp.StatusCode, body)
	}
	http.DefaultClient.CloseIdleConnections()
}

// By default, and with -generation 2, the server answers as Jupyter Server
// 2.21.1: its version, and a Bearer token accepted where 1.x (-generation
// 1) refuses it. -jupyter-version changes the version, not the behaviour.
func TestGenerationFlag(t *testing.T) {
	for _, c := range []struct {
		args    []string
		version string
		bearer  int
	}{
		{nil, "2.21.1", 200},
		{[]string{"-generation", "1"}, "1.23.3", 403},
		{[]string{"-generation", "2"}, "2.21.1", 200},
		{[]string{"-generation", "2", "-jupyter-version", "2.17.0"}, "2.17.0", 200},
		{[]string{"-jupyter-version", "1.23.3"}, "1.23.3", 200}, // the version only: still 2.x
	} {
		url := start(t, append([]string{"-token", "t"}, c.args...)...)
		resp, err := http.Get(url + "api")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := `{"version":"` + c.version + `"}`; string(body) != want {
			t.Errorf("%v: GET api: %s, want %s", c.args, body, want)
		}
		req, _ := http.NewRequest("GET", url+"api/sessions", nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.bearer {
			t.Errorf("%v: GET api/sessions with Bearer: %d, want %d", c.args, resp.StatusCode, c.bearer)
		}
		http.DefaultClient.CloseIdleConnections()
	}
}

// -h prints the usage to stdout and succeeds; a bad flag prints its error
// and the usage, once, to stderr.
func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) || exitCode(err) != 0 {
		t.Errorf("-h: %v (exit %d)", err, exitCode(err))
	}
	for _, want := range []string{"Usage: nbserv-refserver", "-idle-timeout", "-read-timeout", "-max-conns", "-max-header-bytes", "-kernel-start-delay", "-generation", "-jupyter-version"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("-h output lacks %q:\n%s", want, stdout.String())
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("-h wrote to stderr: %q", stderr.String())
	}
	for _, args := range [][]string{{"-nope"}, {"-idle-timeout", "soon"}, {"-max-conns", "-1"}, {"extra"}, {"-generation", "3"}, {"-generation", "0"}} {
		stdout.Reset()
		stderr.Reset()
		err := run(context.Background(), args, &stdout, &stderr)
		if exitCode(err) != 2 {
			t.Errorf("%v: %v (exit %d), want exit 2", args, err, exitCode(err))
		}
		if n := strings.Count(stderr.String(), "Usage: nbserv-refserver"); n != 1 || stdout.Len() != 0 {
			t.Errorf("%v: usage printed %d times to stderr, stdout %q", args, n, stdout.String())
		}
	}
	if err := run(context.Background(), []string{"-addr", "256.0.0.1:1"}, &stdout, &stderr); err == nil || exitCode(err) != 1 {
		t.Errorf("bad address: %v", err)
	}
}

// The real command's exit codes: 0 for -h, 2 for a bad flag, with the
// usage once and no "flag: help requested".
func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		args     string
		code     int
		inStdout bool
	}{{"-h", 0, true}, {"-help", 0, true}, {"-nope", 2, false}} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "NBSERV_REFSERVER_AS_MAIN=1", "NBSERV_REFSERVER_ARGS="+c.args)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		out := stderr.String()
		if c.inStdout {
			out = stdout.String()
		}
		if code != c.code || strings.Count(out, "Usage: nbserv-refserver") != 1 || strings.Contains(stdout.String()+stderr.String(), "help requested") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", c.args, code, stdout.String(), stderr.String())
		}
	}
}

// dial opens a raw connection to the server at url.
func dial(t *testing.T, url string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(url, "/"), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get sends an unauthenticated GET /api on c and reads the answer.
func get(t *testing.T, c net.Conn, r *bufio.Reader) *http.Response {
	t.Helper()
	fmt.Fprint(c, "GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// expectClosed waits for the server to close c; the deadline only bounds a
// failing test.
func expectClosed(t *testing.T, c net.Conn, r *bufio.Reader, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := r.ReadByte(); err != io.EOF {
		t.Errorf("%s: read %q, %v; want the connection closed by the server", what, b, err)
	}
}

// An unauthenticated client that keeps its connection idle, or opens one
// and sends nothing, loses it after the timeout (300 such connections once
// stayed open indefinitely).
func TestIdleConnectionsAreClosed(t *testing.T) {
	url := start(t, "-idle-timeout", "200ms", "-read-header-timeout", "200ms", "-token", "t")
	c := dial(t, url)
	r := bufio.NewReader(c)
	if resp := get(t, c, r); resp.StatusCode != 200 {
		t.Fatalf("GET /api: %d", resp.StatusCode)
	}
	expectClosed(t, c, r, "idle after a request")
	silent := dial(t, url)
	expectClosed(t, silent, bufio.NewReader(silent), "silent")
}

// A body sent more slowly than the read timeout is cut off: no session is
// made (a body trickled over 14 s was once answered 201).
func TestTrickledBodyIsCut(t *testing.T) {
	url := start(t, "-read-timeout", "500ms")
	c := dial(t, url)
	body := `{"path": "slow", "type": "file"}`
	fmt.Fprintf(c, "POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
	for i := range len(body) {
		if _, err := c.Write([]byte{body[i]}); err != nil {
			break // the server has closed the connection
		}
		time.Sleep(100 * time.Millisecond)
	}
	r := bufio.NewReader(c)
	if resp, err := http.ReadResponse(r, nil); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			t.Errorf("trickled body answered 201")
		}
	}
	resp, err := http.Get(url + "api/sessions")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if string(b) != "[]" {
		t.Errorf("sessions after a cut body: %s", b)
	}
}

// Beyond -max-conns, a connection waits while every served one is busy
// (here: each in the middle of sending a request), until one closes.
func TestConnectionLimit(t *testing.T) {
	url := start(t, "-max-conns", "2")
	var held []net.Conn
	for range 2 {
		c := dial(t, url)
		fmt.Fprint(c, "POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{") // the rest never comes
		held = append(held, c)
	}
	third := dial(t, url)
	r := bufio.NewReader(third)
	fmt.Fprint(third, "GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
	// Absence of an answer can only be watched for a while; a slow machine
	// could make this pass wrongly, never fail wrongly.
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := r.Peek(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("third connection served beyond -max-conns 2 busy ones: %v", err)
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(slotBound))
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("third connection after one closed: %v", err)
	}
	resp.Body.Close()
}

// At -max-conns, idle keep-alive connections are closed to make room:
// clients that each send one request and keep their connection never lock
// out the next (the 129th of 300 once waited the whole idle timeout).
func TestIdleConnectionsMakeRoom(t *testing.T) {
	url := start(t, "-max-conns", "8")
	var kept []*bufio.Reader
	var conns []net.Conn
	for i := range 60 {
		c := dial(t, url)
		r := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(slotBound))
		fmt.Fprint(c, "GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(r, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("client %d, its connection kept idle by the ones before: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		kept, conns = append(kept, r), append(conns, c)
	}
	// Idle ones were closed for the new ones, the longest idle first: the
	// last client's is open, and 60-8 were closed. (Absence of the end
	// on an open one is watched for a while; a slow machine could make
	// this pass wrongly, never fail wrongly.)
	closed := 0
	for i := range 60 {
		conns[i].SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := kept[i].ReadByte(); err == io.EOF {
			closed++
		} else if i == 0 {
			t.Errorf("the first client's connection, idle the longest: %v, want closed", err)
		}
	}
	if closed != 60-8 {
		t.Errorf("%d idle connections closed, want %d", closed, 60-8)
	}
}

func TestSignalsShutDownCleanly(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "NBSERV_REFSERVER_AS_MAIN=1", "NBSERV_REFSERVER_ARGS=-addr 127.0.0.1:0 -token t")
			cmd.Stderr = testWriter{t}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			url, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				cmd.Process.Kill()
				t.Fatal(err)
			}
			resp, err := http.Get(strings.TrimSpace(url) + "api")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit after %v: %v", sig, err)
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 10s after %v", sig)
			}
		})
	}
}
