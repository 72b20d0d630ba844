package nbexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// Every test scripts the kernel's answer to each cell's exact source, so
// none depends on the reference kernel's language.

// testKernel is a scripted server, a kernel on it, and a Conn to the kernel.
type testKernel struct {
	srv  *nbservtest.Server
	id   string
	conn *kernel.Conn

	mu      sync.Mutex
	scripts map[string][]nbservtest.Step
	ran     []string // the code of every execution the kernel received
}

// script makes executing exactly code do steps.
func (tk *testKernel) script(code string, steps ...nbservtest.Step) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.scripts[code] = steps
}

func newTestKernel(t *testing.T) *testKernel {
	t.Helper()
	tk := &testKernel{srv: nbservtest.NewServer(t), scripts: map[string][]nbservtest.Step{}}
	tk.srv.ScriptFunc(func(code string) ([]nbservtest.Step, bool) {
		tk.mu.Lock()
		defer tk.mu.Unlock()
		tk.ran = append(tk.ran, code)
		return tk.scripts[code], true // an unscripted cell does nothing
	})
	tk.id, tk.conn = startKernel(t, tk.srv.Client)
	return tk
}

// startKernel starts a kernel with c and connects to it, the Conn closed
// at the end of t.
func startKernel(t *testing.T, c *nbserv.Client) (id string, conn *kernel.Conn) {
	t.Helper()
	ctx := context.Background()
	k, err := c.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if conn, err = c.Kernels.Connect(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return k.ID, conn
}

// executed returns the code of the executions the kernel received.
func (tk *testKernel) executed() []string {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return append([]string(nil), tk.ran...)
}

// staleCell is a code cell with outputs and a count from an earlier run.
func staleCell(source string, tags ...string) nbformat.Cell {
	c := nbformat.NewCodeCell(source)
	n := 41
	c.ExecutionCount = &n
	c.Outputs = []nbformat.Output{{OutputType: nbformat.OutputStream, Name: "stdout", Text: "stale\n"}}
	_ = c.Metadata.Set("execution", map[string]string{"iopub.status.busy": "2020-01-01T00:00:00.000000Z"})
	if len(tags) > 0 {
		_ = c.Metadata.Set("tags", tags)
	}
	return c
}

// texts returns each output of cell as "type:text" (a stream's name, a
// display's text/plain, an error's name).
func texts(cell nbformat.Cell) []string {
	var got []string
	for _, o := range cell.Outputs {
		switch o.OutputType {
		case nbformat.OutputStream:
			got = append(got, o.Name+":"+o.Text)
		case nbformat.OutputError:
			got = append(got, "error:"+o.EName)
		default:
			txt, _ := o.Data.Text("text/plain")
			got = append(got, o.OutputType+":"+txt)
		}
	}
	return got
}

func count(c nbformat.Cell) any {
	if c.ExecutionCount == nil {
		return nil
	}
	return *c.ExecutionCount
}

func TestRunRecordsOutputsCountsTimingsAndLanguage(t *testing.T) {
	tk := newTestKernel(t)
	stream := func(name, text string) nbservtest.Step {
		return nbservtest.Message("stream", map[string]any{"name": name, "text": text})
	}
	tk.script("first", stream("stdout", "10%\r"), stream("stdout", "100%\r\n"), stream("stderr", "warn\n"), stream("stdout", "done\n"))
	tk.script("second", nbservtest.ResultText("2"))
	skipped := staleCell("skipped", nbexec.TagSkipExecution)
	nb := nbformat.New(
		nbformat.NewMarkdownCell("# title"),
		staleCell("first"),
		staleCell(" \n\t"), // blank: cleared, not run
		skipped,            // skip-execution: neither run nor cleared
		staleCell("second"),
	)
	if err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"first", "second"}, tk.executed()); diff != "" {
		t.Errorf("executions (-want +got):\n%s", diff)
	}
	got := [][]string{texts(nb.Cells[1]), texts(nb.Cells[2]), texts(nb.Cells[3]), texts(nb.Cells[4])}
	want := [][]string{
		{"stdout:10%\r100%\r\n", "stderr:warn\n", "stdout:done\n"}, // merged while consecutive, "\r" as sent
		nil,
		{"stdout:stale\n"},
		{"execute_result:2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{1, nil, 41, 2}, []any{count(nb.Cells[1]), count(nb.Cells[2]), count(nb.Cells[3]), count(nb.Cells[4])}); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	for _, i := range []int{1, 4} {
		var timing map[string]string
		if ok, err := nb.Cells[i].Metadata.Get("execution", &timing); !ok || err != nil {
			t.Fatalf("cell %d: no metadata.execution: %v", i, err)
		}
		for _, key := range []string{"iopub.status.busy", "iopub.execute_input", "shell.execute_reply", "iopub.status.idle"} {
			if _, err := time.Parse("2006-01-02T15:04:05.000000Z", timing[key]); err != nil {
				t.Errorf("cell %d: %s = %q: %v", i, key, timing[key], err)
			}
		}
		if timing["iopub.status.busy"] == "2020-01-01T00:00:00.000000Z" {
			t.Errorf("cell %d kept the earlier run's timing", i)
		}
	}
	if _, ok := nb.Cells[2].Metadata["execution"]; ok {
		t.Error("the blank cell kept the earlier run's timing")
	}
	if diff := cmp.Diff(skipped.Metadata, nb.Cells[3].Metadata); diff != "" {
		t.Errorf("skipped cell's metadata changed (-want +got):\n%s", diff)
	}
	want0, _ := json.Marshal(tk.conn.Info().LanguageInfo)
	if li := nb.Metadata.LanguageInfo; li == nil {
		t.Error("no language_info")
	} else if got0, _ := json.Marshal(li); string(got0) != string(want0) || li.Name == "" {
		t.Errorf("language_info %s, want the kernel's %s", got0, want0)
	}
}

