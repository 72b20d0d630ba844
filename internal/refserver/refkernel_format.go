package refserver

// format() for the f-strings' fields (refkernel_fstring.go): gpython has
// neither format() nor str.format, so the kernel implements Python's
// format-spec mini-language for str, int, bool and float, as CPython 3.11
// does: [[fill]align][sign][#][0][width][,|_][.precision][type].

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-python/gpython/py"

	"github.com/nbserv/go-nbserv/internal/pyrepr"
)

// maxFormatWidth bounds a spec's width and precision: CPython refuses
// above sys.maxsize, far above what a kernel's memory holds.
const maxFormatWidth = maxSeqItems

// fstrJoin is __nbserv_fstr__: the pieces of an f-string, each a str.
func fstrJoin(args py.Tuple, _ py.StringDict) (py.Object, error) {
	var b strings.Builder
	for _, a := range args {
		s, ok := a.(py.String)
		if !ok {
			return nil, py.ExceptionNewf(py.TypeError, "f-string piece is %s, not str", a.Type().Name)
		}
		b.WriteString(string(s))
	}
	return py.String(b.String()), nil
}

// fmtField is __nbserv_fmt__(value, conversion, spec).
func fmtField(args py.Tuple, _ py.StringDict) (py.Object, error) {
	if len(args) != 3 {
		return nil, py.ExceptionNewf(py.SystemError, "bad f-string field")
	}
	v := args[0]
	conv, _ := args[1].(py.String)
	spec, ok := args[2].(py.String)
	if !ok {
		return nil, py.ExceptionNewf(py.TypeError, "format spec must be str, not %s", args[2].Type().Name)
	}
	switch conv {
	case "r", "a":
		s, err := objRepr(v)
		if err != nil {
			return nil, err
		}
		if conv == "a" {
			s = asciiEscape(s)
		}
		v = py.String(s)
	case "s":
		s, err := objStr(v)
		if err != nil {
			return nil, err
		}
		v = py.String(s)
	}
	s, err := formatValue(v, string(spec))
	return py.String(s), err
}

// asciiEscape is ascii() of a repr: what is not ASCII escaped.
func asciiEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
		} else {
			pyrepr.WriteEscape(&b, r)
		}
	}
	return b.String()
}

// fmtSpec is a parsed format spec.
type fmtSpec struct {
	fill             rune
	align, sign, typ byte
	alt, zero        bool
	width, precision int // -1 when absent
	grouping         byte
}

func parseSpec(spec, typeName string) (fmtSpec, error) {
	f := fmtSpec{fill: ' ', width: -1, precision: -1}
	bad := func() (fmtSpec, error) {
		return f, py.ExceptionNewf(py.ValueError, "Invalid format specifier '%s' for object of type '%s'", spec, typeName)
	}
	s := spec
	isAlign := func(c byte) bool { return c == '<' || c == '>' || c == '^' || c == '=' }
	if r, n := utf8.DecodeRuneInString(s); n > 0 && n < len(s) && isAlign(s[n]) {
		f.fill, f.align, s = r, s[n], s[n+1:]
	} else if len(s) > 0 && isAlign(s[0]) {
		f.align, s = s[0], s[1:]
	}
	if len(s) > 0 && (s[0] == '+' || s[0] == '-' || s[0] == ' ') {
		f.sign, s = s[0], s[1:]
	}
	if len(s) > 0 && s[0] == '#' {
		f.alt, s = true, s[1:]
	}
	if len(s) > 0 && s[0] == '0' {
		f.zero, s = true, s[1:]
	}
	number := func() int {
		n := 0
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if n <= maxFormatWidth {
				n = n*10 + int(s[i]-'0')
			}
			i++
		}
		if i == 0 {
			return -1
		}
		s = s[i:]
		return n
	}
	f.width = number()
	if len(s) > 0 && (s[0] == ',' || s[0] == '_') {
		f.grouping, s = s[0], s[1:]
	}
	if len(s) > 0 && s[0] == '.' {
		s = s[1:]
		if f.precision = number(); f.precision < 0 {
			return f, py.ExceptionNewf(py.ValueError, "Format specifier missing precision")
		}
	}
	if len(s) > 1 {
		return bad()
	}
	if len(s) == 1 {
		f.typ = s[0]
	}
	if f.width > maxFormatWidth || f.precision > maxFormatWidth {
		return f, errTooBig()
	}
	if f.zero && f.align == 0 {
		f.fill, f.align = '0', '='
	}
	return f, nil
}

