package refserver

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-python/gpython/py"
)

// run executes code on c and returns its messages up to the reply.
func run(t *testing.T, c *wsClient, code string, opts ...func(map[string]any)) []wmsg {
	t.Helper()
	id := c.execute(code, opts...)
	return c.until(30*time.Second, finished(id, "execute_reply"))
}

// outcome summarises an execution: its stdout, its result's text/plain,
// and its error's ename: evalue.
func outcome(msgs []wmsg) (stdout, result, errText string) {
	for _, m := range msgs {
		switch m.Type() {
		case "stream":
			if m.Content["name"] == "stdout" {
				stdout += fmt.Sprint(m.Content["text"])
			}
		case "execute_result":
			data, _ := m.Content["data"].(map[string]any)
			result = fmt.Sprint(data["text/plain"])
		case "error":
			errText = fmt.Sprint(m.Content["ename"], ": ", m.Content["evalue"])
		}
	}
	return
}

func TestRefKernelStateAcrossConnectionsAndRestart(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	a := f.dial(kid, "a")
	if _, _, e := outcome(run(t, a, "probe_x = 41\nprobe_marker = True")); e != "" {
		t.Fatalf("set: %s", e)
	}
	b := f.dial(kid, "b")
	if _, r, e := outcome(run(t, b, "probe_x + 1")); r != "42" || e != "" {
		t.Errorf("read on a second connection: result %q error %q", r, e)
	}
	if _, r, _ := outcome(run(t, b, "'probe_marker' in globals()")); r != "True" {
		t.Errorf("before restart: %q", r)
	}
	if status, _ := f.do("POST", "api/kernels/"+kid+"/restart"); status != 200 {
		t.Fatalf("restart: %d", status)
	}
	b.until(5*time.Second, func(m wmsg) bool { return m.ParentType() == "kernel_info_request" && m.State() == "idle" })
	if _, r, _ := outcome(run(t, b, "'probe_marker' in globals()")); r != "False" {
		t.Errorf("after restart: %q", r)
	}
	if _, _, e := outcome(run(t, a, "probe_x")); e != "NameError: name 'probe_x' is not defined" {
		t.Errorf("after restart: %q", e)
	}
	// Another kernel never saw any of it.
	other := f.dial(f.kernel(), "c")
	if _, _, e := outcome(run(t, a, "probe_x = 1")); e != "" {
		t.Fatal(e)
	}
	if _, _, e := outcome(run(t, other, "probe_x")); !strings.HasPrefix(e, "NameError") {
		t.Errorf("another kernel sees probe_x: %q", e)
	}
}

func TestRefKernelInputRoundTrip(t *testing.T) {
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	id := c.execute("name = input(\"who? \")\nprint(\"hello \" + name)")
	msgs := c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "input_request" })
	req := msgs[len(msgs)-1]
	if req.Content["prompt"] != "who? " {
		t.Fatalf("input_request %v", req.Content)
	}
	c.sendRaw("stdin", map[string]any{"msg_id": "r1", "msg_type": "input_reply", "session": "s"}, req.Header, map[string]any{"value": "Ann"})
	if out, _, e := outcome(c.until(5*time.Second, finished(id, "execute_reply"))); out != "hello Ann\n" || e != "" {
		t.Errorf("stdout %q error %q", out, e)
	}
	if _, r, _ := outcome(run(t, c, "name")); r != "'Ann'" {
		t.Errorf("name kept: %q", r)
	}
}

