package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/transport"
)

// ErrSpawnFailed matches a StartServer whose server the hub gave up on: it
// was starting and then was gone (the spawner failed, or the hub's
// start_timeout passed); the hub's log says why.
var ErrSpawnFailed = errors.New("hub: the server failed to start")

// ErrStopping matches a StartServer refused because the server is still
// stopping: wait for StopServer to return, then start it.
var ErrStopping = errors.New("hub: the server is stopping")

// Polling, while a server starts or stops: quick at first (a local spawn
// takes a second or two), then every pollMax. Each poll is one attempt
// (transport.Call.Once), whatever Config.Client's RetryMax: the loop is
// the retry, so a server is noticed ready at the first poll after it is,
// never a retry wait later.
const (
	pollMin = 100 * time.Millisecond
	pollMax = 2 * time.Second
)

// StartServer starts user's default server (POST
// /hub/api/users/{name}/server) and waits until it answers through the
// hub's proxy, then returns a client for it (see ClientFor). A server
// already running is not restarted; one already starting is waited for.
//
// Waiting has three stages, each ended by ctx or by StartTimeout (by
// default Config.WaitTimeout, 5 minutes): the hub
// reports the server pending, then ready; then the proxy routes to it
// (until then the hub answers in its place, with nbserv.ErrServerNotRunning
// even while the server starts); then GET <server>/api/status answers 200.
// A server the hub gives up on ends the wait with ErrSpawnFailed. The
// token needs admin:servers (or servers) for the start and access:servers
// for the last stage; a 403 there ends the wait at once.
func (c *Client) StartServer(ctx context.Context, user string, opts ...StartOption) (*nbserv.Client, error) {
	if err := checkName(user); err != nil {
		return nil, err
	}
	o := startOptions{timeout: c.wait}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := bound(ctx, o.timeout)
	defer cancel()
	r, err := c.t.Do(ctx, transport.Call{Method: "POST", Path: serverPath(user)}, nil)
	if err != nil && r.StatusCode != http.StatusBadRequest {
		return nil, err
	}
	// 201: ready; 202: pending; 400: already running, starting or
	// stopping ("alice is already running", "alice is pending stop"):
	// the user's model says which.
	if err := c.waitReady(ctx, user, err); err != nil {
		return nil, err
	}
	client, err := c.ClientFor(user)
	if err != nil {
		return nil, err
	}
	if err := c.waitAnswering(ctx, user); err != nil {
		return nil, err
	}
	return client, nil
}

// StartOption adjusts one StartServer call.
type StartOption func(*startOptions)

type startOptions struct{ timeout time.Duration }

// StartTimeout bounds the whole of StartServer, waits included, instead
// of Config.WaitTimeout; nbserv.NoTimeout leaves it to the context. It is
// a budget, as in nbserv.WithTimeout: zero or negative (unlike a zero
// Config.WaitTimeout, the default) has expired, and StartServer fails at
// once with context.DeadlineExceeded.
func StartTimeout(d time.Duration) StartOption { return func(o *startOptions) { o.timeout = d } }

// StopOption adjusts one StopServer call.
type StopOption func(*stopOptions)

type stopOptions struct{ timeout time.Duration }

// StopTimeout bounds the whole of StopServer, its wait included, instead
// of Config.WaitTimeout; nbserv.NoTimeout leaves it to the context. Zero
// or negative has expired, as for StartTimeout.
func StopTimeout(d time.Duration) StopOption { return func(o *stopOptions) { o.timeout = d } }

// bound gives ctx the deadline d, the wait's stated bound, unless d is
// nbserv.NoTimeout. A d of zero or less has already expired, as with
// context.WithTimeout.
func bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d == nbserv.NoTimeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// waitReady polls the user's model until the default server is ready.
// refused is the start's 400, if it was refused: returned when the model
// shows no server that is running or starting.
func (c *Client) waitReady(ctx context.Context, user string, refused error) error {
	return poll(ctx, fmt.Sprintf("hub: waiting for %s's server to start", user), 0, func() (bool, bool, error) {
		u, retry, err := c.pollUser(ctx, user)
		if err != nil {
			return false, retry, err
		}
		s, ok := u.defaultServer()
		switch {
		case ok && s.Ready:
			return true, false, nil
		case ok && s.Pending == "stop":
			return false, false, fmt.Errorf("hub: starting %s's server: %w", user, ErrStopping)
		case ok && s.Pending != "":
			return false, false, nil // spawning
		case refused != nil:
			return false, false, refused
		default:
			return false, false, fmt.Errorf("hub: %s's server: %w", user, ErrSpawnFailed)
		}
	})
}

