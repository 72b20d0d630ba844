package refserver

// Bounds on the Go recursion over nested data. gpython compares lists,
// tuples, dicts and sets item by item in Go calls that recurse as deep as
// the data is nested (and for ever on a cycle: a = [a]; b = [b]; a == b),
// out of the instrumentation's reach: "x == y" of two lists nested three
// million deep overflowed the Go stack, which is fatal to the whole
// process, not a panic. The instrumentation (refkernel_instrument.go)
// rewrites the right operand c of every ==, !=, in and not in as
// "__nbserv_deep__ ** c", and the object o of every .__eq__, .__ne__,
// .__repr__ and .__str__ as "__nbserv_deep__(o)": for a container that
// makes a deepOperand, which gpython's types do not recognise, so the
// comparison falls to the deepOperand's reflected method, which compares
// the real values itself, as CPython does (an item identical to its
// counterpart is equal without a look inside), to at most maxCompareDepth
// levels, then raises CPython's RecursionError. Any other operand is left
// as it is. repr and str of nested data are bounded in objRepr.

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/go-python/gpython/py"
)

const (
	// deepName is the builtin the instrumentation puts before a compared
	// operand.
	deepName = "__nbserv_deep__"
	// maxCompareDepth bounds the nesting a comparison follows, as
	// CPython's recursion limit does.
	maxCompareDepth = maxReprDepth
)

// recursionError is CPython's RecursionError, which gpython lacks: a
// RuntimeError, as in CPython, so that "except RuntimeError" catches it.
// It is not a heap type, so guardAttr refuses to change it.
var recursionError = subclass(py.RuntimeError, "RecursionError", "Recursion limit exceeded.")

// subclass makes a subclass of a gpython type once gpython has readied
// its own types: a type made with NewType then inherits the ready flag
// and never gets the method resolution order "except" matches with.
func subclass(base *py.Type, name, doc string) *py.Type {
	t := base.NewTypeFlags(name, doc, nil, nil, base.Flags&^(py.TPFLAGS_READY|py.TPFLAGS_READYING))
	t.Base = base
	if err := t.Ready(); err != nil {
		panic(err) // a type of this package's making: a bug
	}
	return t
}

// errRecursion is CPython's error when a recursion in what (" in
// comparison", ...) passes the limit.
func errRecursion(what string) error {
	return py.ExceptionNewf(recursionError, "maximum recursion depth exceeded%s", what)
}

// deepGuardType and deepOperandType are the types of the guard builtin and
// its operands. Neither is a heap type, so guardAttr refuses to change
// them; neither has a dict.
var (
	deepGuardType   = py.NewType("nbserv_deep", "the reference kernel's comparison depth guard")
	deepOperandType = py.NewType("nbserv_deep_operand", "a container whose comparisons are bounded")
)

// deepGuard is __nbserv_deep__: "guard ** c" and "guard(c)" mark c.
type deepGuard struct{}

func (deepGuard) Type() *py.Type { return deepGuardType }

// M__pow__ marks a container, whose comparison gpython would recurse
// into, and any other built-in iterable but a string, bytes or range (an
// iterator, generator, map, ...): "a in it" compares a with each item in
// gpython, recursing as deep as they are nested. It returns anything else
// as it is.
func (deepGuard) M__pow__(other, modulus py.Object) (py.Object, error) {
	if isContainer(other) || iterable(other) {
		return deepOperand{other}, nil
	}
	return other, nil
}

// M__call__ marks its one argument, the object of a .__eq__, .__ne__,
// .__repr__ or .__str__, when it is a container: an iterator's own
// methods compare and write no items. With no argument it is the guard
// of the last right operand of a chain's "in" or "not in"
// ("__nbserv_deep__() ** c"), which takes part in no other comparison.
func (g deepGuard) M__call__(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
	if len(args) == 0 && len(kwargs) == 0 {
		return deepInGuard{}, nil
	}
	if len(args) != 1 || len(kwargs) != 0 {
		return nil, py.ExceptionNewf(py.SystemError, "bad deep guard")
	}
	if isContainer(args[0]) {
		return deepOperand{args[0]}, nil
	}
	return args[0], nil
}

