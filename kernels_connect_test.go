package nbserv_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// Tests of what nbserv adds to a kernel connection: the ids it checks,
// the session it reads, and the REST calls a Conn makes through it. The
// Conn itself is tested in package kernel.

func TestConnectRefusesBadIDs(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	c, err := nbserv.NewClient(nbserv.Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	if _, err := c.Kernels.Connect(ctx, "../sessions"); !errors.Is(err, nbserv.ErrInvalidArgument) {
		t.Errorf("bad kernel id: %v", err)
	}
	if _, err := c.Sessions.Connect(ctx, "nope"); !errors.Is(err, nbserv.ErrInvalidArgument) {
		t.Errorf("bad session id: %v", err)
	}
	if _, err := c.Kernels.Connect(ctx, "00000000-0000-4000-8000-000000000000", kernel.WithMaxMessageBytes(0)); !errors.Is(err, nbserv.ErrInvalidArgument) {
		t.Errorf("bad option: %v", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests: a refused argument reached the server", n)
	}
}

func TestSessionsConnect(t *testing.T) {
	srv, err := nbservtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := srv.Client.Sessions.Connect(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if conn.KernelID() != s.Kernel.ID {
		t.Errorf("kernel %s, want the session's %s", conn.KernelID(), s.Kernel.ID)
	}
	if _, err := srv.Client.Sessions.Connect(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("unknown session: %v", err)
	}
}

// A Conn's interrupt and restart are Kernels.Interrupt's and Restart's
// request, and fail the same way: on a deleted kernel, Jupyter answers
// the restart with a 500, which both confirm is a missing kernel.
func TestConnActionsOnADeletedKernelAreNotFound(t *testing.T) {
	srv, err := nbservtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client
	k, err := c.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.Kernels.Connect(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := c.Kernels.Delete(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	var e *nbserv.Error
	if _, err := c.Kernels.Restart(ctx, k.ID); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("Kernels.Restart: %v", err)
	}
	if err := conn.Restart(ctx); !errors.Is(err, nbserv.ErrNotFound) || !errors.Is(err, nbserv.ErrServer) || !errors.As(err, &e) || e.StatusCode != 500 {
		t.Errorf("Conn.Restart: %v", err)
	}
	if _, err := c.Kernels.Interrupt(ctx, k.ID); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("Kernels.Interrupt: %v", err)
	}
	if err := conn.Interrupt(ctx); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("Conn.Interrupt: %v", err)
	}
}

// A Conn's defaults are the client's: Config.Timeout bounds Connect's
// wait for the kernel's first answer (not kernel.DefaultHandshakeTimeout,
// 30 s), and Config.MaxResponseBytes bounds what one request holds.
func TestConnectTakesTheClientsBounds(t *testing.T) {
	t.Run("Timeout", func(t *testing.T) {
		// A kernel whose channels open and then never answer.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer ws.CloseNow()
			for { // until the client closes
				if _, _, err := ws.Read(context.Background()); err != nil {
					return
				}
			}
		}))
		defer srv.Close()
		defer srv.CloseClientConnections()
		c, err := nbserv.NewClient(nbserv.Config{BaseURL: srv.URL, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdleConnections()
		start := time.Now()
		_, err = c.Kernels.Connect(context.Background(), "00000000-0000-4000-8000-000000000000")
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
			t.Errorf("Connect to a silent kernel: %v after %v, want DeadlineExceeded after Config.Timeout", err, time.Since(start))
		}
	})
	t.Run("MaxResponseBytes", func(t *testing.T) {
		srv, err := nbservtest.Start(nbservtest.WithClientConfig(func(cfg *nbserv.Config) { cfg.MaxResponseBytes = 4 << 10 }))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		ctx := context.Background()
		k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := srv.Client.Kernels.Connect(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Execute(ctx, `print("x" * 10000)`); !errors.Is(err, nbserv.ErrResponseTooLarge) {
			t.Errorf("10 kB of output with MaxResponseBytes 4 kB: %v", err)
		}
		// An option still overrides the client's bound.
		big, err := srv.Client.Kernels.Connect(ctx, k.ID, kernel.WithMaxMessageBytes(1<<20), kernel.WithMaxOutputBytes(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		defer big.Close()
		if ex, err := big.Execute(ctx, `print("x" * 10000)`); err != nil || len(ex.Stdout()) != 10001 {
			t.Errorf("with the bound raised: %v", err)
		}
	})
}

// A Conn asks the server about a kernel gone silent through the client
// (Jupyter keeps a deleted kernel's socket open and quiet): the client's
// GET /api/kernels/{id} answering 404, or reporting the kernel dead,
// ends the Conn with ErrKernelDead.
func TestConnChecksASilentKernelThroughTheClient(t *testing.T) {
	const id = "00000000-0000-4000-8000-000000000000"
	for name, rest := range map[string]func(w http.ResponseWriter){
		"gone": func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message": "Kernel does not exist: ` + id + `", "reason": null}`))
		},
		"reported dead": func(w http.ResponseWriter) {
			w.Write([]byte(`{"id": "` + id + `", "name": "python3", "last_activity": "2026-11-27T21:46:02.018545Z", "execution_state": "dead", "connections": 1}`))
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/kernels/"+id {
					rest(w)
					return
				}
				ws, err := websocket.Accept(w, r, nil)
				if err != nil {
					return
				}
				defer ws.CloseNow()
				// A kernel that answers kernel_info_request (legacy JSON
				// framing), with its idle status on IOPub as every kernel
				// sends (docs/wire/kernel-channels.md KC14), and nothing else.
				for {
					_, data, err := ws.Read(context.Background())
					if err != nil {
						return
					}
					var m kernel.Message
					if json.Unmarshal(data, &m) != nil || m.Header.MsgType != kernel.MsgKernelInfoRequest {
						continue
					}
					reply, _ := json.Marshal(map[string]any{
						"channel":       m.Channel,
						"header":        map[string]any{"msg_id": "r-" + m.Header.MsgID, "msg_type": kernel.MsgKernelInfoReply, "session": "k", "username": "", "version": "5.3", "date": "2026-11-27T21:46:02.018545Z"},
						"parent_header": m.Header,
						"metadata":      map[string]any{},
						"content":       map[string]any{"status": "ok", "protocol_version": "5.3", "implementation": "fake", "language_info": map[string]any{"name": "python"}},
						"buffers":       []any{},
					})
					if ws.Write(context.Background(), websocket.MessageText, reply) != nil {
						return
					}
					status, _ := json.Marshal(map[string]any{
						"channel":       kernel.ChannelIOPub,
						"header":        map[string]any{"msg_id": "s-" + m.Header.MsgID, "msg_type": kernel.MsgStatus, "session": "k", "username": "", "version": "5.3", "date": "2026-11-27T21:46:02.018545Z"},
						"parent_header": m.Header,
						"metadata":      map[string]any{},
						"content":       map[string]any{"execution_state": kernel.StateIdle},
						"buffers":       []any{},
					})
					if ws.Write(context.Background(), websocket.MessageText, status) != nil {
						return
					}
				}
			}))
			defer srv.Close()
			defer srv.CloseClientConnections()
			c, err := nbserv.NewClient(nbserv.Config{BaseURL: srv.URL, RetryMax: nbserv.NoRetries})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err := c.Kernels.Connect(ctx, id, kernel.WithCheckInterval(20*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Execute(ctx, "1+1"); !errors.Is(err, nbserv.ErrKernelDead) {
				t.Errorf("execution in a silent kernel: %v", err)
			}
			if !errors.Is(conn.Err(), kernel.ErrKernelDead) {
				t.Errorf("Err() = %v", conn.Err())
			}
		})
	}
}
