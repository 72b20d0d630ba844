package refserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Options.User is the username of every header: the server's own
// messages (the nudge's kernel_info parent), the kernel's (status,
// execute_input, the reply) and the KernelManager's (a restart's
// shutdown request, as the parent of the kernel's answer). Without it,
// "username".
func TestOptionsUserInHeaders(t *testing.T) {
	for _, c := range []struct{ user, want string }{{"ci", "ci"}, {"", "username"}, {`a"b é`, `a"b é`}} {
		ref := New(Options{Token: tok, Generation: 1, User: c.user})
		ts := httptest.NewServer(ref)
		ref.mu.Lock()
		id := ref.startKernel("python3").id
		ref.mu.Unlock()
		conn := mustDial(t, ts.URL+"/", tok, id, "s1", false)
		msgs := conn.until(10*time.Second, func(m wmsg) bool { return m.Type() == "status" && m.State() == "idle" })
		req := conn.execute("1+1")
		msgs = append(msgs, conn.until(30*time.Second, finished(req, "execute_reply"))...)
		restart, err := http.NewRequest("POST", ts.URL+"/api/kernels/"+id+"/restart", nil)
		if err != nil {
			t.Fatal(err)
		}
		restart.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(restart)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		msgs = append(msgs, conn.until(30*time.Second, func(m wmsg) bool { return m.ParentType() == "shutdown_request" })...)
		var shutdown bool
		for _, m := range msgs {
			if m.Header["username"] != c.want {
				t.Errorf("User %q: %s header username %v, want %q", c.user, m, m.Header["username"], c.want)
			}
			// A client's request keeps the client's username; the
			// server's own requests carry User.
			serverMade := m.ParentType() == "kernel_info_request" || m.ParentType() == "shutdown_request"
			if serverMade && m.Parent["username"] != c.want {
				t.Errorf("User %q: %s parent username %v, want %q", c.user, m, m.Parent["username"], c.want)
			}
			shutdown = shutdown || m.ParentType() == "shutdown_request"
		}
		if !shutdown {
			t.Errorf("User %q: no message answered the restart's shutdown_request", c.user)
		}
		conn.close()
		ref.Close()
		ts.Close()
	}
}