// deepInGuard marks what deepGuard marks and also an instance of a
// user's class: without its own __contains__, gpython compares the
// needle with each item it iterates, recursing as deep as they are
// nested. Only "in" sees the mark: the user's __eq__ of a left operand
// would see it in "x == c".
type deepInGuard struct{}

func (deepInGuard) Type() *py.Type { return deepGuardType }

func (deepInGuard) M__pow__(other, modulus py.Object) (py.Object, error) {
	if _, user := other.(*py.Type); user {
		return deepOperand{other}, nil
	}
	return deepGuard{}.M__pow__(other, modulus)
}

// isContainer reports a list, tuple, dict or set: the objects gpython
// compares item by item.
func isContainer(o py.Object) bool {
	switch o.(type) {
	case *py.List, py.Tuple, py.StringDict, *py.Set, *py.FrozenSet:
		return true
	}
	return false
}

// iterable reports a built-in iterable other than a container, a string,
// bytes or a range (whose "in" compares no items). A user's class is not
// one: gpython makes its instances *py.Type.
func iterable(o py.Object) bool {
	switch o.(type) {
	case py.String, py.Bytes, *py.Range, *py.Type:
		return false
	case py.I__iter__, py.I__next__:
		return true
	}
	return false
}

// depthCheckName is the builtin the instrumentation puts before an operand
// of a comparison in a chain that no mark can bound ("a in b in c"):
// "__nbserv_depth__ ** b" is b itself, once checkDepth has found it no
// deeper than maxCompareDepth.
const depthCheckName = "__nbserv_depth__"

var depthCheckType = py.NewType("nbserv_depth", "the reference kernel's operand depth check")

// depthCheck is __nbserv_depth__.
type depthCheck struct{}

func (depthCheck) Type() *py.Type { return depthCheckType }

func (depthCheck) M__pow__(other, modulus py.Object) (py.Object, error) {
	return other, checkDepth(other)
}

// checkDepth raises RecursionError for data nested deeper than
// maxCompareDepth, a cycle included (where CPython may answer from
// identical items: the price of a chain no mark can bound). It walks
// without recursing, and visits a container again only at a greater
// depth than before, so shared items cost at most maxCompareDepth visits.
func checkDepth(o py.Object) error {
	type visit struct {
		o     py.Object
		depth int
	}
	seen := map[any]int{}
	stack := []visit{{o, 0}}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var items []py.Object
		var key any
		switch x := v.o.(type) {
		case *py.List:
			items, key = x.Items, x
		case py.Tuple:
			if len(x) > 0 {
				items, key = x, &x[0]
			}
		case py.StringDict:
			for _, k := range sortedKeysOf(x) {
				items = append(items, x[k])
			}
			key = reflect.ValueOf(x).Pointer()
		case *py.Set, *py.FrozenSet:
			items, key = setItems(x), x
		}
		if len(items) == 0 {
			continue
		}
		if v.depth >= maxCompareDepth {
			return errRecursion(" in comparison")
		}
		if d, ok := seen[key]; ok && d >= v.depth {
			continue
		}
		seen[key] = v.depth
		for _, x := range items {
			stack = append(stack, visit{x, v.depth + 1})
		}
	}
	return nil
}

// deepOperand is a marked container.
type deepOperand struct{ v py.Object }

func (deepOperand) Type() *py.Type { return deepOperandType }

func undeep(o py.Object) py.Object {
	if d, ok := o.(deepOperand); ok {
		return d.v
	}
	return o
}

// M__eq__ is reached for "a == d" (gpython asks a first, which declines a
// type it does not know), for "d == c" in a chain, and for d.__eq__(a).
func (d deepOperand) M__eq__(a py.Object) (py.Object, error) { return d.compare(a, py.Eq, false) }

// M__ne__ is M__eq__'s negation, reached the same ways.
func (d deepOperand) M__ne__(a py.Object) (py.Object, error) { return d.compare(a, py.Ne, true) }

