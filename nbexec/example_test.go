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
