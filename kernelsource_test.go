package nbserv_test

import (
	"context"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// KernelSource is what nbexec.RunMany takes.
var _ nbexec.KernelSource = nbserv.KernelSource{}

// TestKernelSource starts, connects to and deletes a kernel through a
// KernelSource; deleting one the server no longer knows (it died) is no
// error, another failure is; String is the URL, never the token.
func TestKernelSource(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithKernelSpecs("python3", "ir"))
	srv.Script("x", nbservtest.Stdout("x\n"))
	src := nbserv.KernelSource{Client: srv.Client, Env: map[string]string{"KERNEL_USERNAME": "alice"}}
	ctx := context.Background()
	id, err := src.StartKernel(ctx, "ir", "/")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := srv.Client.Kernels.Get(ctx, id); err != nil || k.Name != "ir" {
		t.Fatalf("started %+v, %v", k, err)
	}
	conn, err := src.ConnectKernel(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ex, err := conn.Execute(ctx, "x"); err != nil || ex.Stdout() != "x\n" {
		t.Errorf("execute: %+v, %v", ex, err)
	}
	conn.Close()
	if err := src.DeleteKernel(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := src.DeleteKernel(ctx, id); err != nil {
		t.Errorf("deleting a kernel already gone: %v", err)
	}
	if _, err := src.StartKernel(ctx, "nosuch", ""); err == nil {
		t.Error("an unknown kernelspec started")
	}
	if s := src.String(); s != srv.URL || strings.Contains(s, srv.Token) {
		t.Errorf("String %q", s)
	}
	srv.Close()
	if err := src.DeleteKernel(ctx, id); err == nil {
		t.Error("deleting on a server that is down: no error")
	}
}
