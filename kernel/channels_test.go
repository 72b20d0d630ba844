package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Unit tests of Conn against fakeKernel (channels_fake_test.go). The same
// behaviours run against real Jupyter and the reference server in
// integration_channels_test.go.

// uuidV4 matches a random (version 4) UUID, as a Conn's own session id is.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// bothFramings runs f with the server speaking legacy JSON only, then with
// it accepting the v1 subprotocol.
func bothFramings(t *testing.T, f func(t *testing.T, v1 bool)) {
	for _, v1 := range []bool{false, true} {
		name := "legacy"
		if v1 {
			name = "v1"
		}
		t.Run(name, func(t *testing.T) { f(t, v1) })
	}
}

func TestConnectHandshake(t *testing.T) {
	bothFramings(t, func(t *testing.T, v1 bool) {
		k := newFakeKernel(t, standardExec)
		k.v1 = v1
		conn := k.connect()
		want := ProtocolLegacy
		if v1 {
			want = ProtocolV1
		}
		if conn.Subprotocol() != want {
			t.Errorf("subprotocol %q, want %q", conn.Subprotocol(), want)
		}
		if info := conn.Info(); info == nil || info.Implementation != "fake" || info.LanguageInfo.Name != "python" {
			t.Errorf("Info() = %+v", info)
		}
		h := k.handshakes[0]
		if got := h.Header.Get("Authorization"); got != "token "+testToken {
			t.Errorf("Authorization %q", got)
		}
		if strings.Contains(h.URL.String(), testToken) {
			t.Errorf("token in the URL %s", h.URL)
		}
		if h.URL.Path != "/user/x/api/kernels/"+k.id+"/channels" || h.URL.Query().Get("session_id") != conn.SessionID() {
			t.Errorf("handshake URL %s (session %s)", h.URL, conn.SessionID())
		}
		if got := h.Header.Values("Sec-WebSocket-Protocol"); len(got) != 1 || got[0] != ProtocolV1 {
			t.Errorf("offered subprotocols %q, want v1 offered by default", got)
		}
		if !uuidV4.MatchString(conn.SessionID()) {
			t.Errorf("session id %q is not a UUID", conn.SessionID())
		}
		// Every message the Conn sent carries its session id and protocol version.
		for _, m := range k.receivedOf(MsgKernelInfoRequest) {
			if m.Header.Session != conn.SessionID() || m.Header.Version != "5.3" || m.Header.Username != "go-nbserv" {
				t.Errorf("header %+v", m.Header)
			}
			if _, ok := m.Header.Time(); !ok {
				t.Errorf("header date %q", m.Header.Date)
			}
		}
	})
}

func TestOptions(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	k.v1 = true
	conn := k.connect(WithProtocol(ProtocolLegacy), WithSessionID("my-session"), WithUsername("ada"))
	if conn.Subprotocol() != ProtocolLegacy || conn.SessionID() != "my-session" {
		t.Errorf("subprotocol %q, session %q", conn.Subprotocol(), conn.SessionID())
	}
	if got := k.handshakes[0].Header.Values("Sec-WebSocket-Protocol"); len(got) != 0 {
		t.Errorf("legacy offered %q", got)
	}
	if m := k.receivedOf(MsgKernelInfoRequest)[0]; m.Header.Username != "ada" || m.Header.Session != "my-session" {
		t.Errorf("header %+v", m.Header)
	}
	// Any session id and user name make valid JSON headers (the fake
	// reports a malformed frame as a test error).
	odd := k.connect(WithSessionID("s \"quoted\" \\ é\x01"), WithUsername("ü\n"))
	if _, err := odd.Execute(context.Background(), "1+1"); err != nil {
		t.Fatal(err)
	}
	if m := k.receivedOf(MsgExecuteRequest)[0]; m.Header.Session != "s \"quoted\" \\ é\x01" || m.Header.Username != "ü\n" ||
		!strings.HasPrefix(m.Header.MsgID, m.Header.Session+"_") {
		t.Errorf("header %+v", m.Header)
	}

	// v1 demanded from a server that speaks only legacy.
	legacy := newFakeKernel(t, standardExec)
	_, err := dial(context.Background(), legacy.client, legacy.id, WithProtocol(ProtocolV1))
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "does not speak "+ProtocolV1) {
		t.Errorf("v1 against a legacy server: %v", err)
	}

	n := k.handshakeCount()
	for _, opt := range []Option{WithProtocol("v2"), WithSessionID(""), WithMaxMessageBytes(0),
		WithMaxOutputBytes(-1), WithReconnectTimeout(0), WithCheckInterval(0), WithHandshakeTimeout(0)} {
		if _, err := dial(context.Background(), k.client, k.id, opt); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("invalid option: %v", err)
		}
	}
	if k.handshakeCount() != n {
		t.Error("a refused option reached the server")
	}
}

