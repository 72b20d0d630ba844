package nbserv

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Kernel action bodies as Jupyter sent them (docs/wire/kernels.md K2, K3, K4, K5, K6).
const (
	wireRestarted        = `{"id": "ee94081f-2d6b-4a43-9a1b-0e7ea6b3a5d1", "name": "python3", "last_activity": "2026-11-27T21:30:07.373314Z", "execution_state": "idle", "connections": 0}`
	wireNoKernel         = `{"message": "Kernel does not exist: ee94081f-2d6b-4a43-9a1b-0e7ea6b3a5d1", "reason": null}`
	wireRestartFailed1x  = `{"message": "Exception restarting kernel", "traceback": ["  File \"/usr/lib/python3/dist-packages/jupyter_server/services/kernels/handlers.py\", line 98, in post\n    await km.restart_kernel(kernel_id)\n", "  File \"/usr/lib/python3/dist-packages/jupyter_server/services/kernels/kernelmanager.py\", line 412, in restart_kernel\n    self._check_kernel_id(kernel_id)\n", "  File \"/usr/lib/python3/dist-packages/jupyter_server/services/kernels/kernelmanager.py\", line 500, in _check_kernel_id\n    raise web.HTTPError(404, \"Kernel does not exist: %s\" % kernel_id)\n"]}`
	wireRestartFailed2x  = `{"message": "Exception restarting kernel", "reason": null}`
	wireHTML404          = "<!DOCTYPE HTML>\n<html>\n<body class=\"\" data-jupyter-api-token=\"" + testToken + "\"><h1>404 : Not Found</h1></body>\n</html>"
	testKernelURL        = "http://jupyter.test/api/kernels/" + testKernelID
	testKernelInterrupt  = testKernelURL + "/interrupt"
	testKernelRestartURL = testKernelURL + "/restart"
)

func TestInterruptReadsTheKernelBack(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("POST", testKernelInterrupt, 204, "")
	m.on("GET", testKernelURL, 200, wireRestarted)
	var r Response
	k, err := c.Kernels.Interrupt(context.Background(), testKernelID, WithResponse(&r))
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != testKernelID || k.ExecutionState != "idle" || !k.LastActivity.Equal(mustTime(t, "2026-11-27T21:30:07.373314Z")) {
		t.Errorf("kernel %+v", k)
	}
	reqs := m.requests()
	if len(reqs) != 2 || reqs[0].Method != "POST" || reqs[0].URL != testKernelInterrupt || reqs[0].Body != "" ||
		reqs[0].Header.Get("Content-Type") != "" || reqs[1].Method != "GET" || reqs[1].URL != testKernelURL {
		t.Errorf("requests %+v", reqs)
	}
	// The Response is the interrupt's, not the read's.
	if r.StatusCode != 204 || len(r.Body) != 0 || r.Attempts != 1 {
		t.Errorf("Response %d %q attempts %d", r.StatusCode, r.Body, r.Attempts)
	}
}

func TestInterruptUnknownKernel(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("POST", testKernelInterrupt, 404, wireNoKernel)
	_, err := c.Kernels.Interrupt(context.Background(), testKernelID)
	var e *Error
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || e.Message != "Kernel does not exist: "+testKernelID {
		t.Errorf("err = %v", err)
	}
	if n := len(m.requests()); n != 1 {
		t.Errorf("%d requests after a failed interrupt, want 1", n)
	}
}

func TestInterruptThenReadFails(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("POST", testKernelInterrupt, 204, "")
	m.on("GET", testKernelURL, 404, wireNoKernel)
	var r Response
	k, err := c.Kernels.Interrupt(context.Background(), testKernelID, WithResponse(&r))
	if k != nil || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "interrupted, but reading it back failed") {
		t.Errorf("Interrupt = %+v, %v", k, err)
	}
	if r.StatusCode != 204 {
		t.Errorf("Response status %d, want the interrupt's 204", r.StatusCode)
	}
}

