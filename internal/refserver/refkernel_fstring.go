package refserver

// f-strings for gpython, which cannot parse them: before the cell is
// parsed, each run of adjacent string literals that holds an f-string is
// rewritten as a call the kernel answers,
//
//	f'a{x!r:>{w}}b' 'c'  ->  __nbserv_fstr__('a', __nbserv_fmt__((x), 'r', __nbserv_fstr__('>', __nbserv_fmt__((w), '', ''))), 'b', 'c')
//
// The literal pieces keep the literal's own prefix (less the f) and
// quotes, so gpython decodes their escapes; every newline of the source is
// kept, so line numbers stay the user's. The rules are Python 3.11's, the
// Python of the kernels the differential test compares with: the literal
// ends where a plain string would (a quote of its own kind inside braces
// ends it), an expression may not hold a backslash or a '#', specs nest
// two deep, and what Python rejects is a SyntaxError with Python's
// message.

import (
	"strings"

	"github.com/go-python/gpython/py"
)

const (
	// fstrName joins an f-string's pieces; fmtName formats one field.
	fstrName = "__nbserv_fstr__"
	fmtName  = "__nbserv_fmt__"
	// maxFstringNesting is Python's: a spec's field may hold a spec, whose
	// fields may not.
	maxFstringNesting = 2
)

// fstringError is the SyntaxError Python raises for a malformed f-string.
func fstringError(msg string) error {
	return py.ExceptionNewf(py.SyntaxError, "%s", msg)
}

// strLit is one string literal of the source: src[start:end], its prefix
// src[start:body-len(quote)], its body src[body:end-len(quote)].
type strLit struct {
	start, body, end int
	prefix, quote    string
}

func (l strLit) isF() bool   { return strings.ContainsAny(l.prefix, "fF") }
func (l strLit) isRaw() bool { return strings.ContainsAny(l.prefix, "rR") }

// validPrefix is whether p is a string prefix Python 3 knows.
func validPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "", "r", "u", "b", "br", "rb", "f", "fr", "rf":
		return true
	}
	return false
}

// scanString returns the end of the literal whose opening quote is at i
// and the quote, or -1 when it does not end.
func scanString(src string, i int) (end int, quote string) {
	q := src[i]
	quote = string(q)
	if strings.HasPrefix(src[i:], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	for j := i + len(quote); j < len(src); j++ {
		switch {
		case src[j] == '\\':
			j++
		case src[j] == '\n' && len(quote) == 1:
			return -1, quote
		case strings.HasPrefix(src[j:], quote):
			return j + len(quote), quote
		}
	}
	return -1, quote
}

// transformFstrings rewrites the f-strings of src, or returns src as it is
// when it holds none. A literal it cannot lex is left for gpython's
// parser to report.
func transformFstrings(src string) (string, error) {
	if !strings.ContainsAny(src, "fF") {
		return src, nil
	}
	return fstrings(src, 0)
}

// fstrings rewrites the f-strings of src, a cell (depth 0) or an
// f-string's expression (depth 1: it is in parentheses).
func fstrings(src string, depth int) (string, error) {
	var out strings.Builder
	var run []strLit // adjacent literals, not yet written
	// flush writes the run, then what follows it up to upto.
	flush := func(upto int) error {
		if len(run) == 0 {
			return nil
		}
		last := run[len(run)-1].end
		hasF := false
		for _, l := range run {
			hasF = hasF || l.isF()
		}
		if !hasF {
			out.WriteString(src[run[0].start:last])
		} else {
			out.WriteString(fstrName + "(")
			for k, l := range run {
				if k > 0 {
					// What separated the literals: spaces, line
					// continuations, newlines and comments in brackets.
					out.WriteString(", " + src[run[k-1].end:l.start])
				}
				if err := writeLiteral(&out, src, l); err != nil {
					if e, ok := err.(*py.Exception); ok && depth == 0 {
						// Where CPython 3.11 points: just after the
						// literal (the outermost, for a nested one);
						// gpython's offsets, which the traceback
						// takes, count from 0.
						e.Dict["lineno"] = py.Int(strings.Count(src[:l.end], "\n") + 1)
						e.Dict["offset"] = py.Int(l.end - strings.LastIndexByte(src[:l.end], '\n') - 1)
					}
					return err
				}
			}
			out.WriteString(")")
		}
		out.WriteString(src[last:upto])
		run = run[:0]
		return nil
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '#':
			e := strings.IndexByte(src[i:], '\n')
			if e < 0 {
				e = len(src) - i
			}
			if len(run) == 0 {
				out.WriteString(src[i : i+e])
			}
			i += e
		case c == '\n' && depth == 0:
			// A statement's end ends a run.
			if err := flush(i); err != nil {
				return "", err
			}
			out.WriteByte(c)
			i++
		case c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\n':
			if len(run) == 0 {
				out.WriteByte(c)
			}
			i++
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			if len(run) == 0 {
				out.WriteString(src[i : i+2])
			}
			i += 2
		case c == '\'' || c == '"' || isNameByte(c, true):
			j := i
			for j < len(src) && isNameByte(src[j], false) {
				j++
			}
			if j < len(src) && (src[j] == '\'' || src[j] == '"') && validPrefix(src[i:j]) {
				end, quote := scanString(src, j)
				if end < 0 {
					// Unterminated: gpython's parser says so.
					if err := flush(i); err != nil {
						return "", err
					}
					out.WriteString(src[i:])
					return out.String(), nil
				}
				run = append(run, strLit{start: i, body: j + len(quote), end: end, prefix: src[i:j], quote: quote})
				i = end
				continue
			}
			if err := flush(i); err != nil {
				return "", err
			}
			out.WriteString(src[i:j])
			i = j
		default:
			if err := flush(i); err != nil {
				return "", err
			}
			j := i + 1
			switch {
			case c >= '0' && c <= '9' || c == '.':
				// A number's letters (1e5, 0xff, 1if x else 2) are no prefix.
				for j < len(src) && (isNameByte(src[j], false) || src[j] == '.') {
					j++
				}
			case c == '(' || c == '[' || c == '{':
				depth++
			case (c == ')' || c == ']' || c == '}') && depth > 0:
				depth--
			}
			out.WriteString(src[i:j])
			i = j
		}
	}
	if err := flush(len(src)); err != nil {
		return "", err
	}
	return out.String(), nil
}

