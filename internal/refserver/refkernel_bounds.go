package refserver

// Bounds on the operations that make a value in one Go call: sequence
// repetition (s * n), integer multiplication, power and left shift. In
// gpython each is a single Go loop or allocation, out of the
// instrumentation's reach, so "[0] * 10**10" or "1 << 10**11" ends the whole
// process (a Go out-of-memory is fatal, not a panic) and "'a' * 10**10" or
// "2 ** 10**10" holds the shell worker past interrupt, restart and
// shutdown. The instrumentation (refkernel_instrument.go) rewrites the
// right operand b of such an operator as "__nbserv_size__ ** b": for an int
// or a sequence that makes a sizedOperand, which gpython's built-in types
// do not recognise, so the operation falls to the sizedOperand's reflected
// method, which checks the result's size and then does the operation on
// the real values (error messages included). Any other b is left as it is.
// (gpython runs no Python-level operator methods of user classes, so no
// user code ever sees a sizedOperand.)

import (
	"math/big"
	"strings"

	"github.com/go-python/gpython/py"
)

const (
	// sizeName is the builtin the instrumentation puts before a guarded
	// operand.
	sizeName = "__nbserv_size__"
	// maxSeqItems bounds the items (characters' bytes for a str) a
	// repetition makes: 16 MiB of text, 256 MiB of list slots.
	maxSeqItems = 1 << 24
	// maxIntBits bounds the bits of an int a multiplication, power or
	// shift makes (512 KiB): gpython multiplies, prints and parses ints in
	// uninterruptible Go calls whose time grows faster than their size.
	maxIntBits = 1 << 22
)

// sizeGuardType and sizedOperandType are the types of the guard builtin
// and its operands. Neither is a heap type, so guardAttr refuses to change
// them; neither has a dict.
var (
	sizeGuardType    = py.NewType("nbserv_size", "the reference kernel's operand size guard")
	sizedOperandType = py.NewType("nbserv_sized", "an operand whose result's size is checked")
)

// sizeGuard is __nbserv_size__: "guard ** b" marks b.
type sizeGuard struct{}

func (sizeGuard) Type() *py.Type { return sizeGuardType }

// M__pow__ marks other for a check when it is what an explosive operation
// takes (an int or a sequence), else returns it as it is.
func (sizeGuard) M__pow__(other, modulus py.Object) (py.Object, error) {
	switch other.(type) {
	case py.Int, *py.BigInt, py.Bool, py.String, *py.List, py.Tuple, py.Bytes:
		return sizedOperand{other}, nil
	}
	return other, nil
}

// sizedOperand is a marked right operand.
type sizedOperand struct{ v py.Object }

func (sizedOperand) Type() *py.Type { return sizedOperandType }

func unsized(o py.Object) py.Object {
	if s, ok := o.(sizedOperand); ok {
		return s.v
	}
	return o
}

// errTooBig is CPython's error for an allocation it cannot make.
func errTooBig() error { return py.ExceptionNewf(py.MemoryError, "") }

// intBits is the bit length of an int's magnitude, or -1 if o is no int.
func intBits(o py.Object) int {
	switch o := o.(type) {
	case py.Int:
		return new(big.Int).Abs(big.NewInt(int64(o))).BitLen()
	case *py.BigInt:
		return (*big.Int)(o).BitLen()
	case py.Bool:
		if o {
			return 1
		}
		return 0
	}
	return -1
}

// intValue is an int's value if it fits an int64.
func intValue(o py.Object) (int64, bool) {
	switch o := o.(type) {
	case py.Int:
		return int64(o), true
	case py.Bool:
		if o {
			return 1, true
		}
		return 0, true
	case *py.BigInt:
		if (*big.Int)(o).IsInt64() {
			return (*big.Int)(o).Int64(), true
		}
	}
	return 0, false
}

func seqLen(o py.Object) (int, bool) {
	switch o := o.(type) {
	case py.String:
		return len(o), true
	case py.Bytes:
		return len(o), true
	case *py.List:
		return len(o.Items), true
	case py.Tuple:
		return len(o), true
	}
	return 0, false
}

