package nbservtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// connect starts a kernel on srv and connects to its channels.
func connect(t *testing.T, srv *nbservtest.Server) (*kernel.Conn, string) {
	t.Helper()
	ctx := context.Background()
	k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := srv.Client.Kernels.Connect(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, k.ID
}

func TestScriptSteps(t *testing.T) {
	srv := nbservtest.NewServer(t)
	srv.Script("report()",
		nbservtest.Stdout("loading\n"),
		nbservtest.Stdout("done\n"),
		nbservtest.Stderr("warning\n"),
		nbservtest.Display(map[string]any{"text/plain": "table", "text/html": "<table/>"}),
		nbservtest.DisplayWithID("p1", map[string]any{"text/plain": "0%"}),
		nbservtest.UpdateDisplay("p1", map[string]any{"text/plain": "100%"}),
		nbservtest.ClearOutput(true),
		nbservtest.ResultText("42"),
	)
	conn, _ := connect(t, srv)
	ex, err := conn.Execute(context.Background(), "report()")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, out := range ex.Outputs {
		kinds = append(kinds, fmt.Sprintf("%T", out))
	}
	want := "*kernel.Stream *kernel.Stream *kernel.DisplayData *kernel.DisplayData *kernel.UpdateDisplayData *kernel.ClearOutput *kernel.ExecuteResult"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("outputs %s, want %s (two writes to stdout are one stream message)", got, want)
	}
	if ex.Stdout() != "loading\ndone\n" || ex.Stderr() != "warning\n" {
		t.Errorf("stdout %q stderr %q", ex.Stdout(), ex.Stderr())
	}
	if r := ex.Result(); r == nil || text(r) != "42" || r.ExecutionCount != ex.ExecutionCount {
		t.Errorf("result %+v (execution %d)", r, ex.ExecutionCount)
	}
}

func TestScriptError(t *testing.T) {
	srv := nbservtest.NewServer(t)
	srv.Script("fail()", nbservtest.Stdout("before\n"), nbservtest.Error("ValueError", "bad input"), nbservtest.Stdout("never\n"))
	conn, _ := connect(t, srv)
	ex, err := conn.Execute(context.Background(), "fail()")
	var ke *kernel.Error
	if !errors.As(err, &ke) || ke.Ename != "ValueError" || ke.Evalue != "bad input" {
		t.Fatalf("err %v, want the kernel's ValueError", err)
	}
	if last := ke.Traceback[len(ke.Traceback)-1]; !strings.Contains(last, "ValueError") || !strings.Contains(last, "bad input") {
		t.Errorf("traceback ends %q", last)
	}
	if ex.Stdout() != "before\n" {
		t.Errorf("stdout %q: steps after the error must not run", ex.Stdout())
	}
}