// formatValue is format(v, spec).
func formatValue(v py.Object, spec string) (string, error) {
	if spec == "" {
		return objStr(v)
	}
	switch x := v.(type) {
	case py.String:
		return formatStr(string(x), spec)
	case py.Bool:
		n := int64(0)
		if x {
			n = 1
		}
		return formatInt(big.NewInt(n), spec, "bool")
	case py.Int:
		return formatInt(big.NewInt(int64(x)), spec, "int")
	case *py.BigInt:
		return formatInt((*big.Int)(x), spec, "int")
	case py.Float:
		return formatFloat(float64(x), spec, "float")
	}
	return "", py.ExceptionNewf(py.TypeError, "unsupported format string passed to %s.__format__", v.Type().Name)
}

func formatStr(s, spec string) (string, error) {
	f, err := parseSpec(spec, "str")
	if err != nil {
		return "", err
	}
	switch {
	case f.typ != 0 && f.typ != 's':
		return "", py.ExceptionNewf(py.ValueError, "Unknown format code '%c' for object of type 'str'", f.typ)
	case f.sign != 0:
		return "", py.ExceptionNewf(py.ValueError, "Sign not allowed in string format specifier")
	case f.alt:
		return "", py.ExceptionNewf(py.ValueError, "Alternate form (#) not allowed in string format specifier")
	case f.grouping != 0:
		return "", py.ExceptionNewf(py.ValueError, "Cannot specify '%c' with 's'.", f.grouping)
	case f.align == '=':
		return "", py.ExceptionNewf(py.ValueError, "'=' alignment not allowed in string format specifier")
	}
	if f.precision >= 0 && utf8.RuneCountInString(s) > f.precision {
		s = string([]rune(s)[:f.precision])
	}
	return pad(f, "", s, '<'), nil
}

// pad aligns sign+body in f's width; def is the type's default alignment.
func pad(f fmtSpec, sign, body string, def byte) string {
	n := f.width - utf8.RuneCountInString(sign) - utf8.RuneCountInString(body)
	if n <= 0 {
		return sign + body
	}
	fill := strings.Repeat(string(f.fill), n)
	align := f.align
	if align == 0 {
		align = def
	}
	switch align {
	case '<':
		return sign + body + fill
	case '^':
		left := strings.Repeat(string(f.fill), n/2)
		return left + sign + body + strings.Repeat(string(f.fill), n-n/2)
	case '=':
		return sign + fill + body
	}
	return fill + sign + body
}

// group puts sep every n digits of an integer's digits, from the right.
func group(digits string, sep byte, n int) string {
	if sep == 0 || len(digits) <= n {
		return digits
	}
	var b strings.Builder
	first := len(digits) % n
	if first > 0 {
		b.WriteString(digits[:first])
	}
	for i := first; i < len(digits); i += n {
		if b.Len() > 0 {
			b.WriteByte(sep)
		}
		b.WriteString(digits[i : i+n])
	}
	return b.String()
}

func signOf(neg bool, sign byte) string {
	switch {
	case neg:
		return "-"
	case sign == '+':
		return "+"
	case sign == ' ':
		return " "
	}
	return ""
}

func formatInt(n *big.Int, spec, typeName string) (string, error) {
	f, err := parseSpec(spec, typeName)
	if err != nil {
		return "", err
	}
	switch f.typ {
	case 'e', 'E', 'f', 'F', 'g', 'G', '%':
		x, _ := new(big.Float).SetInt(n).Float64()
		return formatFloat(x, spec, typeName)
	case 0, 'd', 'n', 'b', 'o', 'x', 'X', 'c':
	default:
		return "", py.ExceptionNewf(py.ValueError, "Unknown format code '%c' for object of type '%s'", f.typ, typeName)
	}
	if f.precision >= 0 {
		return "", py.ExceptionNewf(py.ValueError, "Precision not allowed in integer format specifier")
	}
	if f.typ == 'c' {
		if f.sign != 0 {
			return "", py.ExceptionNewf(py.ValueError, "Sign not allowed with integer format specifier 'c'")
		}
		if !n.IsInt64() || n.Int64() < 0 || n.Int64() > utf8.MaxRune {
			return "", py.ExceptionNewf(py.OverflowError, "%%c arg not in range(0x110000)")
		}
		return pad(f, "", string(rune(n.Int64())), '<'), nil
	}
	base, prefix, every := 10, "", 3
	switch f.typ {
	case 'b':
		base, prefix, every = 2, "0b", 4
	case 'o':
		base, prefix, every = 8, "0o", 4
	case 'x', 'X':
		base, prefix, every = 16, "0x", 4
	}
	if f.grouping == ',' && base != 10 {
		return "", py.ExceptionNewf(py.ValueError, "Cannot specify ',' with '%c'.", f.typ)
	}
	if n.BitLen() > maxIntBits {
		return "", errTooBig()
	}
	digits := new(big.Int).Abs(n).Text(base)
	if f.typ == 'X' {
		digits, prefix = strings.ToUpper(digits), "0X"
	}
	if !f.alt {
		prefix = ""
	}
	sign := signOf(n.Sign() < 0, f.sign) + prefix
	if f.align == '=' && f.fill == '0' && f.grouping != 0 {
		// Zero padding is grouped too: f'{1234:010,}' is 00,001,234.
		width := f.width - len(sign)
		for len(group(digits, f.grouping, every)) < width {
			digits = "0" + digits
		}
	}
	return pad(f, sign, group(digits, f.grouping, every), '>'), nil
}

