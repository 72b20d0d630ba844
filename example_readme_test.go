package nbserv_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// runReadme is the README's usage snippet, verbatim between the markers
// (TestREADMEUsageIsTested checks it), so the snippet compiles and runs.
func runReadme(ctx context.Context, baseURL, token string) error {
	// snippet: usage
	c, err := nbserv.NewClient(nbserv.Config{
		BaseURL: baseURL, // such as "https://hub.example.org/user/alice/"
		Token:   nbserv.Secret(token),
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

// The README's usage snippet is the body of runReadme, which
// Example_readme runs.
func TestREADMEUsageIsTested(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	between := func(s, from, to string) string {
		_, after, ok := strings.Cut(s, from)
		before, _, ok2 := strings.Cut(after, to)
		if !ok || !ok2 {
			t.Fatalf("markers %q…%q not found", from, to)
		}
		return before
	}
	snippet := between(string(readme), "```go\n", "```")
	code := between(string(src), "\t// snippet: usage\n", "\t// end snippet\n")
	var dedented []string
	for _, line := range strings.Split(strings.TrimRight(code, "\n"), "\n") {
		dedented = append(dedented, strings.TrimPrefix(line, "\t"))
	}
	if got, want := strings.TrimSpace(snippet), strings.TrimSpace(strings.Join(dedented, "\n")); got != want {
		t.Errorf("README's first Go snippet differs from runReadme:\n--- README\n%s\n--- runReadme\n%s", got, want)
	}
}
