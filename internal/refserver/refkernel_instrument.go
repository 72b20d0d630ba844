package refserver

// Instrumenting a cell's source before gpython compiles it. gpython's
// virtual machine never looks up from its bytecode loop, so a loop that
// calls nothing could not be interrupted, a runaway recursion would
// overflow the Go stack (a fatal error, not a panic), and a store to an
// attribute of a built-in type would change the type for every kernel of
// the process (gpython's built-in types are package variables). The
// instrumentation adds calls the kernel answers: a tick at the top of
// every loop body and comprehension element, an entry check at the top of
// every function and lambda body, a guard around the object of every
// attribute store or delete, and a size check on the right operand of
// every *, ** and << (refkernel_bounds.go). It edits the source text at the positions
// gpython's parser reports, keeping every original line whole, and keeps
// a map from the new line numbers back to the user's for tracebacks.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-python/gpython/ast"
	"github.com/go-python/gpython/parser"
	"github.com/go-python/gpython/py"
)

// The names the instrumentation calls, bound in each kernel's builtins.
const (
	tickName  = "__nbserv_tick__"
	enterName = "__nbserv_enter__"
	guardName = "__nbserv_guard__"
)

// instrumented is a cell's source ready to compile.
type instrumented struct {
	src string
	// lines maps a line of src (1-based, index line-1) to the user's line.
	lines []int
}

// userLine is the user's line number for line n of the instrumented source.
func (in *instrumented) userLine(n int) int {
	if n >= 1 && n <= len(in.lines) {
		return in.lines[n-1]
	}
	return n
}

// textEdit inserts text into line (1-based) at byte col; a whole-line
// insertion (newLine) goes before the line instead.
type textEdit struct {
	line, col int
	text      string
	newLine   bool
}

