package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

const executed = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
 "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": 3, "source": ["x = 1\n", "x"],
            "outputs": [{"output_type": "execute_result", "execution_count": 3, "metadata": {}, "data": {"text/plain": ["1"]}}]}]}`

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func noenv(string) string { return "" }

func TestPushThenPull(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithBaseURL("/user/alice/"))
	ctx := context.Background()
	local := t.TempDir()
	big := strings.Repeat("z", 70000) // more than one 16 KiB chunk
	writeTree(t, local, map[string]string{
		"a.ipynb":                               executed,
		"sub dir/b #1.ipynb":                    executed,
		"sub dir/deep/c.ipynb":                  `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [], "big": "` + big + `"}`,
		"notes.txt":                             "not a notebook",
		".hidden/x.ipynb":                       executed,
		".ipynb_checkpoints/a-checkpoint.ipynb": executed,
	})
	var out bytes.Buffer
	err := run(ctx, []string{"-url", srv.URL, "-token", srv.Token, "push", "-chunk", "16384", local, "/projects/q3/"}, noenv, &out, &out)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out.String())
	}
	for _, name := range []string{"a.ipynb", "sub dir/b #1.ipynb", "sub dir/deep/c.ipynb"} {
		got, err := srv.ReadFile("projects/q3/" + name)
		want, _ := os.ReadFile(filepath.Join(local, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("server's %s: %d bytes, %v", name, len(got), err)
		}
	}
	for _, name := range []string{"notes.txt", ".hidden/x.ipynb"} {
		if _, err := srv.ReadFile("projects/q3/" + name); err == nil {
			t.Errorf("%s pushed", name)
		}
	}
	if !strings.Contains(out.String(), "3 file(s)") {
		t.Errorf("output:\n%s", out.String())
	}

	// Pull it back elsewhere: the same bytes.
	back := t.TempDir()
	out.Reset()
	if err := run(ctx, []string{"pull", "-url", srv.URL, "-token", srv.Token, "projects/q3", back}, noenv, &out, &out); err != nil {
		t.Fatalf("pull: %v\n%s", err, out.String())
	}
	for _, name := range []string{"a.ipynb", "sub dir/b #1.ipynb", "sub dir/deep/c.ipynb"} {
		got, err := os.ReadFile(filepath.Join(back, filepath.FromSlash(name)))
		want, _ := os.ReadFile(filepath.Join(local, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("pulled %s: %d bytes, %v", name, len(got), err)
		}
	}
	if _, err := os.Stat(filepath.Join(back, "notes.txt")); err == nil {
		t.Error("notes.txt pulled")
	}

	// -all takes every file; the environment gives the server.
	env := func(k string) string { return map[string]string{"JUPYTER_URL": srv.URL, "JUPYTER_TOKEN": srv.Token}[k] }
	if err := run(ctx, []string{"-all", "push", local, "everything"}, env, &out, &out); err != nil {
		t.Fatal(err)
	}
	if got, err := srv.ReadFile("everything/notes.txt"); err != nil || string(got) != "not a notebook" {
		t.Errorf("notes.txt: %q %v", got, err)
	}
}

func TestPushClearsOutputs(t *testing.T) {
	srv := nbservtest.NewServer(t)
	local := t.TempDir()
	writeTree(t, local, map[string]string{"run.ipynb": executed})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-url", srv.URL, "-token", srv.Token, "-clear-outputs", "push", local, "clean"}, noenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	nb, err := srv.Client.Contents.GetNotebook(context.Background(), "clean/run.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	c := nb.Cells[0]
	if c.Source != "x = 1\nx" || len(c.Outputs) != 0 || c.ExecutionCount != nil || nb.Metadata.Kernelspec.Name != "python3" {
		t.Errorf("cleared notebook: %+v", c)
	}
}

func TestUsageAndErrors(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	err := run(ctx, []string{"-h"}, noenv, &out, &out)
	if !errors.Is(err, flag.ErrHelp) || exitCode(err) != 0 || !strings.Contains(out.String(), "usage: nbsync push") {
		t.Errorf("-h: %v, exit %d, %q", err, exitCode(err), out.String())
	}
	for _, args := range [][]string{nil, {"push", "a"}, {"sync", "a", "b"}, {"push", "a", "b"}} {
		if err := run(ctx, args, noenv, &out, &out); exitCode(err) != 2 {
			t.Errorf("%q: %v, exit %d", args, err, exitCode(err))
		}
	}
	srv := nbservtest.NewServer(t)
	err = run(ctx, []string{"-url", srv.URL, "-token", "wrong", "pull", "x", t.TempDir()}, noenv, &out, &out)
	if !errors.Is(err, nbserv.ErrUnauthorized) || exitCode(err) != 1 {
		t.Errorf("wrong token: %v", err)
	}
	err = run(ctx, []string{"-url", srv.URL, "-token", srv.Token, "pull", "nope", t.TempDir()}, noenv, &out, &out)
	if !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("missing directory: %v", err)
	}
}
