package refserver

// The files of a kernelspec, served at /kernelspecs/{name}/{file} as
// Jupyter's static file handler serves a spec's resource dir. The logos
// are placeholders drawn here, of the right types and sizes; no Jupyter
// artwork is copied.

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

// kernelResourceRoute is Jupyter's route for a spec's files, matched on
// the escaped path below the prefix.
var kernelResourceRoute = regexp.MustCompile(`^kernelspecs/([\w.\-%]+)/(.*)$`)

// specFilesModTime is the Last-Modified of every spec file: fixed, so that
// conditional requests behave as on a server whose files do not change.
var specFilesModTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// specResource is one file of a spec's resource dir.
type specResource struct {
	contentType string
	body        []byte
	etag        string // as Tornado's: the SHA-512 of the body, quoted
}

func newSpecResource(contentType string, body []byte) specResource {
	sum := sha512.Sum512(body)
	return specResource{contentType: contentType, body: body, etag: `"` + hex.EncodeToString(sum[:]) + `"`}
}

// logos are the placeholder logos every spec has, drawn once: immutable
// after that, so sharing them between servers is safe.
var logos = sync.OnceValue(func() map[string]specResource {
	return map[string]specResource{
		"logo-32x32.png": newSpecResource("image/png", placeholderPNG(32)),
		"logo-64x64.png": newSpecResource("image/png", placeholderPNG(64)),
		"logo-svg.svg":   newSpecResource("image/svg+xml", []byte(placeholderSVG)),
	}
})

// placeholderPNG draws a size×size square: a blue ring on white.
func placeholderPNG(size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	c := float64(size-1) / 2
	for y := range size {
		for x := range size {
			d := (float64(x)-c)*(float64(x)-c) + (float64(y)-c)*(float64(y)-c)
			col := color.NRGBA{255, 255, 255, 255}
			if r := c * 0.8; d <= r*r && d >= r*r*0.45 {
				col = color.NRGBA{47, 95, 159, 255}
			}
			img.SetNRGBA(x, y, col)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // encoding an in-memory image to a buffer cannot fail
	return buf.Bytes()
}

const placeholderSVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
  <title>kernel (nbserv reference server placeholder)</title>
  <circle cx="32" cy="32" r="25" fill="none" stroke="#2f5f9f" stroke-width="8"/>
</svg>
`

// specResourceFile returns the file rel (relative to the spec's dir) of an
// installed spec: its kernel.json or a logo.
func specResourceFile(spec, rel string, gen int) (specResource, bool) {
	if rel == "kernel.json" {
		b, _ := json.MarshalIndent(specFile(spec, gen), "", " ") // as ipykernel writes it
		return newSpecResource("application/json", b), true
	}
	f, ok := logos()[rel]
	return f, ok
}

// kernelResource serves GET and HEAD /kernelspecs/{name}/{file} as
// Jupyter's KernelSpecResourceHandler does: any other method is a 405
// before the token is checked, a missing token redirects to the login
// page, and errors are HTML pages.
func (s *Server) kernelResource(w http.ResponseWriter, r *http.Request, rawName, rawFile string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if s.isGen2() { // 2.x's static file handler answers with no page
			emptyPage(w, http.StatusMethodNotAllowed)
			return
		}
		s.htmlError(w, r, http.StatusMethodNotAllowed, "")
		return
	}
	if !s.authorized(r) {
		s.loginRedirect(w, r)
		return
	}
	name, ok := pyUnquote(rawName)
	if !ok {
		s.htmlError(w, r, http.StatusBadRequest, "Invalid unicode in kernel_name: "+pyBytesRepr(name))
		return
	}
	file, ok := pyUnquote(rawFile)
	if !ok && s.isGen2() {
		emptyPage(w, http.StatusBadRequest)
		return
	}
	if !ok {
		s.htmlError(w, r, http.StatusBadRequest, "Invalid unicode in path: "+pyBytesRepr(file))
		return
	}
	spec := s.specNamed(name)
	if spec == "" {
		s.htmlError(w, r, http.StatusNotFound, "Kernel spec "+name+" not found")
		return
	}
	// Tornado resolves the file against the spec's dir as os.path would:
	// ".." may wander out (a 403), an absolute path replaces the dir, and
	// the dir itself is not a file.
	root := "/kernels/" + strings.ToLower(spec)
	abs := path.Join(root, file)
	if strings.HasPrefix(file, "/") {
		abs = path.Clean(file)
	}
	switch {
	case !strings.HasPrefix(abs+"/", root+"/"):
		s.htmlError(w, r, http.StatusForbidden, file+" is not in root static directory")
		return
	case abs == root:
		s.htmlError(w, r, http.StatusForbidden, file+" is not a file")
		return
	}
	res, ok := specResourceFile(spec, strings.TrimPrefix(abs, root+"/"), s.gen)
	if !ok {
		s.htmlError(w, r, http.StatusNotFound, "")
		return
	}
	h := w.Header()
	if strings.HasSuffix(strings.ToLower(file), ".png") {
		h.Set("Cache-Control", "max-age=2592000")
	}
	h.Set("Content-Type", res.contentType)
	h.Set("Etag", res.etag)
	// ServeContent answers Range (206), If-None-Match (304) and HEAD as
	// Tornado's static handler does.
	http.ServeContent(w, r, "", specFilesModTime, bytes.NewReader(res.body))
}
