// Command nbserv-refserver serves the SDK's reference Jupyter Server over
// HTTP, for clients in other languages and for trying the SDK with no
// Jupyter installed:
//
//	go run ./cmd/nbserv-refserver -addr 127.0.0.1:18999 -token t
//
// It answers as Jupyter Server 2.21.1 by default; -generation 1 answers as
// 1.23.3 instead (no Bearer tokens, no /api/me, 1.x's error bodies; the
// repository's docs/wire/jupyter-server-2.md G2 lists every difference).
//
// With -root DIR the contents API and /files/ serve DIR in place, as
// Jupyter serves its root_dir; without it they serve a private in-memory
// tree that starts empty.
//
// With -tls-cert-out FILE it serves https (and wss://) with a fresh
// self-signed certificate for 127.0.0.1, ::1 and localhost, whose PEM it
// writes to FILE for clients to trust.
//
// It prints the URL it serves once it is listening, and shuts down cleanly
// on SIGINT or SIGTERM. Its connection limits and timeouts (see -h) let it
// sit on a port other people can reach without a slow or idle client
// holding its connections; the defaults suit tests on one machine.
package main

import (
	"context"
	"crypto/tls"
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
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	code := exitCode(err)
	if code == 1 {
		fmt.Fprintln(os.Stderr, "nbserv-refserver:", err)
	}
	os.Exit(code)
}

// exitCode is 0 for success and -h, 2 for a bad command line (whose
// message and usage run has printed), 1 for anything else.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// usageError is a command line the flags refuse.
type usageError struct{ error }

const usageHead = `Usage: nbserv-refserver [flags]

Serves the go-nbserv reference server, an in-memory Jupyter Server
(sessions, kernels, kernelspecs, contents, terminals, config, status), and
prints its URL. -generation 2 answers as Jupyter Server 2.21.1 (Bearer
tokens, /api/me, 2.x's error bodies, contents hashes), -generation 1 as
Jupyter Server 1.23.3; -jupyter-version changes only the version GET /api
reports. -tls-cert-out FILE serves https and wss:// with a fresh self-signed
certificate, written to FILE for clients to trust.

Limits: at most -max-conns connections are served at once; more wait until
one closes. A client has -read-header-timeout to send its request headers
and -read-timeout to send the whole request, body included (a body sent
more slowly is cut off); an answer must be written within -write-timeout
after the headers were read; a keep-alive connection idle for
-idle-timeout is closed; request headers are limited to -max-header-bytes.
A zero duration or -max-conns means no limit (a zero -max-header-bytes,
Go's default of 1 MiB). Request bodies of the sessions and kernels routes
are limited to 64 KiB.

Flags:
`

// defaultMaxConns is -max-conns' default: room for a thousand kernel
// connections (a test suite opening hundreds at once, as the SDK allows),
// each a WebSocket holding its slot while it lives, at some tens of KiB of
// server memory each.
const defaultMaxConns = 1024

type options struct {
	addr, token, baseURL string
	root                 string
	readHeaderTimeout    time.Duration
	readTimeout          time.Duration
	writeTimeout         time.Duration
	idleTimeout          time.Duration
	maxHeaderBytes       int
	maxConns             int
	kernelStartDelay     time.Duration
	wsPing               time.Duration
	generation           int
	version              string
	tlsCertOut           string
}