// compare is == (negate false) or != (negate true) of a and d. A marked
// iterable that is not a container compares as gpython compares it (op),
// with no item to follow; a container of another kind than a's declines,
// as CPython's do.
func (d deepOperand) compare(a py.Object, op func(a, b py.Object) (py.Object, error), negate bool) (py.Object, error) {
	a = undeep(a)
	if !isContainer(d.v) {
		return op(a, d.v)
	}
	if !sameKind(d.v, a) {
		return py.NotImplemented, nil
	}
	eq, err := deepEqual(a, d.v, 0)
	if err != nil {
		return nil, err
	}
	return py.NewBool(eq != negate), nil
}

// M__contains__ is "a in d": an item identical to a, or equal to it,
// stepping through d (an iterator is consumed up to the first match, as
// in CPython). A needle that is not a container is compared by gpython,
// which then recurses into no item (and for a set, looks it up).
func (d deepOperand) M__contains__(a py.Object) (py.Object, error) {
	a = undeep(a)
	if _, dict := d.v.(py.StringDict); dict || !isContainer(a) || hasContains(d.v) { // a dict's keys are strings
		found, err := py.SequenceContains(d.v, a)
		return py.NewBool(found), err
	}
	found := false
	var cmpErr error
	err := py.Iterate(d.v, func(x py.Object) bool {
		if same(x, a) {
			found = true
		} else {
			found, cmpErr = deepEqual(x, a, 1)
		}
		return found || cmpErr != nil
	})
	if err == nil {
		err = cmpErr
	}
	if err != nil {
		return nil, err
	}
	return py.NewBool(found), nil
}

// hasContains reports an instance of a user's class with a __contains__,
// which gpython calls as Python code, instrumented.
func hasContains(o py.Object) bool {
	t, ok := o.(*py.Type)
	return ok && t.GetAttrOrNil("__contains__") != nil
}

func (d deepOperand) M__repr__() (py.Object, error) {
	s, err := objRepr(d.v)
	return py.String(s), err
}

func (d deepOperand) M__str__() (py.Object, error) {
	s, err := objStr(d.v)
	return py.String(s), err
}

// The arithmetic that may follow a marked operand in a compared
// expression ("a == __nbserv_deep__ ** b + c" is "(guard ** b) + c"), on
// the real values, keeping the mark. Repetition goes through mulOp's size
// check.

func (d deepOperand) M__add__(b py.Object) (py.Object, error) { return redeep(py.Add(d.v, undeep(b))) }
func (d deepOperand) M__sub__(b py.Object) (py.Object, error) { return redeep(py.Sub(d.v, undeep(b))) }
func (d deepOperand) M__mul__(b py.Object) (py.Object, error) { return redeep(mulOp(d.v, undeep(b))) }
func (d deepOperand) M__mod__(b py.Object) (py.Object, error) { return redeep(py.Mod(d.v, undeep(b))) }
func (d deepOperand) M__and__(b py.Object) (py.Object, error) { return redeep(py.And(d.v, undeep(b))) }
func (d deepOperand) M__or__(b py.Object) (py.Object, error)  { return redeep(py.Or(d.v, undeep(b))) }
func (d deepOperand) M__xor__(b py.Object) (py.Object, error) { return redeep(py.Xor(d.v, undeep(b))) }
func (d deepOperand) M__truediv__(b py.Object) (py.Object, error) {
	return redeep(py.TrueDiv(d.v, undeep(b)))
}
func (d deepOperand) M__floordiv__(b py.Object) (py.Object, error) {
	return redeep(py.FloorDiv(d.v, undeep(b)))
}
func (d deepOperand) M__lshift__(b py.Object) (py.Object, error) {
	return redeep(lshiftOp(d.v, undeep(b)))
}
func (d deepOperand) M__rshift__(b py.Object) (py.Object, error) {
	return redeep(py.Rshift(d.v, undeep(b)))
}

func redeep(v py.Object, err error) (py.Object, error) {
	if err != nil {
		return nil, err
	}
	return deepGuard{}.M__pow__(v, py.None)
}

