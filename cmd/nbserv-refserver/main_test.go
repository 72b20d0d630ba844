package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServesUntilCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-token", "t", "-base-url", "/user/ci"}, pw) }()

	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/user/ci/") {
		t.Fatalf("printed %q", url)
	}
	req, _ := http.NewRequest("GET", url+"api/sessions", nil)
	req.Header.Set("Authorization", "token t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "[]" {
		t.Errorf("GET api/sessions: %d %s", resp.StatusCode, body)
	}
	http.DefaultClient.CloseIdleConnections()

	cancel() // as SIGINT/SIGTERM do
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not shut down")
	}
}

func TestBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-nope"}, io.Discard); err == nil {
		t.Error("no error for an unknown flag")
	}
	if err := run(context.Background(), []string{"-addr", "256.0.0.1:1"}, io.Discard); err == nil {
		t.Error("no error for a bad address")
	}
}

// TestMain lets TestSignals run this test binary as the real command.
func TestMain(m *testing.M) {
	if os.Getenv("NBSERV_REFSERVER_AS_MAIN") == "1" {
		os.Args = append([]string{"nbserv-refserver"}, strings.Fields(os.Getenv("NBSERV_REFSERVER_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSignalsShutDownCleanly(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "NBSERV_REFSERVER_AS_MAIN=1", "NBSERV_REFSERVER_ARGS=-addr 127.0.0.1:0 -token t")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			url, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				cmd.Process.Kill()
				t.Fatal(err)
			}
			resp, err := http.Get(strings.TrimSpace(url) + "api")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit after %v: %v", sig, err)
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 10s after %v", sig)
			}
		})
	}
}
