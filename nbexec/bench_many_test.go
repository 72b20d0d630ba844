package nbexec_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/benchpair"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
)

// Throughput of RunMany against the number of workers, on a wait-bound
// corpus: 8 notebooks of 4 cells that each sleep 0.5 s in the kernel (2 s
// of waiting per notebook, 16 s in all), every notebook on a fresh kernel
// started, connected and deleted as RunMany does. Against Enterprise
// Gateway directly under scripts/with-gateway.sh (NBSERV_GATEWAY_URL), else
// a Jupyter Server under scripts/with-jupyter.sh (NBSERV_JUPYTER_URL);
// BENCHMARKS.md has the commands. Without either it skips, so `go test
// ./...` never runs it.

const (
	benchNotebooks = 8
	benchCells     = 4
)

// benchSource returns the kernel source of the server the scripts name.
func benchSource(b *testing.B) (string, nbexec.KernelSource) {
	name, url, token := "gateway", os.Getenv("NBSERV_GATEWAY_URL"), os.Getenv("NBSERV_GATEWAY_TOKEN")
	if url == "" {
		name, url, token = "jupyter", os.Getenv("NBSERV_JUPYTER_URL"), os.Getenv("NBSERV_JUPYTER_TOKEN")
	}
	if url == "" {
		b.Skip("needs scripts/with-gateway.sh or scripts/with-jupyter.sh (BENCHMARKS.md)")
	}
	// Kernels on a loaded machine take seconds to start, and a gateway
	// starting 8 at once on 2 loaded cores once left a channels handshake
	// unanswered for over a minute (BENCHMARKS.md): the client's timeout
	// bounds each call, the handshake included, at 3 minutes.
	c, err := nbserv.NewClient(nbserv.Config{BaseURL: url, Token: nbserv.NewSecret(token), Timeout: 3 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	return name, nbserv.KernelSource{Client: c}
}

// sleepCorpus returns fresh jobs of the wait-bound corpus.
func sleepCorpus() []nbexec.Job {
	jobs := make([]nbexec.Job, benchNotebooks)
	for i := range jobs {
		var cells []nbformat.Cell
		for range benchCells {
			cells = append(cells, nbformat.NewCodeCell("import time\ntime.sleep(0.5)"))
		}
		nb := nbformat.New(cells...)
		nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3", Language: "python"}
		jobs[i] = nbexec.Job{Name: fmt.Sprint("sleep", i), Notebook: nb, Path: "/"}
	}
	return jobs
}

// BenchmarkRunManyScaling runs the corpus with N workers (N=2, 4, 8)
// against 1 worker, paired (internal/benchpair: one run of each per
// iteration, alternating which goes first): sdk/raw is the wall time with
// N ÷ with 1, and sdk-ns/op the time of one run of the 8 notebooks with N.
func BenchmarkRunManyScaling(b *testing.B) {
	name, src := benchSource(b)
	ctx := context.Background()
	run := func(n int) func() {
		return func() {
			results, err := nbexec.RunMany(ctx, sleepCorpus(), []nbexec.KernelSource{src}, nbexec.ManyOptions{Workers: n})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range results {
				if r.Err != nil {
					b.Fatalf("%s: %v", r.Name, r.Err)
				}
			}
		}
	}
	for _, n := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("server=%s,N=%d", name, n), func(b *testing.B) {
			benchpair.Run(b, run(n), run(1))
			if load, err := os.ReadFile("/proc/loadavg"); err == nil {
				b.Logf("load average %s", strings.Fields(string(load))[0])
			}
		})
	}
}