// waitAnswering polls the server's /api/status through the proxy until it
// answers 200: the hub marks a server ready a moment before the proxy
// routes to it.
func (c *Client) waitAnswering(ctx context.Context, user string) error {
	path := "user/" + escapeName(user) + "/api/status"
	return poll(ctx, fmt.Sprintf("hub: waiting for %s's server to answer", user), 0, func() (bool, bool, error) {
		_, err := c.t.Do(ctx, transport.Call{Method: "GET", Path: path, Once: true}, nil) // one attempt a poll: the loop is the retry
		var e *nbserv.Error
		if err != nil && errors.As(err, &e) && (e.StatusCode == http.StatusForbidden || e.StatusCode == http.StatusUnauthorized) {
			return false, false, err // the token cannot reach the server: waiting will not help
		}
		// Other failures, the proxy resetting connections while it
		// reroutes among them, are polled again.
		return err == nil, err != nil, err
	})
}

// StopServer stops user's default server (DELETE
// /hub/api/users/{name}/server) and waits until the hub reports it gone.
// Stopping a server that is not running succeeds; an unknown user fails
// with nbserv.ErrNotFound. The server's kernels stop with it. ctx and
// StopTimeout (by default Config.WaitTimeout, 5 minutes) bound the call,
// its wait included: a hub that answers 202 and then dies, or reports the
// server stopping for ever, fails it with an error matching
// context.DeadlineExceeded that quotes the last poll's failure.
func (c *Client) StopServer(ctx context.Context, user string, opts ...StopOption) error {
	if err := checkName(user); err != nil {
		return err
	}
	o := stopOptions{timeout: c.wait}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := bound(ctx, o.timeout)
	defer cancel()
	r, err := c.t.Do(ctx, transport.Call{Method: "DELETE", Path: serverPath(user)}, nil)
	if err != nil {
		if errors.Is(err, nbserv.ErrServer) {
			// JupyterHub 3.0 crashes into a 500 for a user it does not
			// know; its user model says so.
			if _, uerr := c.User(ctx, user); errors.Is(uerr, nbserv.ErrNotFound) {
				return uerr
			}
		}
		return err
	}
	if r.StatusCode == http.StatusNoContent {
		return nil
	}
	// 202: stop pending.
	return poll(ctx, fmt.Sprintf("hub: waiting for %s's server to stop", user), pollMin, func() (bool, bool, error) {
		u, retry, err := c.pollUser(ctx, user)
		if err != nil {
			return false, retry, err
		}
		s, ok := u.defaultServer()
		return !ok || s.Stopped, false, nil
	})
}

// poll calls try after a wait of first, then of nextWait's growing
// intervals, until try reports done, or fails without asking to be tried
// again (retry). ctx ends it, between polls or during one (a poll that
// hangs, say), with waitErr: the error of the wait (what), quoting the
// last poll's failure, which says why the wait went on.
func poll(ctx context.Context, what string, first time.Duration, try func() (done, retry bool, err error)) error {
	var last error
	for wait := first; ; wait = nextWait(wait) {
		if err := transport.Sleep(ctx, wait); err != nil {
			return waitErr(what, err, last)
		}
		done, retry, err := try()
		if err != nil && ctx.Err() != nil {
			return waitErr(what, err, last)
		}
		if last = err; retry {
			continue
		}
		if err != nil || done {
			return err
		}
	}
}

// waitErr is the error of a poll loop that ctx ended: err, ctx's (or
// that of the poll ctx ended, which matches it), and the last finished
// poll's failure, which says why the wait went on (a hub refusing
// connections, a proxy answering 503) where ctx's alone says nothing. The
// last failure is quoted, not wrapped: the wait ended by ctx, and matches
// ctx's error only.
func waitErr(what string, err, last error) error {
	if last != nil {
		return fmt.Errorf("%s: %w (the last poll: %v)", what, err, last)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func serverPath(user string) string { return "hub/api/users/" + escapeName(user) + "/server" }

// nextWait grows the polling interval from pollMin to pollMax.
func nextWait(d time.Duration) time.Duration {
	if d < pollMin {
		return pollMin
	}
	return min(d*3/2, pollMax)
}