func TestRestartReturnsTheKernel(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test/user/alice/")
	url := "http://jupyter.test/user/alice/api/kernels/" + testKernelID + "/restart"
	m.on("POST", url, 200, wireRestarted)
	k, err := c.Kernels.Restart(context.Background(), testKernelID)
	if err != nil || k.ID != testKernelID || k.Name != "python3" || k.ExecutionState != "idle" {
		t.Fatalf("Restart = %+v, %v", k, err)
	}
	if reqs := m.requests(); len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].URL != url || reqs[0].Body != "" {
		t.Errorf("requests %+v", reqs)
	}
}

// Jupyter answers a 500 for restarting a kernel it does not know
// (docs/wire/kernels.md K6); the
// SDK asks for the kernel and, on a JSON 404, matches ErrNotFound too.
func TestRestartUnknownKernelIsNotFound(t *testing.T) {
	for gen, body := range map[string]string{"1.23.3": wireRestartFailed1x, "2.21.1": wireRestartFailed2x} {
		t.Run(gen, func(t *testing.T) {
			c, m := newMock(t, "http://jupyter.test")
			m.on("POST", testKernelRestartURL, 500, body)
			m.on("GET", testKernelURL, 404, wireNoKernel)
			var r Response
			_, err := c.Kernels.Restart(context.Background(), testKernelID, WithResponse(&r))
			var e *Error
			if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrServer) || !errors.As(err, &e) || e.StatusCode != 500 ||
				e.Message != "Exception restarting kernel" || !strings.Contains(err.Error(), "does not exist") {
				t.Errorf("err = %v", err)
			}
			if gen == "1.23.3" && !strings.Contains(e.Traceback, "Kernel does not exist") {
				t.Errorf("traceback %q", e.Traceback)
			}
			if r.StatusCode != 500 || len(m.requests()) != 2 {
				t.Errorf("Response %d after %d requests", r.StatusCode, len(m.requests()))
			}
		})
	}
}

func TestRestartFailureOfAnExistingKernelIsAServerError(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("POST", testKernelRestartURL, 500, wireRestartFailed2x)
	m.on("GET", testKernelURL, 200, wireRestarted)
	_, err := c.Kernels.Restart(context.Background(), testKernelID)
	if !errors.Is(err, ErrServer) || errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v", err)
	}

	// An HTML 404 on the check means no route (a proxy in the way), not a
	// missing kernel: the 500 stands alone.
	c, m = newMock(t, "http://jupyter.test")
	m.on("POST", testKernelRestartURL, 500, wireRestartFailed2x)
	m.on("GET", testKernelURL, 404, wireHTML404)
	if _, err := c.Kernels.Restart(context.Background(), testKernelID); !errors.Is(err, ErrServer) || errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v", err)
	}
}

func TestKernelActionsRefuseBadIDs(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	ctx := context.Background()
	for _, id := range []string{"", "../kernels", "a-b", testKernelID + "/restart"} {
		if _, err := c.Kernels.Interrupt(ctx, id); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Interrupt(%q) = %v", id, err)
		}
		if _, err := c.Kernels.Restart(ctx, id); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Restart(%q) = %v", id, err)
		}
	}
	if n := len(m.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestStartSendsTheRequest(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("POST", "http://jupyter.test/api/kernels", 201, wireRestarted)
	ctx := context.Background()
	if _, err := c.Kernels.Start(ctx, StartKernelRequest{}); err != nil {
		t.Fatal(err)
	}
	req := StartKernelRequest{Name: "python3", Path: "work/a", Env: map[string]string{"KERNEL_USERNAME": "ada"}, ID: testKernelID}
	if _, err := c.Kernels.Start(ctx, req); err != nil {
		t.Fatal(err)
	}
	got := m.requests()
	want := []string{`{}`, `{"name":"python3","path":"work/a","env":{"KERNEL_USERNAME":"ada"},"kernel_id":"` + testKernelID + `"}`}
	if len(got) != 2 || got[0].Body != want[0] || got[1].Body != want[1] {
		t.Errorf("bodies %+v, want %q", got, want)
	}
	if _, err := c.Kernels.Start(ctx, StartKernelRequest{ID: "../x"}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("bad kernel id: %v", err)
	}
	if n := len(m.requests()); n != 2 {
		t.Errorf("%d requests: a refused id reached the server", n)
	}
}
