package refserver

// The reference kernel's default: the few forms it runs itself, with
// ipykernel's outputs, so examples and docs work with no Python. It is
// not Python: a cell it cannot run as a whole is refused, before running
// anything, with a NotImplementedError output saying so. The forms, one
// statement per line or separated by ";":
//
//	print(v, ..., sep=s, end=s)   v: literal expressions
//	literal expressions           ints, floats, strings, True, False, None, + - * and ( )
//	raise E / raise E() / raise E(v)   E a built-in exception
//	import time
//	time.sleep(n)                  interruptible; NameError before import time
//	input() / input(v)             input_request on stdin
//	pass, comments, blank lines
//
// A bare unknown name (or a call of one) is a NameError, as in a fresh
// kernel. The last statement's value is the execute_result, unless the
// cell ends with ";".

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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

// lexLine splits one line into Python tokens. Strings do not span lines.
func lexLine(s string) []lexTok {
	var out []lexTok
	for i := 0; i < len(s); {
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
			i, kind = stringEnd(s, i), lexString
		case isNameByte(c, true):
			for i < len(s) && isNameByte(s[i], false) {
				i++
			}
			kind = lexName
			if i < len(s) && (s[i] == '\'' || s[i] == '"') && isStringPrefix(s[start:i]) {
				i, kind = stringEnd(s, i), lexString
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
	return out
}

func isStringPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}

// stringEnd finds the end of the string literal whose quote is at s[i];
// an unterminated one runs to the end of the line.
func stringEnd(s string, i int) int {
	q := s[i]
	if strings.HasPrefix(s[i:], strings.Repeat(string(q), 3)) {
		if end := strings.Index(s[i+3:], strings.Repeat(string(q), 3)); end >= 0 {
			return i + 3 + end + 3
		}
		return len(s)
	}
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j + 1
		}
	}
	return len(s)
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

// Values.

type pyKind int

const (
	valNone pyKind = iota
	valBool
	valInt
	valFloat
	valStr
)

type pyValue struct {
	kind pyKind
	b    bool
	i    *big.Int
	f    float64
	s    string
}

// Limits that keep a hostile cell from costing the server much: Python's
// own int string limit, and a bound on strings the kernel builds.
const (
	maxIntDigits = 4300
	maxIntBits   = 1 << 16
	maxStrBytes  = 1 << 20
)

func (v pyValue) repr() string {
	switch v.kind {
	case valBool:
		if v.b {
			return "True"
		}
		return "False"
	case valInt:
		return v.i.String()
	case valFloat:
		return pyReprFloat(v.f)
	case valStr:
		return pyReprStr(v.s)
	}
	return "None"
}

func (v pyValue) str() string {
	if v.kind == valStr {
		return v.s
	}
	return v.repr()
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
	e := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±xx
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			return sign + "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			return sign + digits[:decpt] + "." + digits[decpt:]
		}
	}
	m := digits[:1]
	if len(digits) > 1 {
		m += "." + digits[1:]
	}
	es := "+"
	if exp < 0 {
		es, exp = "-", -exp
	}
	return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
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
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// Parsing. A statement is parsed from its tokens (spaces and comments
// dropped); errUnsupported marks anything outside the forms.

type exprKind int

const (
	eLit exprKind = iota
	eName
	eUnary
	eBinary
)

type expr struct {
	kind       exprKind
	val        pyValue
	name       string
	op         byte
	x, y       *expr
	start, end int // byte range in the line
}

type stmtKind int

const (
	sPass stmtKind = iota
	sImport
	sRaise
	sExpr  // an expression statement
	sPrint // print(...)
	sInput // input(...)
	sSleep // time.sleep(...)
	sCall  // a call of an unknown name: NameError
)

type stmt struct {
	kind       stmtKind
	line       int // 1-based
	start, end int // byte range in the line
	alone      bool
	name       string // module, exception or unknown name
	nameStart  int
	nameEnd    int
	args       []*expr
	sep, end_  *expr
	arg        *expr // expression; raise or sleep argument
	argGiven   bool
}

type parser struct {
	line string
	toks []lexTok
	pos  int
}

type unsupported struct{}

func (p *parser) peek() (lexTok, string) {
	if p.pos >= len(p.toks) {
		return lexTok{kind: lexOther, start: len(p.line), end: len(p.line)}, ""
	}
	t := p.toks[p.pos]
	return t, p.line[t.start:t.end]
}

