package nbserv_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// A notebook executed end to end with nbexec: against real Jupyter and
// ipykernel with scripts/with-jupyter.sh, the cells' Python runs; against
// the reference server, each cell is scripted to send what ipykernel sends
// for it, so the assertions are the same on both and say what ipykernel
// does.
//
//	scripts/with-jupyter.sh go test -race -count=1 -run 'E2ENbexec' -v .

// e2eNotebookCells are the cells' sources, and what ipykernel sends for
// each (the scripts of the reference server).
var e2eNotebookCells = []struct {
	source string
	tags   []string
	steps  []nbservtest.Step
}{
	{source: "print(\"a\", flush=True)\nprint(\"b\\r\", end=\"\")", steps: []nbservtest.Step{
		nbservtest.Stdout("a\n"), nbservtest.Sleep(0), nbservtest.Stdout("b\r"),
	}},
	{source: "from IPython.display import display, update_display, clear_output\n_ = display(\"one\", display_id=\"d\")", steps: []nbservtest.Step{
		nbservtest.DisplayWithID("d", map[string]any{"text/plain": "'one'"}),
	}},
	{source: "update_display(\"two\", display_id=\"d\")", steps: []nbservtest.Step{
		nbservtest.UpdateDisplay("d", map[string]any{"text/plain": "'two'"}),
	}},
	{source: "print(\"gone\")\nclear_output(wait=True)\nprint(\"kept\")", steps: []nbservtest.Step{
		nbservtest.Stdout("gone\n"), nbservtest.ClearOutput(true), nbservtest.Stdout("kept\n"),
	}},
	{source: "  \n"},
	{source: "raise ValueError(\"expected\")", tags: []string{nbexec.TagRaisesException}, steps: []nbservtest.Step{
		nbservtest.Error("ValueError", "expected"),
	}},
	{source: "6*7", steps: []nbservtest.Step{nbservtest.ResultText("42")}},
	{source: "print(\"never\")", tags: []string{nbexec.TagSkipExecution}},
	{source: "raise KeyError(\"stop\")", steps: []nbservtest.Step{nbservtest.Error("KeyError", "'stop'")}},
	{source: "print(\"not reached\")", steps: []nbservtest.Step{nbservtest.Stdout("not reached\n")}},
}

func TestE2ENbexecRunsANotebook(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		ctx := context.Background()
		var cells []nbformat.Cell
		for _, cell := range e2eNotebookCells {
			if tg.ref != nil && cell.steps != nil {
				tg.ref.Script(cell.source, cell.steps...)
			}
			nc := nbformat.NewCodeCell(cell.source)
			if cell.tags != nil {
				_ = nc.Metadata.Set("tags", cell.tags)
			}
			cells = append(cells, nc)
		}
		conn := connectOwnKernel(t, c)
		nb := nbformat.New(cells...)
		// Generous: ipykernel answers each cell in milliseconds.
		err := nbexec.Run(ctx, conn, nb, nbexec.Options{CellTimeout: time.Minute})
		var ce *nbexec.CellError
		if !errors.As(err, &ce) || ce.Index != 8 {
			t.Fatalf("err = %v, want the KeyError of cell 8", err)
		}
		var got [][]string
		var counts []any
		for _, c := range nb.Cells {
			got = append(got, e2eTexts(c))
			if c.ExecutionCount == nil {
				counts = append(counts, nil)
			} else {
				counts = append(counts, *c.ExecutionCount)
			}
		}
		want := [][]string{
			{"stream:a\nb\r"},
			{"display_data:'two'"},
			nil,
			{"stream:kept\n"},
			nil,
			{"error:ValueError: expected"},
			{"execute_result:42"},
			nil,
			{"error:KeyError: 'stop'"},
			nil,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outputs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]any{1, 2, 3, 4, nil, 5, 6, nil, 7, nil}, counts); diff != "" {
			t.Errorf("execution counts (-want +got):\n%s", diff)
		}
		if li := nb.Metadata.LanguageInfo; li == nil || li.Name != conn.Info().LanguageInfo.Name || li.Name == "" {
			t.Errorf("language_info %+v", li)
		}
		if _, ok := nb.Cells[0].Metadata["execution"]; !ok {
			t.Error("no metadata.execution")
		}
	})
}