func TestRunStopsAtFirstErrorLeavingLaterCellsClean(t *testing.T) {
	tk := newTestKernel(t)
	tk.script("ok", nbservtest.Stdout("fine\n"))
	tk.script("fails", nbservtest.Stdout("before\n"), nbservtest.Error("ValueError", "boom"))
	tk.script("later", nbservtest.Stdout("never\n"))
	nb := nbformat.New(staleCell("ok"), staleCell("fails"), staleCell("later"))
	err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{})
	var ce *nbexec.CellError
	var ke *kernel.Error
	if !errors.As(err, &ce) || ce.Index != 1 || ce.CellID != nb.Cells[1].ID || !errors.As(err, &ke) || ke.Ename != "ValueError" {
		t.Fatalf("err = %v, want a *CellError for cell 1 wrapping the ValueError", err)
	}
	if diff := cmp.Diff([]string{"ok", "fails"}, tk.executed()); diff != "" {
		t.Errorf("executions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"stdout:before\n", "error:ValueError"}, texts(nb.Cells[1])); diff != "" {
		t.Errorf("failed cell (-want +got):\n%s", diff)
	}
	if c := nb.Cells[2]; c.Outputs != nil || c.ExecutionCount != nil || c.Metadata["execution"] != nil {
		t.Errorf("the cell not run is not clean: %+v", c)
	}
}

