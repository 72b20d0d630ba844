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
	forEachChanTarget(t, func(t *testing.T, tg chanTarget, c *nbserv.Client) {
		ctx := context.Background()
		conn, err := c.Kernels.Connect(ctx, startKernel(t, c).ID, kernel.WithCheckInterval(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		runHeldGIL(t, tg, conn, 100*time.Millisecond)
	})
}

// heldGILCode is a cell whose C code holds the GIL for 8 s.
const heldGILCode = "import ctypes\nctypes.PyDLL(None).sleep(8)\nprint(\"done\")"

// runHeldGIL runs heldGILCode and wants its "done"; the kernel bounds it
// (the cell ends after its 8 s). The reference kernel's cell is scripted
// to take d.
func runHeldGIL(t *testing.T, tg chanTarget, conn *kernel.Conn, d time.Duration, opts ...kernel.ExecuteOption) {
	t.Helper()
	if tg.ref != nil {
		tg.ref.Script(heldGILCode, nbservtest.Sleep(d), nbservtest.Stdout("done\n"))
	}
	ex, err := conn.Execute(context.Background(), heldGILCode, opts...)
	if err != nil {
		t.Fatalf("Execute: %v (Conn: %v)", err, conn.Err())
	}
	if ex.Stdout() != "done\n" {
		t.Fatalf("stdout %q", ex.Stdout())
	}
}
