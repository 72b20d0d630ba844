package nbservtest_test

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

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

	s, err := srv.Client.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Kernel.Name, s.Kernel.ExecutionState)
	// Output: python3 starting
}

// A kernel that takes time to start opens the window real Jupyter Server
// 1.23 has: creates racing for one path each make a session, which a
// client's retry logic must survive.
func ExampleServer_SetKernelStartDelay() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.SetKernelStartDelay(time.Second) // wide enough for three creates to meet on a loaded machine

	ctx := context.Background()
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook}); err != nil {
				log.Print(err)
			}
		}()
	}
	wg.Wait()
	list, err := srv.Client.Sessions.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(list), "sessions for a.ipynb")
	// Output: 3 sessions for a.ipynb
}