func (p *parser) next() (lexTok, string) {
	t, s := p.peek()
	if p.pos >= len(p.toks) {
		panic(unsupported{})
	}
	p.pos++
	return t, s
}

func (p *parser) expect(text string) lexTok {
	t, s := p.next()
	if s != text {
		panic(unsupported{})
	}
	return t
}

func (p *parser) atEnd() bool { return p.pos >= len(p.toks) }

// parseStmt parses one statement, or reports false.
func parseStmt(line string, toks []lexTok) (st stmt, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, is := r.(unsupported); !is {
				panic(r)
			}
			ok = false
		}
	}()
	p := &parser{line: line, toks: toks}
	st.start, st.end = toks[0].start, toks[len(toks)-1].end
	_, first := p.peek()
	switch {
	case first == "pass" && len(toks) == 1:
		p.next()
		st.kind = sPass
	case first == "import":
		p.next()
		if _, mod := p.next(); mod == "time" && p.atEnd() {
			st.kind, st.name = sImport, mod
		} else {
			panic(unsupported{})
		}
	case first == "raise":
		p.next()
		t, name := p.next()
		if !raisable[name] {
			panic(unsupported{})
		}
		st.kind, st.name, st.nameStart, st.nameEnd = sRaise, name, t.start, t.end
		if !p.atEnd() {
			p.expect("(")
			if _, s := p.peek(); s != ")" {
				st.arg, st.argGiven = p.expr(), true
			}
			p.expect(")")
		}
	case first == "print" || first == "input":
		p.next()
		p.expect("(")
		st.kind = sPrint
		if first == "input" {
			st.kind = sInput
		}
		for {
			if _, s := p.peek(); s == ")" {
				break
			}
			if t, s := p.peek(); t.kind == lexName && st.kind == sPrint && (s == "sep" || s == "end") &&
				p.pos+1 < len(p.toks) && line[p.toks[p.pos+1].start:p.toks[p.pos+1].end] == "=" {
				p.pos += 2
				if s == "sep" {
					st.sep = p.expr()
				} else {
					st.end_ = p.expr()
				}
			} else if st.sep == nil && st.end_ == nil {
				st.args = append(st.args, p.expr())
			} else {
				panic(unsupported{})
			}
			if _, s := p.peek(); s != "," {
				break
			}
			p.next()
		}
		p.expect(")")
		if st.kind == sInput && len(st.args) > 1 {
			panic(unsupported{})
		}
	case first == "time" && len(toks) > 2 && line[toks[1].start:toks[1].end] == "." && line[toks[2].start:toks[2].end] == "sleep":
		t, _ := p.next()
		st.kind, st.name, st.nameStart, st.nameEnd = sSleep, "time", t.start, t.end
		p.next()
		p.next()
		p.expect("(")
		st.arg = p.expr()
		p.expect(")")
	default:
		if t, name := p.peek(); t.kind == lexName && !pyKeywords[name] && !pyOpWords[name] && !pyBuiltins[name] &&
			len(toks) > 1 && line[toks[1].start:toks[1].end] == "(" {
			// A call of a name no one defined: NameError before the
			// arguments are looked at.
			st.kind, st.name, st.nameStart, st.nameEnd = sCall, name, t.start, t.end
			return st, true
		}
		st.kind = sExpr
		st.arg = p.expr()
	}
	if !p.atEnd() {
		panic(unsupported{})
	}
	return st, true
}

// raisable are the built-in exceptions a cell may raise, whose str() is
// their argument's (KeyError's is its repr).
var raisable = setOf("Exception", "ValueError", "TypeError", "RuntimeError", "NameError", "ZeroDivisionError",
	"AssertionError", "NotImplementedError", "IndexError", "AttributeError", "ArithmeticError", "LookupError",
	"KeyError", "OSError", "TimeoutError", "KeyboardInterrupt", "OverflowError", "RecursionError",
	"PermissionError", "FileNotFoundError", "ConnectionError", "MemoryError", "UnicodeError", "BufferError")

// Expressions: + and - over * over unary, Python's precedence.

func (p *parser) expr() *expr {
	x := p.term()
	for {
		_, s := p.peek()
		if s != "+" && s != "-" {
			return x
		}
		p.next()
		y := p.term()
		x = &expr{kind: eBinary, op: s[0], x: x, y: y, start: x.start, end: y.end}
	}
}