func TestRunAllowedErrors(t *testing.T) {
	cases := map[string]struct {
		opts nbexec.Options
		tags []string
		runs bool
	}{
		"AllowErrors":          {opts: nbexec.Options{AllowErrors: true}, runs: true},
		"AllowErrorNames":      {opts: nbexec.Options{AllowErrorNames: []string{"KeyError", "ValueError"}}, runs: true},
		"other names":          {opts: nbexec.Options{AllowErrorNames: []string{"KeyError"}}, runs: false},
		"raises-exception tag": {tags: []string{nbexec.TagRaisesException}, runs: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tk := newTestKernel(t)
			tk.script("fails", nbservtest.Error("ValueError", "boom"))
			tk.script("later", nbservtest.Stdout("ran\n"))
			nb := nbformat.New(staleCell("fails", tc.tags...), staleCell("later"))
			var allowed []error
			tc.opts.OnCell = func(_ context.Context, p nbexec.Progress) error {
				allowed = append(allowed, p.Err)
				return nil
			}
			err := nbexec.Run(context.Background(), tk.conn, nb, tc.opts)
			if !tc.runs {
				if err == nil || len(tk.executed()) != 1 {
					t.Fatalf("err = %v after %v: the error must stop the run", err, tk.executed())
				}
				return
			}
			var ke *kernel.Error
			if err != nil || len(allowed) != 2 || !errors.As(allowed[0], &ke) || allowed[1] != nil {
				t.Fatalf("err = %v, progress errors %v", err, allowed)
			}
			if diff := cmp.Diff([][]string{{"error:ValueError"}, {"stdout:ran\n"}}, [][]string{texts(nb.Cells[0]), texts(nb.Cells[1])}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunAppliesDisplayUpdatesAcrossCells(t *testing.T) {
	tk := newTestKernel(t)
	txt := func(s string) map[string]any { return map[string]any{"text/plain": s} }
	tk.script("show", nbservtest.DisplayWithID("d", txt("d1")), nbservtest.Display(txt("plain")),
		nbservtest.Message("execute_result", map[string]any{"execution_count": 1, "data": txt("r1"), "metadata": map[string]any{}, "transient": map[string]any{"display_id": "r"}}))
	tk.script("update", nbservtest.UpdateDisplay("d", txt("d2")), nbservtest.UpdateDisplay("r", txt("r2")), nbservtest.Stdout("updated\n"))
	tk.script("again", nbservtest.Stdout("gone\n"), nbservtest.ClearOutput(true), nbservtest.DisplayWithID("d", txt("d3")))
	tk.script("cleared", nbservtest.DisplayWithID("c", txt("c1")), nbservtest.ClearOutput(false), nbservtest.Stdout("after\n"))
	tk.script("late", nbservtest.UpdateDisplay("c", txt("c2")))
	nb := nbformat.New(staleCell("show"), staleCell("update"), staleCell("again"), staleCell("cleared"), staleCell("late"))
	if err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{}); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, c := range nb.Cells {
		got = append(got, texts(c))
	}
	want := [][]string{
		{"display_data:d3", "display_data:plain", "execute_result:r2"}, // updated by the later cells
		{"stdout:updated\n"},
		{"display_data:d3"}, // the clear waited for the next output
		{"stdout:after\n"},  // the cleared display is not updated, nor shown again
		nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := nb.Cells[0].Outputs[2].ExecutionCount; n == nil || *n != 1 {
		t.Errorf("the updated result's count: %v", n)
	}
}

func TestRunCellTimeoutInterruptsTheKernel(t *testing.T) {
	tk := newTestKernel(t)
	tk.script("fast", nbservtest.Stdout("fast\n"))
	tk.script("slow", nbservtest.Stdout("started\n"), nbservtest.Sleep(time.Hour))
	tk.script("after", nbservtest.Stdout("after\n"))
	nb := nbformat.New(staleCell("fast"), staleCell("slow"), staleCell("after"))
	// The timeout must let "fast" finish on a loaded machine; "slow" would
	// take an hour.
	err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{CellTimeout: 2 * time.Second})
	var ce *nbexec.CellError
	if !errors.Is(err, nbexec.ErrCellTimeout) || !errors.As(err, &ce) || ce.Index != 1 {
		t.Fatalf("err = %v, want ErrCellTimeout for cell 1", err)
	}
	if diff := cmp.Diff([][]string{{"stdout:fast\n"}, {"stdout:started\n", "error:KeyboardInterrupt"}, nil}, [][]string{texts(nb.Cells[0]), texts(nb.Cells[1]), texts(nb.Cells[2])}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The kernel was interrupted: it is free again, well within the hour
	// the cell would have slept (the bound is the test's, generous).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ex, err := tk.conn.Execute(ctx, "after")
	if err != nil || ex.Stdout() != "after\n" {
		t.Fatalf("the kernel is still busy after the timeout: %v", err)
	}
}

func TestRunCellTimeoutEndsEvenWhenTheInterruptFails(t *testing.T) {
	tk := newTestKernel(t)
	tk.script("slow", nbservtest.Stdout("started\n"), nbservtest.Sleep(time.Hour))
	tk.srv.FailNext(1000, nbservtest.Fault{Method: "POST", Path: "/api/kernels/*/interrupt", Status: 500})
	nb := nbformat.New(staleCell("slow"))
	// Interrupted or not, the wait ends one more CellTimeout after the
	// interrupt, not after the hour the cell sleeps.
	err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{CellTimeout: 100 * time.Millisecond})
	var se *nbserv.Error
	if !errors.Is(err, nbexec.ErrCellTimeout) || !errors.As(err, &se) || se.StatusCode != 500 {
		t.Fatalf("err = %v, want ErrCellTimeout with the interrupt's 500", err)
	}
	if diff := cmp.Diff([]string{"stdout:started\n"}, texts(nb.Cells[0])); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRunKernelDeathEndsTheRunKeepingWhatRan(t *testing.T) {
	t.Run("restarted", func(t *testing.T) {
		tk := newTestKernel(t)
		tk.script("ok", nbservtest.Stdout("fine\n"))
		tk.script("dies", nbservtest.Stdout("last words\n"), nbservtest.Sleep(0), nbservtest.Crash())
		tk.script("later", nbservtest.Stdout("never\n"))
		nb := nbformat.New(staleCell("ok"), staleCell("dies"), staleCell("later"))
		err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{})
		var ce *nbexec.CellError
		if !errors.Is(err, kernel.ErrKernelRestarted) || !errors.As(err, &ce) || ce.Index != 1 {
			t.Fatalf("err = %v, want ErrKernelRestarted for cell 1", err)
		}
		if diff := cmp.Diff([][]string{{"stdout:fine\n"}, {"stdout:last words\n"}, nil}, [][]string{texts(nb.Cells[0]), texts(nb.Cells[1]), texts(nb.Cells[2])}); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("dead", func(t *testing.T) {
		tk := newTestKernel(t)
		tk.script("ok", nbservtest.Stdout("fine\n"))
		tk.script("dies", nbservtest.Stdout("asking\n"), nbservtest.Input("? ", nil), nbservtest.Stdout("never\n"))
		nb := nbformat.New(staleCell("ok"), staleCell("dies"), staleCell("later"))
		// The kernel dies for good while the cell waits for input: mid-cell.
		stdin := kernel.WithStdin(func(context.Context, *kernel.InputRequest) (string, error) {
			if err := tk.srv.KillKernel(tk.id); err != nil {
				t.Error(err)
			}
			return "x", nil
		})
		err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{ExecuteOptions: []kernel.ExecuteOption{stdin}})
		var ce *nbexec.CellError
		if !errors.Is(err, kernel.ErrKernelDead) || !errors.As(err, &ce) || ce.Index != 1 {
			t.Fatalf("err = %v, want ErrKernelDead for cell 1", err)
		}
		if diff := cmp.Diff([][]string{{"stdout:fine\n"}, {"stdout:asking\n"}, nil}, [][]string{texts(nb.Cells[0]), texts(nb.Cells[1]), texts(nb.Cells[2])}); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// iopubNotices are Jupyter Server 1.23.3's notices (jupyter_server/services/
// kernels/handlers.py, write_stderr), as the limits' defaults fill them in.
var iopubNotices = map[string]string{
	"ServerApp.iopub_msg_rate_limit": "IOPub message rate exceeded.\nThe Jupyter server will temporarily stop sending output\nto the client in order to avoid crashing it.\n" +
		"To change this limit, set the config variable\n`--ServerApp.iopub_msg_rate_limit`.\n\nCurrent values:\nServerApp.iopub_msg_rate_limit=1000.0 (msgs/sec)\nServerApp.rate_limit_window=3.0 (secs)\n\n",
	"ServerApp.iopub_data_rate_limit": "IOPub data rate exceeded.\nThe Jupyter server will temporarily stop sending output\nto the client in order to avoid crashing it.\n" +
		"To change this limit, set the config variable\n`--ServerApp.iopub_data_rate_limit`.\n\nCurrent values:\nServerApp.iopub_data_rate_limit=1000000.0 (bytes/sec)\nServerApp.rate_limit_window=3.0 (secs)\n\n",
}

func TestRunIOPubLimitNoticeIsAnError(t *testing.T) {
	for setting, notice := range iopubNotices {
		for _, allowErrors := range []bool{false, true} {
			t.Run(setting, func(t *testing.T) {
				tk := newTestKernel(t)
				tk.script("floods", nbservtest.Display(map[string]any{"text/plain": "1"}),
					nbservtest.Message("stream", map[string]any{"name": "stderr", "text": notice}))
				tk.script("later", nbservtest.Stdout("never\n"))
				tk.script("warns", nbservtest.Stderr("IOPub message rate is fine\n"))
				nb := nbformat.New(staleCell("warns"), staleCell("floods"), staleCell("later"))
				err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{AllowErrors: allowErrors})
				var le *nbexec.IOPubLimitError
				var ce *nbexec.CellError
				if !errors.As(err, &le) || le.Setting != setting || !errors.As(err, &ce) || ce.Index != 1 {
					t.Fatalf("err = %v, want an *IOPubLimitError naming %s for cell 1", err, setting)
				}
				if !strings.Contains(err.Error(), setting) {
					t.Errorf("%q does not name %s", err, setting)
				}
				if diff := cmp.Diff([]string{"display_data:1", "stderr:" + notice}, texts(nb.Cells[1])); diff != "" {
					t.Errorf("the notice stays in the cell (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestRunOnCellSeesASavableNotebookAfterEachCell(t *testing.T) {
	tk := newTestKernel(t)
	for _, code := range []string{"a", "b", "c"} {
		tk.script(code, nbservtest.Stdout(code+"\n"))
	}
	nb := nbformat.New(staleCell("a"), nbformat.NewMarkdownCell("m"), staleCell("b"), staleCell("c"))
	var saved []string
	stop := errors.New("disk full")
	err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{OnCell: func(_ context.Context, p nbexec.Progress) error {
		data, err := p.Notebook.MarshalJSON()
		if err != nil {
			return err
		}
		back, err := nbformat.Parse(data)
		if err != nil {
			return err
		}
		saved = append(saved, strings.Join(texts(back.Cells[p.Index]), ""))
		if p.Total != 3 || p.Elapsed <= 0 {
			t.Errorf("progress %+v", p)
		}
		if p.Done == 2 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want OnCell's", err)
	}
	if diff := cmp.Diff([]string{"stdout:a\n", "stdout:b\n"}, saved); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b"}, tk.executed()); diff != "" {
		t.Errorf("executions (-want +got):\n%s", diff)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	tk := newTestKernel(t)
	tk.script("a", nbservtest.Stdout("a\n"))
	nb := nbformat.New(staleCell("a"), staleCell("b"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := nbexec.Run(ctx, tk.conn, nb, nbexec.Options{OnCell: func(context.Context, nbexec.Progress) error {
		cancel()
		return nil
	}})
	var ce *nbexec.CellError
	if !errors.Is(err, context.Canceled) || len(tk.executed()) != 1 {
		t.Fatalf("err = %v after %v", err, tk.executed())
	}
	if errors.As(err, &ce) {
		t.Errorf("%v blames cell %d, which did not run", err, ce.Index)
	}
}

// TestRunAllowedErrorsDoNotAbortTheNextRequest: a cell whose error may be
// allowed goes with stop_on_error false, as nbclient sends it, so the
// kernel does not abort the requests that reach it while it handles the
// error (ipykernel aborted the next cell that way: docs/wire/nbexec.md
// NB3). The request that could be aborted is sent on Run's own connection
// while the failing cell waits for input, so it is in the kernel's queue
// before the error, whatever the timing.
func TestRunAllowedErrorsDoNotAbortTheNextRequest(t *testing.T) {
	cases := map[string]struct {
		opts    nbexec.Options
		tags    []string
		aborted bool
	}{
		"AllowErrors":          {opts: nbexec.Options{AllowErrors: true}},
		"AllowErrorNames":      {opts: nbexec.Options{AllowErrorNames: []string{"ValueError"}}},
		"raises-exception tag": {tags: []string{nbexec.TagRaisesException}},
		"not allowed":          {aborted: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // generous: the cell takes milliseconds
			defer cancel()
			srv := nbservtest.NewServer(t)
			srv.Script("fails", nbservtest.Input("go? ", func(string) []nbservtest.Step {
				return []nbservtest.Step{nbservtest.Error("ValueError", "boom")}
			}))
			srv.Script("queued", nbservtest.Stdout("queued ran\n"))
			k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
			if err != nil {
				t.Fatal(err)
			}
			replies := make(chan string, 1)
			conn, err := srv.Client.Kernels.Connect(ctx, k.ID, kernel.WithMessageHandler(func(m *kernel.Message) {
				if m.Header.MsgType == kernel.MsgExecuteReply {
					var r kernel.ExecuteReply
					_ = json.Unmarshal(m.Content, &r)
					replies <- r.Status
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			opts := tc.opts
			opts.ExecuteOptions = []kernel.ExecuteOption{kernel.WithStdin(func(ctx context.Context, _ *kernel.InputRequest) (string, error) {
				_, err := conn.Send(ctx, kernel.ChannelShell, kernel.MsgExecuteRequest,
					&kernel.ExecuteRequest{Code: "queued", StoreHistory: true, UserExpressions: map[string]string{}, StopOnError: true})
				return "", err
			})}
			c := nbformat.NewCodeCell("fails")
			if tc.tags != nil {
				_ = c.Metadata.Set("tags", tc.tags)
			}
			runErr := nbexec.Run(ctx, conn, nbformat.New(c), opts)
			var ke *kernel.Error
			if tc.aborted && !errors.As(runErr, &ke) || !tc.aborted && runErr != nil {
				t.Fatalf("Run: %v", runErr)
			}
			select {
			case status := <-replies:
				if want := map[bool]string{true: kernel.StatusAborted, false: kernel.StatusOK}[tc.aborted]; status != want {
					t.Errorf("the queued request's reply: %q, want %q", status, want)
				}
			case <-ctx.Done():
				t.Fatal("no reply to the queued request")
			}
		})
	}
}
