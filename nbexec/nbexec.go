// Package nbexec executes a notebook document through a kernel connection,
// with the results nbclient (jupyter nbconvert --execute, papermill) gives:
// Run runs a *nbformat.Notebook's code cells in order on a *kernel.Conn and
// leaves their outputs, execution counts and timings in the document.
//
// What Run does, and where it follows nbclient:
//
//   - Before the run, every code cell's outputs, execution count and
//     metadata.execution are cleared (cells tagged skip-execution excepted),
//     so a run that stops early leaves the cells it did not reach clean
//     instead of showing an earlier run's outputs as if they were new.
//   - Blank code cells (whitespace only) and cells tagged skip-execution
//     are not sent to the kernel, as nbclient and JupyterLab skip them.
//   - Outputs are the kernel package's NotebookOutputs: clear_output (with
//     wait, when the next output arrives), consecutive writes to one stream
//     merged (as JupyterLab shows them; nbclient keeps each write, which
//     nbconvert's coalescing merges the same way), "\r" kept as sent. A
//     display_data, execute_result or update_display_data with a display id
//     also updates the displays with that id in earlier cells, as nbclient
//     does.
//   - The first exception stops the run with a *CellError unless it is
//     allowed: by Options.AllowErrors, by its name (Options.AllowErrorNames,
//     nbclient's allow_error_names), or by the cell's raises-exception tag.
//     A cell whose exception may be allowed is sent with stop_on_error
//     false, as nbclient sends it, so that the kernel does not abort the
//     next cell.
//   - Options.CellTimeout bounds each cell: past it Run interrupts the
//     kernel (as papermill does, so it is free for whoever uses it next)
//     and stops with a *CellError matching ErrCellTimeout.
//   - A kernel that dies or restarts mid-run stops it with a *CellError
//     matching kernel.ErrKernelDead or kernel.ErrKernelRestarted; the cells
//     that ran keep their outputs, the running one what arrived.
//   - metadata.language_info is the kernel's (its kernel_info_reply), and
//     each cell that ran gets nbclient's metadata.execution timings: the
//     dates of its iopub.status.busy, iopub.execute_input,
//     shell.execute_reply and iopub.status.idle messages.
//   - When Jupyter Server drops outputs because they passed its IOPub
//     limits, it tells the client with a stderr notice instead; Run keeps
//     the notice in the cell and stops with a *CellError holding an
//     *IOPubLimitError that names the server setting to raise.
//   - Options.OnCell is called after each cell that ran, with the notebook
//     in a consistent state, so a caller can save it after every cell and
//     an interrupted run leaves what ran.
//
// Before a run, InjectParameters parameterises a notebook as papermill
// does: a cell tagged injected-parameters, after the cell tagged
// parameters, assigns the values as Python literals written as papermill
// writes them, and metadata.papermill.parameters records them; ParseValue
// types a command-line value as papermill's -p does.
//
// RunMany runs many notebooks, N at a time, each on a fresh kernel from one
// of several KernelSources (Jupyter Servers, a hub user's named servers,
// Enterprise Gateway; nbserv.KernelSource adapts an *nbserv.Client): round
// robin over the sources, every kernel it started deleted on every exit,
// a kernel's death or a source that is down failing only their notebooks,
// with a callback per notebook done and a Result for each.
//
// The package imports kernel and nbformat only: reading and saving the
// notebook and starting the kernel are the caller's (nbserv's
// Contents.GetNotebook, Kernels.Start and Kernels.Connect, or a local file),
// and RunMany reaches a server only through the KernelSource interface.
package nbexec

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbformat"
)

// Cell tags Run reads, as nbclient names them.
const (
	// TagSkipExecution marks a code cell Run neither runs nor clears.
	TagSkipExecution = "skip-execution"
	// TagRaisesException marks a code cell whose exception does not stop
	// the run.
	TagRaisesException = "raises-exception"
)

// ErrCellTimeout matches a *CellError for a cell that ran past
// Options.CellTimeout.
var ErrCellTimeout = errors.New("nbexec: cell timed out")