func TestScriptInput(t *testing.T) {
	srv := nbservtest.NewServer(t)
	srv.Script("ask()", nbservtest.Input("name? ", func(answer string) []nbservtest.Step {
		return []nbservtest.Step{nbservtest.Stdout("hello " + answer + "\n")}
	}))
	conn, _ := connect(t, srv)
	var prompt string
	ex, err := conn.Execute(context.Background(), "ask()", kernel.WithStdin(func(_ context.Context, req *kernel.InputRequest) (string, error) {
		prompt = req.Prompt
		return "Ann", nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if prompt != "name? " || ex.Stdout() != "hello Ann\n" {
		t.Errorf("prompt %q, stdout %q", prompt, ex.Stdout())
	}
	// Without a stdin function the SDK does not allow stdin: ipykernel's
	// StdinNotImplementedError.
	_, err = conn.Execute(context.Background(), "ask()")
	var ke *kernel.Error
	if !errors.As(err, &ke) || ke.Ename != "StdinNotImplementedError" {
		t.Errorf("without stdin: %v", err)
	}
}

func TestScriptSleepInterrupted(t *testing.T) {
	srv := nbservtest.NewServer(t)
	srv.Script("train()", nbservtest.Stdout("epoch 1\n"), nbservtest.Sleep(time.Hour), nbservtest.Stdout("never\n"))
	conn, kernelID := connect(t, srv)
	done := make(chan error, 1)
	var ex *kernel.Execution
	go func() {
		var err error
		ex, err = conn.Execute(context.Background(), "train()")
		done <- err
	}()
	waitBusy(t, srv, kernelID)
	if err := conn.Interrupt(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := <-done
	var ke *kernel.Error
	if !errors.As(err, &ke) || ke.Ename != "KeyboardInterrupt" {
		t.Fatalf("err %v, want KeyboardInterrupt", err)
	}
	if ex.Stdout() != "epoch 1\n" {
		t.Errorf("stdout %q", ex.Stdout())
	}
}

// waitBusy waits until the kernel's model says busy: the execution has
// started (and, in these scripts, is waiting).
func waitBusy(t *testing.T, srv *nbservtest.Server, kernelID string) {
	t.Helper()
	for i := 0; ; i++ {
		k, err := srv.Client.Kernels.Get(context.Background(), kernelID)
		if err != nil {
			t.Fatal(err)
		}
		if k.ExecutionState == "busy" {
			return
		}
		if i > 5000 {
			t.Fatalf("kernel never busy: %s", k.ExecutionState)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestScriptFuncAndDefaults(t *testing.T) {
	srv := nbservtest.NewServer(t)
	srv.ScriptFunc(func(code string) ([]nbservtest.Step, bool) {
		if name, ok := strings.CutPrefix(code, "greet "); ok {
			return []nbservtest.Step{nbservtest.ResultText("'hi " + name + "'")}, true
		}
		return nil, false
	})
	conn, _ := connect(t, srv)
	ctx := context.Background()
	ex, err := conn.Execute(ctx, "greet Bo")
	if err != nil || text(ex.Result()) != "'hi Bo'" {
		t.Fatalf("scripted: %v %+v", err, ex)
	}
	// Code no script takes runs as Python.
	ex, err = conn.Execute(ctx, "print(\"a\")\n1+1")
	if err != nil || ex.Stdout() != "a\n" || text(ex.Result()) != "2" {
		t.Fatalf("default: %v %+v", err, ex)
	}
	// What the interpreter cannot import is refused, not pretended.
	_, err = conn.Execute(ctx, "import numpy")
	var ke *kernel.Error
	if !errors.As(err, &ke) || ke.Ename != "ImportError" {
		t.Fatalf("unsupported code: %v", err)
	}
}

func TestScriptCrashAndMessage(t *testing.T) {
	srv := nbservtest.NewServer(t)
	srv.Script("comm()", nbservtest.Message("comm_msg", map[string]any{"comm_id": "c1", "data": map[string]any{"x": 1}}, []byte{0, 1, 2}))
	srv.Script("boom()", nbservtest.Stdout("bye\n"), nbservtest.Crash())
	conn, _ := connect(t, srv)
	ctx := context.Background()
	if _, err := conn.Execute(ctx, "comm()"); err != nil {
		t.Fatal(err)
	}
	_, err := conn.Execute(ctx, "boom()")
	if !errors.Is(err, kernel.ErrKernelRestarted) {
		t.Fatalf("crash: %v, want ErrKernelRestarted", err)
	}
}

func TestCrashKernel(t *testing.T) {
	srv := nbservtest.NewServer(t)
	ctx := context.Background()
	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.CrashKernel(s.Kernel.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.Sessions.Get(ctx, s.ID); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("session after its kernel died for good: %v", err)
	}
	if err := srv.CrashKernel("a-b-c-d-e", false); !errors.Is(err, nbservtest.ErrNoSuchKernel) {
		t.Errorf("crashing an unknown kernel: %v, want ErrNoSuchKernel", err)
	}
}

// text is an execute_result's text/plain, or "" without one.
func text(r *kernel.ExecuteResult) string {
	if r == nil {
		return ""
	}
	s, _ := r.Data.Text("text/plain")
	return s
}

// TestWebSocketPingKeepsLiveConnections: with the server pinging every
// 200 ms (WithWebSocketPing), an execution that sleeps through several
// ping timeouts (600 ms each) still completes on the SDK's connection,
// which answers pings, and the connection stays the one it was. (The
// interval leaves a loaded machine 600 ms to answer a ping: at 10 ms, a
// 30 ms stall of the client's reader under -race got it dropped.)
func TestWebSocketPingKeepsLiveConnections(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithWebSocketPing(200*time.Millisecond))
	srv.Script("slow()", nbservtest.Sleep(1500*time.Millisecond), nbservtest.Stdout("done\n"))
	conn, kid := connect(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 2 {
		ex, err := conn.Execute(ctx, "slow()")
		if err != nil || ex.Stdout() != "done\n" {
			t.Fatalf("execute across pings: %v %+v", err, ex)
		}
	}
	k, err := srv.Client.Kernels.Get(ctx, kid)
	if err != nil || k.Connections != 1 {
		t.Errorf("connections after many pings: %+v %v", k, err)
	}
}
