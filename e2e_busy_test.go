package nbserv_test

import (
	"context"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// A cell whose C code holds the GIL for several check intervals: ipykernel's
// control thread cannot answer the Conn's probes of the socket meanwhile,
// yet the socket brought the cell's busy status, so it is not taken for a
// silent one and the Execute gets its output; and when the cell took the
// GIL before its busy status left the kernel, no probe socket is answered
// either (docs/wire/kernel-channels.md KC45). (The reference kernel answers
// control at once; against it the cell is scripted, short.)
//
//	scripts/with-jupyter.sh go test -race -count=1 -run 'E2EChannelsHeldGIL' -v .
func TestE2EChannelsHeldGILIsNotSilence(t *testing.T) {
	const code = "import ctypes\nctypes.PyDLL(None).sleep(8)\nprint(\"done\")"
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		if tg.ref != nil {
			tg.ref.Script(code, nbservtest.Sleep(100*time.Millisecond), nbservtest.Stdout("done\n"))
		}
		ctx := context.Background()
		conn, err := c.Kernels.Connect(ctx, startKernel(t, c).ID, kernel.WithCheckInterval(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		// Bounded by the kernel: the cell ends after its 8 s.
		ex, err := conn.Execute(ctx, code)
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		if ex.Stdout() != "done\n" {
			t.Fatalf("stdout %q", ex.Stdout())
		}
	})
}
