package nbexec_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// manyServers starts n reference servers whose kernels print "ran <code>"
// for any cell, and returns them with a KernelSource for each.
func manyServers(t *testing.T, n int) ([]*nbservtest.Server, []nbexec.KernelSource) {
	t.Helper()
	var srvs []*nbservtest.Server
	var sources []nbexec.KernelSource
	for range n {
		srv := nbservtest.NewServer(t)
		srv.ScriptFunc(func(code string) ([]nbservtest.Step, bool) {
			return []nbservtest.Step{nbservtest.Stdout("ran " + code + "\n")}, true
		})
		srvs = append(srvs, srv)
		sources = append(sources, nbserv.KernelSource{Client: srv.Client})
	}
	return srvs, sources
}

// manyJobs returns n jobs of one cell each, "nb<i>".
func manyJobs(n int) []nbexec.Job {
	jobs := make([]nbexec.Job, n)
	for i := range jobs {
		name := fmt.Sprintf("nb%d", i)
		jobs[i] = nbexec.Job{Name: name, Notebook: nbformat.New(nbformat.NewCodeCell(name))}
	}
	return jobs
}

// noKernels fails t if a server has a kernel left besides keep.
func noKernels(t *testing.T, srvs []*nbservtest.Server, keep ...string) {
	t.Helper()
	for i, srv := range srvs {
		ks, err := srv.Client.Kernels.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			if !strings.Contains(strings.Join(keep, " "), k.ID) {
				t.Errorf("server %d: kernel %s left", i, k.ID)
			}
		}
	}
}

