package nbexec_test

import (
	"context"
	"fmt"
	"log"

	"github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// Run a notebook end to end: start a kernel, run the cells, save the
// notebook after each cell. Against a real server, the client comes from
// nbserv.ConfigFromEnv and the notebook from Contents.GetNotebook or a
// local file (nbformat.Parse).
func ExampleRun() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	// The reference server's kernel answers these cells as scripted.
	srv.Script("print('hello')", nbservtest.Stdout("hello\n"))
	srv.Script("1 + 1", nbservtest.ResultText("2"))

	ctx := context.Background()
	client := srv.Client
	k, err := client.Kernels.Start(ctx, nbserv.StartKernelRequest{}) // a kernel of our own, not a user's session
	if err != nil {
		log.Fatal(err)
	}
	defer client.Kernels.Delete(ctx, k.ID)
	conn, err := client.Kernels.Connect(ctx, k.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	nb := nbformat.New(nbformat.NewMarkdownCell("# Report"), nbformat.NewCodeCell("print('hello')"), nbformat.NewCodeCell("1 + 1"))
	err = nbexec.Run(ctx, conn, nb, nbexec.Options{
		OnCell: func(ctx context.Context, p nbexec.Progress) error {
			fmt.Printf("cell %d of %d done\n", p.Done, p.Total)
			_, err := p.Notebook.MarshalJSON() // save it here: an interrupted run keeps what ran
			return err
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range nb.Cells[1:] {
		fmt.Printf("[%d] %s", *c.ExecutionCount, c.Outputs[0].String())
		fmt.Println()
	}
	// Output:
	// cell 1 of 2 done
	// cell 2 of 2 done
	// [1] hello
	//
	// [2] 2
}

// Parameterise a notebook as papermill does, with values typed as
// papermill's -p types them, before running it.
func ExampleInjectParameters() {
	nb := nbformat.New(nbformat.NewCodeCell("region = 'all'\nlimit = 10"), nbformat.NewCodeCell("print(region, limit)"))
	_ = nb.Cells[0].Metadata.Set("tags", []string{nbexec.TagParameters})
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3", Language: "python"}

	inj, err := nbexec.InjectParameters(nb, "", // "": the notebook's language
		nbexec.Parameter{Name: "region", Value: nbexec.ParseValue("Europe/Zürich")},
		nbexec.Parameter{Name: "limit", Value: nbexec.ParseValue("250")},
		nbexec.Parameter{Name: "ratio", Value: nbexec.ParseValue("1e-3")},
		nbexec.Parameter{Name: "dry_run", Value: nbexec.ParseValue("True")},
		nbexec.Parameter{Name: "label", Value: "say \"hi\"\n"}, // a -r value: a string as given
	)
	if err != nil {
		log.Fatal(err) // a *nbexec.LanguageError for a kernel that is not Python
	}
	if inj.NoParametersCell {
		fmt.Println("warning: no cell tagged parameters; the values went first")
	}
	fmt.Printf("cell %d:\n%s", inj.Index, nb.Cells[inj.Index].Source)
	// Then nbexec.Run(ctx, conn, nb, opts) as in the Run example.

	// Output:
	// cell 1:
	// # Parameters
	// region = "Europe/Z\xfcrich"
	// limit = 250
	// ratio = 0.001
	// dry_run = True
	// label = "say \"hi\"\n"
}

// Run many notebooks over the kernels of two servers, two at a time, each
// on a fresh kernel that RunMany deletes. Against real servers, each
// source is nbserv.KernelSource{Client: c} for a client of each (a hub
// user's named servers, Enterprise Gateway with Env).
func ExampleRunMany() {
	var sources []nbexec.KernelSource
	for range 2 {
		srv, err := nbservtest.Start()
		if err != nil {
			log.Fatal(err)
		}
		defer srv.Close()
		srv.Script("print('hello')", nbservtest.Stdout("hello\n"))
		sources = append(sources, nbserv.KernelSource{Client: srv.Client})
	}
	var jobs []nbexec.Job
	for _, name := range []string{"a.ipynb", "b.ipynb", "c.ipynb"} {
		jobs = append(jobs, nbexec.Job{Name: name, Notebook: nbformat.New(nbformat.NewCodeCell("print('hello')"))})
	}
	results, err := nbexec.RunMany(context.Background(), jobs, sources, nbexec.ManyOptions{
		Workers: 2,
		OnDone:  func(r nbexec.Result) { /* progress: r.Name is done */ },
	})
	if err != nil {
		log.Fatal(err) // no source
	}
	for _, r := range results {
		server := "first"
		if r.Source == sources[1].String() {
			server = "second"
		}
		fmt.Printf("%s on the %s server: %v, %q\n", r.Name, server, r.Err, jobs[r.Index].Notebook.Cells[0].Outputs[0].Text)
	}
	// Output:
	// a.ipynb on the first server: <nil>, "hello\n"
	// b.ipynb on the second server: <nil>, "hello\n"
	// c.ipynb on the first server: <nil>, "hello\n"
}
