package nbserv_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nbserv/go-nbserv/internal/benchpair"
)

// Executing the corpus of testdata/notebooks (the nbconvert differential
// test's) through the SDK against `jupyter nbconvert --to notebook
// --execute`, on the same machine, paired (internal/benchpair), under
// scripts/with-jupyter.sh with the IOPub limits raised, as BENCHMARKS.md's
// command says. Each SDK run is the whole job a user's is: start a kernel,
// connect, run, delete the kernel; each nbconvert run is one process, as a
// user starts it.

// benchCorpusEnv returns the server's client and the jupyter command, or
// skips without them.
func benchCorpusEnv(b *testing.B) (jurl, bin string) {
	jurl, bin = os.Getenv("NBSERV_JUPYTER_URL"), os.Getenv("NBSERV_JUPYTER_BIN")
	if jurl == "" || bin == "" || !iopubLimitsRaised(os.Getenv("NBSERV_JUPYTER_SERVER_ARGS")) {
		b.Skip("needs scripts/with-jupyter.sh with the IOPub limits raised (BENCHMARKS.md)")
	}
	return jurl, bin
}

// BenchmarkNbconvert is the SDK (nbexec) against nbconvert: per notebook
// ("notebook=…", one nbconvert process each), and for the whole corpus
// ("corpus": the SDK's runs one after the other against one nbconvert
// process for every notebook, as a user would run them). sdk/raw is the
// SDK's wall time ÷ nbconvert's.
func BenchmarkNbconvert(b *testing.B) {
	jurl, bin := benchCorpusEnv(b)
	c := newClient(b, jurl, os.Getenv("NBSERV_JUPYTER_TOKEN"))
	names := corpus(b)
	ctx := context.Background()
	sdk := func(names []string) func() {
		return func() {
			for _, name := range names {
				if _, err := runCorpusNotebook(ctx, c, filepath.Join(corpusDir, name)); err != nil {
					b.Fatal(name, ": ", err)
				}
			}
		}
	}
	work, out := b.TempDir(), b.TempDir()
	nbc := func(names []string) func() {
		return func() {
			if err := nbconvert(ctx, bin, work, out, names); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, name := range names {
		b.Run("notebook="+strings.TrimSuffix(name, ".ipynb"), func(b *testing.B) {
			benchpair.Run(b, sdk([]string{name}), nbc([]string{name}))
		})
	}
	b.Run("corpus", func(b *testing.B) {
		benchpair.Run(b, sdk(names), nbc(names))
	})
}

// BenchmarkCorpusParallel runs the corpus through the SDK on two
// goroutines (each notebook on its own kernel, two at once, as a runner's
// -j 2 would) against one after the other: sdk/raw is the parallel wall
// time ÷ the serial one.
func BenchmarkCorpusParallel(b *testing.B) {
	jurl, _ := benchCorpusEnv(b)
	c := newClient(b, jurl, os.Getenv("NBSERV_JUPYTER_TOKEN"))
	names := corpus(b)
	ctx := context.Background()
	run := func(name string) {
		if _, err := runCorpusNotebook(ctx, c, filepath.Join(corpusDir, name)); err != nil {
			b.Error(name, ": ", err)
		}
	}
	serial := func() {
		for _, name := range names {
			run(name)
		}
	}
	parallel := func() {
		next := make(chan string)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for name := range next {
					run(name)
				}
			}()
		}
		for _, name := range names {
			next <- name
		}
		close(next)
		wg.Wait()
	}
	benchpair.Run(b, parallel, serial)
}