// instrument parses src in mode and returns it instrumented, or the
// parser's error (a *py.Exception for a SyntaxError).
func instrument(src string, mode py.CompileMode) (*instrumented, ast.Ast, error) {
	tree, err := parser.ParseString(src, mode)
	if err != nil {
		return nil, nil, err
	}
	if astDeeper(tree, maxASTDepth) {
		return nil, nil, errRecursion(" during compilation")
	}
	lines := strings.Split(src, "\n")
	// The helpers that look for brackets read the cell's tokens, lexed as
	// one text: a line that starts inside a string has no brackets there.
	cell := cellText{lines: lines, toks: lexCell(lines)}
	var edits []textEdit
	var failed error
	before := func(body []ast.Stmt, call string) {
		if len(body) > 0 {
			if e, ok := statementEdit(lines, body[0], call); ok {
				edits = append(edits, e)
			}
		}
	}
	inline := func(e ast.Expr, call string) {
		if line, col := exprStart(e); line >= 1 {
			edits = append(edits, textEdit{line: line, col: col, text: call + "() or "})
		}
	}
	// wrap puts a call of name around the object of an attribute:
	// "name(o, 'attr').attr" with the attribute's name, else "name(o).attr".
	wrap := func(a *ast.Attribute, name string, withAttr bool) {
		dot, ok := attributeDot(cell, a)
		if !ok {
			failed = fmt.Errorf("cannot find the attribute .%s at line %d", a.Attr, a.Lineno)
			return
		}
		line, col, ok := operandStart(cell, a.Value, false)
		if ok {
			line, col, ok = groupStart(cell, line, col, a.Lineno, dot)
		}
		// The object may start on an earlier line ("[\n 1].__repr__()");
		// the edits add no line, so each keeps its line's columns. A
		// parenthesis whose match is not found may enclose the object
		// with a trailer: the call would take the object without it.
		if !ok || line > a.Lineno || line == a.Lineno && col > dot {
			failed = fmt.Errorf("cannot find the object of .%s at line %d", a.Attr, a.Lineno)
			return
		}
		closing := ")"
		if withAttr {
			closing = ", '" + string(a.Attr) + "')"
		}
		edits = append(edits, textEdit{line: line, col: col, text: name + "("},
			textEdit{line: a.Lineno, col: dot, text: closing})
	}
	guard := func(t ast.Expr) {
		if a, ok := t.(*ast.Attribute); ok && failed == nil {
			wrap(a, guardName, true)
		}
	}
	// mark puts "name ** " before an operand: before the parentheses
	// around it if parens (a right operand's are its own); else before
	// those that close before next, the expression after the operand
	// ("(a)[0] == b": a parenthesis that closes later opens a call, or
	// encloses more than the operand).
	mark := func(e ast.Expr, name string, parens bool, next ast.Expr) {
		if failed != nil {
			return
		}
		line, col, ok := operandStart(cell, e, parens)
		if !ok {
			failed = fmt.Errorf("cannot find the operand at line %d", e.GetLineno())
			return
		}
		if !parens {
			endLine, endCol := exprStart(next)
			if line, col, ok = groupStart(cell, line, col, endLine, endCol); !ok && name != sizeName {
				// The mark may land inside parentheses around the
				// operand and a trailer ("(a)[0]"): a trailer on the
				// deep operand fails, the depth check returns the
				// operand itself.
				name = depthCheckName
			}
		}
		edits = append(edits, textEdit{line: line, col: col, text: name + " ** "})
	}
	ast.Walk(tree, func(n ast.Ast) bool {
		switch n := n.(type) {
		case *ast.While:
			before(n.Body, tickName)
		case *ast.For:
			before(n.Body, tickName)
			walkTargets(n.Target, guard)
		case *ast.FunctionDef:
			body := n.Body
			if len(body) > 1 && isDocstring(body[0]) {
				body = body[1:]
			}
			before(body, enterName)
		case *ast.Lambda:
			inline(n.Body, enterName)
		case *ast.ListComp:
			inline(n.Elt, tickName)
		case *ast.SetComp:
			inline(n.Elt, tickName)
		case *ast.GeneratorExp:
			inline(n.Elt, tickName)
		case *ast.DictComp:
			inline(n.Key, tickName)
		case *ast.Assign:
			for _, t := range n.Targets {
				walkTargets(t, guard)
			}
		case *ast.AugAssign:
			walkTargets(n.Target, guard)
			if sizedOps[n.Op] && sizeable(n.Value) {
				mark(n.Value, sizeName, true, nil)
			}
		case *ast.BinOp:
			if sizedOps[n.Op] && (n.Op != ast.LShift || sizeable(n.Right)) {
				mark(n.Right, sizeName, true, nil)
			}
		case *ast.Compare:
			marked, checked := deepOperands(n)
			last := len(n.Ops) - 1
			for _, e := range marked {
				// A parenthesis before a chain's left operand may open
				// a call, or enclose the whole chain.
				name := deepName
				if op := n.Ops[last]; e == n.Comparators[last] && (op == ast.In || op == ast.NotIn) {
					name += "()" // compared by "in" only (refkernel_depth.go)
				}
				mark(e, name, e != n.Left, n.Comparators[0])
			}
			for _, e := range checked {
				mark(e, depthCheckName, e != n.Left, n.Comparators[0])
			}
		case *ast.Attribute:
			if n.Ctx == ast.Load && deepAttrs[string(n.Attr)] && failed == nil {
				wrap(n, deepName, false)
			}
		case *ast.Delete:
			for _, t := range n.Targets {
				walkTargets(t, guard)
			}
		}
		return true
	})
	if failed != nil {
		return nil, nil, failed
	}
	return applyEdits(lines, edits), tree, nil
}

// maxASTDepth bounds a cell's syntax tree's nesting ("-" * 10**6 + "1"):
// gpython's parser keeps its own stack, but the walks here and its
// compiler recurse in Go, and a Go stack overflow ends the whole process.
// CPython refuses far shallower nesting in its parser.
const maxASTDepth = 5000

// astDeeper reports a tree nested deeper than limit, without recursing:
// ast.Walk lists a node's children when the visit stops at them.
func astDeeper(tree ast.Ast, limit int) bool {
	level := []ast.Ast{tree}
	for depth := 1; len(level) > 0; depth++ {
		if depth > limit {
			return true
		}
		var next []ast.Ast
		for _, n := range level {
			ast.Walk(n, func(c ast.Ast) bool {
				if c == n {
					return true
				}
				next = append(next, c)
				return false
			})
		}
		level = next
	}
	return false
}

// sizedOps are the operators whose result's size the kernel checks
// (refkernel_bounds.go).
var sizedOps = map[ast.OperatorNumber]bool{ast.Mult: true, ast.Pow: true, ast.LShift: true}

