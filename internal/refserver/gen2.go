package refserver

// The Jupyter Server 2.x personality (Options.Generation 2): what 2.21.1
// answers differently from 1.23.3, as docs/wire/jupyter-server-2.md
// G2 records it. Small route-specific differences live beside their 1.x
// code, guarded by s.isGen2(); this file holds what cuts across routes and
// the 2.x-only helpers.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// personalize rewrites an API answer built in 1.x's shape into 2.x's,
// where the two differ only in the body's form (jupyter-server-2.md,
// "Error bodies" and "Kernels"): an unhandled error keeps its
// traceback key but empty, and a failed restart carries a null reason
// instead of a traceback list; a contents model gains null hash keys.
func (s *Server) personalize(rp reply) reply {
	if s.gen < 2 {
		return rp
	}
	switch b := rp.body.(type) {
	case apiError:
		if b.Traceback != nil {
			empty := ""
			b.Traceback = &empty
			rp.body = b
		}
	case restartFailure:
		rp.body = apiError{Message: b.Message}
	case model: // contents models: hash keys (contents_gen2.go)
		rp.body = withHashKeys(b, nil)
	}
	return rp
}

// isGen2 reports whether the server answers as Jupyter Server 2.x.
func (s *Server) isGen2() bool { return s.gen >= 2 }

// joinTypeError is the TypeError 2.x's os.path.join raises for a session
// name that is not a string.
func joinTypeError(name any) string {
	return fmt.Sprintf("join() argument must be str, bytes, or os.PathLike object, not '%s'", pyType(name))
}

// sessionEnvCrash is the exception 2.x's get_kernel_env raises for a
// stored session row, or "": a name that is not a string cannot be
// joined to the kernel's cwd, and a null name needs a string path.
func sessionEnvCrash(sess *session) string {
	if sess.name != nil {
		if _, ok := sess.name.(string); !ok {
			return "TypeError: " + joinTypeError(sess.name)
		}
		return ""
	}
	if _, ok := sess.path.(string); !ok {
		return "AssertionError"
	}
	return ""
}

// legacyNotebook2 is 2.x's reading of the deprecated {"notebook": {...}}
// create body: the type becomes notebook whenever the key is there, and
// the path is notebook.name, else notebook.path (jupyter-server-2.md,
// "Sessions").
func legacyNotebook2(model map[string]any) (crash string) {
	nb, ok := model["notebook"]
	if !ok {
		return ""
	}
	model["type"] = "notebook"
	for _, key := range []string{"name", "path"} {
		found, crash := pyIn(key, nb)
		if crash != "" {
			return crash
		}
		if found {
			p, crash := pyIndex(nb, key)
			if crash != "" {
				return crash
			}
			model["path"] = p
			return ""
		}
	}
	return ""
}

// patchKernelSpec2 checks, as 2.x's PATCH does before starting a session's
// new kernel by name, everything that can fail: the session's path and
// name (for the kernel's cwd and environment) and the kernelspec. Any
// failure is 2.x's 501, whose message quotes the exception's text. The
// caller holds s.mu.
func (s *Server) patchKernelSpec2(sess *session, kn any) (string, *reply) {
	failed := func(exc string) *reply {
		return &reply{status: http.StatusNotImplemented, body: map[string]string{
			"message":       fmt.Sprintf("The '%s' kernel could not be started: %s", pyStr(kn), pyStrRepr(exc)),
			"short_message": fmt.Sprintf("Error starting kernel %s", pyStr(kn)),
		}}
	}
	if _, ok := sess.path.(string); !ok {
		return "", failed(fmt.Sprintf("'%s' object has no attribute 'strip'", pyType(sess.path)))
	}
	if _, ok := sess.name.(string); sess.name != nil && !ok {
		return "", failed(joinTypeError(sess.name))
	}
	spec, problem := s.kernelSpec(kn)
	if problem != nil {
		return "", failed(problem.msg)
	}
	return spec, nil
}

// emptyKernelID asks startKernelID for the empty id, which 2.x gives a
// kernel asked for with "kernel_id": "" (jupyter-server-2.md, "Kernels");
// no real id contains a NUL.
const emptyKernelID = "\x00"

// askedKernelID is the startKernelID argument for a kernel id a 2.x client
// asked for.
func askedKernelID(id string) string {
	if id == "" {
		return emptyKernelID
	}
	return id
}

// kernelLocation is the Location of a new kernel: Jupyter's
// url_path_join of the base URL, "api/kernels" and the url_escape'd id,
// which drops the empty id's slash.
func (s *Server) kernelLocation(id string) string {
	if id == "" {
		return s.prefix + "api/kernels"
	}
	return s.prefix + "api/kernels/" + url.QueryEscape(id)
}

// emptyPage is 2.x's answer to a method Tornado does not know on a page,
// to any method but GET and HEAD on a kernelspec's files, to a file path
// there that is not UTF-8 (400), and to a ?token= that is not UTF-8 on a
// page (400): text/html with no body.
func emptyPage(w http.ResponseWriter, status int) {
	writeBody(w, status, "text/html", "")
}

// badTokenEncoding is 2.x's answer to an API request whose ?token= is not
// UTF-8, where 1.x drops the connection.
func (s *Server) badTokenEncoding(r *http.Request) reply {
	raw := ""
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == "token" {
			raw = v
		}
	}
	b, err := url.QueryUnescape(raw)
	if err != nil {
		b = raw
	}
	return errorReply(http.StatusBadRequest, "Invalid unicode in token: "+pyBytesRepr(b))
}
