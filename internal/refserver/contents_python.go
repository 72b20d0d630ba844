package refserver

// Python behaviour the contents API shows on the wire: repr() of strings
// in messages, binascii's lenient base64 decoder and its 76-column
// encoder, float repr, and the mimetypes module's guesses.

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/nbserv/go-nbserv/internal/pyrepr"
)

// pyCharEscape is how repr() writes a character it cannot print.
func pyCharEscape(r rune) string {
	switch {
	case r < 0x100:
		return fmt.Sprintf(`\x%02x`, r)
	case r < 0x10000:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}

// b64Error is a binascii.Error message.
type b64Error string

func (e b64Error) Error() string { return string(e) }

// a2bBase64 decodes as Python's base64.decodebytes (binascii.a2b_base64,
// not strict): characters outside the alphabet are skipped, decoding
// stops at a complete pad, and a short final quantum is an error. The
// content must be ASCII, as Python encodes it first.
func a2bBase64(s string) ([]byte, error) {
	// Input Go's standard decoding accepts (the alphabet in whole quads,
	// padding only at the end, newlines anywhere) decodes to the same
	// bytes under Python's rules: the byte-by-byte decoding below is
	// needed only for what Go refuses, and is ten times slower.
	if out, err := base64.StdEncoding.DecodeString(s); err == nil {
		return out, nil
	}
	return a2bBase64Python(s)
}

// a2bBase64Python is a2bBase64 byte by byte, as binascii decodes.
func a2bBase64Python(s string) ([]byte, error) {
	for i, r := range s {
		if r >= 0x80 {
			pos := utf8.RuneCountInString(s[:i])
			return nil, b64Error(fmt.Sprintf("'ascii' codec can't encode character '%s' in position %d: ordinal not in range(128)", pyCharEscape(r), pos))
		}
	}
	out := make([]byte, 0, len(s)/4*3+3)
	var quad, pads int
	var left byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return out, nil
				}
			}
			continue
		}
		v := b64Value(c)
		if v < 0 {
			continue
		}
		pads = 0
		switch quad {
		case 0:
			quad, left = 1, byte(v)
		case 1:
			out = append(out, left<<2|byte(v)>>4)
			quad, left = 2, byte(v)&0x0f
		case 2:
			out = append(out, left<<4|byte(v)>>2)
			quad, left = 3, byte(v)&0x03
		case 3:
			out = append(out, left<<6|byte(v))
			quad, left = 0, 0
		}
	}
	switch quad {
	case 0:
		return out, nil
	case 1:
		return nil, b64Error(fmt.Sprintf("Invalid base64-encoded string: number of data characters (%d) cannot be 1 more than a multiple of 4", len(out)/3*4+1))
	}
	return nil, b64Error("Incorrect padding")
}

func b64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}

// encodeBytes is base64.encodebytes: lines of 76 characters, each ending
// in a newline; empty input gives "".
func encodeBytes(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	sb.Grow(len(enc) + len(enc)/76 + 1)
	for len(enc) > 76 {
		sb.WriteString(enc[:76])
		sb.WriteByte('\n')
		enc = enc[76:]
	}
	if enc != "" {
		sb.WriteString(enc)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// pyFloatRepr is repr() of a Python float.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity" // as json.dumps writes it
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	return pyrepr.Float(f)
}

// pyNumberText is how Python writes back a JSON number it read: ints as they
// were (but "-0" is 0), floats through float repr.
func pyNumberText(n string) string {
	if !strings.ContainsAny(n, ".eE") {
		if strings.TrimLeft(n, "-0") == "" {
			return "0"
		}
		return n
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil && !math.IsInf(f, 0) {
		return n
	}
	return pyFloatRepr(f)
}

// ---- mimetypes ----

var (
	mimeOnce  sync.Once
	mimeTypes map[string]string // extension (lower case, with dot) -> type
)

// mimeBuiltin holds Python's built-in strict types that Debian's
// /etc/mime.types does not also name, and the common ones, for machines
// without that file.
var mimeBuiltin = map[string]string{
	".txt": "text/plain", ".py": "text/x-python", ".json": "application/json", ".csv": "text/csv",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".svg": "image/svg+xml", ".html": "text/html", ".htm": "text/html", ".css": "text/css",
	".js": "text/javascript", ".md": "text/markdown", ".pdf": "application/pdf", ".zip": "application/zip",
	".tar": "application/x-tar", ".bin": "application/octet-stream", ".xml": "text/xml", ".c": "text/x-csrc",
	".h": "text/x-chdr", ".sh": "application/x-sh", ".wasm": "application/wasm", ".mp4": "video/mp4",
	".wiz": "application/msword", ".so": "application/octet-stream", ".xlb": "application/vnd.ms-excel",
	".ppa": "application/vnd.ms-powerpoint", ".pwz": "application/vnd.ms-powerpoint", ".h5": "application/x-hdf5",
	".xpdl": "application/xml", ".3gp": "audio/3gpp", ".3gpp": "audio/3gpp", ".3g2": "audio/3gpp2",
	".3gpp2": "audio/3gpp2", ".mht": "message/rfc822", ".mhtml": "message/rfc822", ".nws": "message/rfc822",
	".ksh": "text/plain", ".rtx": "text/richtext", ".mpa": "video/mpeg",
}

var mimeSuffixes = map[string]string{".svgz": ".svg.gz", ".tgz": ".tar.gz", ".taz": ".tar.gz", ".tz": ".tar.gz", ".tbz2": ".tar.bz2", ".txz": ".tar.xz"}

var mimeEncodings = map[string]string{".gz": "gzip", ".Z": "compress", ".bz2": "bzip2", ".xz": "xz", ".br": "br"}

// loadMimeTypes builds the table as Python's mimetypes.init does on
// Debian: the built-in map, then /etc/mime.types over it.
func loadMimeTypes() {
	mimeTypes = map[string]string{}
	for k, v := range mimeBuiltin {
		mimeTypes[k] = v
	}
	f, err := os.Open("/etc/mime.types")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		for _, ext := range fields[1:] {
			mimeTypes["."+ext] = fields[0]
		}
	}
}

// pySplitext is posixpath.splitext: leading dots of the name do not start
// an extension.
func pySplitext(p string) (base, ext string) {
	slash := strings.LastIndex(p, "/")
	dot := strings.LastIndex(p, ".")
	if dot <= slash {
		return p, ""
	}
	for i := slash + 1; i < dot; i++ {
		if p[i] != '.' {
			return p[:dot], p[dot:]
		}
	}
	return p, ""
}

// guessType is mimetypes.guess_type(p) (strict): the type ("" for None)
// and the encoding ("" for None).
func guessType(p string) (typ, encoding string) {
	mimeOnce.Do(loadMimeTypes)
	base, ext := pySplitext(p)
	for {
		s, ok := mimeSuffixes[strings.ToLower(ext)]
		if !ok {
			break
		}
		base, ext = pySplitext(base + s)
	}
	if enc, ok := mimeEncodings[ext]; ok {
		encoding = enc
		base, ext = pySplitext(base)
	}
	_ = base
	return mimeTypes[strings.ToLower(ext)], encoding
}