// TestRefKernelInterruptStopsCode interrupts code that never waits: a
// loop calling nothing, a loop catching KeyboardInterrupt, a recursion, a
// comprehension over a huge range, and a sleep.
func TestRefKernelInterruptStopsCode(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	c := f.dial(kid, "s")
	for _, code := range []string{
		"while True:\n    pass",
		// It prints once it has counted (the sleep sends the print: the
		// kernel flushes its streams before any wait), and is interrupted
		// only then: "busy" comes before the first line runs, and an
		// interrupt before n += 1 left n at 0 (a flaky "n > 0" below).
		"import time\nn = 0\nwhile True:\n    try:\n        n += 1\n        if n == 1:\n            print('counting')\n            time.sleep(0)\n    except KeyboardInterrupt:\n        pass",
		"def spin():\n    while 1: pass\nspin()",
		"x = sum([i for i in range(10**12)])",
		"for i in iter(int, 1): pass",
		"import time\ntime.sleep(3600)",
		"f = lambda: [0 for _ in range(10**12)]\nf()",
	} {
		id := c.execute(code)
		c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" && m.ParentID() == id })
		if strings.Contains(code, "print('counting')") {
			c.until(30*time.Second, func(m wmsg) bool { return m.Type() == "stream" && m.ParentID() == id })
		}
		waitFor(t, func() bool { return f.model(kid).ExecutionState == "busy" })
		if status, _ := f.do("POST", "api/kernels/"+kid+"/interrupt"); status != 204 {
			t.Fatalf("interrupt: %d", status)
		}
		if _, _, e := outcome(c.until(30*time.Second, finished(id, "execute_reply"))); e != "KeyboardInterrupt: " {
			t.Errorf("%q: error %q", code, e)
		}
	}
	// The kernel still works, and kept what ran before the interrupt.
	if _, r, _ := outcome(run(t, c, "n > 0")); r != "True" {
		t.Errorf("after the interrupts: %q", r)
	}
}

func TestRefKernelTracebacks(t *testing.T) {
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	msgs := run(t, c, "def g(a, *rest):\n    raise ValueError('deep')\n\ndef f():\n    return g(1)\nf()")
	var tb []any
	for _, m := range msgs {
		if m.Type() == "error" {
			tb, _ = m.Content["traceback"].([]any)
		}
	}
	if len(tb) != 6 {
		t.Fatalf("traceback has %d parts, want head (2), three frames, tail: %q", len(tb), tb)
	}
	for i, want := range []string{
		"Cell \x1b[0;32mIn [1], line 6\x1b[0m\n",
		"Cell \x1b[0;32mIn [1], line 5\x1b[0m, in \x1b[0;36mf\x1b[0;34m()\x1b[0m\n",
		"Cell \x1b[0;32mIn [1], line 2\x1b[0m, in \x1b[0;36mg\x1b[0;34m(a, *rest)\x1b[0m\n",
	} {
		if s := fmt.Sprint(tb[2+i]); !strings.HasPrefix(s, want) {
			t.Errorf("frame %d: %q, want it to start %q", i, s, want)
		}
	}
	// The outer frame highlights the call it is in.
	if s := fmt.Sprint(tb[2]); !strings.Contains(s, "\x1b[43mf\x1b[49m\x1b[43m(\x1b[49m\x1b[43m)\x1b[49m") {
		t.Errorf("outer frame not highlighted: %q", s)
	}
	if fmt.Sprint(tb[5]) != "\x1b[0;31mValueError\x1b[0m: deep" {
		t.Errorf("tail %q", tb[5])
	}
	// Output before an error is sent; a later cell's frame says its number.
	out, _, e := outcome(run(t, c, "print('before')\nundefined_name"))
	if out != "before\n" || e != "NameError: name 'undefined_name' is not defined" {
		t.Errorf("output before a NameError: %q %q", out, e)
	}
	if _, _, e := outcome(run(t, c, "1 +")); !strings.HasPrefix(e, "SyntaxError: ") {
		t.Errorf("syntax error: %q", e)
	}
}