func (p *parser) term() *expr {
	x := p.unary()
	for {
		if _, s := p.peek(); s != "*" {
			return x
		}
		p.next()
		if _, s := p.peek(); s == "*" {
			panic(unsupported{}) // ** is not among the forms
		}
		y := p.unary()
		x = &expr{kind: eBinary, op: '*', x: x, y: y, start: x.start, end: y.end}
	}
}

func (p *parser) unary() *expr {
	t, s := p.peek()
	if s == "-" || s == "+" {
		p.next()
		x := p.unary()
		return &expr{kind: eUnary, op: s[0], x: x, start: t.start, end: x.end}
	}
	return p.atom()
}

func (p *parser) atom() *expr {
	t, s := p.next()
	switch {
	case s == "(":
		x := p.expr()
		end := p.expect(")")
		x.start, x.end = t.start, end.end
		return x
	case t.kind == lexNumber:
		return &expr{kind: eLit, val: parseNumber(s), start: t.start, end: t.end}
	case t.kind == lexString:
		str := parseString(s)
		end := t.end
		for {
			nt, ns := p.peek()
			if nt.kind != lexString {
				break
			}
			p.next()
			str += parseString(ns)
			end = nt.end
		}
		if len(str) > maxStrBytes {
			panic(unsupported{})
		}
		return &expr{kind: eLit, val: pyValue{kind: valStr, s: str}, start: t.start, end: end}
	case s == "True" || s == "False":
		return &expr{kind: eLit, val: pyValue{kind: valBool, b: s == "True"}, start: t.start, end: t.end}
	case s == "None":
		return &expr{kind: eLit, val: pyValue{kind: valNone}, start: t.start, end: t.end}
	case t.kind == lexName && !pyKeywords[s] && !pyOpWords[s] && !pyBuiltins[s] && !pyExceptions[s]:
		if _, ns := p.peek(); ns == "(" || ns == "." {
			panic(unsupported{}) // calls and attributes only as whole statements
		}
		return &expr{kind: eName, name: s, start: t.start, end: t.end}
	}
	panic(unsupported{})
}

func parseNumber(s string) pyValue {
	if strings.ContainsAny(s, "xXoObBjJ") || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		panic(unsupported{})
	}
	clean := strings.ReplaceAll(s, "_", "")
	if !strings.ContainsAny(clean, ".eE") {
		if len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
			panic(unsupported{}) // a leading zero is a SyntaxError in Python 3
		}
		if len(clean) > maxIntDigits {
			panic(unsupported{})
		}
		i, ok := new(big.Int).SetString(clean, 10)
		if !ok {
			panic(unsupported{})
		}
		return pyValue{kind: valInt, i: i}
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil && !math.IsInf(f, 0) {
		panic(unsupported{})
	}
	return pyValue{kind: valFloat, f: f}
}

// parseString decodes a plain (unprefixed, single-line) string literal.
func parseString(lit string) string {
	if len(lit) < 2 || (lit[0] != '\'' && lit[0] != '"') || lit[len(lit)-1] != lit[0] ||
		strings.HasPrefix(lit, `"""`) || strings.HasPrefix(lit, `'''`) || escapedAt(lit, len(lit)-1) {
		panic(unsupported{})
	}
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		n := escapeLen(body[i:])
		if n == 0 {
			b.WriteByte(c) // Python keeps an unknown escape as it is
			continue
		}
		esc := body[i : i+n]
		i += n - 1
		switch esc[1] {
		case '\\', '\'', '"':
			b.WriteByte(esc[1])
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'x', 'u', 'U':
			r, _ := strconv.ParseUint(esc[2:], 16, 32)
			if r > unicode.MaxRune || (r >= 0xd800 && r < 0xe000) {
				panic(unsupported{})
			}
			b.WriteRune(rune(r))
		case 'N':
			panic(unsupported{})
		default: // octal
			r, _ := strconv.ParseUint(esc[1:], 8, 32)
			b.WriteRune(rune(r))
		}
	}
	return b.String()
}

// cellProgram is a parsed cell.
type cellProgram struct {
	lines    []string
	stmts    []stmt
	suppress bool // the cell ends with ";": no execute_result
}

