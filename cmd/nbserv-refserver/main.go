// Command nbserv-refserver serves the SDK's reference Jupyter Server over
// HTTP, for clients in other languages and for trying the SDK with no
// Jupyter installed:
//
//	go run ./cmd/nbserv-refserver -addr 127.0.0.1:18999 -token t
//
// With -root DIR the contents API and /files/ serve DIR in place, as
// Jupyter serves its root_dir; without it they serve a private in-memory
// tree that starts empty.
//
// It prints the URL it serves once it is listening, and shuts down cleanly
// on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nbserv/go-nbserv/internal/refserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nbserv-refserver:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done; tests call it directly.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("nbserv-refserver", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8888", "address to listen on")
	token := fs.String("token", "", "token clients must send (empty: none)")
	baseURL := fs.String("base-url", "/", "path prefix, such as /user/alice/")
	root := fs.String("root", "", "directory the contents API serves, read and written in place (default: a private in-memory tree)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *root != "" {
		if fi, err := os.Stat(*root); err != nil {
			return err
		} else if !fi.IsDir() {
			return fmt.Errorf("-root %s: not a directory", *root)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ref := refserver.New(refserver.Options{Token: *token, BaseURL: *baseURL, ContentsRoot: *root})
	srv := &http.Server{Handler: ref, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "http://%s%s\n", ln.Addr(), ref.Prefix())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
