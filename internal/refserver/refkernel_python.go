package refserver

// Python's lexical side as the reference kernel needs it: the lexer its
// traceback highlighter and instrumentation share, CPython's repr of floats
// and strings, and the errors scripted steps raise. The language itself is
// gpython's (refkernel_interp.go).

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nbserv/go-nbserv/internal/pyrepr"
)

// cellLines splits a cell into lines as IPython numbers them: leading blank
// lines dropped.
func cellLines(code string) []string {
	lines := strings.Split(code, "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	return lines
}

// Lexing, shared with the highlighter.

type lexKind int

const (
	lexSpace lexKind = iota
	lexName
	lexNumber
	lexString
	lexOp
	lexPunct
	lexComment
	lexOther
)

type lexTok struct {
	kind       lexKind
	start, end int
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || (!first && c >= '0' && c <= '9')
}

// lexLine splits one line into Python tokens, the line read on its own: a
// string from an earlier line is not seen.
func lexLine(s string) []lexTok {
	toks, _ := lexLineIn(s, "")
	return toks
}

// lexCell splits a cell's lines into tokens, lexed as one text: a string
// over lines (triple-quoted, or a line end escaped by a backslash) is
// carried from line to line, one string token on each.
func lexCell(lines []string) [][]lexTok {
	out := make([][]lexTok, len(lines))
	open := ""
	for i, l := range lines {
		out[i], open = lexLineIn(l, open)
	}
	return out
}

// lexLineIn splits one line into tokens, the line starting inside a string
// that open (its closing quotes) ends when open is not empty. It returns
// the closing quotes of a string the line leaves open.
func lexLineIn(s, open string) ([]lexTok, string) {
	var out []lexTok
	i := 0
	if open != "" {
		i, open = quoteEnd(s, 0, open)
		if i > 0 {
			out = append(out, lexTok{lexString, 0, i})
		}
	}
	for i < len(s) {
		c, start := s[i], i
		kind := lexOther
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			for i < len(s) && strings.IndexByte(" \t\r\f", s[i]) >= 0 {
				i++
			}
			kind = lexSpace
		case c == '#':
			i, kind = len(s), lexComment
		case c == '\'' || c == '"':
			i, open = stringEnd(s, i)
			kind = lexString
		case isNameByte(c, true):
			for i < len(s) && isNameByte(s[i], false) {
				i++
			}
			kind = lexName
			if i < len(s) && (s[i] == '\'' || s[i] == '"') && isStringPrefix(s[start:i]) {
				i, open = stringEnd(s, i)
				kind = lexString
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			i, kind = numberEnd(s, i), lexNumber
		case strings.IndexByte("()[]{},:;", c) >= 0:
			i, kind = i+1, lexPunct
			if c == ':' && i < len(s) && s[i] == '=' {
				i, kind = i+1, lexOp
			}
		case strings.IndexByte("-~+/*%=<>&^|.!@", c) >= 0:
			i, kind = i+1, lexOp
			if i < len(s) {
				if two := s[start : i+1]; two == "!=" || two == "==" || two == "<<" || two == ">>" {
					i++
				}
			}
			if c == '!' && i == start+1 {
				kind = lexOther
			}
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		out = append(out, lexTok{kind, start, i})
	}
	return out, open
}

func isStringPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}

// stringEnd finds the end of the string literal whose quote is at s[i]
// on line s, and the closing quotes of the string if the line leaves it
// open.
func stringEnd(s string, i int) (int, string) {
	q := s[i : i+1]
	if strings.HasPrefix(s[i:], strings.Repeat(q, 3)) {
		return quoteEnd(s, i+3, strings.Repeat(q, 3))
	}
	return quoteEnd(s, i+1, q)
}

// quoteEnd finds the end of a string's text on line s from byte i: after
// its closing quotes q, else the line's end, which leaves it open (q
// returned) if it is triple-quoted or a backslash escapes the line end. An
// unterminated one-quote string (a syntax error) ends with its line.
func quoteEnd(s string, i int, q string) (int, string) {
	for j := i; j < len(s); j++ {
		switch {
		case s[j] == '\\':
			if j++; j >= len(s) || j == len(s)-1 && s[j] == '\r' {
				return len(s), q
			}
		case strings.HasPrefix(s[j:], q):
			return j + len(q), ""
		}
	}
	if len(q) == 3 {
		return len(s), q
	}
	return len(s), ""
}

func numberEnd(s string, i int) int {
	if strings.HasPrefix(s[i:], "0x") || strings.HasPrefix(s[i:], "0X") || strings.HasPrefix(s[i:], "0o") ||
		strings.HasPrefix(s[i:], "0b") || strings.HasPrefix(s[i:], "0O") || strings.HasPrefix(s[i:], "0B") {
		i += 2
		for i < len(s) && (hexByte(s[i]) || s[i] == '_') {
			i++
		}
		return i
	}
	digits := func() {
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
			i++
		}
	}
	digits()
	if i < len(s) && s[i] == '.' {
		i++
		digits()
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			i = j
			digits()
		}
	}
	if i < len(s) && (s[i] == 'j' || s[i] == 'J') {
		i++
	}
	return i
}

// pyReprFloat is Python's repr of a float: the shortest digits that round
// trip, positional from 1e-4 to 1e16, with ".0" on integral values.
func pyReprFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return pyrepr.Float(f)
}

// pyReprStr is Python's repr of a str.
func pyReprStr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r >= 0x20 && r < 0x7f || r > 0x7f && unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			pyrepr.WriteEscape(&b, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// The errors scripted steps raise, as IPython renders them.

func keyboardInterrupt(x *execution, lines []string, line int, alone bool, call span) *failure {
	if !alone {
		call = span{}
	}
	return &failure{ename: "KeyboardInterrupt", traceback: cellTraceback(x.style, "KeyboardInterrupt", "", x.count, lines, line, call)}
}

const stdinNotAllowedText = "raw_input was called, but this frontend does not support input requests."

func stdinNotAllowed(x *execution, lines []string, line int, hl ...span) *failure {
	h := span{}
	if len(hl) > 0 {
		h = hl[0]
	}
	return &failure{ename: "StdinNotImplementedError", evalue: stdinNotAllowedText,
		traceback: cellTraceback(x.style, "StdinNotImplementedError", stdinNotAllowedText, x.count, lines, line, h, stdinNotAllowedFrames(x.style)...)}
}

func interruptedInput(x *execution, lines []string, line int, hl ...span) *failure {
	h := span{}
	if len(hl) > 0 {
		h = hl[0]
	}
	return &failure{ename: "KeyboardInterrupt", evalue: "Interrupted by user",
		traceback: cellTraceback(x.style, "KeyboardInterrupt", "Interrupted by user", x.count, lines, line, h, inputInterruptedFrames(x.style)...)}
}