func TestRefKernelLanguage(t *testing.T) {
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	for _, tc := range []struct{ code, stdout, result, err string }{
		{code: "try:\n    1/0\nexcept ZeroDivisionError as e:\n    print('caught', e)", stdout: "caught division by zero\n"},
		{code: "2**100", result: "1267650600228229401496703205376"},
		{code: "len('héllo😀')", result: "6"},
		{code: "['a', \"it's\", 1.5, (1,), None]", result: `['a', "it's", 1.5, (1,), None]`},
		{code: "{'b': 1e16, 'a': 0.00001}", result: "{'a': 1e-05, 'b': 1e+16}"},
		{code: "print(1e16, 10*0.1, -0.0)", stdout: "1e+16 1.0 -0.0\n"},
		{code: "class A:\n    def __init__(self, v):\n        self.v = v\nA(3).v", result: "3"},
		{code: "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\nfact(20)", result: "2432902008176640000"},
		{code: "import sys\nprint('e', file=sys.stderr)"},
		{code: "1+1;"},
		{code: "import math; math.floor(2.5)", result: "2"},
		{code: "def r(): return r()\nr()", err: "RecursionError: maximum recursion depth exceeded"},
		{code: "import os", err: "ImportError: No module named 'os'"},
		{code: "open('/etc/passwd')", err: "NameError: name 'open' is not defined"},
		{code: "int.probe = 1", err: "TypeError: cannot set 'probe' attribute of immutable type 'int'"},
		{code: "setattr(str, 'probe', 1)", err: "TypeError: cannot set 'probe' attribute of immutable type 'str'"},
		{code: "a, ValueError.probe = 1, 2", err: "TypeError: cannot set 'probe' attribute of immutable type 'ValueError'"},
		{code: "raise KeyError('k')", err: "KeyError: 'k'"},
		{code: "time.sleep(1)", err: "NameError: name 'time' is not defined"},
		{code: "len(range(10**12))", err: "TypeError: object of type 'generator' has no len()"},
		{code: "import sys\nsys.__stdout__.write('to the kernel\\n')\nsys.__stdin__", stdout: "to the kernel\n"},
	} {
		out, r, e := outcome(run(t, c, tc.code))
		if out != tc.stdout || r != tc.result || e != tc.err {
			t.Errorf("%q:\n got stdout %q result %q error %q\nwant stdout %q result %q error %q", tc.code, out, r, e, tc.stdout, tc.result, tc.err)
		}
	}
}

// TestRefKernelsRunAtOnce runs several kernels' loops at the same time
// (under -race: each has its own interpreter) and then deletes them while
// they run; TestChannelsNoGoroutineOutlives-style checks in Close catch a
// worker left behind.
func TestRefKernelsRunAtOnce(t *testing.T) {
	f := newChanFixture(t)
	const n = 4
	var wg sync.WaitGroup
	results := make([]string, n)
	for i := 0; i < n; i++ {
		kid := f.kernel()
		c := f.dial(kid, "s")
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := c.execute(fmt.Sprintf("total = 0\nfor i in range(20000):\n    total += i * %d\ntotal", i+1))
			_, results[i], _ = outcome(c.until(60*time.Second, finished(id, "execute_reply")))
		}()
	}
	wg.Wait()
	for i, r := range results {
		if want := fmt.Sprint(199990000 * (i + 1)); r != want {
			t.Errorf("kernel %d: %q, want %s", i, r, want)
		}
	}
	// Delete kernels in the middle of endless loops: their workers end.
	for i := 0; i < n; i++ {
		kid := f.kernel()
		c := f.dial(kid, "s")
		c.execute("while True: pass")
		c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" })
		if status, _ := f.do("DELETE", "api/kernels/"+kid); status != 204 {
			t.Fatalf("delete: %d", status)
		}
	}
	waitFor(t, func() bool {
		f.ref.mu.Lock()
		defer f.ref.mu.Unlock()
		return len(f.ref.ch.working) == 0
	})
}