// parseCell parses the cell or returns the 1-based line it cannot run.
func parseCell(code string) (cellProgram, int) {
	prog := cellProgram{lines: cellLines(code)}
	last := ""
	for n, line := range prog.lines {
		toks := lexLine(line)
		var cur []lexTok
		var stmts []stmt
		depth := 0
		flush := func() bool {
			if len(cur) == 0 {
				return true
			}
			st, ok := parseStmt(line, cur)
			st.line = n + 1
			stmts = append(stmts, st)
			cur = nil
			return ok
		}
		for _, t := range toks {
			text := line[t.start:t.end]
			switch {
			case t.kind == lexSpace || t.kind == lexComment:
				continue
			case t.kind == lexPunct && text == ";" && depth == 0:
				if !flush() {
					return prog, n + 1
				}
				last = ";"
				continue
			case t.kind == lexPunct && strings.Contains("([{", text):
				depth++
			case t.kind == lexPunct && strings.Contains(")]}", text):
				depth--
			case t.kind == lexOther:
				return prog, n + 1
			}
			cur = append(cur, t)
			last = text
		}
		if depth != 0 || !flush() {
			return prog, n + 1
		}
		if len(toks) > 0 && toks[0].kind == lexSpace && len(stmts) > 0 {
			return prog, n + 1 // indentation: blocks are not among the forms
		}
		for i := range stmts {
			stmts[i].alone = len(stmts) == 1
		}
		prog.stmts = append(prog.stmts, stmts...)
	}
	prog.suppress = last == ";"
	return prog, 0
}

// Running.

// runDefault runs a cell with the default forms. The caller holds s.mu.
func (s *Server) runDefault(rt *kernelRuntime, x *execution) (*failure, error) {
	prog, bad := parseCell(x.code)
	if bad != 0 {
		return notImplemented(x, prog.lines, bad), nil
	}
	for i, st := range prog.stmts {
		isLast := i == len(prog.stmts)-1
		var value *pyValue
		hl := func(start, end int) span {
			if st.alone {
				return span{start, end}
			}
			return span{}
		}
		switch st.kind {
		case sPass:
		case sImport:
			rt.proc.imported[st.name] = true
		case sRaise:
			evalue := ""
			if st.argGiven {
				v, fail := eval(x, prog.lines, st, st.arg)
				if fail != nil {
					return fail, nil
				}
				evalue = v.str()
				if st.name == "KeyError" {
					evalue = v.repr()
				}
			}
			return &failure{ename: st.name, evalue: evalue,
				traceback: cellTraceback(st.name, evalue, x.count, prog.lines, st.line, span{})}, nil
		case sCall:
			if rt.proc.imported[st.name] {
				return notImplemented(x, prog.lines, st.line), nil
			}
			return nameError(x, prog.lines, st.line, st.name, hl(st.nameStart, st.nameEnd)), nil
		case sPrint:
			sep, end := " ", "\n"
			var parts []string
			for _, a := range st.args {
				v, fail := eval(x, prog.lines, st, a)
				if fail != nil {
					return fail, nil
				}
				parts = append(parts, v.str())
			}
			for _, o := range []struct {
				e   *expr
				dst *string
			}{{st.sep, &sep}, {st.end_, &end}} {
				if o.e == nil {
					continue
				}
				v, fail := eval(x, prog.lines, st, o.e)
				if fail != nil {
					return fail, nil
				}
				switch v.kind {
				case valStr:
					*o.dst = v.s
				case valNone:
				default:
					return notImplemented(x, prog.lines, st.line), nil
				}
			}
			text := strings.Join(parts, sep) + end
			if x.stdout.Len()+len(text) > maxStrBytes {
				s.flush(rt, x)
			}
			s.write(x, "stdout", text)
			value = &pyValue{kind: valNone}
		case sInput:
			prompt := ""
			if len(st.args) == 1 {
				v, fail := eval(x, prog.lines, st, st.args[0])
				if fail != nil {
					return fail, nil
				}
				prompt = v.str()
			}
			if !x.allowStdin {
				return stdinNotAllowed(x, prog.lines, st.line, hl(st.start, st.end)), nil
			}
			answer, err := s.ask(rt, x, prompt, false)
			if err != nil {
				return interruptedInput(x, prog.lines, st.line, hl(st.start, st.end)), err
			}
			value = &pyValue{kind: valStr, s: answer}
		case sSleep:
			if !rt.proc.imported["time"] {
				return nameError(x, prog.lines, st.line, "time", hl(st.nameStart, st.nameEnd)), nil
			}
			v, fail := eval(x, prog.lines, st, st.arg)
			if fail != nil {
				return fail, nil
			}
			secs := 0.0
			switch v.kind {
			case valInt:
				secs, _ = new(big.Float).SetInt(v.i).Float64()
			case valFloat:
				secs = v.f
			case valBool:
				if v.b {
					secs = 1
				}
			default:
				return notImplemented(x, prog.lines, st.line), nil
			}
			if secs < 0 || math.IsNaN(secs) {
				return notImplemented(x, prog.lines, st.line), nil
			}
			d := time.Duration(math.Min(secs, float64(math.MaxInt64/int64(time.Second))) * float64(time.Second))
			if err := s.sleep(rt, x, d); err != nil {
				return keyboardInterrupt(x, prog.lines, st.line, st.alone, span{st.start, st.end}), err
			}
			value = &pyValue{kind: valNone}
		case sExpr:
			v, fail := eval(x, prog.lines, st, st.arg)
			if fail != nil {
				return fail, nil
			}
			value = &v
		}
		if isLast && value != nil && value.kind != valNone && !prog.suppress {
			s.result(rt, x, map[string]any{"text/plain": value.repr()}, nil)
		}
	}
	return nil, nil
}