// parse reads the command line. -h prints the usage to stdout and returns
// flag.ErrHelp; a bad flag prints its error and the usage to stderr, once,
// and returns a usageError.
func parse(args []string, stdout, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("nbserv-refserver", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8888", "address to listen on")
	fs.StringVar(&o.token, "token", "", "token clients must send (empty: none)")
	fs.StringVar(&o.baseURL, "base-url", "/", "path prefix, such as /user/alice/")
	fs.StringVar(&o.root, "root", "", "directory the contents API serves, read and written in place (default: a private in-memory tree)")
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", 10*time.Second, "time a client has to send its request headers")
	fs.DurationVar(&o.readTimeout, "read-timeout", time.Minute, "time a client has to send a whole request, body included")
	fs.DurationVar(&o.writeTimeout, "write-timeout", time.Minute, "time to write an answer, from the end of the request headers (keep it above -kernel-start-delay)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 2*time.Minute, "time a keep-alive connection may stay idle")
	fs.IntVar(&o.maxHeaderBytes, "max-header-bytes", 64<<10, "largest request headers accepted, in bytes, as Tornado's default")
	fs.IntVar(&o.maxConns, "max-conns", defaultMaxConns, "connections served at once, each kernel WebSocket one; at the limit an idle keep-alive connection is closed to make room, else new ones wait")
	fs.DurationVar(&o.kernelStartDelay, "kernel-start-delay", 0, "time a simulated kernel takes to start; concurrent creates for one path then each make a session, as in Jupyter")
	fs.DurationVar(&o.wsPing, "ws-ping", refserver.DefaultWebSocketPing, "how often each WebSocket is pinged; one that answers none within three times this is closed, freeing its connection slot (Jupyter's ws_ping_interval)")
	fs.IntVar(&o.generation, "generation", refserver.DefaultGeneration, "Jupyter Server generation to answer as: 2 (2.21.1, what most servers run) or 1 (1.23.3)")
	fs.StringVar(&o.tlsCertOut, "tls-cert-out", "", "serve https (and wss://) with a fresh self-signed certificate for 127.0.0.1, ::1 and localhost, writing its PEM to this file for clients to trust")
	fs.StringVar(&o.version, "jupyter-version", "", "version GET /api reports (default: the generation's, 1.23.3 or 2.21.1)")
	fs.SetOutput(stderr) // where the flag package prints a bad flag's error
	fs.Usage = func() {} // the usage is printed below, once, to the right stream
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(fs, stdout)
		return o, err
	case err != nil:
		printUsage(fs, stderr)
		return o, usageError{err}
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "unexpected argument %q\n", fs.Arg(0))
		printUsage(fs, stderr)
		return o, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if o.generation != 1 && o.generation != 2 {
		fmt.Fprintf(stderr, "-generation is 1 or 2, not %d\n", o.generation)
		printUsage(fs, stderr)
		return o, usageError{fmt.Errorf("-generation is 1 or 2, not %d", o.generation)}
	}
	for name, v := range map[string]int64{"read-header-timeout": int64(o.readHeaderTimeout), "read-timeout": int64(o.readTimeout),
		"write-timeout": int64(o.writeTimeout), "idle-timeout": int64(o.idleTimeout), "max-header-bytes": int64(o.maxHeaderBytes),
		"max-conns": int64(o.maxConns), "kernel-start-delay": int64(o.kernelStartDelay), "ws-ping": int64(o.wsPing)} {
		if v < 0 {
			fmt.Fprintf(stderr, "-%s must not be negative\n", name)
			printUsage(fs, stderr)
			return o, usageError{fmt.Errorf("-%s must not be negative", name)}
		}
	}
	return o, nil
}

// noneIfZero maps the flags' 0 (no timeout) to http.Server's, which is
// negative where a 0 would fall back to ReadTimeout.
func noneIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func printUsage(fs *flag.FlagSet, w io.Writer) {
	io.WriteString(w, usageHead)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// run serves until ctx is done; tests call it directly. It prints the URL
// to stdout once listening, and usage and flag errors as parse does.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stdout, stderr)
	if err != nil {
		return err
	}
	if o.root != "" {
		if fi, err := os.Stat(o.root); err != nil {
			return err
		} else if !fi.IsDir() {
			return fmt.Errorf("-root %s: not a directory", o.root)
		}
	}
	var tlsConfig *tls.Config
	if o.tlsCertOut != "" {
		host, _, _ := net.SplitHostPort(o.addr)
		if tlsConfig, err = selfSigned(host, o.tlsCertOut); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	var limit *limitListener
	if o.maxConns > 0 {
		limit = newLimitListener(ln, o.maxConns)
		ln = limit
	}
	ref := refserver.New(refserver.Options{Token: o.token, BaseURL: o.baseURL, ContentsRoot: o.root,
		Generation: o.generation, Version: o.version, WebSocketPing: o.wsPing})
	ref.SetKernelStartDelay(o.kernelStartDelay)
	srv := &http.Server{
		Handler:           ref,
		ReadHeaderTimeout: noneIfZero(o.readHeaderTimeout),
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      o.writeTimeout,
		IdleTimeout:       noneIfZero(o.idleTimeout),
		MaxHeaderBytes:    o.maxHeaderBytes,
	}
	if limit != nil {
		srv.ConnState = limit.connState
	}
	scheme := "http"
	if tlsConfig != nil {
		// TLS above the connection limit: a handshake holds a slot, and an
		// idle connection the limit closes is the TCP one beneath.
		srv.TLSConfig = tlsConfig
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "https"
	}
	fmt.Fprintf(stdout, "%s://%s%s\n", scheme, ln.Addr(), ref.Prefix())

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