func TestConnectRefused(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	ctx := context.Background()
	var e *transport.Error
	_, err := dial(ctx, k.client, "00000000-0000-4000-8000-000000000000")
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || e.Method != "GET" || e.Path != "/user/x/api/kernels/00000000-0000-4000-8000-000000000000/channels" {
		t.Errorf("unknown kernel: %v", err)
	}
	bad := newTestClient(t, Config{BaseURL: k.srv.URL + k.prefix, Token: transport.NewSecret("wrong-token")})
	_, err = dial(ctx, bad, k.id)
	if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("wrong token: %v", err)
	}
	// The fake echoes the query into its 403 page: the token is never there.
	if errors.As(err, &e) && strings.Contains(string(e.Body), "wrong-token") {
		t.Errorf("body %q", e.Body)
	}
}

func TestExecuteCollectsOutputsInOrder(t *testing.T) {
	bothFramings(t, func(t *testing.T, v1 bool) {
		// Jupyter delivers shell and IOPub independently: the reply may come
		// first, between the outputs, or after idle.
		orders := map[string]func(x *fakeExec){
			"reply last": func(x *fakeExec) {
				x.status(StateBusy)
				x.input()
				x.stream(Stdout, "a\n")
				x.iopub(MsgDisplayData, map[string]any{"data": map[string]any{"text/plain": "'d'"}, "metadata": map[string]any{}, "transient": map[string]any{"display_id": "x"}})
				x.result("2")
				x.status(StateIdle)
				x.reply(StatusOK, nil)
			},
			"reply first": func(x *fakeExec) {
				x.reply(StatusOK, nil)
				x.status(StateBusy)
				x.input()
				x.stream(Stdout, "a\n")
				x.iopub(MsgDisplayData, map[string]any{"data": map[string]any{"text/plain": "'d'"}, "metadata": map[string]any{}, "transient": map[string]any{"display_id": "x"}})
				x.result("2")
				x.status(StateIdle)
			},
		}
		for name, script := range orders {
			t.Run(name, func(t *testing.T) {
				k := newFakeKernel(t, script)
				k.v1 = v1
				conn := k.connect()
				ex, err := conn.Execute(context.Background(), "code")
				if err != nil {
					t.Fatal(err)
				}
				if ex.Status != StatusOK || ex.ExecutionCount != 1 || ex.Reply == nil || len(ex.Outputs) != 3 {
					t.Fatalf("%+v", ex)
				}
				s, ok1 := ex.Outputs[0].(*Stream)
				d, ok2 := ex.Outputs[1].(*DisplayData)
				r, ok3 := ex.Outputs[2].(*ExecuteResult)
				if !ok1 || !ok2 || !ok3 || s.Text != "a\n" || d.DisplayID() != "x" || r.ExecutionCount != 1 {
					t.Fatalf("outputs %#v", ex.Outputs)
				}
				if txt, _ := r.Data.Text("text/plain"); txt != "2" || ex.Result() != r || ex.Stdout() != "a\n" || ex.Stderr() != "" {
					t.Errorf("result %q, stdout %q", txt, ex.Stdout())
				}
				req := k.receivedOf(MsgExecuteRequest)[0]
				var c ExecuteRequest
				_ = json.Unmarshal(req.Content, &c)
				want := ExecuteRequest{Code: "code", StoreHistory: true, UserExpressions: map[string]string{}, StopOnError: true}
				if diff := cmp.Diff(want, c); diff != "" || req.Channel != ChannelShell {
					t.Errorf("request on %s (-want +got):\n%s", req.Channel, diff)
				}
			})
		}
	})
}

