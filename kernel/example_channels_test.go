package kernel_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// These examples run on the embedded reference server, whose reference
// kernel answers a few Python forms as ipykernel does; against a real
// Jupyter Server the same code runs any Python.

// Run code in a session's kernel and read what it printed and returned.
func Example() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client

	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "analysis.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := c.Sessions.Connect(ctx, s.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	ex, err := conn.Execute(ctx, "print(\"hello\")\n6*7")
	if err != nil {
		log.Fatal(err)
	}
	result, _ := ex.Result().Data.Text("text/plain")
	fmt.Printf("In [%d]: printed %q, returned %s\n", ex.ExecutionCount, ex.Stdout(), result)
	// Output:
	// In [1]: printed "hello\n", returned 42
}

// The exception a cell raises is a *Error.
func ExampleConn_Execute() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := srv.Client.Kernels.Connect(ctx, k.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	ex, err := conn.Execute(ctx, `raise ValueError("no data")`)
	var kerr *kernel.Error
	if errors.As(err, &kerr) {
		fmt.Println("status:", ex.Status)
		fmt.Println("exception:", kerr.Ename, kerr.Evalue)
	}
	// Output:
	// status: error
	// exception: ValueError no data
}

// Outputs as they arrive: the loop sees "a" while the kernel still sleeps,
// and interrupts it.
func ExampleConn_ExecuteStream() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := srv.Client.Kernels.Connect(ctx, k.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	code := "import time\nprint(\"a\")\ntime.sleep(3600)\nprint(\"b\")"
	for out, err := range conn.ExecuteStream(ctx, code) {
		if err != nil {
			fmt.Println("ended with", err)
			break
		}
		switch v := out.(type) {
		case *kernel.Stream:
			fmt.Printf("%s: %q\n", v.Name, v.Text)
			if err := conn.Interrupt(ctx); err != nil {
				log.Fatal(err)
			}
		case *kernel.Error:
			fmt.Println("error output:", v.Ename)
		}
	}
	// Output:
	// stdout: "a\n"
	// error output: KeyboardInterrupt
	// ended with nbserv: kernel error: KeyboardInterrupt
}

// Answer the code's input() calls.
func ExampleWithStdin() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := srv.Client.Kernels.Connect(ctx, k.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	ex, err := conn.Execute(ctx, `input("Your name? ")`, kernel.WithStdin(
		func(ctx context.Context, req *kernel.InputRequest) (string, error) {
			fmt.Printf("kernel asks %q\n", req.Prompt)
			return "Ada", nil
		}))
	if err != nil {
		log.Fatal(err)
	}
	answer, _ := ex.Result().Data.Text("text/plain")
	fmt.Println("input() returned", answer)
	// Output:
	// kernel asks "Your name? "
	// input() returned 'Ada'
}

// A restart ends what runs and loses the kernel's state; the connection
// carries on with the new process.
func ExampleConn_Restart() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := srv.Client.Kernels.Connect(ctx, k.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	for range 3 {
		if _, err := conn.Execute(ctx, "1+1"); err != nil {
			log.Fatal(err)
		}
	}
	if err := conn.Restart(ctx); err != nil {
		log.Fatal(err)
	}
	ex, err := conn.Execute(ctx, "1+1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("execution count after the restart:", ex.ExecutionCount)
	// Output:
	// execution count after the restart: 1
}

// What the kernel is.
func ExampleConn_Info() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := srv.Client.Kernels.Connect(ctx, k.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	info := conn.Info()
	fmt.Println(info.Implementation, info.LanguageInfo.Name, "protocol", info.ProtocolVersion)
	// Output:
	// ipython python protocol 5.3
}
