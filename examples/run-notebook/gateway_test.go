package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// TestE2EGatewayRunNotebooks runs a directory of notebooks, two at a
// time, against Enterprise Gateway directly when NBSERV_GATEWAY_URL and
// NBSERV_GATEWAY_TOKEN are set (scripts/with-gateway.sh), else against
// the reference server scripted with what ipykernel answers. The gateway
// has no contents API: the notebooks are read and written locally. The
// server and token come from JUPYTER_URL and JUPYTER_TOKEN, off the
// command line; -kernel-env reaches the kernel's environment
// (docs/wire/gateway.md GW5); one notebook's error fails it alone.
func TestE2EGatewayRunNotebooks(t *testing.T) {
	clearEnv(t)
	const (
		markCell  = "import os\nprint(os.environ.get('KERNEL_GO_NBSERV_MARK'))"
		sleepCell = "import time\ntime.sleep(0.2)\nprint('slept')"
		failCell  = "1/0"
	)
	base, token := os.Getenv("NBSERV_GATEWAY_URL"), os.Getenv("NBSERV_GATEWAY_TOKEN")
	if base == "" {
		srv := nbservtest.NewServer(t)
		srv.Script(markCell, nbservtest.Stdout("many\n"))
		srv.Script(sleepCell, nbservtest.Stdout("slept\n"))
		srv.Script(failCell, nbservtest.Error("ZeroDivisionError", "division by zero"))
		base, token = srv.URL, srv.Token
	}
	t.Setenv("JUPYTER_URL", base)
	t.Setenv("JUPYTER_TOKEN", token)
	dir := t.TempDir()
	var ins []string
	for _, name := range []string{"a.ipynb", "b.ipynb", "c.ipynb", "d.ipynb"} {
		nb := nbformat.New(nbformat.NewCodeCell(markCell), nbformat.NewCodeCell(sleepCell))
		if name == "c.ipynb" {
			nb.Cells[1] = nbformat.NewCodeCell(failCell)
		}
		nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3", Language: "python"}
		ins = append(ins, writeNotebookAt(t, dir, name, nb))
	}
	outDir := filepath.Join(dir, "out")
	code, out, errOut := runProgram(t, append([]string{"-kernel-env", "KERNEL_GO_NBSERV_MARK=many", "-j", "2", "-d", outDir}, ins...)...)
	if code != 1 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Summary: 3 of 4 notebooks ran without error\n") ||
		!regexp.MustCompile(`\n  failed +\S+  `+regexp.QuoteMeta(ins[2])+`: cell 2 raised ZeroDivisionError: division by zero`).MatchString(out) {
		t.Errorf("summary:\n%s", out)
	}
	for i, in := range ins {
		got := readNotebook(t, filepath.Join(outDir, filepath.Base(in)))
		want := []string{"stream:many\n", "stream:slept\n"}
		if i == 2 {
			want[1] = "error:ZeroDivisionError: division by zero"
		}
		for c, w := range want {
			if g := texts(got.Cells[c]); len(g) != 1 || g[0] != w {
				t.Errorf("%s cell %d: %q, want %q", in, c+1, g, w)
			}
		}
	}
	// Where the server lists kernels (a gateway with list_kernels on, the
	// reference server), none of those the run started is left.
	c, err := nbserv.NewClient(nbserv.Config{BaseURL: base, Token: nbserv.NewSecret(token)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if os.Getenv("NBSERV_GATEWAY_LIST_KERNELS") != "0" {
		ks, err := c.Kernels.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			if strings.Contains(out, "on kernel "+short(k.ID)) {
				t.Errorf("kernel %s left", k.ID)
			}
		}
	}
}