// e2eTexts returns each output of cell as "type:" and what a console
// shows of it.
func e2eTexts(cell nbformat.Cell) []string {
	var got []string
	for _, o := range cell.Outputs {
		got = append(got, o.OutputType+":"+o.String())
	}
	return got
}

// connectOwnKernel starts a kernel of the test's own (startKernel: deleted
// at the end) and connects to it (closed at the end).
func connectOwnKernel(t *testing.T, c *nbserv.Client) *kernel.Conn {
	t.Helper()
	conn, err := c.Kernels.Connect(context.Background(), startKernel(t, c).ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestE2ENbexecIOPubLimits floods the server past each of its IOPub limits,
// (1 MB/s, Jupyter's default, and 100 messages/s over 3 s: the scripts
// start real servers at a tenth of the default message rate, which a kernel
// on a loaded machine does not reach, docs/wire/kernel-channels.md KC90).
// Real Jupyter then
// drops outputs and sends its notice in their place; the reference server
// is scripted to send the notice as Jupyter words it
// (docs/wire/kernel-channels.md KC40).
func TestE2ENbexecIOPubLimits(t *testing.T) {
	notice := func(what, setting, value string) string {
		return "IOPub " + what + " rate exceeded.\nThe Jupyter server will temporarily stop sending output\nto the client in order to avoid crashing it.\n" +
			"To change this limit, set the config variable\n`--" + setting + "`.\n\nCurrent values:\n" + setting + "=" + value + "\nServerApp.rate_limit_window=3.0 (secs)\n\n"
	}
	// whole is what the flood's cell holds when nothing was dropped.
	var displays []string
	for i := range 5000 {
		displays = append(displays, "display_data:"+strconv.Itoa(i))
	}
	floods := []struct {
		setting, source, notice string
		whole                   []string // e2eTexts
	}{
		{"ServerApp.iopub_msg_rate_limit", "from IPython.display import display\nfor i in range(5000):\n    display(i)",
			notice("message", "ServerApp.iopub_msg_rate_limit", "1000.0 (msgs/sec)"), displays},
		{"ServerApp.iopub_data_rate_limit", "print(\"x\" * 5_000_000)",
			notice("data", "ServerApp.iopub_data_rate_limit", "1000000.0 (bytes/sec)"),
			[]string{"stream:" + strings.Repeat("x", 5_000_000) + "\n"}},
	}
	for _, f := range floods {
		t.Run(f.setting, func(t *testing.T) {
			forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
				ctx := context.Background()
				if tg.ref != nil {
					tg.ref.Script(f.source, nbservtest.Display(map[string]any{"text/plain": "0"}),
						nbservtest.Message("stream", map[string]any{"name": "stderr", "text": f.notice}))
				}
				conn := connectOwnKernel(t, c)
				nb := nbformat.New(nbformat.NewCodeCell(f.source), nbformat.NewCodeCell("1"))
				err := nbexec.Run(ctx, conn, nb, nbexec.Options{CellTimeout: time.Minute})
				if tg.gateway {
					// A server on a gateway applies no rate limit to the
					// gateway's kernels (docs/wire/gateway.md GW12): the
					// run succeeds with every output of the flood.
					if err != nil {
						t.Fatalf("through a gateway: %v, want the flood whole", err)
					}
					if got := e2eTexts(nb.Cells[0]); !slices.Equal(f.whole, got) {
						t.Errorf("the flood through a gateway: %d outputs, %d bytes; want %d, %d", len(got), len(strings.Join(got, "")), len(f.whole), len(strings.Join(f.whole, "")))
					}
					if nb.Cells[1].ExecutionCount == nil {
						t.Error("the run stopped after the flood")
					}
					return
				}
				var le *nbexec.IOPubLimitError
				var ce *nbexec.CellError
				if !errors.As(err, &le) || le.Setting != f.setting || !errors.As(err, &ce) || ce.Index != 0 {
					t.Fatalf("err = %v, want an *IOPubLimitError naming %s", err, f.setting)
				}
				if nb.Cells[1].ExecutionCount != nil {
					t.Error("the run went on past the dropped outputs")
				}
			})
		})
	}
}
