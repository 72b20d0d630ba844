package nbserv_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// server starts a reference server for an example; a real program would
// point Config.BaseURL at its Jupyter Server instead.
func server() *nbservtest.Server {
	srv, err := nbservtest.Start(nbservtest.WithBaseURL("/user/alice/"))
	if err != nil {
		log.Fatal(err)
	}
	return srv
}

func ExampleNewClient() {
	srv := server()
	defer srv.Close()

	c, err := nbserv.NewClient(nbserv.Config{
		BaseURL:   srv.URL, // such as https://hub.example.org/user/alice/
		Token:     nbserv.NewSecret(srv.Token),
		UserAgent: "my-platform/1.0",
		Timeout:   10 * time.Second,
		RetryMax:  3,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseIdleConnections()
	sessions, err := c.Sessions.List(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(sessions), "sessions")
	// Output: 0 sessions
}

// Errors carry Jupyter's answer; errors.Is classifies it and errors.As
// reaches the details.
func Example_errors() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()

	_, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{
		Path: "a.ipynb", Type: nbserv.SessionNotebook, Kernel: &nbserv.KernelRequest{Name: "julia-1.9"},
	})
	if errors.Is(err, nbserv.ErrKernelUnavailable) {
		var e *nbserv.Error
		errors.As(err, &e)
		fmt.Println(e.StatusCode, e.ShortMessage)
	}

	_, err = srv.Client.Sessions.Get(ctx, "not a session id")
	fmt.Println(errors.Is(err, nbserv.ErrInvalidArgument))
	// Output:
	// 501 julia-1.9 not found
	// true
}

// WithResponse gives the HTTP metadata of a call, like the Python client's
// *_with_http_info methods.
func ExampleWithResponse() {
	srv := server()
	defer srv.Close()

	var r nbserv.Response
	s, err := srv.Client.Sessions.Create(context.Background(),
		nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook},
		nbserv.WithResponse(&r), nbserv.WithHeader("X-Request-Id", "42"), nbserv.WithTimeout(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.StatusCode, r.Header.Get("Location") == "/user/alice/api/sessions/"+s.ID)
	// Output: 201 true
}