// Options adjust Run. The zero value runs every cell with no time limit
// and stops at the first exception.
type Options struct {
	// AllowErrors lets the run go on past every exception (nbclient's
	// allow_errors); the error outputs stay in their cells. A cell that
	// may also have lost an output (kernel.ErrOutputMayBeLost) stops the
	// run all the same, as the allowed errors below do.
	AllowErrors bool
	// AllowErrorNames are exception class names (such as "ValueError")
	// that do not stop the run, as nbclient's allow_error_names.
	AllowErrorNames []string
	// CellTimeout bounds each cell's execution; zero or negative means no
	// limit. A cell past it is interrupted and the run stops with
	// ErrCellTimeout.
	CellTimeout time.Duration
	// OnCell, when set, is called after each cell that ran (its outputs,
	// count and timings in place), on Run's goroutine. An error it returns
	// stops the run and is returned, wrapped.
	OnCell func(ctx context.Context, p Progress) error
	// ExecuteOptions are passed to every execution (kernel.WithStdin, to
	// let cells read input). A kernel.WithMessageFunc among them is
	// replaced by Run's own, which records the timings.
	ExecuteOptions []kernel.ExecuteOption
}

// Progress is what Options.OnCell is told after a cell ran.
type Progress struct {
	// Notebook is the notebook being run, consistent: savable as it is.
	Notebook *nbformat.Notebook
	// Index is the cell's index in Notebook.Cells.
	Index int
	// Done counts the cells run so far, this one included; Total is the
	// number of cells the run would run (code cells, not blank, not tagged
	// skip-execution).
	Done, Total int
	// Elapsed is the time since Run began.
	Elapsed time.Duration
	// Err is the cell's exception when it raised one that was allowed
	// (a *kernel.Error), or nil.
	Err error
}

// CellError is why Run stopped at a cell: the cell's exception
// (*kernel.Error), ErrCellTimeout, an *IOPubLimitError, or the
// connection's error (kernel.ErrKernelDead, kernel.ErrKernelRestarted,
// kernel.ErrOutputMayBeLost, the context's), matched through Unwrap.
type CellError struct {
	// Index is the cell's index in the notebook's Cells.
	Index int
	// CellID is the cell's id ("" before nbformat 4.5).
	CellID string
	// Err is the cause.
	Err error
}

// Error reports the cell and the cause on one line.
func (e *CellError) Error() string {
	id := ""
	if e.CellID != "" {
		id = fmt.Sprintf(" (id %s)", e.CellID)
	}
	return fmt.Sprintf("nbexec: cell %d%s: %v", e.Index, id, e.Err)
}

// Unwrap returns the cause.
func (e *CellError) Unwrap() error { return e.Err }

// IOPubLimitError reports that Jupyter Server dropped a cell's outputs
// because they passed one of its IOPub rate limits, which it announces
// with a notice on stderr in place of the outputs.
type IOPubLimitError struct {
	// Setting is the server setting to raise, as the notice names it:
	// "ServerApp.iopub_msg_rate_limit" (messages per second) or
	// "ServerApp.iopub_data_rate_limit" (bytes per second).
	Setting string
}

// Error names the limit and the setting.
func (e *IOPubLimitError) Error() string {
	return fmt.Sprintf("the server dropped outputs past its IOPub rate limit; raise %s (or write less output)", e.Setting)
}

// iopubNotice matches the first lines of Jupyter Server's notice
// (docs/wire/kernel-channels.md KC40; the classic Notebook's names
// NotebookApp), capturing the setting it names.
var iopubNotice = regexp.MustCompile("^IOPub (?:message|data) rate exceeded\\.\n(?:.*\n){0,3}?.*`--([A-Za-z]+\\.iopub_(?:msg|data)_rate_limit)`")

// iopubLimit returns the error for an IOPub limit notice among outs, or
// nil.
func iopubLimit(outs []kernel.Content) error {
	for _, c := range outs {
		if s, ok := c.(*kernel.Stream); ok && s.Name == kernel.Stderr {
			if m := iopubNotice.FindStringSubmatch(s.Text); m != nil {
				return &IOPubLimitError{Setting: m[1]}
			}
		}
	}
	return nil
}

// Runnable reports whether Run sends cell to the kernel: a code cell that
// is not blank and not tagged skip-execution.
func Runnable(cell *nbformat.Cell) bool {
	return cell.CellType == nbformat.CellCode && strings.TrimSpace(cell.Source) != "" && !hasTag(cell, TagSkipExecution)
}

// hasTag reports whether the cell's metadata.tags holds tag; tags that do
// not decode as a list of strings hold none.
func hasTag(cell *nbformat.Cell, tag string) bool {
	var tags []string
	if ok, err := cell.Metadata.Get("tags", &tags); !ok || err != nil {
		return false
	}
	return slices.Contains(tags, tag)
}