// deepAttrs are the methods of lists, tuples, dicts and sets that
// compare or write their items, recursing in Go (refkernel_depth.go).
var deepAttrs = map[string]bool{"__eq__": true, "__ne__": true, "__repr__": true, "__str__": true}

// deepOperands are the operands of a comparison chain to mark with
// "__nbserv_deep__ ** " (deep), and those to check with
// "__nbserv_depth__ ** " (checked; refkernel_depth.go). An operand of a
// chain takes part in up to two comparisons, as the right operand of the
// one before it and the left of the one after; it may be marked when each
// of them takes a marked operand there: ==, != and (on the right only)
// in, not in. Each ==, !=, in and not in gets its right operand marked,
// or, for == and != when that cannot be, its left. When neither can be
// (both operands also take part in an ordering or identity test, or are
// the left of an "in": "a in b in c", "a < b == c is d"), both are
// checked instead: their depth before the comparison, a cycle refused
// too.
func deepOperands(n *ast.Compare) (deep, checked []ast.Expr) {
	operands := append([]ast.Expr{n.Left}, n.Comparators...)
	can := func(k int) bool {
		if k == 0 && !sizeable(n.Left) {
			return false // "(a or b) == c in d": marked inside its parentheses, a would be marked alone
		}
		return (k == 0 || deepCmp(n.Ops[k-1], true)) && (k == len(n.Ops) || deepCmp(n.Ops[k], false))
	}
	marked := make([]bool, len(operands))
	var checks []int
	for i, op := range n.Ops {
		switch {
		case !deepCmp(op, true) || marked[i]:
		case can(i + 1):
			marked[i+1] = true
		case deepCmp(op, false) && can(i):
			marked[i] = true
		default:
			checks = append(checks, i, i+1)
		}
	}
	for i, op := range n.Ops {
		// "a in c == d": c, compared by == too, is marked as for ==,
		// which leaves a user's iterable as it is; a is checked.
		if (op == ast.In || op == ast.NotIn) && i+1 < len(n.Ops) && marked[i+1] && !marked[i] {
			checks = append(checks, i)
		}
	}
	for k, e := range operands {
		if marked[k] {
			deep = append(deep, e)
		}
	}
	for _, k := range checks {
		if e := operands[k]; !marked[k] && (k > 0 || sizeable(e)) {
			marked[k] = true // checked once
			checked = append(checked, e)
		}
	}
	return deep, checked
}

// deepCmp reports a comparison that takes a marked operand on its right
// (right) or left side.
func deepCmp(op ast.CmpOp, right bool) bool {
	switch op {
	case ast.Eq, ast.NotEq:
		return true
	case ast.In, ast.NotIn:
		return right
	}
	return false
}

// sizeable reports an operand that "__nbserv_size__ ** " may precede
// without changing its meaning: one that binds at least as tightly as
// arithmetic (a shift's right operand and an augmented assignment's value
// may be anything else). Others go unchecked.
func sizeable(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BoolOp, *ast.Compare, *ast.IfExp, *ast.Lambda, *ast.Tuple, *ast.Yield, *ast.YieldFrom, *ast.Starred:
		return false
	case *ast.UnaryOp:
		return e.Op != ast.Not
	case *ast.BinOp:
		switch e.Op {
		case ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor:
			return false
		}
	}
	return true
}

// operandStart is where an operator's right operand starts in the text:
// before the brackets that enclose it (with parens, the parentheses too),
// which gpython's positions leave out, looking back over blanks, line
// ends and comments. (gpython puts a non-empty dict or set display, or
// comprehension, at its first item.)
func operandStart(cell cellText, e ast.Expr, parens bool) (line, col int, ok bool) {
	line, col = exprStart(e)
	if line < 1 || line > len(cell.lines) {
		return 0, 0, false
	}
	brace := false
	switch e := startNode(e).(type) {
	case *ast.Dict:
		brace = len(e.Keys) > 0
	case *ast.Set, *ast.DictComp, *ast.SetComp:
		brace = true
	}
	if !brace && !parens {
		return line, col, true
	}
	for l, end := line, col; l >= 1; l-- {
		text, toks := cell.lines[l-1], cell.toks[l-1]
		if l < line {
			end = len(text)
		}
		for i := len(toks) - 1; i >= 0; i-- {
			t := toks[i]
			switch {
			case t.start >= end || t.kind == lexSpace || t.kind == lexComment:
			case brace && t.kind == lexPunct && (text[t.start:t.end] == "*" || text[t.start:t.end] == "**"):
				// {**d, ...} and {*s, ...}: before the first item's star
			case brace && t.kind == lexPunct && text[t.start:t.end] == "{":
				line, col, brace = l, t.start, false
			case !brace && parens && t.kind == lexPunct && text[t.start:t.end] == "(":
				line, col = l, t.start
			case brace:
				return 0, 0, false
			default:
				return line, col, true
			}
		}
	}
	return line, col, true
}