// writePiece writes text as a literal with l's prefix (less the f) and
// quotes: the f-string's own text between its fields, whose escapes
// gpython decodes as it would the f-string's.
func writePiece(out *strings.Builder, l strLit, text string) {
	prefix := strings.NewReplacer("f", "", "F", "").Replace(l.prefix)
	raw := l.isRaw()
	tail := ""
	if len(l.quote) == 3 && strings.HasSuffix(text, l.quote[:1]) {
		// '''a'{x}''' would give '''a'''': the quote goes on its own.
		text, tail = text[:len(text)-1], pyReprStr(l.quote[:1])
	}
	if n := len(text) - len(strings.TrimRight(text, `\`)); n%2 == 1 {
		// The backslash escaped the quote just taken off, or (raw) is a
		// backslash of its own, which a raw literal cannot end with.
		text = text[:len(text)-1]
		if raw {
			tail = strings.TrimSpace(`'\\' ` + tail)
		}
	}
	out.WriteString(prefix + l.quote + text + l.quote)
	if tail != "" {
		out.WriteString(" " + tail)
	}
}

// writeLiteral writes one literal of a run as call arguments.
func writeLiteral(out *strings.Builder, src string, l strLit) error {
	if !l.isF() {
		out.WriteString(src[l.start:l.end])
		return nil
	}
	body := src[l.body : l.end-len(l.quote)]
	args, _, err := fstringBody(body, l, 0, false)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		args = []string{"''"}
	}
	out.WriteString(strings.Join(args, ", "))
	return nil
}

// fstringBody parses an f-string's body (or a spec's, inSpec, which ends
// at its field's '}') into call arguments, and returns how much of body
// it used.
func fstringBody(body string, l strLit, level int, inSpec bool) (args []string, used int, err error) {
	var lit strings.Builder
	piece := func() {
		if lit.Len() > 0 {
			var b strings.Builder
			writePiece(&b, l, lit.String())
			args = append(args, b.String())
			lit.Reset()
		}
	}
	raw := l.isRaw()
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\\' && !raw && i+1 < len(body):
			if body[i+1] == 'N' && i+2 < len(body) && body[i+2] == '{' {
				// \N{NAME}: its braces are the escape's.
				e := strings.IndexByte(body[i:], '}')
				if e < 0 {
					e = len(body) - i - 1
				}
				lit.WriteString(body[i : i+e+1])
				i += e + 1
				continue
			}
			if body[i+1] == '{' || body[i+1] == '}' {
				lit.WriteString(`\\`)
				i++
				continue
			}
			lit.WriteString(body[i : i+2])
			i += 2
		case c == '{' && !inSpec && i+1 < len(body) && body[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && inSpec:
			piece()
			return args, i, nil
		case c == '}':
			if i+1 < len(body) && body[i+1] == '}' {
				lit.WriteByte('}')
				i += 2
				continue
			}
			return nil, 0, fstringError("f-string: single '}' is not allowed")
		case c == '{':
			piece()
			if level >= maxFstringNesting {
				return nil, 0, fstringError("f-string: expressions nested too deeply")
			}
			field, n, err := fstringField(body[i+1:], l, level)
			if err != nil {
				return nil, 0, err
			}
			args = append(args, field...)
			i += 1 + n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	if inSpec {
		return nil, 0, fstringError("f-string: expecting '}'")
	}
	piece()
	return args, len(body), nil
}

// fstringField parses a replacement field after its '{' into call
// arguments (a debug field's text, then its value) and returns how much
// it used, its closing '}' included.
func fstringField(s string, l strLit, level int) (args []string, used int, err error) {
	depth := 0
	i := 0
	var stop byte
scan:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			return nil, 0, fstringError("f-string expression part cannot include a backslash")
		case c == '#':
			return nil, 0, fstringError("f-string expression part cannot include '#'")
		case c == '\'' || c == '"':
			end, _ := scanString(s, i)
			if end < 0 {
				return nil, 0, fstringError("f-string: unterminated string")
			}
			i = end - 1
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || (c == '}' && depth > 0):
			if depth == 0 {
				return nil, 0, fstringError("f-string: unmatched '" + string(c) + "'")
			}
			depth--
		case depth == 0 && strings.IndexByte("!:}=<>", c) >= 0:
			if i+1 < len(s) && s[i+1] == '=' && c != ':' && c != '}' {
				i++ // != == <= >=
				continue
			}
			if c == '<' || c == '>' {
				continue
			}
			stop = c
			break scan
		}
	}
	expr := s[:i]
	if stop == 0 {
		return nil, 0, fstringError("f-string: expecting '}'")
	}
	if strings.TrimSpace(expr) == "" {
		return nil, 0, fstringError("f-string: empty expression not allowed")
	}
	conv, debug := "", false
	if stop == '=' {
		debug = true
		i++
		for i < len(s) && strings.IndexByte(" \t\n\r\f", s[i]) >= 0 {
			i++
		}
		args = append(args, pyReprStr(s[:i]))
		if i >= len(s) {
			return nil, 0, fstringError("f-string: expecting '}'")
		}
		stop = s[i]
	}
	if stop == '!' {
		if i+1 >= len(s) {
			return nil, 0, fstringError("f-string: expecting '}'")
		}
		conv = s[i+1 : i+2]
		if conv != "s" && conv != "r" && conv != "a" {
			return nil, 0, fstringError("f-string: invalid conversion character: expected 's', 'r', or 'a'")
		}
		i += 2
		if i >= len(s) || (s[i] != ':' && s[i] != '}') {
			return nil, 0, fstringError("f-string: expecting '}'")
		}
		stop = s[i]
	}
	spec := "''"
	if stop == ':' {
		specArgs, n, err := fstringBody(s[i+1:], l, level+1, true)
		if err != nil {
			return nil, 0, err
		}
		switch len(specArgs) {
		case 0:
		case 1:
			spec = specArgs[0]
		default:
			spec = fstrName + "(" + strings.Join(specArgs, ", ") + ")"
		}
		i += 1 + n
	}
	if i >= len(s) || s[i] != '}' {
		return nil, 0, fstringError("f-string: expecting '}'")
	}
	if debug && conv == "" && spec == "''" {
		conv = "r" // a debug field repr()s its value unless given a spec
	}
	inner, err := fstrings(expr, 1)
	if err != nil {
		return nil, 0, err
	}
	args = append(args, fmtName+"(("+inner+"), '"+conv+"', "+spec+")")
	return args, i + 1, nil
}