// Run executes nb's code cells in order on conn, as the package doc says,
// changing nb in place, and returns nil when every cell ran with no
// exception or only allowed ones. Otherwise the error is a *CellError
// naming the cell that stopped the run (or OnCell's error, wrapped), and nb
// holds what ran. A cancelled ctx stops the run and the wait for the
// running cell; the cell's code goes on in the kernel (conn.Interrupt stops
// it). Each cell's wait is bounded by ctx and, with Options.CellTimeout,
// ends at most twice CellTimeout after the cell began (the interrupt's REST
// call aside, which the client's timeout bounds).
func Run(ctx context.Context, conn *kernel.Conn, nb *nbformat.Notebook, opts Options) error {
	start := time.Now()
	if info := conn.Info(); info != nil && info.LanguageInfo.Name != "" {
		li := info.LanguageInfo
		nb.Metadata.LanguageInfo = &li
	}
	total := 0
	for i := range nb.Cells {
		c := &nb.Cells[i]
		if c.CellType != nbformat.CellCode || hasTag(c, TagSkipExecution) {
			continue
		}
		c.Outputs, c.ExecutionCount = nil, nil
		delete(c.Metadata, "execution")
		if Runnable(c) {
			total++
		}
	}
	r := &run{conn: conn, nb: nb, opts: opts, displays: map[string][]outputRef{}}
	done := 0
	for i := range nb.Cells {
		if !Runnable(&nb.Cells[i]) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("nbexec: stopped before cell %d: %w", i, err)
		}
		allowed, err := r.cell(ctx, i)
		if err != nil {
			return &CellError{Index: i, CellID: nb.Cells[i].ID, Err: err}
		}
		done++
		if opts.OnCell != nil {
			p := Progress{Notebook: nb, Index: i, Done: done, Total: total, Elapsed: time.Since(start), Err: allowed}
			if err := opts.OnCell(ctx, p); err != nil {
				return fmt.Errorf("nbexec: after cell %d: %w", i, err)
			}
		}
	}
	return nil
}

// run is the state of one Run: the displays shown so far, by display id,
// for the updates of later cells.
type run struct {
	conn     *kernel.Conn
	nb       *nbformat.Notebook
	opts     Options
	displays map[string][]outputRef
}

// outputRef locates one output of the notebook.
type outputRef struct{ cell, output int }

// cell runs cell i and records its outputs. It returns the cell's
// exception when allowed, or the error that stops the run.
func (r *run) cell(ctx context.Context, i int) (allowed, stop error) {
	cell := &r.nb.Cells[i]
	timing := map[string]string{}
	xopts := append(slices.Clone(r.opts.ExecuteOptions), kernel.WithMessageFunc(func(m *kernel.Message) {
		if key := timingKey(m); key != "" {
			timing[key] = timestamp(m.Header)
		}
	}))
	if r.mayAllow(cell) {
		// As nbclient: a cell whose error may be allowed is sent with
		// stop_on_error false, or ipykernel, on its error, aborts the
		// requests that reach it before it has finished handling the
		// error, which the next cell, sent as soon as this one is idle,
		// can be (docs/wire/nbexec.md NB3).
		xopts = append(xopts, kernel.WithoutStopOnError())
	}
	xctx, timedOut, stopTimer := r.watch(ctx)
	ex, err := r.conn.Execute(xctx, cell.Source, xopts...)
	interruptErr := stopTimer()
	if ex != nil {
		r.record(i, ex)
	}
	if len(timing) > 0 {
		if serr := cell.Metadata.Set("execution", timing); serr != nil {
			return nil, serr
		}
	}
	var limit error
	if ex != nil {
		limit = iopubLimit(ex.Outputs)
	}
	if timedOut() {
		// The kernel's KeyboardInterrupt, if it came, is in the outputs.
		err = errors.Join(fmt.Errorf("%w after %v", ErrCellTimeout, r.opts.CellTimeout), interruptErr)
	}
	// An allowed exception allows the exception alone: a cell that raised
	// and may also have lost an output (its socket was replaced while it
	// ran) stops the run, or the notebook would be saved as complete
	// without it.
	var kerr *kernel.Error
	if errors.As(err, &kerr) && !errors.Is(err, kernel.ErrOutputMayBeLost) && !timedOut() && limit == nil && r.allows(cell, kerr) {
		return err, nil
	}
	return nil, errors.Join(limit, err)
}