func TestExecuteOptions(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	conn := k.connect()
	var seen []Content
	ex, err := conn.Execute(context.Background(), "print:hi", WithSilent(), WithoutHistory(), WithoutStopOnError(),
		WithUserExpressions(map[string]string{"x": "1"}), WithOutputFunc(func(c Content) { seen = append(seen, c) }))
	if err != nil || len(seen) != 1 || seen[0] != ex.Outputs[0] {
		t.Fatalf("%v, seen %v", err, seen)
	}
	var c ExecuteRequest
	_ = json.Unmarshal(k.receivedOf(MsgExecuteRequest)[0].Content, &c)
	want := ExecuteRequest{Code: "print:hi", Silent: true, UserExpressions: map[string]string{"x": "1"}}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

func TestExecuteMessageFuncSeesEveryMessageOfTheExecution(t *testing.T) {
	bothFramings(t, func(t *testing.T, v1 bool) {
		k := newFakeKernel(t, standardExec)
		k.v1 = v1
		conn := k.connect()
		var types []string
		for _, streamed := range []bool{false, true} {
			types = nil
			f := WithMessageFunc(func(m *Message) {
				if m.Header.Date == "" {
					t.Errorf("%s without a date", m.Header.MsgType)
				}
				types = append(types, string(m.Channel)+"/"+m.Header.MsgType)
			})
			if streamed {
				for _, err := range conn.ExecuteStream(context.Background(), "print:hi", f) {
					if err != nil {
						t.Fatal(err)
					}
				}
			} else if _, err := conn.Execute(context.Background(), "print:hi", f); err != nil {
				t.Fatal(err)
			}
			want := []string{"iopub/status", "iopub/execute_input", "iopub/stream", "shell/execute_reply", "iopub/status"}
			if diff := cmp.Diff(want, types); diff != "" {
				t.Errorf("streamed %v (-want +got):\n%s", streamed, diff)
			}
		}
	})
}

func TestExecuteKernelError(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	conn := k.connect()
	ex, err := conn.Execute(context.Background(), "raise:boom")
	var ke *Error
	if !errors.As(err, &ke) || ke.Ename != "ValueError" || ke.Evalue != "boom" || len(ke.Traceback) != 2 {
		t.Fatalf("err %v", err)
	}
	if err.Error() != "nbserv: kernel error: ValueError: boom" {
		t.Errorf("Error() = %q", err.Error())
	}
	if ke.PlainTraceback() != "---------------------------------------------------------------------------\nValueError: boom" {
		t.Errorf("plain traceback %q", ke.PlainTraceback())
	}
	if ex == nil || ex.Status != StatusError || len(ex.Outputs) != 1 {
		t.Fatalf("execution %+v", ex)
	}
	if out, ok := ex.Outputs[0].(*Error); !ok || out.Ename != "ValueError" {
		t.Errorf("error output %#v", ex.Outputs[0])
	}
	// The connection goes on.
	if ex, err := conn.Execute(context.Background(), "1+1"); err != nil || ex.ExecutionCount != 2 {
		t.Errorf("after an error: %+v, %v", ex, err)
	}
}

func TestExecuteAborted(t *testing.T) {
	k := newFakeKernel(t, func(x *fakeExec) {
		x.status(StateBusy)
		x.reply(StatusAborted, nil)
		x.status(StateIdle)
	})
	conn := k.connect()
	ex, err := conn.Execute(context.Background(), "x")
	if !errors.Is(err, ErrAborted) || ex == nil || ex.Status != StatusAborted {
		t.Errorf("%+v, %v", ex, err)
	}
}

func TestExecuteStreamYieldsAsOutputsArrive(t *testing.T) {
	// The script sends one output, then waits for the test to have
	// received it before sending the next: a stream that buffered outputs
	// until the end would deadlock here (and fail on the test's timeout).
	next := make(chan struct{})
	k := newFakeKernel(t, func(x *fakeExec) {
		x.status(StateBusy)
		x.input()
		for i := range 3 {
			x.stream(Stdout, fmt.Sprint(i))
			if !x.wait(next) {
				return
			}
		}
		x.status(StateIdle)
		x.reply(StatusOK, nil)
	})
	conn := k.connect()
	var got []string
	for out, err := range conn.ExecuteStream(context.Background(), "x") {
		if err != nil {
			t.Fatal(err)
		}
		switch v := out.(type) {
		case *Stream:
			got = append(got, v.Text)
			next <- struct{}{}
		case *ExecuteReply:
			got = append(got, "reply "+v.Status)
		default:
			t.Errorf("unexpected %T", out)
		}
	}
	if diff := cmp.Diff([]string{"0", "1", "2", "reply ok"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestExecuteStreamError(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	conn := k.connect()
	var items []string
	for out, err := range conn.ExecuteStream(context.Background(), "raise:no") {
		if err != nil {
			var ke *Error
			if !errors.As(err, &ke) || ke.Evalue != "no" {
				t.Errorf("err %v", err)
			}
			items = append(items, "err")
			continue
		}
		items = append(items, out.MsgType())
	}
	if diff := cmp.Diff([]string{"error", "err"}, items); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestExecuteStreamBreakStopsWaiting(t *testing.T) {
	k := newFakeKernel(t, func(x *fakeExec) {
		if x.req.Code == "1+1" {
			standardExec(x)
			return
		}
		x.status(StateBusy)
		x.stream(Stdout, "first")
		x.waitInterrupt() // the kernel goes on running
		x.stream(Stdout, "late")
		x.reply(StatusOK, nil)
		x.status(StateIdle)
	})
	late := make(chan *Message, 16)
	conn := k.connect(WithMessageHandler(func(m *Message) {
		if m.Header.MsgType == MsgStream {
			late <- m
		}
	}))
	for out := range conn.ExecuteStream(context.Background(), "x") {
		if s, ok := out.(*Stream); !ok || s.Text != "first" {
			t.Fatalf("%#v", out)
		}
		break
	}
	// The request is forgotten: what the kernel sends later goes to the
	// handler, and the connection serves the next request.
	if err := conn.Interrupt(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := <-late; m.ParentHeader.MsgType != MsgExecuteRequest || !strings.Contains(string(m.Content), "late") {
		t.Errorf("%+v", m)
	}
	if ex, err := conn.Execute(context.Background(), "1+1"); err != nil || ex.Result() == nil {
		t.Errorf("after break: %v", err)
	}
}

func TestStdin(t *testing.T) {
	bothFramings(t, func(t *testing.T, v1 bool) {
		var replies []*Message
		var prompt InputRequest
		k := newFakeKernel(t, func(x *fakeExec) {
			if !x.req.AllowStdin {
				x.raise("StdinNotImplementedError", "raw_input was called, but this frontend does not support input requests.")
				return
			}
			x.status(StateBusy)
			x.input()
			r := x.ask("name? ", false)
			p := x.ask("secret? ", true)
			replies = append(replies, r, p)
			var a, b InputReply
			_ = json.Unmarshal(r.Content, &a)
			_ = json.Unmarshal(p.Content, &b)
			x.stream(Stdout, "hello "+a.Value+" "+b.Value+"\n")
			x.reply(StatusOK, nil)
			x.status(StateIdle)
		})
		k.v1 = v1
		conn := k.connect()
		ex, err := conn.Execute(context.Background(), "input()", WithStdin(func(ctx context.Context, req *InputRequest) (string, error) {
			prompt = *req
			if req.Password {
				return "pw", nil
			}
			return "Ada", nil
		}))
		if err != nil || ex.Stdout() != "hello Ada pw\n" {
			t.Fatalf("%v, stdout %q", err, ex.Stdout())
		}
		if prompt != (InputRequest{"secret? ", true}) {
			t.Errorf("last prompt %+v", prompt)
		}
		// Each input_reply goes on stdin with the input_request's header,
		// byte for byte, as its parent.
		reqs := k.receivedOf(MsgInputReply)
		if len(reqs) != 2 || reqs[0].Channel != ChannelStdin || reqs[0].ParentHeader.MsgType != MsgInputRequest ||
			reqs[0].ParentHeader.Session != "fake" || reqs[0].ParentHeader.MsgID == reqs[1].ParentHeader.MsgID {
			t.Errorf("input replies %+v", reqs)
		}
		// Without WithStdin the kernel is told input is not allowed.
		_, err = conn.Execute(context.Background(), "input()")
		var ke *Error
		if !errors.As(err, &ke) || ke.Ename != "StdinNotImplementedError" {
			t.Errorf("without stdin: %v", err)
		}
	})
}

func TestStdinFuncError(t *testing.T) {
	k := newFakeKernel(t, func(x *fakeExec) {
		x.status(StateBusy)
		x.ask("name? ", false)
	})
	conn := k.connect()
	boom := errors.New("no terminal")
	_, err := conn.Execute(context.Background(), "input()", WithStdin(func(context.Context, *InputRequest) (string, error) { return "", boom }))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "Interrupt") {
		t.Errorf("%v", err)
	}
}

func TestConcurrentExecutesAreRoutedByParent(t *testing.T) {
	// The fake runs executions at once and interleaves their messages,
	// which a real kernel never does; each caller must still get only its
	// own outputs.
	k := newFakeKernel(t, func(x *fakeExec) {
		x.status(StateBusy)
		for i := range 5 {
			x.stream(Stdout, fmt.Sprintf("%s.%d ", x.req.Code, i))
			runtime.Gosched()
		}
		x.reply(StatusOK, nil)
		x.status(StateIdle)
	})
	conn := k.connect()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := fmt.Sprint("c", i)
			ex, err := conn.Execute(context.Background(), code)
			want := fmt.Sprintf("%[1]s.0 %[1]s.1 %[1]s.2 %[1]s.3 %[1]s.4 ", code)
			if err != nil || ex.Stdout() != want {
				t.Errorf("%s: %v, %q", code, err, ex.Stdout())
			}
		}()
	}
	wg.Wait()
}

func TestCancelStopsWaitingAndSaysHowToInterrupt(t *testing.T) {
	k := newFakeKernel(t, func(x *fakeExec) {
		if x.req.Code == "1+1" {
			standardExec(x)
			return
		}
		x.status(StateBusy)
		x.input()
		if x.waitInterrupt() {
			x.raise("KeyboardInterrupt", "")
		}
	})
	handled := make(chan string, 64)
	conn := k.connect(WithMessageHandler(func(m *Message) { handled <- m.Header.MsgType }))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(k.receivedOf(MsgExecuteRequest)) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	ex, err := conn.Execute(ctx, "import time; time.sleep(30)")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "Conn.Interrupt") || ex == nil {
		t.Fatalf("%+v, %v", ex, err)
	}
	// Interrupting ends the code; its late messages go to the handler, and
	// the connection serves the next request.
	if err := conn.Interrupt(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ex, err := conn.Execute(context.Background(), "1+1"); err != nil || ex.Result() == nil {
		t.Fatalf("after cancel: %+v, %v", ex, err)
	}
	for msgType := range handled { // the interrupted execution's error reaches the handler
		if msgType == MsgError {
			break
		}
	}
}

func TestInterruptEndsExecution(t *testing.T) {
	k := newFakeKernel(t, func(x *fakeExec) {
		x.status(StateBusy)
		x.input()
		if x.waitInterrupt() {
			x.raise("KeyboardInterrupt", "")
		}
	})
	conn := k.connect()
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Execute(context.Background(), "import time; time.sleep(30)")
		errc <- err
	}()
	for len(k.receivedOf(MsgExecuteRequest)) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := conn.Interrupt(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ke *Error
	if err := <-errc; !errors.As(err, &ke) || ke.Ename != "KeyboardInterrupt" {
		t.Errorf("%v", err)
	}
	if k.interrupts != 1 {
		t.Errorf("%d interrupts", k.interrupts)
	}
}

// running starts an Execute of a script that never ends on its own, and
// returns its error channel once the kernel has the request.
func running(t *testing.T, k *fakeKernel, conn *Conn) <-chan error {
	t.Helper()
	n := len(k.receivedOf(MsgExecuteRequest))
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Execute(context.Background(), "forever")
		errc <- err
	}()
	for len(k.receivedOf(MsgExecuteRequest)) == n {
		time.Sleep(time.Millisecond)
	}
	return errc
}

// hang is a script that runs until the test ends, except for "1+1".
func hang(x *fakeExec) {
	if x.req.Code == "1+1" {
		standardExec(x)
		return
	}
	x.status(StateBusy)
	x.input()
	<-x.k.done
}

func TestRestart(t *testing.T) {
	k := newFakeKernel(t, hang)
	conn := k.connect()
	errc := running(t, k, conn)
	if err := conn.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrKernelRestarted) {
		t.Errorf("running execution: %v", err)
	}
	// Restart reconnected, with the same session id, as JupyterLab does.
	if n := k.handshakeCount(); n != 2 || k.handshakes[1].URL.Query().Get("session_id") != conn.SessionID() {
		t.Errorf("%d handshakes", n)
	}
	if ex, err := conn.Execute(context.Background(), "1+1"); err != nil || ex.ExecutionCount != 1 {
		t.Errorf("after restart: %+v, %v", ex, err)
	}
}

func TestKernelRestartingStatus(t *testing.T) {
	k := newFakeKernel(t, hang)
	conn := k.connect()
	errc := running(t, k, conn)
	// Jupyter's word that the kernel died and is being restarted.
	k.broadcast(nil, MsgStatus, Status{StateRestarting})
	if err := <-errc; !errors.Is(err, ErrKernelRestarted) {
		t.Errorf("running execution: %v", err)
	}
	if ex, err := conn.Execute(context.Background(), "1+1"); err != nil || ex.Result() == nil {
		t.Errorf("after restart: %+v, %v", ex, err)
	}
	if n := k.handshakeCount(); n != 2 {
		t.Errorf("%d handshakes, want a reconnect", n)
	}
	if conn.Err() != nil {
		t.Errorf("Err() = %v", conn.Err())
	}
}

func TestAnotherClientRestarts(t *testing.T) {
	k := newFakeKernel(t, hang)
	conn := k.connect()
	errc := running(t, k, conn)
	k.broadcast(nil, MsgShutdownReply, ShutdownReply{StatusOK, true})
	if err := <-errc; !errors.Is(err, ErrKernelRestarted) {
		t.Errorf("running execution: %v", err)
	}
	// The next request takes a new socket first.
	if ex, err := conn.Execute(context.Background(), "1+1"); err != nil || ex.Result() == nil {
		t.Errorf("after restart: %+v, %v", ex, err)
	}
	if n := k.handshakeCount(); n != 2 {
		t.Errorf("%d handshakes, want a reconnect", n)
	}
}

func TestKernelDeath(t *testing.T) {
	for name, kill := range map[string]func(k *fakeKernel){
		"status dead": func(k *fakeKernel) { k.broadcast(nil, MsgStatus, Status{StateDead}) },
		"shut down":   func(k *fakeKernel) { k.broadcast(nil, MsgShutdownReply, ShutdownReply{StatusOK, false}) },
		"gone, silent": func(k *fakeKernel) { // Jupyter keeps a deleted kernel's socket open and silent
			k.mu.Lock()
			k.gone = true
			k.mu.Unlock()
		},
		"reported dead": func(k *fakeKernel) {
			k.mu.Lock()
			k.dead = true
			k.mu.Unlock()
		},
		"gone, socket closed": func(k *fakeKernel) {
			k.mu.Lock()
			k.gone = true
			k.mu.Unlock()
			k.dropAll()
		},
	} {
		t.Run(name, func(t *testing.T) {
			k := newFakeKernel(t, hang)
			check := WithCheckInterval(20 * time.Millisecond)
			if name == "gone, socket closed" {
				check = WithCheckInterval(-1) // the redial's 404 must tell
			}
			conn := k.connect(check)
			errc := running(t, k, conn)
			kill(k)
			if err := <-errc; !errors.Is(err, ErrKernelDead) {
				t.Errorf("running execution: %v", err)
			}
			if !errors.Is(conn.Err(), ErrKernelDead) {
				t.Errorf("Err() = %v", conn.Err())
			}
			if _, err := conn.Execute(context.Background(), "1+1"); !errors.Is(err, ErrKernelDead) {
				t.Errorf("after death: %v", err)
			}
		})
	}
}

func TestReconnectReplaysWhatWasSentMeanwhile(t *testing.T) {
	bothFramings(t, func(t *testing.T, v1 bool) {
		dropped := make(chan struct{})
		k := newFakeKernel(t, func(x *fakeExec) {
			x.status(StateBusy)
			x.input()
			x.stream(Stdout, "before ")
			// Wait until the client sees the first output, then cut the
			// connection and go on: what follows is buffered for the session.
			if !x.wait(dropped) {
				return
			}
			x.k.drop(x.session)
			x.stream(Stdout, "during ")
			x.result("42")
			x.reply(StatusOK, nil)
			x.status(StateIdle)
		})
		k.v1 = v1
		conn := k.connect()
		var once sync.Once
		ex, err := conn.Execute(context.Background(), "x", WithOutputFunc(func(Content) { once.Do(func() { close(dropped) }) }))
		if err != nil {
			t.Fatal(err)
		}
		if ex.Stdout() != "before during " || ex.Result() == nil || len(ex.Outputs) != 3 {
			t.Errorf("outputs %#v", ex.Outputs)
		}
		if n := k.handshakeCount(); n != 2 || k.handshakes[1].URL.Query().Get("session_id") != conn.SessionID() {
			t.Errorf("%d handshakes", n)
		}
		if ex, err := conn.Execute(context.Background(), "1+1"); err != nil || ex.Result() == nil {
			t.Errorf("after reconnect: %v", err)
		}
	})
}

func TestReconnectGivesUp(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		k := newFakeKernel(t, hang)
		conn := k.connect(WithReconnectTimeout(-1))
		errc := running(t, k, conn)
		k.drop(conn.SessionID())
		if err := <-errc; err == nil || !strings.Contains(err.Error(), "reconnecting disabled") {
			t.Errorf("%v", err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		k := newFakeKernel(t, hang)
		conn := k.connect(WithReconnectTimeout(100*time.Millisecond), WithCheckInterval(-1))
		errc := running(t, k, conn)
		k.srv.Listener.Close()
		k.dropAll()
		if err := <-errc; err == nil || !strings.Contains(err.Error(), "not restored within 100ms") {
			t.Errorf("%v", err)
		}
	})
}

func TestCloseEndsRequests(t *testing.T) {
	k := newFakeKernel(t, hang)
	conn := k.connect()
	errc := running(t, k, conn)
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrConnClosed) {
		t.Errorf("running execution: %v", err)
	}
	if _, err := conn.Execute(context.Background(), "1+1"); !errors.Is(err, ErrConnClosed) {
		t.Errorf("after Close: %v", err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestKernelInfoCompleteInspect(t *testing.T) {
	bothFramings(t, func(t *testing.T, v1 bool) {
		k := newFakeKernel(t, standardExec)
		k.v1 = v1
		conn := k.connect()
		ctx := context.Background()
		info, err := conn.KernelInfo(ctx)
		if err != nil || info.ProtocolVersion != "5.3" || info.LanguageInfo.FileExtension != ".py" {
			t.Errorf("%+v, %v", info, err)
		}
		// Cursor positions count runes: "é" is one.
		cr, err := conn.Complete(ctx, "é.up", -1)
		if err != nil || cr.CursorEnd != 4 || cr.Matches[0] != "é.up!" {
			t.Errorf("%+v, %v", cr, err)
		}
		ir, err := conn.Inspect(ctx, "len", 2, 1)
		if txt, _ := ir.Data.Text("text/plain"); err != nil || !ir.Found || txt != "len at 2, level 1" {
			t.Errorf("%+v, %v", ir, err)
		}
		m, err := conn.Request(ctx, ChannelControl, MsgKernelInfoRequest, struct{}{})
		if err != nil || m.Channel != ChannelControl || m.Header.MsgType != MsgKernelInfoReply {
			t.Errorf("%+v, %v", m, err)
		}
	})
}

func TestMessagesOfNoRequestGoToTheHandler(t *testing.T) {
	got := make(chan *Message, 16)
	k := newFakeKernel(t, standardExec)
	k.connect(WithMessageHandler(func(m *Message) { got <- m }))
	k.broadcast(json.RawMessage(`{"msg_id": "other", "msg_type": "execute_request", "session": "s2", "username": "u", "date": "", "version": "5.3"}`),
		MsgStream, Stream{Stdout, "someone else's"})
	// The first message the handler gets is the other client's output: the
	// replies to the Conn's own kernel info requests are not passed on.
	m := <-got
	if m.Header.MsgType != MsgStream || m.ParentHeader.MsgID != "other" || m.Channel != ChannelIOPub {
		t.Fatalf("%+v", m)
	}
	c, err := m.Decode()
	if s, ok := c.(*Stream); err != nil || !ok || s.Text != "someone else's" {
		t.Errorf("%#v, %v", c, err)
	}
}

func TestMalformedFramesAreKeptRaw(t *testing.T) {
	got := make(chan *Message, 16)
	k := newFakeKernel(t, func(x *fakeExec) {
		x.status(StateBusy)
		x.k.rawFrame(websocket.MessageText, []byte(`{"header": not json`))
		x.k.rawFrame(websocket.MessageBinary, []byte{0, 0, 0, 9, 1, 2, 3, 4})
		x.k.rawFrame(websocket.MessageText, []byte(`{"header": 5, "parent_header": {}, "channel": "iopub"}`))
		// A known type whose content does not fit it: kept raw in Outputs.
		x.iopub(MsgStream, map[string]any{"name": 5, "text": []int{1}})
		x.result("2")
		x.reply(StatusOK, nil)
		x.status(StateIdle)
	})
	conn := k.connect(WithMessageHandler(func(m *Message) {
		if m.Err != nil {
			got <- m
		}
	}))
	ex, err := conn.Execute(context.Background(), "x")
	if err != nil || ex.Result() == nil || len(ex.Outputs) != 2 {
		t.Fatalf("%+v, %v", ex, err)
	}
	if raw, ok := ex.Outputs[0].(*RawContent); !ok || raw.Type != MsgStream || string(raw.JSON) != `{"name":5,"text":[1]}` {
		t.Errorf("%#v", ex.Outputs[0])
	}
	for _, want := range []string{`{"header": not json`, "\x00\x00\x00\x09", `{"header": 5`} {
		m := <-got
		if !errors.Is(m.Err, errMalformed) || !strings.HasPrefix(string(m.Raw), want) {
			t.Errorf("%q: %v", m.Raw, m.Err)
		}
	}
}

func TestBinaryBuffers(t *testing.T) {
	bothFramings(t, func(t *testing.T, v1 bool) {
		got := make(chan *Message, 16)
		k := newFakeKernel(t, func(x *fakeExec) {
			x.status(StateBusy)
			// As ipykernel sends a Comm with buffers.
			p := x.k.parts(ChannelIOPub, x.parent, MsgCommOpen, map[string]any{"comm_id": "c1", "target_name": "probe", "data": map[string]any{"a": 1}})
			x.k.mu.Lock()
			for _, fc := range x.k.conns {
				typ, frame := fc.fr.encode(ChannelIOPub, &outParts{header: []byte(p[1]), parent: []byte(p[2]), metadata: []byte(p[3]), content: []byte(p[4]),
					buffers: [][]byte{{0, 1, 2}, []byte("xyz")}})
				fc.write(typ, frame)
			}
			x.k.mu.Unlock()
			x.reply(StatusOK, nil)
			x.status(StateIdle)
		})
		k.v1 = v1
		conn := k.connect(WithMessageHandler(func(m *Message) {
			if m.Header.MsgType == MsgCommOpen {
				got <- m
			}
		}))
		if _, err := conn.Execute(context.Background(), "comm"); err != nil {
			t.Fatal(err)
		}
		m := <-got
		if diff := cmp.Diff([][]byte{{0, 1, 2}, []byte("xyz")}, m.Buffers); diff != "" {
			t.Errorf("buffers (-want +got):\n%s", diff)
		}
		c, _ := m.Decode()
		if raw, ok := c.(*RawContent); !ok || !strings.Contains(string(raw.JSON), `"comm_id":"c1"`) {
			t.Errorf("%#v", c)
		}
	})
}

func TestMessageTooLargeIsDiscardedNotHeld(t *testing.T) {
	bothFramings(t, func(t *testing.T, v1 bool) {
		const limit = 64 << 10
		k := newFakeKernel(t, func(x *fakeExec) {
			if x.req.Code == "1+1" {
				standardExec(x)
				return
			}
			x.status(StateBusy)
			x.stream(Stdout, strings.Repeat("x", 4<<20))
			x.reply(StatusOK, nil)
			x.status(StateIdle)
		})
		k.v1 = v1
		conn := k.connect(WithMaxMessageBytes(limit))
		_, err := conn.Execute(context.Background(), "huge")
		if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), `"stream"`) {
			t.Fatalf("%v", err)
		}
		// The connection goes on (TestReadFrameMemory measures the bound).
		if ex, err := conn.Execute(context.Background(), "1+1"); err != nil || ex.Result() == nil {
			t.Errorf("after a discarded message: %v", err)
		}
	})
}

func TestOutputsBounded(t *testing.T) {
	const limit = 32 << 10
	chunk := strings.Repeat("y", 1000)
	consumed := make(chan struct{})
	k := newFakeKernel(t, func(x *fakeExec) {
		x.status(StateBusy)
		for i := range 100 { // about 100 KB of outputs in all
			x.stream(Stdout, chunk)
			// Streamed, the kernel waits every 10 KB for the consumer.
			if x.req.Code == "paced" && i%10 == 9 && !x.wait(consumed) {
				return
			}
		}
		x.reply(StatusOK, nil)
		x.status(StateIdle)
	})
	conn := k.connect(WithMaxOutputBytes(limit))
	ex, err := conn.Execute(context.Background(), "x")
	if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "WithMaxOutputBytes") {
		t.Fatalf("%v", err)
	}
	if n := len(ex.Stdout()); n == 0 || n > limit {
		t.Errorf("kept %d bytes of stdout", n)
	}
	// Streaming holds only what is not consumed yet: the same outputs pass.
	total := 0
	for out, err := range conn.ExecuteStream(context.Background(), "paced") {
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := out.(*Stream); ok {
			total += len(s.Text)
			if total%(10*len(chunk)) == 0 {
				consumed <- struct{}{}
			}
		}
	}
	if total != 100*len(chunk) {
		t.Errorf("streamed %d bytes", total)
	}
}