// TestRefKernelGen2Personality checks what generation 2's kernel says as
// ipykernel 7.4.0 that the differential test cannot always see: the
// welcome to a new process's iopub subscription after a restart, and the
// headers' version beside kernel_info's protocol_version.
func TestRefKernelGen2Personality(t *testing.T) {
	ref := New(Options{Token: tok, Generation: 2})
	ts := httptest.NewServer(ref)
	defer ts.Close()
	defer ref.Close()
	ref.mu.Lock()
	kid := ref.startKernel("python3").id
	ref.mu.Unlock()
	c := mustDial(t, ts.URL+"/", tok, kid, "s", false)
	c.quiet(50 * time.Millisecond)
	id := c.send("shell", "kernel_info_request", map[string]any{})
	for _, m := range c.until(5*time.Second, finished(id, "kernel_info_reply")) {
		if m.Header["version"] != "5.4" {
			t.Errorf("%s header version %v", m.Type(), m.Header["version"])
		}
		if m.Type() == "kernel_info_reply" && (m.Content["protocol_version"] != "5.3" || fmt.Sprint(m.Content["supported_features"]) != "[kernel subshells debugger]") {
			t.Errorf("kernel_info_reply %v", m.Content)
		}
	}
	req, _ := http.NewRequest("POST", ts.URL+"/api/kernels/"+kid+"/restart", nil)
	req.Header.Set("Authorization", "token "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	msgs := c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "iopub_welcome" })
	if w := msgs[len(msgs)-1]; w.Channel != "iopub" || len(w.Parent) != 0 || fmt.Sprint(w.Content) != "map[subscription:]" {
		t.Errorf("welcome %v parent %v", w.Content, w.Parent)
	}
}

// TestRefKernelCloseStopsCode closes the server while kernels run code
// that never waits, in a cell and in a user expression, one catching
// KeyboardInterrupt: Close returns (goleak, in TestMain, checks that no
// worker is left).
func TestRefKernelCloseStopsCode(t *testing.T) {
	ref := New(Options{Token: tok, Generation: 1})
	ts := httptest.NewServer(ref)
	defer ts.Close()
	for _, code := range []string{"while True:\n    try:\n        pass\n    except KeyboardInterrupt:\n        pass", "1"} {
		ref.mu.Lock()
		kid := ref.startKernel("python3").id
		ref.mu.Unlock()
		c := mustDial(t, ts.URL+"/", tok, kid, "s", false)
		c.quiet(50 * time.Millisecond)
		c.execute(code, set("user_expressions", map[string]any{"x": "[0 for _ in iter(int, 1)]"}))
		c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" })
	}
	waitFor(t, func() bool {
		ref.mu.Lock()
		defer ref.mu.Unlock()
		return len(ref.ch.working) == 2
	})
	ref.Close() // the test's own timeout is the bound
}

// TestRefKernelInterruptBeforeLastExpression interrupts a cell while the
// statements before its last expression run: the expression still runs
// and raises KeyboardInterrupt where it waits, with IPython's frame for
// that line (not the end-of-cell KeyboardInterrupt reported when an
// interrupt was swallowed).
func TestRefKernelInterruptBeforeLastExpression(t *testing.T) {
	s := New(Options{Generation: 1})
	defer s.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.runtime(s.startKernel("python3"))
	x := &execution{req: &request{header: []byte("{}")}, count: 1, code: "import time\ntime.sleep(30)", intr: make(chan struct{})}
	close(x.intr)
	x.interrupted = true
	fail, err := s.runPython(rt, x)
	if fail == nil || !errors.Is(err, nil) || fail.ename != "KeyboardInterrupt" || len(fail.traceback) != 4 {
		t.Fatalf("failure %+v, %v", fail, err)
	}
	if !strings.Contains(fail.traceback[2], "\x1b[43mtime\x1b[49m") {
		t.Errorf("the sleep's call is not highlighted: %q", fail.traceback[2])
	}
}