// eval evaluates an expression of a statement.
func eval(x *execution, lines []string, st stmt, e *expr) (pyValue, *failure) {
	switch e.kind {
	case eLit:
		return e.val, nil
	case eName:
		if x.imported[e.name] {
			return pyValue{}, notImplemented(x, lines, st.line) // a module object
		}
		hl := span{}
		if st.alone {
			hl = span{e.start, e.end}
		}
		return pyValue{}, nameError(x, lines, st.line, e.name, hl)
	case eUnary:
		v, fail := eval(x, lines, st, e.x)
		if fail != nil {
			return v, fail
		}
		if e.op == '+' {
			v, ok := numeric(v)
			if !ok {
				return v, notImplemented(x, lines, st.line)
			}
			return v, nil
		}
		switch v.kind {
		case valBool, valInt:
			n, _ := numeric(v)
			return pyValue{kind: valInt, i: new(big.Int).Neg(n.i)}, nil
		case valFloat:
			return pyValue{kind: valFloat, f: -v.f}, nil
		}
		return v, notImplemented(x, lines, st.line)
	}
	a, fail := eval(x, lines, st, e.x)
	if fail != nil {
		return a, fail
	}
	b, fail := eval(x, lines, st, e.y)
	if fail != nil {
		return b, fail
	}
	if v, ok := binaryOp(e.op, a, b); ok {
		return v, nil
	}
	return pyValue{}, notImplemented(x, lines, st.line)
}

// numeric turns a bool into an int, as Python's arithmetic does.
func numeric(v pyValue) (pyValue, bool) {
	switch v.kind {
	case valBool:
		n := int64(0)
		if v.b {
			n = 1
		}
		return pyValue{kind: valInt, i: big.NewInt(n)}, true
	case valInt, valFloat:
		return v, true
	}
	return v, false
}

// binary applies + - * where the forms define them.
func binaryOp(op byte, a, b pyValue) (pyValue, bool) {
	if a.kind == valStr || b.kind == valStr {
		switch {
		case op == '+' && a.kind == valStr && b.kind == valStr && len(a.s)+len(b.s) <= maxStrBytes:
			return pyValue{kind: valStr, s: a.s + b.s}, true
		case op == '*' && a.kind == valStr && (b.kind == valInt || b.kind == valBool):
			return repeat(a.s, b)
		case op == '*' && b.kind == valStr && (a.kind == valInt || a.kind == valBool):
			return repeat(b.s, a)
		}
		return pyValue{}, false
	}
	a, okA := numeric(a)
	b, okB := numeric(b)
	if !okA || !okB {
		return pyValue{}, false
	}
	if a.kind == valInt && b.kind == valInt {
		r := new(big.Int)
		switch op {
		case '+':
			r.Add(a.i, b.i)
		case '-':
			r.Sub(a.i, b.i)
		case '*':
			if a.i.BitLen()+b.i.BitLen() > maxIntBits {
				return pyValue{}, false
			}
			r.Mul(a.i, b.i)
		}
		if len(r.String()) > maxIntDigits+1 {
			return pyValue{}, false
		}
		return pyValue{kind: valInt, i: r}, true
	}
	fa, okA := toFloat(a)
	fb, okB := toFloat(b)
	if !okA || !okB {
		return pyValue{}, false
	}
	switch op {
	case '+':
		return pyValue{kind: valFloat, f: fa + fb}, true
	case '-':
		return pyValue{kind: valFloat, f: fa - fb}, true
	}
	return pyValue{kind: valFloat, f: fa * fb}, true
}

