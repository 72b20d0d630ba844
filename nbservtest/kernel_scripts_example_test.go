package nbservtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// A test scripts what its code does on the reference kernel, then runs it
// through the SDK as it would on a real server. In a test, use
// srv := nbservtest.NewServer(t).
func ExampleServer_Script() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Script("model.fit()",
		nbservtest.Stdout("epoch 1/2\nepoch 2/2\n"),
		nbservtest.ResultText("<History>"),
	)
	srv.Script("model.save('/read-only')", nbservtest.Error("PermissionError", "[Errno 13] Permission denied"))

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

	ex, err := conn.Execute(ctx, "model.fit()")
	if err != nil {
		log.Fatal(err)
	}
	result, _ := ex.Result().Data.Text("text/plain")
	fmt.Printf("In [%d]: %q -> %s\n", ex.ExecutionCount, ex.Stdout(), result)

	_, err = conn.Execute(ctx, "model.save('/read-only')")
	var kerr *kernel.Error
	if errors.As(err, &kerr) {
		fmt.Println(kerr.Ename+":", kerr.Evalue)
	}
	// Output:
	// In [1]: "epoch 1/2\nepoch 2/2\n" -> <History>
	// PermissionError: [Errno 13] Permission denied
}

// Without a script, the reference kernel runs the code as Python (gpython:
// about Python 3.4, a few modules), with ipykernel's outputs; names stay
// until the kernel restarts.
func ExampleServer_Script_defaultForms() {
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

	for _, code := range []string{`print("hello")`, `x = 6*7`, `x`, `raise ValueError("boom")`, `import pandas`} {
		ex, err := conn.Execute(ctx, code)
		var kerr *kernel.Error
		switch {
		case errors.As(err, &kerr):
			fmt.Printf("%-26s %s\n", code, kerr.Ename)
		case err != nil:
			log.Fatal(err)
		case ex.Result() != nil:
			r, _ := ex.Result().Data.Text("text/plain")
			fmt.Printf("%-26s %s\n", code, r)
		default:
			fmt.Printf("%-26s %q\n", code, ex.Stdout())
		}
	}
	// Output:
	// print("hello")             "hello\n"
	// x = 6*7                    ""
	// x                          42
	// raise ValueError("boom")   ValueError
	// import pandas              ImportError
}