// groupStart is where an operand found at (line, col) starts when
// parentheses before it close before (endLine, endCol), inside the
// operand: "(a)[0]", "((a or b))[0]" start at their first "(". It looks
// back over blanks, line ends and comments. It reports false, with the
// start found so far, for a parenthesis whose match it cannot find: the
// operand may start before it.
func groupStart(cell cellText, line, col, endLine, endCol int) (int, int, bool) {
	for {
		l, c, ok := tokenBefore(cell, line, col)
		if !ok || cell.lines[l-1][c] != '(' {
			return line, col, true
		}
		cl, cc, ok := closingParen(cell, l, c)
		if !ok {
			return line, col, false
		}
		if cl > endLine || cl == endLine && cc >= endCol {
			return line, col, true
		}
		line, col = l, c
	}
}

// tokenBefore is where the last token before (line, col) starts, other
// than blanks and comments, looking back over line ends, and whether it
// is a bracket or other punctuation.
func tokenBefore(cell cellText, line, col int) (int, int, bool) {
	for l, end := line, col; l >= 1 && l <= len(cell.lines); l-- {
		toks := cell.toks[l-1]
		if l < line {
			end = len(cell.lines[l-1])
		}
		for i := len(toks) - 1; i >= 0; i-- {
			if t := toks[i]; t.start < end && t.kind != lexSpace && t.kind != lexComment {
				return l, t.start, t.kind == lexPunct
			}
		}
	}
	return 0, 0, false
}

// closingParen is where the bracket that closes the "(" at (line, col)
// is.
func closingParen(cell cellText, line, col int) (int, int, bool) {
	depth := 0
	for l := line; l <= len(cell.lines); l++ {
		text := cell.lines[l-1]
		for _, t := range cell.toks[l-1] {
			if l == line && t.start < col || t.kind != lexPunct {
				continue
			}
			switch text[t.start:t.end] {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth--; depth == 0 {
					return l, t.start, true
				}
			}
		}
	}
	return 0, 0, false
}

// cellText is a cell's lines and their tokens (lexCell).
type cellText struct {
	lines []string
	toks  [][]lexTok
}

// exprStart is where an expression starts. gpython's parser gives a call
// no position and an attribute the position of its dot: they start where
// their callee or object does.
func exprStart(e ast.Expr) (line, col int) {
	if e = startNode(e); e == nil {
		return 0, 0
	}
	return e.GetLineno(), e.GetColOffset()
}

// startNode is the expression an expression starts with, which gives the
// position of both.
func startNode(e ast.Expr) ast.Expr {
	for {
		switch x := e.(type) {
		case *ast.Call:
			e = x.Func
		case *ast.Attribute:
			e = x.Value
		case *ast.Subscript:
			e = x.Value
		default:
			return e
		}
	}
}

// walkTargets calls f for each attribute among an assignment's targets,
// through tuples and lists.
func walkTargets(t ast.Expr, f func(ast.Expr)) {
	switch t := t.(type) {
	case *ast.Tuple:
		for _, e := range t.Elts {
			walkTargets(e, f)
		}
	case *ast.List:
		for _, e := range t.Elts {
			walkTargets(e, f)
		}
	case *ast.Starred:
		walkTargets(t.Value, f)
	case *ast.Attribute:
		f(t)
	}
}

func isDocstring(s ast.Stmt) bool {
	e, ok := s.(*ast.ExprStmt)
	if !ok {
		return false
	}
	_, ok = e.Value.(*ast.Str)
	return ok
}

