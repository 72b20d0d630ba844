package nbserv_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	nbserv "github.com/nbserv/go-nbserv"
)

// The end-to-end tests of kernelspecs: harness and rules in
// e2e_test.go, facts asserted in docs/wire/kernelspecs.md.

func TestE2EKernelSpecs(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		prefix, _ := url.Parse(tg.url)
		base := strings.TrimSuffix(prefix.Path, "/") + "/kernelspecs/python3/"

		specs, err := c.KernelSpecs.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		py := specs.KernelSpecs["python3"]
		if specs.Default != "python3" || py == nil {
			t.Fatalf("List: default %q, specs %v", specs.Default, specs.KernelSpecs)
		}
		if py.Name != "python3" || py.DisplayName != "Python 3 (ipykernel)" || py.Language != "python" ||
			py.InterruptMode != "signal" || py.Metadata["debugger"] != true || py.Env == nil ||
			!slices.Contains(py.Argv, "ipykernel_launcher") || !slices.Contains(py.Argv, "{connection_file}") ||
			py.Malformed != nil {
			t.Errorf("python3: %+v", py)
		}
		wantRes := map[string]string{"logo-svg": base + "logo-svg.svg", "logo-64x64": base + "logo-64x64.png", "logo-32x32": base + "logo-32x32.png"}
		if diff := cmp.Diff(wantRes, py.Resources); diff != "" {
			t.Errorf("resources (-want +got):\n%s", diff)
		}

		if tg.gateway {
			// A server on a gateway crashes on every single kernelspec,
			// known or not (docs/wire/gateway.md GW11): Get returns its 500
			// as an *Error matching ErrServer, and "not found" never.
			for _, name := range []string{"python3", "nosuch"} {
				var e *nbserv.Error
				if _, err := c.KernelSpecs.Get(ctx, name); !errors.Is(err, nbserv.ErrServer) || errors.Is(err, nbserv.ErrNotFound) ||
					!errors.As(err, &e) || e.StatusCode != 500 || e.Message != "Unhandled error" {
					t.Errorf("Get %s through a gateway: %v", name, err)
				}
			}
		} else {
			one, err := c.KernelSpecs.Get(ctx, "python3")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(py, one); diff != "" {
				t.Errorf("Get differs from List (-list +get):\n%s", diff)
			}
			var e *nbserv.Error
			if _, err := c.KernelSpecs.Get(ctx, "nosuch"); !errors.Is(err, nbserv.ErrNotFound) || !errors.As(err, &e) ||
				e.Message != "Kernel spec nosuch not found" {
				t.Errorf("Get unknown: %v", err)
			}
		}

		for key, want := range map[string]struct {
			contentType string
			magic       []byte
		}{
			"logo-64x64": {"image/png", []byte("\x89PNG\r\n\x1a\n")},
			"logo-32x32": {"image/png", []byte("\x89PNG\r\n\x1a\n")},
			"logo-svg":   {"image/svg+xml", []byte("<svg")},
		} {
			file, ok := py.ResourceFile(key)
			if !ok {
				t.Errorf("no resource %s", key)
				continue
			}
			res, err := c.KernelSpecs.Resource(ctx, "python3", file)
			if err != nil {
				t.Errorf("Resource %s: %v", file, err)
				continue
			}
			body, err := io.ReadAll(res)
			res.Close()
			if err != nil || res.ContentType != want.contentType || res.Size != int64(len(body)) ||
				!bytes.Contains(body[:min(len(body), 512)], want.magic) {
				t.Errorf("Resource %s: %s, %d bytes (Size %d), %v", file, res.ContentType, len(body), res.Size, err)
			}
		}
		for _, args := range [][2]string{{"python3", "nosuch.png"}, {"nosuch", "logo-64x64.png"}} {
			_, err := c.KernelSpecs.Resource(ctx, args[0], args[1])
			if tg.gateway { // a 500 HTML page (docs/wire/gateway.md GW11)
				var e *nbserv.Error
				if !errors.Is(err, nbserv.ErrServer) || errors.Is(err, nbserv.ErrNotFound) || !errors.As(err, &e) || e.StatusCode != 500 {
					t.Errorf("Resource %v through a gateway: %v", args, err)
				}
				continue
			}
			if !errors.Is(err, nbserv.ErrNotFound) {
				t.Errorf("Resource %v: %v", args, err)
			}
		}
		// Without a token Jupyter redirects to its login page.
		if _, err := newClient(t, tg.url, "").KernelSpecs.Resource(ctx, "python3", "logo-64x64.png"); !errors.Is(err, nbserv.ErrUnauthorized) {
			t.Errorf("Resource without a token: %v", err)
		}
		if _, err := newClient(t, tg.url, "").KernelSpecs.List(ctx); !errors.Is(err, nbserv.ErrUnauthorized) {
			t.Errorf("List without a token: %v", err)
		}
	})
}
