package nbexec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbformat"
)

// A KernelSource starts, connects to and deletes kernels for RunMany: one
// Jupyter Server, an Enterprise Gateway, a hub user's named server.
// nbserv.KernelSource implements it on an *nbserv.Client. It is an
// interface of three calls, not a client, so that this package keeps
// importing only kernel and nbformat (nbserv's Kernels.Connect already
// returns a *kernel.Conn) and a test can give RunMany a source of its own.
// RunMany calls it from several goroutines at once.
type KernelSource interface {
	// StartKernel starts a kernel of the kernelspec name (empty: the
	// source's default) working in the directory path, and returns its
	// id. RunMany passes it a context that a cancel of the run does not
	// reach (context.WithoutCancel): a start the server goes on with after
	// the client gave up would leave a kernel that nobody deletes. So the
	// source bounds it (nbserv's by the client's Timeout).
	StartKernel(ctx context.Context, name, path string) (id string, err error)
	// ConnectKernel opens the channels of the kernel id.
	ConnectKernel(ctx context.Context, id string) (*kernel.Conn, error)
	// DeleteKernel deletes the kernel id; a kernel the source no longer
	// knows (it died) is no error.
	DeleteKernel(ctx context.Context, id string) error
	// String names the source in results and errors, without credentials.
	String() string
}

// Job is one notebook of those RunMany runs.
type Job struct {
	// Name labels the notebook in its Result and errors (a file name).
	Name string
	// Notebook is the document to run; RunMany leaves the outputs in it,
	// so each job has one of its own (ErrSharedNotebook).
	Notebook *nbformat.Notebook
	// Load, when set, is called by the worker that runs the job, before
	// its kernel starts, instead of reading Notebook: the documents of a
	// large directory are then not all in memory at once. An error fails
	// the job alone.
	Load func(ctx context.Context) (*nbformat.Notebook, error)
	// Save, when set, is called once the job's cells stop, however they
	// stop (a cancelled ctx included, with a context that is not), with
	// the notebook as the run left it, before its kernel is deleted; its
	// error joins the job's. (OnCell saves after each cell.)
	Save func(ctx context.Context, nb *nbformat.Notebook) error
	// Kernel is the kernelspec to start; empty takes the notebook's
	// metadata.kernelspec.name, else the source's default.
	Kernel string
	// Path is the kernel's working directory on the source.
	Path string
}

// ManyOptions configure RunMany. The zero value runs one notebook at a
// time with Options' zero value.
type ManyOptions struct {
	// Workers is how many notebooks run at once, each on a kernel of its
	// own (values below 1 mean 1).
	Workers int
	// Options apply to every notebook; their OnCell is replaced by
	// ManyOptions.OnCell.
	Options Options
	// OnStart, when set, is called once a job's kernel is connected,
	// before its first cell, with its Result so far (Index, Name, Source,
	// KernelID, KernelName).
	OnStart func(Result)
	// OnCell, when set, is called after each cell of job that ran, as
	// Options.OnCell is (an error stops that job alone).
	OnCell func(ctx context.Context, job int, p Progress) error
	// OnDone, when set, is called once per job as it ends, with its
	// Result: the progress of the whole run. Calls are serialised, so it
	// needs no lock of its own.
	OnDone func(Result)
	// CleanupTimeout bounds the deletion of each kernel, which runs even
	// after ctx is cancelled; zero means 30 seconds.
	CleanupTimeout time.Duration
}

// Result is the outcome of one Job.
type Result struct {
	// Index is the job's index in RunMany's jobs; Name its Job.Name.
	Index int
	Name  string
	// Source is the String of the source it ran on.
	Source string
	// KernelID is the kernel it ran on, empty when none was started.
	KernelID string
	// KernelName is the kernelspec asked for (Job.Kernel, else the
	// notebook's); empty for the source's default.
	KernelName string
	// Ran is false for a job never begun, the run being cancelled first;
	// Err is then the context's error.
	Ran bool
	// Err is nil when every cell ran (or raised only allowed errors):
	// otherwise a *CellError for a cell that failed (a kernel that died
	// matching kernel.ErrKernelDead), or the error of loading the
	// notebook, or of starting, connecting to or deleting the kernel.
	Err error
	// Elapsed is the job's wall time, its kernel's start and deletion
	// included.
	Elapsed time.Duration
}

// ErrNoKernelSource is returned by RunMany when it has jobs but no source,
// or a nil one among its sources.
var ErrNoKernelSource = errors.New("nbexec: RunMany needs at least one kernel source")

// ErrSharedNotebook is returned by RunMany when two jobs have one
// Notebook: both runs would write its outputs at once.
var ErrSharedNotebook = errors.New("nbexec: two jobs share a notebook")

// defaultCleanupTimeout is ManyOptions.CleanupTimeout's zero value.
const defaultCleanupTimeout = 30 * time.Second

