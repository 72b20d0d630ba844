package nbserv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/nbserv/go-nbserv/internal/transport"
	"github.com/nbserv/go-nbserv/kernel"
)

// KernelSpecsService lists the kernels a server can start (/api/kernelspecs)
// and serves their files, such as logos (/kernelspecs/{name}/{file}).
// Reach it as Client.KernelSpecs; List mirrors the Python client's
// KernelspecsApi.
type KernelSpecsService struct{ c *Client }

// KernelSpecs is the answer of List.
type KernelSpecs struct {
	// Default names the kernelspec a kernel or session gets when none is
	// asked for.
	Default string `json:"default"`
	// KernelSpecs holds the installed kernelspecs by name. A kernelspec
	// the server failed to load is left out by Jupyter.
	KernelSpecs map[string]*KernelSpec `json:"kernelspecs"`
}

// KernelSpec is one installed kernel: its name, the contents of its
// kernel.json (promoted from KernelSpecFile: ks.DisplayName, ks.Argv, ...)
// and the URLs of its resource files.
type KernelSpec struct {
	// Name is the name to start kernels with, such as "python3".
	Name string `json:"name"`
	// KernelSpecFile is the kernelspec's kernel.json, sent as "spec".
	KernelSpecFile `json:"spec"`
	// Resources maps a resource ("logo-64x64", "logo-svg", "kernel.js",
	// "kernel.css") to its URL path on the server, base URL prefix
	// included, such as "/user/alice/kernelspecs/python3/logo-64x64.png".
	// ResourceFile gives the file name to pass to KernelSpecsService.Resource.
	Resources map[string]string `json:"resources"`

	// Malformed holds, by JSON key ("spec.env", ...), the raw value of each
	// field whose JSON type did not fit: kernel.json is written by hand or
	// by installers, and one odd kernelspec must not fail a whole List. The
	// typed field is left zero. Nil for well-formed kernelspecs.
	Malformed map[string]json.RawMessage `json:"-"`
}

// KernelSpecFile is the contents of a kernelspec's kernel.json.
type KernelSpecFile struct {
	// DisplayName is the name to show users, such as "Python 3 (ipykernel)".
	DisplayName string `json:"display_name"`
	// Language is the kernel's programming language, such as "python".
	Language string `json:"language"`
	// Argv is the command that starts the kernel; "{connection_file}" is
	// replaced with the connection file's path.
	Argv []string `json:"argv"`
	// Env is added to the kernel's environment.
	Env map[string]string `json:"env"`
	// InterruptMode is "signal" (SIGINT to the process) or "message" (an
	// interrupt_request on the control channel); empty means "signal".
	InterruptMode string `json:"interrupt_mode"`
	// Metadata is free-form, such as {"debugger": true}.
	Metadata map[string]any `json:"metadata"`
	// CodemirrorMode is a string or an object, kept raw; often absent.
	CodemirrorMode json.RawMessage `json:"codemirror_mode,omitempty"`
	// HelpLinks are links for the UI's help menu; often absent.
	HelpLinks []kernel.HelpLink `json:"help_links,omitempty"`
}

// ResourceFile returns the file name of resource key (such as
// "logo-64x64"), to pass to KernelSpecsService.Resource, and whether the
// kernelspec has that resource.
func (k *KernelSpec) ResourceFile(key string) (string, bool) {
	u, ok := k.Resources[key]
	if !ok || u == "" {
		return "", false
	}
	if p, err := url.PathUnescape(u); err == nil {
		u = p
	}
	return path.Base(u), true
}