// deepEqual is a == b for a comparison depth levels down, without
// following more than maxCompareDepth levels.
func deepEqual(a, b py.Object, depth int) (bool, error) {
	if depth > maxCompareDepth {
		return false, errRecursion(" in comparison")
	}
	var xs, ys []py.Object
	switch a := a.(type) {
	case *py.List:
		b, ok := b.(*py.List)
		if !ok {
			return false, nil
		}
		xs, ys = a.Items, b.Items
	case py.Tuple:
		b, ok := b.(py.Tuple)
		if !ok {
			return false, nil
		}
		xs, ys = a, b
	case py.StringDict:
		b, ok := b.(py.StringDict)
		if !ok || len(a) != len(b) {
			return false, nil
		}
		for k, x := range a {
			y, ok := b[k]
			if !ok {
				return false, nil
			}
			if eq, err := itemEqual(x, y, depth); err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case *py.Set, *py.FrozenSet:
		return setEqual(a, b, depth)
	default:
		eq, err := py.Eq(a, b)
		return eq == py.True, err
	}
	if len(xs) != len(ys) {
		return false, nil
	}
	for i := range xs {
		if eq, err := itemEqual(xs[i], ys[i], depth); err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

// itemEqual compares two items of containers depth levels down: equal
// when identical, as in CPython.
func itemEqual(x, y py.Object, depth int) (bool, error) {
	if same(x, y) {
		return true, nil
	}
	return deepEqual(x, y, depth+1)
}

// setEqual is gpython's set equality (each item of a equal to one of b,
// sets of either kind) with deepEqual for the items.
func setEqual(a, b py.Object, depth int) (bool, error) {
	switch b.(type) {
	case *py.Set, *py.FrozenSet:
	default:
		return false, nil
	}
	xs, ys := setItems(a), setItems(b)
	if len(xs) != len(ys) {
		return false, nil
	}
	for _, x := range xs {
		found := false
		for _, y := range ys {
			eq, err := itemEqual(x, y, depth)
			if err != nil {
				return false, err
			}
			if eq {
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// setItems lists a set's items (gpython keeps them unexported).
func setItems(s py.Object) []py.Object {
	var items []py.Object
	_ = py.Iterate(s, func(o py.Object) bool {
		items = append(items, o)
		return false
	})
	return items
}

// same reports that x and y are one object, for the kinds of objects a
// comparison recurses into (Go's == panics on a tuple or a dict).
func same(x, y py.Object) bool {
	switch x := x.(type) {
	case *py.List:
		y, ok := y.(*py.List)
		return ok && x == y
	case *py.Set:
		y, ok := y.(*py.Set)
		return ok && x == y
	case *py.FrozenSet:
		y, ok := y.(*py.FrozenSet)
		return ok && x == y
	case py.Tuple:
		y, ok := y.(py.Tuple)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case py.StringDict:
		y, ok := y.(py.StringDict)
		return ok && reflect.ValueOf(x).Pointer() == reflect.ValueOf(y).Pointer()
	}
	return false
}

// sameKind reports whether CPython's list, tuple, dict or set __eq__ would
// compare x with y at all; otherwise it returns NotImplemented.
func sameKind(x, y py.Object) bool {
	switch x.(type) {
	case *py.List:
		_, ok := y.(*py.List)
		return ok
	case py.Tuple:
		_, ok := y.(py.Tuple)
		return ok
	case py.StringDict:
		_, ok := y.(py.StringDict)
		return ok
	case *py.Set, *py.FrozenSet:
		switch y.(type) {
		case *py.Set, *py.FrozenSet:
			return true
		}
	}
	return false
}

// asciiRepr is ascii(): repr with every non-ASCII character escaped, as
// CPython writes it. gpython's recursed in Go as deep as the data.
func asciiRepr(o py.Object) (string, error) {
	r, err := objRepr(o)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range r {
		switch {
		case c < 0x80:
			b.WriteRune(c)
		case c < 0x100:
			fmt.Fprintf(&b, `\x%02x`, c)
		case c < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			fmt.Fprintf(&b, `\U%08x`, c)
		}
	}
	return b.String(), nil
}