// RunMany runs jobs, opts.Workers at a time, each on a fresh kernel of
// its own, as nbclient and papermill give each notebook a fresh kernel
// (state left by one notebook never reaches another, and a kernel that
// dies takes only its notebook down). Job i runs on sources[i %
// len(sources)]: round robin in the jobs' order, so the notebooks of a
// source that is down are known in advance and fail with that source's
// error while the others run (least-loaded would send ever more jobs to a
// source whose starts fail at once). The workers take jobs in order.
//
// Every kernel RunMany started is deleted when its job ends, whatever the
// end (success, a cell's error, the kernel's death, ctx cancelled), each
// deletion bounded by opts.CleanupTimeout; RunMany never touches a kernel
// it did not start. After ctx is cancelled no job begins; the running
// ones stop (nbexec.Run returns ctx's error) and their kernels are
// deleted before RunMany returns.
//
// It returns one Result per job, in the jobs' order, and an error only
// for arguments it cannot run (no source, or a nil one; two jobs of one
// Notebook); each job's failure is in its Result.
func RunMany(ctx context.Context, jobs []Job, sources []KernelSource, opts ManyOptions) ([]Result, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	if len(sources) == 0 {
		return nil, ErrNoKernelSource
	}
	for i, s := range sources {
		if s == nil {
			// Said before any kernel starts: a worker that reached it would
			// panic, ending the program with the other kernels running.
			return nil, fmt.Errorf("%w: sources[%d] is nil", ErrNoKernelSource, i)
		}
	}
	seen := map[*nbformat.Notebook]int{}
	for i, j := range jobs {
		if j.Notebook == nil || j.Load != nil {
			continue // Load's notebook is the caller's to keep apart
		}
		if first, dup := seen[j.Notebook]; dup {
			return nil, fmt.Errorf("%w: jobs %d and %d", ErrSharedNotebook, first, i)
		}
		seen[j.Notebook] = i
	}
	if opts.CleanupTimeout <= 0 {
		opts.CleanupTimeout = defaultCleanupTimeout
	}
	results := make([]Result, len(jobs))
	var doneMu sync.Mutex
	finish := func(r Result) {
		results[r.Index] = r
		if opts.OnDone != nil {
			doneMu.Lock()
			defer doneMu.Unlock()
			opts.OnDone(r)
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(opts.Workers, 1), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				finish(runJob(ctx, i, jobs[i], sources[i%len(sources)], opts))
			}
		}()
	}
	handed := 0
	for handed < len(jobs) && ctx.Err() == nil {
		select {
		case next <- handed:
			handed++
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	for i := handed; i < len(jobs); i++ {
		finish(Result{Index: i, Name: jobs[i].Name, Source: sources[i%len(sources)].String(), Err: ctx.Err()})
	}
	return results, nil
}

// runJob runs one job on a kernel of its own from src and deletes it.
func runJob(ctx context.Context, i int, j Job, src KernelSource, opts ManyOptions) (r Result) {
	start := time.Now()
	r = Result{Index: i, Name: j.Name, Source: src.String(), Ran: true}
	defer func() { r.Elapsed = time.Since(start) }()
	if err := ctx.Err(); err != nil {
		// Handed out as the run was cancelled: not begun.
		r.Ran, r.Err = false, err
		return r
	}
	nb := j.Notebook
	if j.Load != nil {
		var err error
		if nb, err = j.Load(ctx); err != nil {
			r.Err = err
			return r
		}
	}
	if nb == nil {
		r.Err = fmt.Errorf("nbexec: job %q has no notebook", j.Name)
		return r
	}
	name := j.Kernel
	if name == "" && nb.Metadata.Kernelspec != nil {
		name = nb.Metadata.Kernelspec.Name
	}
	r.KernelName = name
	id, err := src.StartKernel(context.WithoutCancel(ctx), name, j.Path)
	if err != nil {
		r.Err = fmt.Errorf("starting a kernel on %s: %w", src, err)
		return r
	}
	r.KernelID = id
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.CleanupTimeout)
		defer cancel()
		if derr := src.DeleteKernel(cctx, id); derr != nil {
			r.Err = errors.Join(r.Err, fmt.Errorf("deleting kernel %s on %s: %w", id, src, derr))
		}
	}()
	if err := ctx.Err(); err != nil {
		r.Err = err
		return r
	}
	conn, err := src.ConnectKernel(ctx, id)
	if err != nil {
		r.Err = fmt.Errorf("connecting to kernel %s on %s: %w", id, src, err)
		return r
	}
	defer conn.Close()
	if opts.OnStart != nil {
		opts.OnStart(r)
	}
	o := opts.Options
	o.OnCell = nil
	if opts.OnCell != nil {
		o.OnCell = func(ctx context.Context, p Progress) error { return opts.OnCell(ctx, i, p) }
	}
	r.Err = Run(ctx, conn, nb, o)
	if j.Save != nil {
		if err := j.Save(context.WithoutCancel(ctx), nb); err != nil {
			r.Err = errors.Join(r.Err, err)
		}
	}
	return r
}