// List returns the installed kernelspecs and the default one
// (GET /api/kernelspecs).
//
// Python: KernelspecsApi.api_kernelspecs_get.
func (s *KernelSpecsService) List(ctx context.Context, opts ...CallOption) (*KernelSpecs, error) {
	specs := new(KernelSpecs)
	_, err := s.c.t.Do(ctx, transport.Call{Method: "GET", Path: "api/kernelspecs", Decode: func(b []byte) error {
		var raw struct {
			Default     string                     `json:"default"`
			KernelSpecs map[string]json.RawMessage `json:"kernelspecs"`
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		specs.Default = raw.Default
		specs.KernelSpecs = make(map[string]*KernelSpec, len(raw.KernelSpecs))
		for name, r := range raw.KernelSpecs {
			ks, err := decodeKernelSpec(r)
			if err != nil {
				return fmt.Errorf("kernelspec %q: %w", name, err)
			}
			specs.KernelSpecs[name] = ks
		}
		return nil
	}}, opts)
	if err != nil {
		return nil, err
	}
	return specs, nil
}

// Get returns one kernelspec (GET /api/kernelspecs/{name}). An unknown
// name fails with ErrNotFound.
//
// Python: none; the Python client has no such method.
func (s *KernelSpecsService) Get(ctx context.Context, name string, opts ...CallOption) (*KernelSpec, error) {
	if err := validKernelSpecName(name); err != nil {
		return nil, err
	}
	var ks *KernelSpec
	_, err := s.c.t.Do(ctx, transport.Call{Method: "GET", Path: "api/kernelspecs/" + name, Decode: func(b []byte) (err error) {
		ks, err = decodeKernelSpec(b)
		return err
	}}, opts)
	if err != nil {
		return nil, err
	}
	return ks, nil
}

// KernelSpecResource is a kernelspec's file being downloaded. Read it and
// Close it. A read that waits longer than Config.StreamIdleTimeout for
// data fails with a *StalledError, and a body shorter than its
// Content-Length fails its last read with a *LengthError.
type KernelSpecResource struct {
	io.ReadCloser
	// ContentType is the server's, such as "image/png" or "image/svg+xml".
	ContentType string
	// Size is the file's length in bytes, or -1 when the server did not
	// say.
	Size int64
}

// Resource downloads a file of a kernelspec, such as the logo JupyterLab
// shows in its launcher (GET /kernelspecs/{name}/{file}, outside /api).
// file is a name relative to the kernelspec's
// directory, such as "logo-64x64.png"; KernelSpec.ResourceFile gives it
// from a Resources key. The body is streamed, not read into memory: the
// caller reads it, bounded by ctx and Config.StreamIdleTimeout (see
// KernelSpecResource), and must Close it.
//
// An unknown kernelspec or file fails with ErrNotFound (Jupyter sends its
// HTML 404 page). Jupyter redirects a request without a valid token to its
// login page; Resource reports that as an error matching ErrUnauthorized.
//
// Python: none; the Python client has no such method.
func (s *KernelSpecsService) Resource(ctx context.Context, name, file string, opts ...CallOption) (*KernelSpecResource, error) {
	if err := validKernelSpecName(name); err != nil {
		return nil, err
	}
	escaped, err := escapeFile(file)
	if err != nil {
		return nil, err
	}
	p := "kernelspecs/" + name + "/" + escaped
	body, r, err := s.c.t.Stream(ctx, transport.Call{Method: "GET", Path: p}, opts)
	if err != nil {
		return nil, err
	}
	ct := r.Header.Get("Content-Type")
	if transport.IsHTML(ct) {
		transport.Drain(body)
		return nil, &loginPageError{path: s.c.t.BasePath() + p}
	}
	size := int64(-1)
	if n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
		size = n
	}
	return &KernelSpecResource{ReadCloser: body, ContentType: ct, Size: size}, nil
}

// decodeKernelSpec decodes one kernelspec model. A field of the wrong JSON
// type is kept in Malformed rather than failing the decode; a body that
// is not a JSON object is an error.
func decodeKernelSpec(raw []byte) (*KernelSpec, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, errors.New("null instead of a kernelspec")
	}
	ks := new(KernelSpec)
	err := json.Unmarshal(raw, ks)
	if err == nil {
		return ks, nil
	}
	if !isTypeError(err) {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("kernelspec is not a JSON object: %w", err)
	}
	ks = new(KernelSpec)
	bad := map[string]json.RawMessage{}
	decodeFields(obj, "", map[string]any{"name": &ks.Name, "resources": &ks.Resources}, bad)
	if sp, ok := obj["spec"]; ok {
		var sobj map[string]json.RawMessage
		if err := json.Unmarshal(sp, &sobj); err != nil {
			bad["spec"] = sp
		} else {
			f := &ks.KernelSpecFile
			decodeFields(sobj, "spec.", map[string]any{
				"display_name": &f.DisplayName, "language": &f.Language, "argv": &f.Argv, "env": &f.Env,
				"interrupt_mode": &f.InterruptMode, "metadata": &f.Metadata, "codemirror_mode": &f.CodemirrorMode,
				"help_links": &f.HelpLinks,
			}, bad)
		}
	}
	if len(bad) > 0 {
		ks.Malformed = bad
	}
	return ks, nil
}

// validKernelSpecName refuses names that Jupyter's route
// ([\w.\-%]+) cannot reach as one path segment. jupyter_client itself only
// installs names of ASCII letters, digits, ".", "_" and "-".
func validKernelSpecName(name string) error {
	if name == "" {
		return &ValidationError{Field: "name", Problem: "empty"}
	}
	if name == "." || name == ".." {
		return &ValidationError{Field: "name", Problem: "not a kernelspec name"}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(isWordByte(c) || c == '.' || c == '-') {
			return &ValidationError{Field: "name", Problem: "not a kernelspec name (ASCII letters, digits, '.', '_' and '-')"}
		}
	}
	return nil
}

// escapeFile validates a file path relative to a kernelspec's directory
// and escapes each of its segments: no empty, "." or ".." segment, so the
// request cannot leave the kernelspec's directory or reach another route.
func escapeFile(file string) (string, error) {
	if file == "" {
		return "", &ValidationError{Field: "file", Problem: "empty"}
	}
	segs := strings.Split(file, "/")
	for i, seg := range segs {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\\x00") {
			return "", &ValidationError{Field: "file", Problem: "not a relative file path (empty, '.', '..' or '\\' in it)"}
		}
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/"), nil
}

// isWordByte reports whether c is an ASCII word character: what Python's
// \w matches in Jupyter's routes, which see the path still percent-encoded.
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
