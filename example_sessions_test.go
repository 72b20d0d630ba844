package nbserv_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

func ExampleSessionsService_Create() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()

	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{
		Path:   "reports/q3.ipynb",
		Type:   nbserv.SessionNotebook,
		Name:   "Q3 report",
		Kernel: &nbserv.KernelRequest{Name: "python3"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Path, s.Name, s.Type, s.Kernel.Name)

	// Creating again for the same path returns the existing session.
	again, _ := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "reports/q3.ipynb", Type: nbserv.SessionNotebook})
	fmt.Println(again.ID == s.ID)
	// Output:
	// reports/q3.ipynb Q3 report notebook python3
	// true
}

func ExampleSessionsService_List() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	for _, p := range []string{"a.ipynb", "b.ipynb"} {
		if _, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: p, Type: nbserv.SessionNotebook}); err != nil {
			log.Fatal(err)
		}
	}

	sessions, err := srv.Client.Sessions.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range sessions {
		fmt.Println(s.Path, s.Kernel.ExecutionState)
	}
	// Output:
	// a.ipynb starting
	// b.ipynb starting
}

func ExampleSessionsService_Get() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	created, _ := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.py", Type: nbserv.SessionConsole})

	s, err := srv.Client.Sessions.Get(ctx, created.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Path, s.Type, s.Kernel.ID == created.Kernel.ID)
	// Output: a.py console true
}

func ExampleSessionsService_Rename() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	s, _ := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "draft.ipynb", Type: nbserv.SessionNotebook})

	// An empty argument leaves that field unchanged.
	s, err := srv.Client.Sessions.Rename(ctx, s.ID, "final", "final.ipynb")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Name, s.Path)
	// Output: final final.ipynb
}

func ExampleSessionsService_Update() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	s, _ := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook})

	// Restart on a fresh kernel: the server starts one and shuts the old
	// one down. Only the fields set are sent.
	updated, err := srv.Client.Sessions.Update(ctx, s.ID, nbserv.UpdateSessionRequest{
		Name:   nbserv.Ptr("fresh"),
		Kernel: &nbserv.KernelRequest{Name: "python3"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.Name, updated.Path, updated.Kernel.ID != s.Kernel.ID)
	_, err = srv.Client.Kernels.Get(ctx, s.Kernel.ID)
	fmt.Println(errors.Is(err, nbserv.ErrNotFound))
	// Output:
	// fresh a.ipynb true
	// true
}

func ExampleSessionsService_Delete() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	s, _ := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook})

	if err := srv.Client.Sessions.Delete(ctx, s.ID); err != nil {
		log.Fatal(err)
	}
	err := srv.Client.Sessions.Delete(ctx, s.ID)
	fmt.Println(errors.Is(err, nbserv.ErrNotFound))
	// Output: true
}

// Provoke the errors a real server gives, to test your error handling.
func ExampleSessionsService_Delete_kernelGone() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	s, _ := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook})

	srv.GoneOnDelete(s.ID)
	err := srv.Client.Sessions.Delete(ctx, s.ID)
	fmt.Println(errors.Is(err, nbserv.ErrKernelGone))

	srv.FailNext(1, nbservtest.Fault{Method: http.MethodGet, Status: http.StatusServiceUnavailable})
	_, err = srv.Client.Sessions.List(ctx) // retried, so it succeeds
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}
