package nbserv_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/hub"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The README's Go snippets are the code between the snippet markers in
// this file, in the README's order (TestREADMESnippetsAreTested checks
// it), so each one compiles and the examples below run it.

// runReadme is the README's Usage snippet.
func runReadme(ctx context.Context, baseURL, token string) error {
	// snippet: usage
	c, err := nbserv.NewClient(nbserv.Config{
		BaseURL: baseURL, // such as "https://hub.example.org/user/alice/"
		Token:   nbserv.NewSecret(token),
	})
	if err != nil {
		return err // a malformed BaseURL or setting fails here, not at the first call
	}
	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{
		Path: "reports/q3.ipynb", Type: nbserv.SessionNotebook, Name: "Q3",
	})
	switch {
	case errors.Is(err, nbserv.ErrKernelUnavailable):
		return fmt.Errorf("that kernelspec is not installed: %w", err)
	case err != nil:
		return err
	}
	if s.Kernel != nil {
		fmt.Println("kernel", s.Kernel.Name, "is", s.Kernel.ExecutionState)
	}
	s, err = c.Sessions.Update(ctx, s.ID, nbserv.UpdateSessionRequest{
		Kernel: &nbserv.KernelRequest{Name: "python3"}, // restart on a fresh kernel
	})
	if err != nil {
		return err
	}
	return c.Sessions.Delete(ctx, s.ID)
	// end snippet
}

func Example_readme() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if err := runReadme(context.Background(), srv.URL, srv.Token); err != nil {
		log.Fatal(err)
	}
	// Output: kernel python3 is starting
}

// runReadmeKernel is the README's kernel channels snippet.
func runReadmeKernel(ctx context.Context, c *nbserv.Client, sessionID string) error {
	// snippet: kernel
	conn, err := c.Sessions.Connect(ctx, sessionID) // or c.Kernels.Connect(ctx, kernelID)
	if err != nil {
		return err
	}
	defer conn.Close()
	ex, err := conn.Execute(ctx, `print("hello")`)
	if err != nil {
		return err
	}
	fmt.Print(ex.Stdout())
	_, err = conn.Execute(ctx, `raise ValueError("no such column")`)
	var ke *kernel.Error
	if errors.As(err, &ke) {
		fmt.Println(ke.Ename+":", ke.Evalue)
	}
	// end snippet
	return nil
}

func Example_readmeKernel() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "k.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		log.Fatal(err)
	}
	if err := runReadmeKernel(ctx, srv.Client, s.ID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hello
	// ValueError: no such column
}

// runReadmeHub is the README's Behind JupyterHub snippet.
func runReadmeHub(ctx context.Context, hubURL, token string) error {
	// snippet: hub
	h, err := hub.New(hub.Config{URL: hubURL, Token: nbserv.NewSecret(token)}) // such as "https://hub.example.org/"
	if err != nil {
		return err
	}
	c, err := h.StartServer(ctx, "alice") // waits until alice's server answers through the proxy
	if err != nil {
		return err
	}
	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "report.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		return err
	}
	fmt.Println("session", s.Path)
	return h.StopServer(ctx, "alice")
	// end snippet
}

func Example_readmeHub() {
	h := nbservtest.StartHub(nbservtest.WithUsers("alice"))
	defer h.Close()
	if err := runReadmeHub(context.Background(), h.URL, h.Token); err != nil {
		log.Fatal(err)
	}
	// Output: session report.ipynb
}

// runReadmeGateway is the README's Enterprise Gateway snippet
// (TestREADMEGatewaySnippet runs it).
func runReadmeGateway(ctx context.Context, c *nbserv.Client) error {
	// snippet: gateway
	k, err := c.Kernels.Start(ctx, nbserv.StartKernelRequest{Name: "python3",
		Env: map[string]string{"KERNEL_USERNAME": "alice", "KERNEL_NAMESPACE": "team-a",
			"KERNEL_LAUNCH_TIMEOUT": "240"}}, // a pod may need an image pulled first
		nbserv.WithTimeout(5*time.Minute))
	if err != nil {
		return err // ErrForbidden: the gateway does not allow this KERNEL_USERNAME
	}
	fmt.Println("kernel", k.Name)
	return c.Kernels.Delete(ctx, k.ID)
	// end snippet
}

// snippet: nbservtest
func TestMyPlatform(t *testing.T) {
	srv := nbservtest.NewServer(t) // stops when the test ends
	if err := srv.WriteFile("in/report.ipynb", notebookJSON); err != nil {
		t.Fatal(err)
	}
	s, err := srv.Client.Sessions.Create(t.Context(), nbserv.CreateSessionRequest{
		Path: "in/report.ipynb", Type: nbserv.SessionNotebook,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("session", s.ID) // … or hand srv.URL and srv.Token to the code under test
}

// end snippet

// notebookJSON is the notebook TestMyPlatform writes.
var notebookJSON = []byte(`{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`)

// Every Go snippet of the README is one of this file's, in the same order,
// so a README snippet that stops compiling or running fails here.
func TestREADMESnippetsAreTested(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var inReadme []string
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		inReadme = append(inReadme, strings.TrimSpace(m[1]))
	}
	var inSource []string
	for _, m := range regexp.MustCompile(`(?ms)^(\t*)// snippet: \w+\n(.*?)^\t*// end snippet\n`).FindAllStringSubmatch(string(src), -1) {
		indent, code := m[1], m[2]
		var lines []string
		for _, line := range strings.Split(strings.TrimRight(code, "\n"), "\n") {
			lines = append(lines, strings.TrimPrefix(line, indent))
		}
		inSource = append(inSource, strings.TrimSpace(strings.Join(lines, "\n")))
	}
	if len(inSource) == 0 {
		t.Fatal("no snippet markers found in example_readme_test.go")
	}
	if len(inReadme) != len(inSource) {
		t.Errorf("README has %d Go snippets, example_readme_test.go %d", len(inReadme), len(inSource))
	}
	for i := range min(len(inReadme), len(inSource)) {
		if inReadme[i] != inSource[i] {
			t.Errorf("README's Go snippet %d differs from example_readme_test.go's:\n--- README\n%s\n--- example_readme_test.go\n%s", i+1, inReadme[i], inSource[i])
		}
	}
}
