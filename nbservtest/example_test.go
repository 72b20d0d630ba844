package nbservtest_test

import (
	"context"
	"fmt"
	"log"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// Start runs a server outside a test, as examples/quickstart does. In a
// test, use srv := nbservtest.NewServer(t), which stops with the test.
func ExampleStart() {
	srv, err := nbservtest.Start(nbservtest.WithBaseURL("/user/alice/"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	s, err := srv.Client.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.TypeNotebook})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Kernel.Name, s.Kernel.ExecutionState)
	// Output: python3 starting
}