// statementEdit puts call() before a body's first statement: on a line of
// its own, indented as the statement's line, when the statement starts its
// line; else (a body on its header's line) after the header's colon.
func statementEdit(lines []string, st ast.Stmt, call string) (textEdit, bool) {
	n := st.GetLineno()
	if n < 1 || n > len(lines) {
		return textEdit{}, false
	}
	line := lines[n-1]
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
	col := min(st.GetColOffset(), len(line))
	if strings.TrimSpace(line[:col]) == "" {
		return textEdit{line: n, text: indent + call + "()", newLine: true}, true
	}
	// A simple statement after "header:" on the same line; the parser may
	// place it inside its opening brackets, so look back for the colon.
	i := col
	for i > 0 && strings.ContainsRune(" \t(", rune(line[i-1])) {
		i--
	}
	if i == 0 || line[i-1] != ':' {
		return textEdit{}, false
	}
	return textEdit{line: n, col: i, text: " " + call + "();"}, true
}

// attributeDot finds the byte column of the "." before a's attribute name
// on a's line: where gpython puts the attribute, else the last "." at
// bracket depth 0, followed by the name, before the statement's assignment
// operator or the target's end.
func attributeDot(cell cellText, a *ast.Attribute) (int, bool) {
	if a.Lineno < 1 || a.Lineno > len(cell.lines) {
		return 0, false
	}
	line := cell.lines[a.Lineno-1]
	if a.ColOffset < len(line) && line[a.ColOffset] == '.' {
		return a.ColOffset, true
	}
	dot := -1
	walkTokens(line, cell.toks[a.Lineno-1], a.ColOffset, func(toks []lexTok, i, depth int, text string) bool {
		t := toks[i]
		switch {
		case depth == 0 && (t.kind == lexPunct && strings.Contains(")]},;:", text) ||
			t.kind == lexOp && text == "=" || t.kind == lexOp && i+1 < len(toks) && line[toks[i+1].start:toks[i+1].end] == "="):
			return false // the target's end, or the assignment's operator
		case depth == 0 && t.kind == lexOp && text == "." && nextName(line, toks[i+1:]) == string(a.Attr):
			dot = t.start
		}
		return true
	})
	return dot, dot >= 0
}

// walkBrackets calls f for each token of line from byte start on, with
// its bracket depth (a bracket counts as inside the pair it belongs to),
// until f returns false.
func walkBrackets(line string, start int, f func(toks []lexTok, i, depth int, text string) bool) {
	walkTokens(line, lexLine(line), start, f)
}

// walkTokens is walkBrackets over line's tokens toks.
func walkTokens(line string, toks []lexTok, start int, f func(toks []lexTok, i, depth int, text string) bool) {
	depth := 0
	for i, t := range toks {
		if t.start < start {
			continue
		}
		text := line[t.start:t.end]
		if t.kind == lexPunct && strings.Contains("([{", text) {
			depth++
		}
		d := depth
		if t.kind == lexPunct && strings.Contains(")]}", text) {
			depth--
		}
		if !f(toks, i, d, text) {
			return
		}
	}
}

// nextName is the first name among toks, skipping spaces.
func nextName(line string, toks []lexTok) string {
	for _, t := range toks {
		switch t.kind {
		case lexSpace:
			continue
		case lexName:
			return line[t.start:t.end]
		}
		return ""
	}
	return ""
}

// applyEdits makes the instrumented source and its line map.
func applyEdits(lines []string, edits []textEdit) *instrumented {
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].line != edits[j].line {
			return edits[i].line < edits[j].line
		}
		return edits[i].col > edits[j].col // right to left keeps the columns valid
	})
	out := &instrumented{}
	var b strings.Builder
	emit := func(text string, user int) {
		if len(out.lines) > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(text)
		out.lines = append(out.lines, user)
	}
	k := 0
	for i, line := range lines {
		n := i + 1
		var inserts []string
		for ; k < len(edits) && edits[k].line == n; k++ {
			e := edits[k]
			if e.newLine {
				inserts = append(inserts, e.text)
				continue
			}
			col := min(e.col, len(line))
			text := e.text
			// A keyword or name written against the insertion ("in[x]",
			// "return(a)") would join the inserted name: a space keeps
			// them two words.
			if col > 0 && text != "" && isNameByte(line[col-1], false) && isNameByte(text[0], true) {
				text = " " + text
			}
			line = line[:col] + text + line[col:]
		}
		for _, l := range inserts {
			emit(l, n)
		}
		emit(line, n)
	}
	out.src = b.String()
	return out
}