// checkMul refuses a*b when the result would be too big.
func checkMul(a, b py.Object) error {
	if ba, bb := intBits(a), intBits(b); ba >= 0 && bb >= 0 {
		if ba+bb > maxIntBits {
			return errTooBig()
		}
		return nil
	}
	seq, n := a, b
	if _, ok := seqLen(b); ok {
		seq, n = b, a
	}
	l, ok := seqLen(seq)
	if !ok {
		return nil
	}
	count, ok := intValue(n)
	if !ok {
		return nil // too big for gpython to take: its own TypeError or OverflowError
	}
	if _, isStr := seq.(py.String); isStr && (l == 0 || count <= 0) {
		return nil
	}
	if count > 0 && l > 0 && count > maxSeqItems/int64(l) {
		return errTooBig()
	}
	if _, isStr := seq.(py.String); isStr && count > maxSeqItems {
		return errTooBig() // gpython loops count times even for ""
	}
	return nil
}

// mulOp is a*b checked, for a string whose repetition gpython would loop
// over count times even when empty.
func mulOp(a, b py.Object) (py.Object, error) {
	a, b = unsized(a), unsized(b)
	if err := checkMul(a, b); err != nil {
		return nil, err
	}
	for _, p := range [][2]py.Object{{a, b}, {b, a}} {
		if s, ok := p[0].(py.String); ok {
			if n, ok := intValue(p[1]); ok && (len(s) == 0 || n <= 0) {
				return py.String(""), nil
			}
		}
	}
	return py.Mul(a, b)
}

// powOp is a**b (mod m) checked.
func powOp(a, b, m py.Object) (py.Object, error) {
	a, b, m = unsized(a), unsized(b), unsized(m)
	if m == py.None {
		ba := intBits(a)
		if n, ok := intValue(b); ba > 1 && intBits(b) >= 0 && (!ok || n > 0 && n > maxIntBits/int64(ba)) {
			return nil, errTooBig()
		}
	}
	return py.Pow(a, b, m)
}

// lshiftOp is a<<b checked.
func lshiftOp(a, b py.Object) (py.Object, error) {
	a, b = unsized(a), unsized(b)
	if ba := intBits(a); ba > 0 && intBits(b) >= 0 {
		if n, ok := intValue(b); !ok || n > 0 && int64(ba)+n > maxIntBits {
			return nil, errTooBig()
		}
	}
	return py.Lshift(a, b)
}

// The operations a marked operand takes part in: the checked ones, as
// either operand, and the arithmetic that may surround it in a shift's
// right operand ("1 << n + 1" becomes "1 << __nbserv_size__ ** n + 1"),
// which keeps the mark.

func (s sizedOperand) M__rmul__(a py.Object) (py.Object, error) { return mulOp(a, s.v) }
func (s sizedOperand) M__mul__(b py.Object) (py.Object, error) {
	return remark(mulOp(s.v, b))
}
func (s sizedOperand) M__rpow__(a py.Object) (py.Object, error)    { return powOp(a, s.v, py.None) }
func (s sizedOperand) M__rlshift__(a py.Object) (py.Object, error) { return lshiftOp(a, s.v) }
func (s sizedOperand) M__add__(b py.Object) (py.Object, error) {
	return remark(py.Add(s.v, unsized(b)))
}
func (s sizedOperand) M__sub__(b py.Object) (py.Object, error) {
	return remark(py.Sub(s.v, unsized(b)))
}
func (s sizedOperand) M__truediv__(b py.Object) (py.Object, error) {
	return remark(py.TrueDiv(s.v, unsized(b)))
}
func (s sizedOperand) M__floordiv__(b py.Object) (py.Object, error) {
	return remark(py.FloorDiv(s.v, unsized(b)))
}
func (s sizedOperand) M__mod__(b py.Object) (py.Object, error) {
	return remark(py.Mod(s.v, unsized(b)))
}

func remark(v py.Object, err error) (py.Object, error) {
	if err != nil {
		return nil, err
	}
	return sizeGuard{}.M__pow__(v, py.None)
}

