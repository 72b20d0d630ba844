package hub_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/hub"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// Start a user's server, run a session on it, stop it. The hub here is
// nbservtest's stand-in; give a real hub's URL and a service token with
// admin:servers and access:servers instead.
func Example() {
	fake := nbservtest.StartHub(nbservtest.WithUsers("alice"))
	defer fake.Close()
	ctx := context.Background()

	h, err := hub.New(hub.Config{URL: fake.URL, Token: nbserv.NewSecret(fake.Token)})
	if err != nil {
		log.Fatal(err)
	}
	defer h.CloseIdleConnections()
	c, err := h.StartServer(ctx, "alice") // returns once the server answers
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseIdleConnections()
	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "report.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("session on", s.Path, "kernel", s.Kernel.Name)
	if err := h.StopServer(ctx, "alice"); err != nil {
		log.Fatal(err)
	}
	_, err = c.Sessions.List(ctx)
	var e *nbserv.Error
	if errors.As(err, &e) {
		fmt.Println("after stop:", e.StatusCode, e.Message[:36])
	}
	// Output:
	// session on report.ipynb kernel python3
	// after stop: 424 JupyterHub server no longer running
}

// List the users and whether their default server is ready.
func ExampleClient_ListUsers() {
	fake := nbservtest.StartHub(nbservtest.WithUsers("alice", "bob"))
	defer fake.Close()
	ctx := context.Background()
	h, err := hub.New(hub.Config{URL: fake.URL, Token: nbserv.NewSecret(fake.Token)})
	if err != nil {
		log.Fatal(err)
	}
	defer h.CloseIdleConnections()
	if _, err := h.StartServer(ctx, "bob"); err != nil {
		log.Fatal(err)
	}
	users, err := h.ListUsers(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range users {
		s, ok := u.Servers[""]
		fmt.Printf("%s running=%v\n", u.Name, ok && s.Ready)
	}
	// Output:
	// alice running=false
	// bob running=true
}

// A client for a server already running behind the hub.
func ExampleClient_ClientFor() {
	h, err := hub.New(hub.Config{URL: "https://hub.example.org/", Token: nbserv.NewSecret("service-token")})
	if err != nil {
		log.Fatal(err)
	}
	c, err := h.ClientFor("alice@example.org")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.BaseURL())
	// Output: https://hub.example.org/user/alice@example.org/
}
