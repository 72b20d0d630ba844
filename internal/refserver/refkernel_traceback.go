package refserver

// IPython's tracebacks as ipykernel sends them: IPython 8.5's (ipykernel
// 6.17, behind Jupyter Server 1.23.3) with two non-blank lines of context
// each side and the source highlighted with the ipython3 Pygments lexer,
// the executing expression on a yellow background; IPython 9.18.1's
// (ipykernel 7.4.0, behind 2.21.1) with four lines before and three after,
// IPython's own token colours and no highlighted expression. Only what the
// reference kernel's tracebacks need is covered; the colours and layout
// were read off real tracebacks (docs/wire/kernel-channels.md KC12, KC52).

import (
	"fmt"
	"strings"
)

// tbStyle is the IPython whose tracebacks the kernel writes.
type tbStyle int

const (
	ipython8 tbStyle = iota // IPython 8.5, ipykernel 6.17
	ipython9                // IPython 9.18.1, ipykernel 7.4.0
)

// colour wraps text in an IPython 9 colour (30-37), reset with 39.
func colour(c int, text string) string { return fmt.Sprintf("\x1b[%dm%s\x1b[39m", c, text) }

const dashes = "---------------------------------------------------------------------------"

// tbHead is the first two lines of a traceback.
func tbHead(st tbStyle, ename string) []string {
	pad := 75 - len(ename) - len("Traceback (most recent call last)")
	if pad < 0 {
		pad = 0
	}
	if st == ipython9 {
		return []string{colour(31, dashes), colour(31, ename) + strings.Repeat(" ", pad) + "Traceback (most recent call last)"}
	}
	return []string{"\x1b[0;31m" + dashes + "\x1b[0m", "\x1b[0;31m" + ename + "\x1b[0m" + strings.Repeat(" ", pad) + "Traceback (most recent call last)"}
}

func tbTail(st tbStyle, ename, evalue string) string {
	if st == ipython9 {
		return colour(31, ename) + ": " + evalue
	}
	return "\x1b[0;31m" + ename + "\x1b[0m: " + evalue
}

// bareTraceback is a traceback without frames, for scripted errors.
func bareTraceback(st tbStyle, ename, evalue string) []string {
	return append(tbHead(st, ename), tbTail(st, ename, evalue))
}

// span is a byte range of a line that IPython highlights (the expression
// that was executing), or none when start == end.
type span struct{ start, end int }

// cellTraceback is IPython's traceback for an error raised on line errLine
// (1-based) of the cell's lines, with frames below the cell appended.
func cellTraceback(st tbStyle, ename, evalue string, count int, lines []string, errLine int, hl span, below ...string) []string {
	tb := append(tbHead(st, ename), cellFrame(st, count, lines, errLine, hl, "", scope{}))
	tb = append(tb, below...)
	return append(tb, tbTail(st, ename, evalue))
}

// scope is the lines a frame's context may show (stack_data keeps to the
// frame's function), 1-based and inclusive; zero is unbounded.
type scope struct{ first, last int }

// frameCall is the ", in f(a, b)" of a function frame's header.
func frameCall(st tbStyle, name string, params []string) string {
	args := "(" + strings.Join(params, ", ") + ")"
	if st == ipython9 {
		return ", in " + colour(36, name) + colour(34, args)
	}
	return ", in \x1b[0;36m" + name + "\x1b[0;34m" + args + "\x1b[0m"
}