// builtinPow is pow(), checked as "**" is.
func builtinPow(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
	var v, w py.Object
	var z py.Object = py.None
	if len(kwargs) != 0 {
		return nil, py.ExceptionNewf(py.TypeError, "pow() takes no keyword arguments")
	}
	if err := py.UnpackTuple(args, nil, "pow", 2, 3, &v, &w, &z); err != nil {
		return nil, err
	}
	return powOp(v, w, z)
}

// maxIntStrDigits is CPython's (3.11+) default sys.get_int_max_str_digits():
// int() of a longer decimal string is a ValueError. gpython parses in one
// Go call whose time grows with the square of the digits, out of the
// instrumentation's reach: int('9' * 2**23) held the shell worker for
// minutes.
const maxIntStrDigits = 4300

// The constructors int(), bytes() and str() are gpython's types' New functions,
// called from Go wherever the types are (an alias, a subclass, map(int,
// ...)), so the instrumentation cannot put a check before them; they are
// wrapped once, when this package is initialised, before any kernel runs,
// and never changed again. The wrappers keep no state: every kernel sees
// the same bounds.
func init() {
	intNew, bytesNew, strNew := py.IntType.New, py.BytesType.New, py.StringType.New
	py.StringType.New = func(t *py.Type, args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		// str() of a container recursed in Go as deep as the data is
		// nested (a Go stack overflow ends the server); objStr stops at
		// maxReprDepth, and writes floats inside as CPython does.
		if len(args) == 1 && len(kwargs) == 0 && t == py.StringType {
			switch args[0].(type) {
			case *py.List, py.Tuple, py.StringDict, *py.Set, *py.FrozenSet:
				s, err := objStr(args[0])
				if err != nil {
					return nil, err
				}
				return py.String(s), nil
			}
		}
		return strNew(t, args, kwargs)
	}
	py.IntType.New = func(t *py.Type, args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		if err := checkIntString(args, kwargs); err != nil {
			return nil, err
		}
		return intNew(t, args, kwargs)
	}
	py.BytesType.New = func(t *py.Type, args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		// bytes(n) makes n zero bytes in one Go allocation: bytes(10**10)
		// was a Go out-of-memory, fatal to the server.
		if len(args) == 1 && len(kwargs) == 0 {
			if _, isBool := args[0].(py.Bool); !isBool && intBits(args[0]) >= 0 {
				if n, ok := intValue(args[0]); ok && n > maxSeqItems {
					return nil, errTooBig()
				}
			}
		}
		return bytesNew(t, args, kwargs)
	}
}

// checkIntString refuses int(s) and int(s, base) of a string with more
// than maxIntStrDigits digits in a base that is not a power of two, with
// CPython's error.
func checkIntString(args py.Tuple, kwargs py.StringDict) error {
	if len(args) == 0 {
		return nil
	}
	s, ok := args[0].(py.String)
	if b, isBytes := args[0].(py.Bytes); isBytes {
		s, ok = py.String(b), true
	}
	if !ok || len(s) <= maxIntStrDigits {
		return nil
	}
	var base py.Object = py.Int(10)
	if len(args) > 1 {
		base = args[1]
	} else if b, ok := kwargs["base"]; ok {
		base = b
	}
	b, ok := intValue(base)
	if !ok {
		return nil // gpython's own error
	}
	t := strings.TrimLeft(strings.TrimSpace(string(s)), "+-")
	if b == 0 && len(t) > 1 && t[0] == '0' && strings.ContainsRune("xXoObB", rune(t[1])) {
		return nil // base 16, 8 or 2
	}
	if b != 0 && b&(b-1) == 0 {
		return nil // a power of two: linear
	}
	digits := len(t) - strings.Count(t, "_")
	if digits > maxIntStrDigits {
		return py.ExceptionNewf(py.ValueError, "Exceeds the limit (%d digits) for integer string conversion: value has %d digits; use sys.set_int_max_str_digits() to increase the limit", maxIntStrDigits, digits)
	}
	return nil
}