// TestRunManySpreadsOverSources runs 7 notebooks, 3 at a time, over 3
// servers: job i on server i mod 3, each on a fresh kernel, every
// kernel deleted, a kernel someone else started untouched, OnDone
// called once per job, never more than 3 kernels alive at once.
func TestRunManySpreadsOverSources(t *testing.T) {
	srvs, sources := manyServers(t, 3)
	theirs, err := srvs[1].Client.Kernels.Start(context.Background(), nbserv.StartKernelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingSources{}
	for i := range sources {
		sources[i] = counting.wrap(sources[i])
	}
	jobs := manyJobs(7)
	var done []string
	results, err := nbexec.RunMany(context.Background(), jobs, sources, nbexec.ManyOptions{
		Workers: 3,
		OnDone:  func(r nbexec.Result) { done = append(done, r.Name) }, // serialised by RunMany: -race checks
	})
	if err != nil {
		t.Fatal(err)
	}
	kernels := map[string]bool{}
	for i, r := range results {
		if r.Index != i || r.Name != jobs[i].Name || !r.Ran || r.Err != nil {
			t.Errorf("result %d: %+v", i, r)
		}
		if want := srvs[i%3].Client.BaseURL(); r.Source != want {
			t.Errorf("job %d ran on %s, want %s (round robin)", i, r.Source, want)
		}
		if kernels[r.KernelID] || r.KernelID == "" {
			t.Errorf("job %d: kernel %q not a fresh one", i, r.KernelID)
		}
		kernels[r.KernelID] = true
		if out := jobs[i].Notebook.Cells[0].Outputs; len(out) != 1 || out[0].Text != "ran "+jobs[i].Name+"\n" {
			t.Errorf("job %d: outputs %+v", i, out)
		}
	}
	if len(done) != len(jobs) {
		t.Errorf("OnDone for %q", done)
	}
	if counting.max > 3 || counting.started != 7 || counting.live != 0 {
		t.Errorf("kernels: %d at most at once (want at most 3), %d started, %d left", counting.max, counting.started, counting.live)
	}
	noKernels(t, srvs, theirs.ID)
	if _, err := srvs[1].Client.Kernels.Get(context.Background(), theirs.ID); err != nil {
		t.Errorf("a kernel RunMany did not start: %v", err)
	}
}

// countingSources counts the kernels its sources started and deleted.
type countingSources struct {
	mu                 sync.Mutex
	live, max, started int
}

func (c *countingSources) wrap(s nbexec.KernelSource) nbexec.KernelSource {
	return countingSource{s, c}
}

type countingSource struct {
	nbexec.KernelSource
	c *countingSources
}

func (s countingSource) StartKernel(ctx context.Context, name, path string) (string, error) {
	id, err := s.KernelSource.StartKernel(ctx, name, path)
	if err == nil {
		s.c.mu.Lock()
		s.c.live++
		s.c.started++
		s.c.max = max(s.c.max, s.c.live)
		s.c.mu.Unlock()
	}
	return id, err
}

func (s countingSource) DeleteKernel(ctx context.Context, id string) error {
	err := s.KernelSource.DeleteKernel(ctx, id)
	s.c.mu.Lock()
	s.c.live--
	s.c.mu.Unlock()
	return err
}

// TestRunManyKernelDeathTakesOnlyItsNotebook: one notebook's kernel dies
// for good, another's crashes and is restarted; those two fail with
// kernel.ErrKernelDead and kernel.ErrKernelRestarted, the other notebooks
// run, and no kernel is left.
func TestRunManyKernelDeathTakesOnlyItsNotebook(t *testing.T) {
	srvs, sources := manyServers(t, 2)
	for _, srv := range srvs {
		srv.Script("crash", nbservtest.Crash())
	}
	jobs := manyJobs(6)
	jobs[1].Notebook = nbformat.New(nbformat.NewCodeCell("crash"), nbformat.NewCodeCell("after"))
	jobs[2].Name = "dies"
	results, err := nbexec.RunMany(context.Background(), jobs, sources, nbexec.ManyOptions{
		Workers: 3,
		OnStart: func(r nbexec.Result) {
			if r.Name == "dies" {
				// Gone from the server, as a kernel the OOM killer took
				// and its restarts failed.
				if err := srvs[0].KillKernel(r.KernelID); err != nil {
					t.Error(err)
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		switch i {
		case 1:
			if !errors.Is(r.Err, kernel.ErrKernelRestarted) {
				t.Errorf("crashed: %v", r.Err)
			}
		case 2:
			if !errors.Is(r.Err, kernel.ErrKernelDead) {
				t.Errorf("died: %v", r.Err)
			}
		default:
			if r.Err != nil {
				t.Errorf("job %d: %v", i, r.Err)
			}
		}
	}
	noKernels(t, srvs)
}

// TestRunManySourceDown: the notebooks of a server that is down fail with
// an error naming it; the others run.
func TestRunManySourceDown(t *testing.T) {
	srvs, sources := manyServers(t, 2)
	down := srvs[1].Client.BaseURL()
	srvs[1].Close()
	jobs := manyJobs(5)
	results, err := nbexec.RunMany(context.Background(), jobs, sources, nbexec.ManyOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if i%2 == 0 && r.Err != nil {
			t.Errorf("job %d on the server that is up: %v", i, r.Err)
		}
		if i%2 == 1 && (r.Err == nil || !strings.Contains(r.Err.Error(), "starting a kernel on "+down) || r.KernelID != "") {
			t.Errorf("job %d on the server that is down: %+v", i, r)
		}
	}
	noKernels(t, srvs[:1])
}

// TestRunManyCancelDeletesEveryKernel cancels a run whose cells never end
// once 2 of its 5 notebooks have started: RunMany returns (each Run ends
// with ctx), the 2 kernels are deleted, the 3 other notebooks never begin.
func TestRunManyCancelDeletesEveryKernel(t *testing.T) {
	srvs, sources := manyServers(t, 2)
	for _, srv := range srvs {
		srv.Script("forever", nbservtest.Sleep(time.Hour))
	}
	jobs := make([]nbexec.Job, 5)
	for i := range jobs {
		jobs[i] = nbexec.Job{Name: fmt.Sprint(i), Notebook: nbformat.New(nbformat.NewCodeCell("forever"))}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	started := 0
	results, err := nbexec.RunMany(ctx, jobs, sources, nbexec.ManyOptions{
		Workers: 2,
		OnStart: func(nbexec.Result) {
			mu.Lock()
			defer mu.Unlock()
			if started++; started == 2 {
				cancel()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for i, r := range results {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("job %d: %v", i, r.Err)
		}
		if r.Ran {
			ran++
		}
	}
	// The 2 that started; a third may have been handed out as the cancel
	// came, and then not begun.
	if ran != 2 {
		t.Errorf("%d ran, want 2: %+v", ran, results)
	}
	noKernels(t, srvs)
}

// TestRunManyLoadAndSave: Load is called by the worker and its error
// fails that job alone; Save gets the notebook as the run left it, its
// error joined to the job's.
func TestRunManyLoadAndSave(t *testing.T) {
	srvs, sources := manyServers(t, 1)
	saved := make([]*nbformat.Notebook, 3)
	jobs := make([]nbexec.Job, 3)
	for i := range jobs {
		jobs[i] = nbexec.Job{
			Name: fmt.Sprint(i),
			Load: func(context.Context) (*nbformat.Notebook, error) {
				if i == 1 {
					return nil, errors.New("no such file")
				}
				return nbformat.New(nbformat.NewCodeCell(fmt.Sprint("cell", i))), nil
			},
			Save: func(_ context.Context, nb *nbformat.Notebook) error {
				saved[i] = nb
				if i == 2 {
					return errors.New("disk full")
				}
				return nil
			},
		}
	}
	results, err := nbexec.RunMany(context.Background(), jobs, sources, nbexec.ManyOptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Err != nil || saved[0] == nil || len(saved[0].Cells[0].Outputs) != 1 {
		t.Errorf("job 0: %v, saved %+v", results[0].Err, saved[0])
	}
	if results[1].Err == nil || results[1].Err.Error() != "no such file" || saved[1] != nil || results[1].KernelID != "" {
		t.Errorf("job 1: %+v", results[1])
	}
	if results[2].Err == nil || results[2].Err.Error() != "disk full" {
		t.Errorf("job 2: %v", results[2].Err)
	}
	noKernels(t, srvs)
	if _, err := nbexec.RunMany(context.Background(), jobs, nil, nbexec.ManyOptions{}); !errors.Is(err, nbexec.ErrNoKernelSource) {
		t.Errorf("no source: %v", err)
	}
}

// A nil source is an argument RunMany cannot run: it says so before it
// starts any kernel, rather than panicking in a worker (which would end
// the program with the other workers' kernels left running).
func TestRunManyNilSource(t *testing.T) {
	srvs, sources := manyServers(t, 1)
	results, err := nbexec.RunMany(context.Background(), manyJobs(4), []nbexec.KernelSource{sources[0], nil}, nbexec.ManyOptions{Workers: 2})
	if !errors.Is(err, nbexec.ErrNoKernelSource) || results != nil {
		t.Fatalf("RunMany with a nil source: %v, %v", results, err)
	}
	noKernels(t, srvs)
}

// cancelOnStart cancels the run as its kernel's start is under way.
type cancelOnStart struct {
	nbexec.KernelSource
	cancel context.CancelFunc
}

func (s cancelOnStart) StartKernel(ctx context.Context, name, path string) (string, error) {
	s.cancel()
	return s.KernelSource.StartKernel(ctx, name, path)
}

// A cancel that comes while a kernel starts: the start finishes (on a
// context the cancel does not reach), the job does not run, and the
// kernel is deleted.
func TestRunManyCancelMidStartDeletesTheKernel(t *testing.T) {
	srvs, sources := manyServers(t, 1)
	srvs[0].SetKernelStartDelay(200 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results, err := nbexec.RunMany(ctx, manyJobs(3), []nbexec.KernelSource{cancelOnStart{sources[0], cancel}}, nbexec.ManyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("job %d: %v", i, r.Err)
		}
	}
	if results[0].KernelID == "" {
		t.Errorf("job 0 started no kernel: %+v", results[0])
	}
	noKernels(t, srvs)
}

// Two jobs of one notebook would both write its outputs at once: RunMany
// refuses them before it starts any kernel.
func TestRunManySharedNotebook(t *testing.T) {
	srvs, sources := manyServers(t, 2)
	nb := nbformat.New(nbformat.NewCodeCell("x"))
	jobs := []nbexec.Job{{Name: "a", Notebook: nb}, {Name: "b", Notebook: nbformat.New()}, {Name: "c", Notebook: nb}}
	results, err := nbexec.RunMany(context.Background(), jobs, sources, nbexec.ManyOptions{Workers: 3})
	if !errors.Is(err, nbexec.ErrSharedNotebook) || !strings.Contains(err.Error(), "jobs 0 and 2") || results != nil {
		t.Fatalf("RunMany with a notebook in two jobs: %v, %v", results, err)
	}
	noKernels(t, srvs)
}