// cellFrame is one frame of a cell in IPython's traceback: its header (call
// names the function and its parameters, or is empty at the cell's top
// level) and the line errLine with context, hl highlighted.
func cellFrame(st tbStyle, count int, lines []string, errLine int, hl span, call string, sc scope) string {
	var b strings.Builder
	if st == ipython9 {
		fmt.Fprintf(&b, "%s%s%s%s%s\n", colour(36, "Cell"), colour(36, " "), colour(32, fmt.Sprintf("In[%d]", count)),
			colour(32, fmt.Sprintf(", line %d", errLine)), call)
	} else {
		fmt.Fprintf(&b, "Cell \x1b[0;32mIn [%d], line %d\x1b[0m%s\n", count, errLine, call)
	}
	if errLine < 1 || errLine > len(lines) {
		lines, errLine, sc = []string{""}, 1, scope{} // no source to show
	}
	if sc.first < 1 {
		sc.first = 1
	}
	if sc.last < 1 || sc.last > len(lines) {
		sc.last = len(lines)
	}
	var shown []int
	if st == ipython9 {
		for n := max(sc.first, errLine-4); n <= min(sc.last, errLine+3); n++ {
			shown = append(shown, n)
		}
	} else {
		shown = contextLines(lines, errLine, sc)
	}
	for _, n := range shown {
		num := fmt.Sprint(n)
		arrow := strings.Repeat("-", max(0, 5-len(num))) + "> "
		switch {
		case st == ipython9 && n == errLine:
			b.WriteString(colour(32, arrow) + colour(32, num) + " " + highlight9(lines[n-1]))
		case st == ipython9:
			b.WriteString(colour(32, fmt.Sprintf("%7s", num)) + " " + highlight9(lines[n-1]))
		case n == errLine:
			b.WriteString("\x1b[0;32m" + arrow + num + "\x1b[0m ")
			b.WriteString(highlight(lines[n-1], hl))
		default:
			fmt.Fprintf(&b, "\x1b[1;32m%7s\x1b[0m ", num)
			b.WriteString(highlight(lines[n-1], span{}))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// contextLines lists the line numbers IPython 8.5 shows around errLine:
// the line and up to two non-blank lines before and after it, within sc.
func contextLines(lines []string, errLine int, sc scope) []int {
	var before, after []int
	for n := errLine - 1; n >= max(1, sc.first) && len(before) < 2; n-- {
		if strings.TrimSpace(lines[n-1]) != "" {
			before = append([]int{n}, before...)
		}
	}
	for n := errLine + 1; n <= min(len(lines), sc.last) && len(after) < 2; n++ {
		if strings.TrimSpace(lines[n-1]) != "" {
			after = append(after, n)
		}
	}
	return append(append(before, errLine), after...)
}

// highlight9 renders a line in IPython 9's colours, from Python's
// tokenizer: keywords, numbers, strings and comments; names and operators
// plain.
func highlight9(line string) string {
	var b strings.Builder
	for _, t := range lexLine(line) {
		text := line[t.start:t.end]
		switch {
		case t.kind == lexName && (pyKeywords[text] || pyOpWords[text]):
			b.WriteString("\x1b[38;5;28;01m" + text + "\x1b[39;00m")
		case t.kind == lexNumber:
			b.WriteString(colour(32, text))
		case t.kind == lexString:
			b.WriteString(colour(33, text))
		case t.kind == lexComment:
			b.WriteString("\x1b[38;5;66;03m" + text + "\x1b[39;00m")
		default:
			b.WriteString(text)
		}
	}
	return b.String()
}

// Token classes and their colours in IPython's terminal scheme.
type tokClass int

const (
	tcPlain tokClass = iota
	tcKeyword
	tcOpWord
	tcBuiltin
	tcException
	tcNamespace
	tcNumber
	tcOperator
	tcString
	tcEscape
	tcComment
	tcFunction
)

var tokColour = map[tokClass]struct {
	code string
	bold string // "01" bold, "03" italic, "" neither
}{
	tcKeyword: {"38;5;28", "01"}, tcOpWord: {"38;5;129", "01"}, tcBuiltin: {"38;5;28", ""},
	tcException: {"38;5;167", "01"}, tcNamespace: {"38;5;21", "01"}, tcNumber: {"38;5;241", ""},
	tcOperator: {"38;5;241", ""}, tcString: {"38;5;124", ""}, tcEscape: {"38;5;130", "01"},
	tcComment: {"38;5;66", "03"}, tcFunction: {"38;5;21", ""},
}

// hlTok is a piece of a line as the highlighter colours it.
type hlTok struct {
	start, end int
	class      tokClass
}

// highlight renders a line as IPython does, with the span's tokens on a
// yellow background.
func highlight(line string, hl span) string {
	var b strings.Builder
	for _, t := range hlTokens(line) {
		text := line[t.start:t.end]
		on := hl.start < hl.end && t.start >= hl.start && t.end <= hl.end
		c, coloured := tokColour[t.class]
		switch {
		case !coloured && !on:
			b.WriteString(text)
		case !coloured:
			b.WriteString("\x1b[43m" + text + "\x1b[49m")
		default:
			open, close := c.code, "39"
			if on {
				open, close = open+";43", close+";49"
			}
			if c.bold != "" {
				open, close = open+";"+c.bold, close+";00"
			}
			b.WriteString("\x1b[" + open + "m" + text + "\x1b[" + close + "m")
		}
	}
	return b.String()
}

var (
	pyKeywords = setOf("as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else",
		"except", "finally", "for", "from", "global", "if", "import", "lambda", "nonlocal", "pass", "raise", "return",
		"try", "while", "with", "yield", "True", "False", "None")
	pyOpWords  = setOf("and", "in", "is", "not", "or")
	pyBuiltins = setOf("abs", "all", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes", "callable",
		"chr", "classmethod", "compile", "complex", "delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec",
		"filter", "float", "format", "frozenset", "getattr", "globals", "hasattr", "hash", "help", "hex", "id", "input",
		"int", "isinstance", "issubclass", "iter", "len", "list", "locals", "map", "max", "memoryview", "min", "next",
		"object", "oct", "open", "ord", "pow", "print", "property", "range", "repr", "reversed", "round", "set",
		"setattr", "slice", "sorted", "staticmethod", "str", "sum", "super", "tuple", "type", "vars", "zip",
		"self", "cls", "Ellipsis", "NotImplemented")
	pyExceptions = setOf("ArithmeticError", "AssertionError", "AttributeError", "BaseException", "BlockingIOError",
		"BrokenPipeError", "BufferError", "BytesWarning", "ChildProcessError", "ConnectionAbortedError",
		"ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "DeprecationWarning", "EOFError",
		"EnvironmentError", "Exception", "FileExistsError", "FileNotFoundError", "FloatingPointError", "FutureWarning",
		"GeneratorExit", "IOError", "ImportError", "ImportWarning", "IndentationError", "IndexError",
		"InterruptedError", "IsADirectoryError", "KeyError", "KeyboardInterrupt", "LookupError", "MemoryError",
		"ModuleNotFoundError", "NameError", "NotADirectoryError", "NotImplementedError", "OSError", "OverflowError",
		"PendingDeprecationWarning", "PermissionError", "ProcessLookupError", "RecursionError", "ReferenceError",
		"ResourceWarning", "RuntimeError", "RuntimeWarning", "StopAsyncIteration", "StopIteration", "SyntaxError",
		"SyntaxWarning", "SystemError", "SystemExit", "TabError", "TimeoutError", "TypeError", "UnboundLocalError",
		"UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError", "UnicodeWarning",
		"UserWarning", "ValueError", "Warning", "ZeroDivisionError")
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// hlTokens splits a line the way the ipython3 lexer colours it.
func hlTokens(line string) []hlTok {
	var out []hlTok
	afterImport := false
	prev := "" // the name before this one, if only spaces came between
	for _, t := range lexLine(line) {
		switch t.kind {
		case lexString:
			out = append(out, stringPieces(line, t)...)
			continue
		case lexName:
			word := line[t.start:t.end]
			class := tcPlain
			switch {
			case afterImport:
				class = tcNamespace
			case prev == "class":
				class = tcNamespace // Pygments' Name.Class: bold blue, as a namespace
			case prev == "def":
				class = tcFunction
			case pyOpWords[word]:
				class = tcOpWord
			case pyKeywords[word]:
				class = tcKeyword
			case pyExceptions[word]:
				class = tcException
			case pyBuiltins[word] && !precededByDot(line, t.start):
				class = tcBuiltin
			}
			afterImport = word == "import" || word == "from"
			prev = word
			out = append(out, hlTok{t.start, t.end, class})
			continue
		}
		if t.kind != lexSpace {
			afterImport = false
			prev = ""
		}
		class := map[lexKind]tokClass{lexNumber: tcNumber, lexOp: tcOperator, lexComment: tcComment}[t.kind]
		out = append(out, hlTok{t.start, t.end, class})
	}
	return out
}

func precededByDot(line string, i int) bool {
	j := strings.TrimRight(line[:i], " \t")
	return strings.HasSuffix(j, ".")
}

// stringPieces splits a string literal as the lexer does: the quotes, runs
// of plain text, each escape, and each stray quote, % or { on its own.
func stringPieces(line string, t lexTok) []hlTok {
	s := line[t.start:t.end]
	q := 0
	for q < len(s) && s[q] != '\'' && s[q] != '"' {
		q++ // a prefix such as r or b belongs to the opening quote token
	}
	if q >= len(s) {
		return []hlTok{{t.start, t.end, tcString}}
	}
	quote := s[q]
	out := []hlTok{{t.start, t.start + q + 1, tcString}}
	body := s[q+1:]
	closed := len(body) > 0 && body[len(body)-1] == quote && !escapedAt(body, len(body)-1)
	if closed {
		body = body[:len(body)-1]
	}
	base := t.start + q + 1
	i := 0
	for i < len(body) {
		switch c := body[i]; {
		case c == '\\' && escapeLen(body[i:]) > 0:
			n := escapeLen(body[i:])
			out = append(out, hlTok{base + i, base + i + n, tcEscape})
			i += n
		case c == '\'' || c == '"' || c == '%' || c == '{' || c == '\\':
			n := 1
			if c == '{' && i+1 < len(body) && body[i+1] == '{' {
				n = 2
			}
			out = append(out, hlTok{base + i, base + i + n, tcString})
			i += n
		default:
			j := i
			for j < len(body) && strings.IndexByte("\\'\"%{", body[j]) < 0 {
				j++
			}
			out = append(out, hlTok{base + i, base + j, tcString})
			i = j
		}
	}
	if closed {
		out = append(out, hlTok{t.end - 1, t.end, tcString})
	}
	return out
}

func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// escapeLen is the length of the escape sequence at the start of s, or 0
// when the backslash starts none (the lexer then shows it as plain text).
func escapeLen(s string) int {
	if len(s) < 2 {
		return 0
	}
	want := 0
	switch s[1] {
	case '\\', 'a', 'b', 'f', 'n', 'r', 't', 'v', '"', '\'', '\n':
		return 2
	case 'x':
		want = 2
	case 'u':
		want = 4
	case 'U':
		want = 8
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n := 2
		for n < 4 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		return n
	case 'N':
		if end := strings.IndexByte(s, '}'); len(s) > 2 && s[2] == '{' && end > 0 {
			return end + 1
		}
		return 0
	default:
		return 0
	}
	if len(s) < 2+want {
		return 0
	}
	for _, c := range []byte(s[2 : 2+want]) {
		if !hexByte(c) {
			return 0
		}
	}
	return 2 + want
}

func hexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
