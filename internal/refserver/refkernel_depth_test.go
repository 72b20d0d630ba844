package refserver

import (
	"strings"
	"testing"

	"github.com/go-python/gpython/py"
)

// TestRefKernelDeepComparisons compares data nested three million deep
// (the size a cell makes with "x = [x]" in a loop), and data nested for
// ever (a = [a]), with every operator and method that compares or writes
// containers: gpython recursed in Go as deep as the data, and a Go stack
// overflow is fatal to the whole server, not a panic. Each ends the cell
// with CPython's RecursionError now, the kernel alive; comparisons short
// of the bound, identical items (a == a on a cycle, as in CPython) and the
// operators' other operands still give CPython's answers.
func TestRefKernelDeepComparisons(t *testing.T) {
	// In one interpreter, with data built in Go: a list three million
	// deep, and cycles of each kind of container (nested for ever, in
	// constant memory).
	x := py.Object(py.NewList())
	for i := 0; i < 3_000_000; i++ {
		x = py.NewListFromItems([]py.Object{x})
	}
	y, y2 := py.NewList(), py.NewList()
	y.Items, y2.Items = []py.Object{y}, []py.Object{y2}
	t1, t2 := py.Tuple{nil}, py.Tuple{nil}
	t1[0], t2[0] = t1, t2
	d1, d2 := py.StringDict{}, py.StringDict{}
	d1["k"], d2["k"] = d1, d2
	s1, s2 := py.NewSet(), py.NewSet()
	s1.Add(s1)
	s2.Add(s2)
	ip, err := newInterp()
	if err != nil {
		t.Fatal(err)
	}
	ip.run = &pyRun{x: &execution{intr: make(chan struct{})}}
	for k, v := range map[string]py.Object{"x": x, "y": y, "y2": y2, "t": t1, "u": t2, "d": d1, "e": d2, "s": s1, "z": s2} {
		ip.main.Globals[k] = v
	}
	const inComparison = "maximum recursion depth exceeded in comparison"
	const inRepr = "maximum recursion depth exceeded while getting the repr of an object"
	for _, tc := range []struct{ code, err string }{
		{"r = x == y", inComparison},
		{"r = y == y2", inComparison},
		{"r = x != y", inComparison},
		{"r = x in [y]", inComparison},
		{"r = x not in (y,)", inComparison},
		{"r = [x] == [y]", inComparison},
		{"r = x == y + []", inComparison},
		{"r = x == y == x", inComparison},
		{"r = x == y in [True]", inComparison},
		{"r = x in [y] in [[True]]", inComparison},
		{"r = y is y == y2 is y2", inComparison},
		{"r = x.__eq__(y)", inComparison},
		{"r = getattr(x, '__ne__')(y)", inComparison},
		{"r = t == u", inComparison},
		{"r = d == e", inComparison},
		{"r = {'k': d} == {'k': e}", inComparison},
		{"r = s == z", inComparison},
		{"r = ascii(x)", inRepr},
		{"r = x.__repr__()", inRepr},
		{"r = t.__str__()", inRepr},
		{"r = repr(s)", inRepr},
		{"r = str(s)", inRepr},
		{"r = s.__str__()", inRepr},
		{"r = f'{s}'", inRepr},
		{"r = repr(t)", inRepr},
	} {
		c, err := ip.compileCell(tc.code, 1, py.ExecMode)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ip.ctx.RunCode(c.body, ip.main.Globals, ip.main.Globals, nil)
		if ei, ok := err.(py.ExceptionInfo); !ok || ei.Type != recursionError || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v, want RecursionError: %s", tc.code, err, tc.err)
		}
	}

	// Through the kernel: cycles (compared for ever before), and nesting
	// built in a loop.
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	const cmp = "RecursionError: " + inComparison
	run(t, c, "a = []\na.append(a)\nb = []\nb.append(b)\nx = []\nfor i in range(100000):\n    x = [x]\ny = []\nfor i in range(100000):\n    y = [y]\nw = []\nfor i in range(500):\n    w = [w, (i,), {'k': i}]\nv = []\nfor i in range(500):\n    v = [v, (i,), {'k': i}]")
	for _, tc := range []struct{ code, result, err, out string }{
		{code: "a == b", err: cmp},
		{code: "a != b", err: cmp},
		{code: "a in [b]", err: cmp},
		{code: "a.__eq__(b)", err: cmp},
		{code: "(a,) == (b,)", err: cmp},
		{code: "{'k': a} == {'k': b}", err: cmp},
		{code: "x == y", err: cmp},
		{code: "ascii(x)", err: "RecursionError: " + inRepr},
		{code: "try:\n    a == b\nexcept RuntimeError as err:\n    print(isinstance(err, RecursionError), issubclass(RecursionError, RuntimeError), err)", result: "", err: ""},
		// Identical items are equal without a look inside, as in CPython.
		{code: "a == a, a in [a], a != a, [a] == [a]", result: "(True, True, False, True)"},
		// Short of the bound, and the other operands, as CPython answers.
		{code: "w == v, w != v, w in [0, v], [w] == [v], w == v[:2] + [v[2]]", result: "(True, False, True, True, True)"},
		{code: "[1, (2,), {'a': [3]}] == [1, (2,), {'a': [3]}], (1, 2) == [1, 2], 'a' in 'cat', 'b' in {'b': 1}, 3 in range(5)", result: "(True, False, True, True, True)"},
		{code: "[1] == [1] == [2], [] is [] == [], 1 == 1.0 == True, [1] == [1] in [True], {1, 2} == {2, 1}, None == [1]", result: "(False, False, True, False, True, False)"},
		{code: "{'a': 1}.__eq__({'a': 1}), [1, 2].__ne__([1, 2]), getattr([1], '__ne__')([2]), {1}.__repr__(), (1,).__str__()", result: "(True, False, True, '{1}', '(1,)')"},
		{code: "ascii('é😀ü') + ascii([1, 'ÿ']), repr(set()), str({1}), str(set())", result: `("'\\xe9\\U0001f600\\xfc'[1, '\\xff']", 'set()', '{1}', 'set()')`},
		{code: "[1] in [[1]] in [[True]], [[1]] in [[[1]]] is True, 1 < 2 == 2 is True, w in [v] in [[True]]", result: "(False, False, False, False)"},
		// An exception's str is its one argument's: a chain of them is
		// followed to the same bound.
		{code: "ex = ValueError(1)\nfor i in range(5000):\n    ex = ValueError(ex)\nprint(ex)", err: "RecursionError: maximum recursion depth exceeded while getting the str of an object"},
		{code: "raise ex", err: "ValueError: <exception str() failed>"}, // as CPython's traceback says
		{code: "f'{ValueError(ValueError(KeyError(2)))}', f'{ValueError(ValueError(1), 2)}'", result: `('2', '(ValueError(1), 2)')`},
		// An iterator, generator, dict view or map on the right of "in":
		// its items compared to the same bound, stopping at the first
		// match as CPython does.
		{code: "r = a in iter([b])", err: cmp},
		{code: "r = a not in iter([b])", err: cmp},
		{code: "r = not (a in iter([b]))", err: cmp},
		{code: "r = a in {'k': b}.values()", err: cmp},
		{code: "r = a in (v for v in [b])", err: cmp},
		{code: "r = a in map(lambda v: v, [b])", err: cmp},
		{code: "r = {'k': a} in iter([{'k': b}])", err: cmp},
		{code: "class It:\n    def __iter__(self):\n        return iter([b])\nr = a in It()", err: cmp},
		{code: "r = a not in [1, It()][1]", err: cmp},
		{code: "r = a in It() == True", err: cmp},
		{code: "1 in It() == True, [1] in iter([[1]]) == True, [1] in [[1]] != False", result: "(False, False, True)"},
		{code: "class In(It):\n    def __contains__(self, v):\n        return v == 2\n[b] in It(), b in It(), 2 in In(), b in In(), 1 in It() in [False], It() == It(), [It()] == [1]", result: "(True, True, True, False, False, False, False)"},
		{code: "it = iter([1, [2], 3, 4])\n3 in it, next(it)", result: "(True, 4)"},
		{code: "[2] in iter([1, [2]]), 5 in map(abs, [-5]), [1] in filter(None, [[1]]), (0, [1]) in enumerate([[1]]), (1, [2]) in zip([1], [[2]]), a in iter([a]), [1] not in iter([])", result: "(True, True, True, True, True, True, True)"},
		// A parenthesised primary with a trailer, marked or checked.
		{code: "a1 = [3]\n(a1)[0] == 3 >= 2, (a1)[0] == 3 is not None", result: "(True, True)"},
		{code: "a1, b1 = [], [1]\n(a1 or b1)[0] == 1 < 2, (a1 + b1)[0] == 1 < 2, ((['x'])) [0] == 'x' < 'y'", result: "(True, True, True)"},
		{code: "a1 = {'k': [1]}\n(a1)['k'] == [1] is not None, ([[1]] or [2])[0].__repr__()", result: "(True, '[1]')"},
		{code: "a1 = [[1]]\n(a1 + [])[0].__eq__([1]), (a1)[0] == [1], (a1 or 1)[0] != [1], (a1)[0] in [[1]]", result: "(True, True, False, True)"},
		{code: "def f(v):\n    return v\nf((b)[0] == 1 < 2), ((b)[0] == 1 < 2), (b # c\n )[0] == 1 < 2, (f)(3) == 3 < 4, ((b))[0].__repr__(), (f)([1]).__repr__(), (\n [1])[0].__eq__(1)", result: "(False, False, False, True, '[[...]]', '[1]', True)"},
		{code: "x1 = iter([[1], [2], [3]])\ng1 = (i for i in range(3))\n[2] in x1, list(x1), [0] in g1, list(g1)", result: "(True, [[3]], False, [])"},
		// An attribute store's object is found the same way.
		{code: "class O:\n    pass\no1 = [O()]\n(o1)[0].x = 1\n(o1\n )[0].y = 2\no1[0].x + o1[0].y", result: "3"},
		// The object of .__repr__ and the like over lines.
		{code: "r = [\n 1].__repr__()\nr", result: "'[1]'"},
		{code: "r = (a1\n     .__repr__())\nr", result: "'[[1]]'"},
		{code: "r = {'k':\n 1}.__str__()\nr", result: `"{'k': 1}"`},
		{code: "r = (1,\n 2).__eq__((1, 2))\nr", result: "True"},
		{code: "def f(v):\n    return v\nr = f(\n  [1]).__repr__()\nr", result: "'[1]'"},
		// A mark inserted against a keyword stays a word of its own.
		{code: "x2 = 2\nx2 in(1, 2), x2 not in[3], [c for c in 'abc' if c in('a','b')]", result: "(True, True, ['a', 'b'])"},
		{code: "[1]==[1],[1]!=[1],1in[1],1 not in[1]", result: "(True, False, True, False)"},
		{code: "x2 = 1\nx2 if x2 else[1].__repr__(), not[1].__eq__([1])", result: "(1, False)"},
		{code: "def f2():\n    return[1].__repr__()\ndef f3():\n    return(1)==1<2\ndef f4(v):\n    if(v)==1<2:\n        assert(v)==1<2\n        return 'y'\nf2(), f3(), f4(1)", result: "('[1]', True, 'y')"},
		// A container's __eq__ and __ne__ decline another kind, as CPython's.
		{code: "[1].__eq__(1) is NotImplemented, [1].__ne__(1) is NotImplemented, (1,).__eq__([1]) is NotImplemented, {}.__eq__(1) is NotImplemented, [1] == 1, [1] != 1, [1] == (1,), {1}.__eq__({1})", result: "(True, True, True, True, False, True, False, True)"},
		// A dict holding itself is the same dict: equal without a look inside.
		{code: "d2 = {}\nd2['s'] = d2\n[d2] == [d2], d2 in [d2], (d2,) == (d2,), d2.__eq__(d2), d2 == d2", result: "(True, True, True, True, True)"},
		{code: "repr(d2), str({'a': [d2]}), f'{d2}'", result: `("{'s': {...}}", "{'a': [{'s': {...}}]}", "{'s': {...}}")`},
		// A line that starts inside a string over lines: its brackets
		// and the operand's are told apart (python3 prints the same).
		{code: "a = [1]\nprint(\"\"\"(\n\"\"\", (a)[0] == 1 < 2)", out: "(\n True\n"},
		{code: "a = [1]\nprint(\"\"\"\n\"\"\", [1] == (a)[0:1])", out: "\n True\n"},
		{code: "a = [[1]]\nprint(\"\"\"\n\"\"\", (a)[0].__eq__([1]))", out: "\n True\n"},
		{code: "print(\"\"\"\n)\"\"\" == 'x' < 'y')", out: "False\n"},
		{code: "a = [1]\nprint('''(\n''', (a)[0] == 1 < 2, '\\\n(', (a)[0] == 1 < 2)", out: "(\n True ( True\n"},
		{code: "a = [1]\nprint(\"\"\"\n)(\\\"\"\"\n\"\"\", (a)[0] == 1 < 2)", out: "\n)(\"\"\"\n True\n"},
		{code: "a = [1]\nprint(r'''\n)(\\\\''', (a)[0] == 1 < 2, b'''\n(''' == b'(', (a)[0].__eq__(1))", out: "\n)(\\\\ True False True\n"},
		{code: "class O:\n    pass\no = [O()]\ns = \"\"\"\n(\"\"\"; (o)[0].x = 1\nprint(o[0].x)", out: "1\n"},
		{code: "x = [[1]]\nprint(\"\"\"\n)\"\"\", (x)[0].__repr__(), '''\n(''', (x)[0] == [1] != 2)", out: "\n) [1] \n( True\n"},
		{code: "x = [1]\ny = (\"\"\"(\"\"\" +\n\"\"\"\n)(\"\"\")\nprint((x)[0] == 1 < 2, y)", out: "True (\n)(\n"},
		{code: "x = [1]\nprint('a\\\n(', (x)[0] == 1 < 2, \"b\\\n)\", 1 == (x)[0:1])", out: "a( True b) False\n"},
		{code: "x = [[1]]\nprint(f\"\"\"{1}\n(\"\"\", (x)[0].__eq__([1]), (x)[0] != [2] != 3)", out: "1\n( True True\n"},
		{code: "1 + 1", result: "2"},
	} {
		out, r, e := outcome(run(t, c, tc.code))
		if tc.code[:3] == "try" {
			if out != "True True "+inComparison+"\n" {
				t.Errorf("caught: %q %q", out, e)
			}
			continue
		}
		if r != tc.result || e != tc.err || tc.out != "" && out != tc.out {
			t.Errorf("%q: got result %q error %q output %q, want %q %q %q", tc.code, r, e, out, tc.result, tc.err, tc.out)
		}
	}
}

// TestRefKernelGroupStartUnmatched: a parenthesis before an operand
// whose match is not found is reported, for the instrumentation to check
// the operand's depth instead of marking it inside the parentheses.
func TestRefKernelGroupStartUnmatched(t *testing.T) {
	for _, tc := range []struct {
		lines     []string
		line, col int
		ok        bool
	}{
		{[]string{"((a)[0] == 1"}, 1, 1, false},
		{[]string{"((a)[0]) == 1"}, 1, 0, true},
		{[]string{"x = ((", "a)[0]) == 1"}, 1, 4, true},
		{[]string{"print(\"\"\"(", "\"\"\", (a)[0] == 1)"}, 2, 5, true},
	} {
		cell := cellText{lines: tc.lines, toks: lexCell(tc.lines)}
		last := len(tc.lines)
		at := strings.Index(tc.lines[last-1], "a)")
		end := strings.Index(tc.lines[last-1], "1")
		line, col, ok := groupStart(cell, last, at, last, end)
		if line != tc.line || col != tc.col || ok != tc.ok {
			t.Errorf("%q: (%d, %d, %v), want (%d, %d, %v)", tc.lines, line, col, ok, tc.line, tc.col, tc.ok)
		}
	}
}
