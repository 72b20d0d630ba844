package nbserv_test

import (
	"context"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
)

// A kernel's state belongs to the kernel, not to a connection: a variable
// set on one connection is read on a second, input() feeds a later cell,
// and a restart clears it all — against the reference kernel (which runs
// the code) and real Jupyter alike.
//
//	scripts/with-jupyter.sh go test -race -count=1 -run 'E2EChannelsState' -v .
func TestE2EChannelsStateAcrossConnectionsAndRestart(t *testing.T) {
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		k := startKernel(t, c)
		connect := func() *kernel.Conn {
			t.Helper()
			conn, err := c.Kernels.Connect(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			return conn
		}
		result := func(conn *kernel.Conn, code string, opts ...kernel.ExecuteOption) string {
			t.Helper()
			ex, err := conn.Execute(ctx, code, opts...)
			if err != nil {
				t.Fatalf("%q: %v", code, err)
			}
			if ex.Result() == nil {
				return ex.Stdout()
			}
			txt, _ := ex.Result().Data.Text("text/plain")
			return txt
		}
		first, second := connect(), connect()
		result(first, "probe_x = 41")
		if got := result(second, "probe_x + 1"); got != "42" {
			t.Errorf("probe_x + 1 on a second connection: %q, want 42", got)
		}
		stdin := kernel.WithStdin(func(context.Context, *kernel.InputRequest) (string, error) { return "Ada", nil })
		result(first, `name = input("who? ")`, stdin)
		if got := result(second, `print("hello " + name)`); got != "hello Ada\n" {
			t.Errorf("the input read on one connection, printed on another: %q", got)
		}
		if got := result(second, "'probe_x' in globals()"); got != "True" {
			t.Errorf("before the restart: %q", got)
		}
		if _, err := c.Kernels.Restart(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if got := result(connect(), "'probe_x' in globals()"); got != "False" {
			t.Errorf("after the restart: %q, want False", got)
		}
	})
}