// watch bounds one cell's execution by Options.CellTimeout: past it, the
// kernel is interrupted (as papermill does, so that the kernel is free
// again), and the execution is then given as long again to end (with the
// kernel's KeyboardInterrupt, whose outputs are kept) before xctx ends the
// wait. stop ends the watch, waiting for an interrupt in flight (bounded
// by the client's timeout for the REST call), and returns the interrupt's
// error; timedOut reports whether the cell ran past its timeout.
func (r *run) watch(ctx context.Context) (xctx context.Context, timedOut func() bool, stop func() error) {
	d := r.opts.CellTimeout
	if d <= 0 {
		return ctx, func() bool { return false }, func() error { return nil }
	}
	xctx, cancel := context.WithCancel(ctx)
	var (
		mu           sync.Mutex
		fired        bool
		grace        *time.Timer
		interruptErr error
		wg           sync.WaitGroup
	)
	wg.Add(1)
	timer := time.AfterFunc(d, func() {
		defer wg.Done()
		mu.Lock()
		fired, grace = true, time.AfterFunc(d, cancel)
		mu.Unlock()
		if err := r.conn.Interrupt(xctx); err != nil {
			mu.Lock()
			interruptErr = fmt.Errorf("nbexec: interrupting the kernel: %w", err)
			mu.Unlock()
		}
	})
	timedOut = func() bool {
		mu.Lock()
		defer mu.Unlock()
		return fired
	}
	stop = func() error {
		if timer.Stop() {
			wg.Done() // the function will never run
		}
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if grace != nil {
			grace.Stop()
		}
		return interruptErr
	}
	return xctx, timedOut, stop
}

// allows reports whether the exception kerr of cell lets the run go on.
func (r *run) allows(cell *nbformat.Cell, kerr *kernel.Error) bool {
	return r.opts.AllowErrors || slices.Contains(r.opts.AllowErrorNames, kerr.Ename) || hasTag(cell, TagRaisesException)
}

// mayAllow reports whether an exception of cell may let the run go on:
// every one, or one of Options.AllowErrorNames (which nbclient sends with
// stop_on_error true; an allowed name must not abort the next cell either).
func (r *run) mayAllow(cell *nbformat.Cell) bool {
	return r.opts.AllowErrors || len(r.opts.AllowErrorNames) > 0 || hasTag(cell, TagRaisesException)
}

// record stores ex's outputs and count in cell i, applies its displays'
// updates to the earlier cells' displays with the same id, and remembers
// its own displays for the later cells.
func (r *run) record(i int, ex *kernel.Execution) {
	cell := &r.nb.Cells[i]
	if ex.ExecutionCount > 0 {
		n := ex.ExecutionCount
		cell.ExecutionCount = &n
	}
	for _, c := range ex.Outputs {
		var id string
		var data nbformat.MIMEBundle
		var meta nbformat.Metadata
		switch v := c.(type) {
		case *kernel.DisplayData:
			id, data, meta = v.DisplayID(), v.Data, v.Metadata
		case *kernel.ExecuteResult:
			id, data, meta = v.DisplayID(), v.Data, v.Metadata
		case *kernel.UpdateDisplayData:
			id, data, meta = v.DisplayID(), v.Data, v.Metadata
		}
		for _, ref := range r.displays[id] {
			o := &r.nb.Cells[ref.cell].Outputs[ref.output]
			o.Data, o.Metadata = data, meta
		}
	}
	cell.Outputs = nil
	for _, c := range ex.Displayed() {
		o, ok := kernel.OutputOf(c)
		if !ok {
			continue
		}
		var id string
		switch v := c.(type) {
		case *kernel.DisplayData:
			id = v.DisplayID()
		case *kernel.ExecuteResult:
			id = v.DisplayID()
		}
		if id != "" {
			r.displays[id] = append(r.displays[id], outputRef{i, len(cell.Outputs)})
		}
		cell.Outputs = append(cell.Outputs, o)
	}
}

// timingKey is the metadata.execution key nbclient records m's date under,
// or "".
func timingKey(m *kernel.Message) string {
	switch m.Header.MsgType {
	case kernel.MsgStatus:
		var st kernel.Status
		if c, err := m.Decode(); err == nil {
			st = *c.(*kernel.Status)
		}
		switch st.ExecutionState {
		case kernel.StateBusy:
			return "iopub.status.busy"
		case kernel.StateIdle:
			return "iopub.status.idle"
		}
	case kernel.MsgExecuteInput:
		return "iopub.execute_input"
	case kernel.MsgExecuteReply:
		return "shell.execute_reply"
	}
	return ""
}

// timestamp formats a message's date as nbclient does (microseconds, UTC,
// "Z"); a date that does not parse is kept as sent, and a missing one is
// now, as nbclient falls back to.
func timestamp(h kernel.Header) string {
	const layout = "2006-01-02T15:04:05.000000Z"
	if t, ok := h.Time(); ok {
		return t.UTC().Format(layout)
	}
	if h.Date != "" {
		return h.Date
	}
	return time.Now().UTC().Format(layout)
}