func formatFloat(x float64, spec, typeName string) (string, error) {
	f, err := parseSpec(spec, typeName)
	if err != nil {
		return "", err
	}
	if f.typ == 0 && f.precision < 0 && f.sign == 0 && f.grouping == 0 && !f.alt {
		// Only alignment and width: str() of the value, padded.
		s, err := objStr(py.Float(x))
		if err != nil {
			return "", err
		}
		neg := strings.HasPrefix(s, "-")
		return pad(f, signOf(neg, 0), strings.TrimPrefix(s, "-"), '>'), nil
	}
	prec := f.precision
	var body string
	neg := math.Signbit(x) && !math.IsNaN(x)
	a := math.Abs(x)
	switch f.typ {
	case 'f', 'F', '%':
		if prec < 0 {
			prec = 6
		}
		if f.typ == '%' {
			a *= 100
		}
		body = strconv.FormatFloat(a, 'f', prec, 64)
	case 'e', 'E':
		if prec < 0 {
			prec = 6
		}
		body = strconv.FormatFloat(a, 'e', prec, 64)
	case 'g', 'G', 'n':
		if prec < 0 {
			prec = 6
		}
		body = strconv.FormatFloat(a, 'g', max(prec, 1), 64)
	case 0:
		if prec < 0 {
			body = pyReprFloat(a)
		} else {
			// Like 'g', but scientific from an exponent of precision-1
			// and with a digit after the point.
			p := max(prec, 1)
			e := strconv.FormatFloat(a, 'e', p-1, 64)
			exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
			if exp < -4 || exp >= p-1 && a != 0 {
				body = trimFrac(e[:strings.IndexByte(e, 'e')]) + e[strings.IndexByte(e, 'e'):]
			} else {
				body = trimFrac(strconv.FormatFloat(a, 'f', max(p-1-exp, 0), 64))
				if !strings.Contains(body, ".") {
					body += ".0"
				}
			}
		}
	default:
		return "", py.ExceptionNewf(py.ValueError, "Unknown format code '%c' for object of type '%s'", f.typ, typeName)
	}
	switch {
	case math.IsInf(x, 0):
		body = "inf"
	case math.IsNaN(x):
		body = "nan"
	}
	if f.typ == 'F' || f.typ == 'E' || f.typ == 'G' {
		body = strings.ToUpper(body)
	}
	if f.alt && !strings.ContainsAny(body, ".na") {
		if e := strings.IndexAny(body, "eE"); e >= 0 {
			body = body[:e] + "." + body[e:]
		} else {
			body += "."
		}
	}
	if f.typ == '%' {
		body += "%"
	}
	if f.grouping != 0 && !math.IsInf(x, 0) && !math.IsNaN(x) {
		intPart := body
		rest := ""
		if i := strings.IndexAny(body, ".eE%"); i >= 0 {
			intPart, rest = body[:i], body[i:]
		}
		if f.align == '=' && f.fill == '0' {
			width := f.width - len(signOf(neg, f.sign)) - len(rest)
			for len(group(intPart, f.grouping, 3)) < width {
				intPart = "0" + intPart
			}
		}
		body = group(intPart, f.grouping, 3) + rest
	}
	return pad(f, signOf(neg, f.sign), body, '>'), nil
}

// trimFrac drops a fraction's trailing zeros, and its point if none is
// left.
func trimFrac(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