// TestRefKernelBoundsOperations runs the operations gpython does in one
// uninterruptible Go call whose size the cell chooses: without the bounds
// (refkernel_bounds.go) the first one ends the test binary (a fatal Go
// out-of-memory) and "'a' * 10**10" holds the kernel for good. Each is
// refused with CPython's MemoryError, the kernel still runs, and the
// rewritten operators keep their meaning, precedence and errors.
func TestRefKernelBoundsOperations(t *testing.T) {
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	for _, code := range []string{
		"[0] * 10**10", "10**10 * [0]", "(0,) * 10**10", "'a' * 10**10", "x = 'ab'\nx *= 10**10",
		"2 ** 10**10", "pow(2, 10**10)", "x = 1 << 10**11", "x = 1\nx <<= 10**11", "1 << 10**11 + 1",
		"x = (2 ** 4000000) * (2 ** 4000000)", "'' * 10**18 + 'a' * 10**9",
	} {
		if _, _, e := outcome(run(t, c, code)); e != "MemoryError: " {
			t.Errorf("%q: error %q, want MemoryError", code, e)
		}
	}
	for _, tc := range []struct{ code, result, err string }{
		{code: "[1, 2] * 3", result: "[1, 2, 1, 2, 1, 2]"},
		{code: "3 * [x for x in range(2)]", result: "[0, 1, 0, 1, 0, 1]"},
		{code: "'ab' * (1 + 2)", result: "'ababab'"},
		{code: "x = [0]\nx *= 2\nx", result: "[0, 0]"},
		{code: "2 ** 3 ** 2", result: "512"},
		{code: "-2 ** 2", result: "-4"},
		{code: "(2 * 3) ** 2", result: "36"},
		{code: "1 << 3 + 1", result: "16"},
		{code: "1 << 2 * 3 - 1", result: "32"},
		{code: "n = 5\ny = (1 *\n  # a comment\n  (n + 1))\ny", result: "6"},
		{code: "'' * 10**18", result: "''"},
		{code: "'a' * -1", result: "''"},
		{code: "x = 2\nx *= 3 if x else 4\nx", result: "6"},
		{code: "pow(2, 10**10, 7)", result: "2"},
		{code: "2 ** 0.5", result: "1.4142135623730951"},
		{code: "len(str(7 ** 1000000))", result: "845099"},
		{code: "'a' * 'b'", err: "TypeError: unsupported operand type(s) for *: 'str' and 'str'"},
		{code: "1 << -1", err: "ValueError: negative shift count"},
	} {
		_, r, e := outcome(run(t, c, tc.code))
		if r != tc.result || e != tc.err {
			t.Errorf("%q: result %q error %q, want %q %q", tc.code, r, e, tc.result, tc.err)
		}
	}
}

// TestRefKernelDeepNesting gives the kernel's Go recursions nesting a cell
// can make: printing a list nested millions deep, and a cell whose syntax
// tree is as deep (three million unary minuses). Either overflowed the Go stack,
// which is fatal to the whole process, not a panic; each is CPython's
// RecursionError now, and nesting short of the bounds still works.
func TestRefKernelDeepNesting(t *testing.T) {
	deep := py.Object(py.NewList())
	for i := 0; i < 4_000_000; i++ {
		deep = py.NewListFromItems([]py.Object{deep})
	}
	if _, err := objRepr(deep); err == nil || !strings.Contains(err.Error(), "maximum recursion depth exceeded while getting the repr") {
		t.Errorf("repr of a list nested 4,000,000 deep: %v", err)
	}
	shallow := py.Object(py.Tuple{})
	for i := 0; i < maxReprDepth; i++ {
		shallow = py.Tuple{shallow}
	}
	if s, err := objRepr(shallow); err != nil || !strings.HasPrefix(s, "((((") {
		t.Errorf("repr at the bound: %v", err)
	}
	// Three million minuses overflowed it (a 3 MB cell, under the 10 MiB
	// a client message may be); the bound is what the test can afford.
	_, _, err := instrument("x = "+strings.Repeat("-", maxASTDepth+1)+"1", py.ExecMode)
	if err == nil || !strings.Contains(err.Error(), "maximum recursion depth exceeded during compilation") {
		t.Errorf("a cell nested past the bound: %v", err)
	}
	if _, _, err := instrument("x = "+strings.Repeat("-", maxASTDepth-10)+"1", py.ExecMode); err != nil {
		t.Errorf("a cell nested just short of the bound: %v", err)
	}
	// Through the kernel: the error is the cell's.
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	if _, _, e := outcome(run(t, c, "l = []\nfor i in range(2000):\n    l = [l]\nprint(l)")); e != "RecursionError: maximum recursion depth exceeded while getting the repr of an object" {
		t.Errorf("print of a nested list: %q", e)
	}
	if _, _, e := outcome(run(t, c, "x = "+strings.Repeat("-", maxASTDepth+10)+"1")); e != "RecursionError: maximum recursion depth exceeded during compilation" {
		t.Errorf("deep cell: %q", e)
	}
}