// zeros reads n zero bytes without allocating.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := int64(len(p))
	if k > z.n {
		k = z.n
	}
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

func TestReadFrameMemory(t *testing.T) {
	const limit = 1 << 20
	for _, size := range []int64{100, limit, limit + 1, 64 << 20} {
		for _, limit := range []int64{limit, limit + 1} {
			var scratch []byte
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			frame, over, err := readFrame(&zeros{size}, limit, &scratch)
			runtime.ReadMemStats(&after)
			if err != nil || over != (size > limit) {
				t.Fatalf("size %d: over %v, %v", size, over, err)
			}
			if !over && int64(len(frame)) != size || over && len(frame) != routePrefix {
				t.Errorf("size %d: frame of %d bytes", size, len(frame))
			}
			// A message costs at most about 2 × the limit however large it is
			// (the buffer doubles while under half the limit, then jumps to
			// limit+1 bytes).
			if alloc := int64(after.TotalAlloc - before.TotalAlloc); alloc > 2*limit+64<<10 {
				t.Errorf("size %d: allocated %d bytes, limit %d", size, alloc, limit)
			}
		}
	}
	// The buffer is reused between messages, but not kept when it grew
	// past keepScratch.
	var scratch []byte
	if _, _, err := readFrame(&zeros{1000}, limit, &scratch); err != nil || cap(scratch) == 0 {
		t.Errorf("scratch not kept: %v", err)
	}
	if _, _, err := readFrame(&zeros{keepScratch + 1}, 4*keepScratch, &scratch); err != nil || scratch != nil {
		t.Errorf("large scratch kept (%d bytes): %v", cap(scratch), err)
	}
}

func TestDecodingBounded(t *testing.T) {
	// 30 KB of JSON whose values would take megabytes decoded: refused
	// before decoding, as the REST decoders refuse such bodies.
	many := make([]map[string]any, 10000)
	for i := range many {
		many[i] = map[string]any{}
	}
	k := newFakeKernel(t, func(x *fakeExec) {
		x.status(StateBusy)
		x.iopub(MsgDisplayData, map[string]any{"data": map[string]any{"text/plain": "x"}, "metadata": map[string]any{"x": many}})
		x.reply(StatusOK, nil)
		x.status(StateIdle)
	})
	conn := k.connect(WithMaxMessageBytes(64 << 10))
	_, err := conn.Execute(context.Background(), "x")
	if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "decoded") {
		t.Fatalf("%v", err)
	}
	// The same message is decoded under the default bound.
	k2 := newFakeKernel(t, k.exec)
	ex, err := k2.connect().Execute(context.Background(), "x")
	if err != nil || len(ex.Outputs) != 1 {
		t.Fatalf("%+v, %v", ex, err)
	}
}