func toFloat(v pyValue) (float64, bool) {
	if v.kind == valFloat {
		return v.f, true
	}
	f, _ := new(big.Float).SetInt(v.i).Float64()
	return f, !math.IsInf(f, 0) // Python: OverflowError
}

func repeat(s string, n pyValue) (pyValue, bool) {
	n, _ = numeric(n)
	if !n.i.IsInt64() || n.i.Int64() <= 0 {
		return pyValue{kind: valStr}, true
	}
	k := n.i.Int64()
	if int64(len(s))*k > maxStrBytes {
		return pyValue{}, false
	}
	return pyValue{kind: valStr, s: strings.Repeat(s, int(k))}, true
}

// evalExpression evaluates a user_expressions entry.
func evalExpression(rt *kernelRuntime, src string) (pyValue, *failure) {
	toks := lexLine(src)
	var code []lexTok
	for _, t := range toks {
		if t.kind != lexSpace && t.kind != lexComment {
			code = append(code, t)
		}
	}
	if len(code) == 0 || strings.Contains(src, "\n") {
		return pyValue{}, &failure{ename: "NotImplementedError", evalue: notImplementedText(src)}
	}
	st, ok := parseStmt(src, code)
	st.line, st.alone = 1, true
	if !ok || st.kind != sExpr {
		return pyValue{}, &failure{ename: "NotImplementedError", evalue: notImplementedText(src)}
	}
	x := &execution{}
	v, fail := eval(x, []string{src}, st, st.arg)
	if fail != nil {
		return v, &failure{ename: fail.ename, evalue: fail.evalue}
	}
	return v, nil
}

// The errors the forms raise.

func nameError(x *execution, lines []string, line int, name string, hl span) *failure {
	evalue := fmt.Sprintf("name '%s' is not defined", name)
	return &failure{ename: "NameError", evalue: evalue, traceback: cellTraceback("NameError", evalue, x.count, lines, line, hl)}
}

func keyboardInterrupt(x *execution, lines []string, line int, alone bool, call span) *failure {
	if !alone {
		call = span{}
	}
	return &failure{ename: "KeyboardInterrupt", traceback: cellTraceback("KeyboardInterrupt", "", x.count, lines, line, call)}
}

const stdinNotAllowedText = "raw_input was called, but this frontend does not support input requests."

func stdinNotAllowed(x *execution, lines []string, line int, hl ...span) *failure {
	h := span{}
	if len(hl) > 0 {
		h = hl[0]
	}
	return &failure{ename: "StdinNotImplementedError", evalue: stdinNotAllowedText,
		traceback: cellTraceback("StdinNotImplementedError", stdinNotAllowedText, x.count, lines, line, h, stdinNotAllowedFrame)}
}

func interruptedInput(x *execution, lines []string, line int, hl ...span) *failure {
	h := span{}
	if len(hl) > 0 {
		h = hl[0]
	}
	return &failure{ename: "KeyboardInterrupt", evalue: "Interrupted by user",
		traceback: cellTraceback("KeyboardInterrupt", "Interrupted by user", x.count, lines, line, h, inputInterruptedFrames...)}
}

func notImplementedText(src string) string {
	return fmt.Sprintf("the nbserv reference kernel cannot run %q: it runs only print, literal expressions, "+
		"raise, import time, time.sleep and input (docs/wire/kernel-channels.md KC18); script other code with nbservtest", src)
}

// notImplemented refuses a line the forms do not cover.
func notImplemented(x *execution, lines []string, line int) *failure {
	src := ""
	if line >= 1 && line <= len(lines) {
		src = strings.TrimSpace(lines[line-1])
	}
	evalue := notImplementedText(src)
	return &failure{ename: "NotImplementedError", evalue: evalue,
		traceback: cellTraceback("NotImplementedError", evalue, x.count, lines, line, span{})}
}