// TestRefKernelHeapBound runs loops that grow a kernel's data without end,
// one doubling a list at each iteration, one catching the MemoryError and
// going on, with the heap's bound set a little above the process's heap:
// each ends with MemoryError, the bound held to what one iteration adds.
// Without it they grew until the Go runtime's out-of-memory, fatal to the
// server and every kernel in it.
func TestRefKernelHeapBound(t *testing.T) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	const margin = 32 << 20
	for _, code := range []string{
		"l = [0]\nwhile True:\n    l.extend(l)",
		"s = 'x' * 2**16\nl = []\nwhile True:\n    l.append(s + str(len(l)))",
		"l = []\nn = 0\nwhile n < 3:\n    try:\n        l.append([0] * 2**16)\n    except MemoryError:\n        n += 1\n        l = l[:len(l)//2]\nraise MemoryError",
	} {
		ip, err := newInterp()
		if err != nil {
			t.Fatal(err)
		}
		ip.maxHeap = ms.HeapAlloc + margin
		ip.run = &pyRun{x: &execution{intr: make(chan struct{})}}
		c, err := ip.compileCell(code, 1, py.ExecMode)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ip.ctx.RunCode(c.body, ip.main.Globals, ip.main.Globals, nil)
		if ei, ok := err.(py.ExceptionInfo); !ok || ei.Type != py.MemoryError {
			t.Errorf("%q: %v, want MemoryError", code, err)
		}
		ip.main.Globals = py.StringDict{} // the garbage goes before the next one
	}
}

// TestRefKernelConstructorBounds: bytes(10**10) was a Go out-of-memory
// (fatal to the server and every kernel in it), int('9' * 2**23) held
// the shell worker for minutes, str() of nested data recursed in Go as
// deep as the data (3,000,000 deep overflows the Go stack, fatal too;
// 100,000 shows the recursion without it); each is now CPython's error,
// the kernel alive, and their neighbours short of the bounds still work.
func TestRefKernelConstructorBounds(t *testing.T) {
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	for _, tc := range []struct{ code, result, err string }{
		{code: "bytes(10**10)", err: "MemoryError: "},
		{code: "b = bytes; b(10**12)", err: "MemoryError: "},
		{code: "bytes(1000) == bytes(1000), bytes(3), bytes(-1 + 1)", result: "(True, b'\\x00\\x00\\x00', b'')"},
		{code: "int('9' * 2**23)", err: "ValueError: Exceeds the limit (4300 digits) for integer string conversion: value has 8388608 digits; use sys.set_int_max_str_digits() to increase the limit"},
		{code: "int(' -' + '1' * 4301)", err: "ValueError: Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit"},
		{code: "[int('7' * 4301, 8) > 0, int('0x' + 'f' * 5000, 0) > 0, len(str(int('9' * 4300)))]", result: "[True, True, 4300]"},
		{code: "list(map(int, ['9' * 5000]))", err: "ValueError: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit"},
		{code: "x = []\nfor i in range(100000):\n    x = [x]\nstr(x)", err: "RecursionError: maximum recursion depth exceeded while getting the repr of an object"},
		{code: "str([0.1, (1,), {'a': 1e16}]), str(1.5), str('s'), str(b'b')", result: `("[0.1, (1,), {'a': 1e+16}]", '1.5', 's', "b'b'")`},
		{code: "1 + 1", result: "2"},
	} {
		_, r, e := outcome(run(t, c, tc.code))
		if r != tc.result || e != tc.err {
			t.Errorf("%q: got result %q error %q, want %q %q", tc.code, r, e, tc.result, tc.err)
		}
	}
}
