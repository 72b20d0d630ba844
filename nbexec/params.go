package nbexec

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nbserv/go-nbserv/internal/pyrepr"
	"github.com/nbserv/go-nbserv/nbformat"
)

// Cell tags of papermill's parameters convention, which InjectParameters
// follows.
const (
	// TagParameters marks the cell holding a notebook's default
	// parameters; the injected cell goes right after it.
	TagParameters = "parameters"
	// TagInjectedParameters marks the cell InjectParameters writes; a
	// later injection replaces it.
	TagInjectedParameters = "injected-parameters"
)

// ErrUnsupportedLanguage matches a *LanguageError.
var ErrUnsupportedLanguage = errors.New("nbexec: parameters can be injected only into Python notebooks")

// LanguageError is InjectParameters' error for a notebook whose kernel
// language is not Python, or is not known: the values are written as
// Python code, which another language's kernel would fail on, or worse,
// misread.
type LanguageError struct {
	// Language is the language found ("" when neither the caller, the
	// kernelspec nor language_info named one).
	Language string
}

// Error names the language.
func (e *LanguageError) Error() string {
	if e.Language == "" {
		return "nbexec: the notebook names no kernel language (metadata.kernelspec.language or metadata.language_info.name); parameters are written as Python and need a Python kernel"
	}
	return fmt.Sprintf("nbexec: the notebook's kernel language is %q; parameters are written as Python and need a Python kernel", e.Language)
}

// Is matches ErrUnsupportedLanguage.
func (e *LanguageError) Is(target error) bool { return target == ErrUnsupportedLanguage }

// ParameterError is InjectParameters' error for a parameter it cannot
// write: a name that is not a Python identifier (or is a keyword), or a
// value of a type it does not translate or nested too deep.
type ParameterError struct {
	// Name is the parameter's name.
	Name string
	// Reason says what is wrong with it.
	Reason string
}

// Error names the parameter and the reason.
func (e *ParameterError) Error() string {
	return fmt.Sprintf("nbexec: parameter %q: %s", e.Name, e.Reason)
}

// Parameter is one value InjectParameters assigns. Value is one of: nil
// (None), a bool, an integer of any Go integer type or a *big.Int, a
// float32 or float64 (NaN and the infinities included), a string, or,
// nested, a []any or a map[string]any of these (a Python list or dict,
// the dict's keys sorted, since a Go map has no order), at most 200 deep,
// as deep as Python reads.
type Parameter struct {
	// Name is the variable assigned: a Python identifier, not a keyword.
	Name string
	// Value is its value, of one of the types above.
	Value any
}

// ParseValue types a command-line value as papermill types the values of
// its -p option: "True", "False" and "None" exactly are the bool and None;
// then what Python's int() accepts is an integer (an int64, or a *big.Int
// beyond its range), what float() accepts a float64, and anything else
// the string itself (an integer of more than 4300 digits is a float, as
// Python 3.11 and later refuse it to int()). As in Python, surrounding
// whitespace, a sign,
// underscores between digits and non-ASCII decimal digits are accepted:
// " 1_000 " is 1000, "1e3" is 1000.0, "nan" is NaN, "0x10" is a string.
// Papermill's -r values are the string as given, untyped.
func ParseValue(s string) any {
	switch s {
	case "True":
		return true
	case "False":
		return false
	case "None":
		return nil
	}
	if n, ok := pythonInt(s); ok {
		if n.IsInt64() {
			return n.Int64()
		}
		return n
	}
	if f, ok := pythonFloat(s); ok {
		return f
	}
	return s
}

// pythonStrip removes what Python's str.strip removes: Unicode whitespace
// and the separators U+001C to U+001F.
func pythonStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) })
}

// asciiDigits replaces decimal digits of any script (Unicode category Nd)
// by ASCII ones, as Python's int() and float() read them.
func asciiDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII && unicode.Is(unicode.Nd, r) {
			if d, ok := digitValue(r); ok {
				return '0' + rune(d)
			}
		}
		return r
	}, s)
}

// digitValue returns the value of a decimal digit: the Unicode tables list
// them in runs of ten from zero, so a digit's value is its offset in its
// run. The runs that hold several sets of ten (mathematical digits) start
// at a zero too.
func digitValue(r rune) (int, bool) {
	for _, rg := range unicode.Nd.R16 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return int(r-lo) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return int(r-lo) % 10, true
		}
	}
	return 0, false
}

// digitsWithUnderscores reports whether s is ASCII digits in which each
// underscore stands between two digits, as Python's numeric parsing
// allows.
func digitsWithUnderscores(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '_' && i > 0 && i < len(s)-1 && s[i-1] != '_' && s[i+1] >= '0' && s[i+1] <= '9':
		default:
			return false
		}
	}
	return true
}

// maxIntDigits is the longest integer Python's int() reads from a string
// (sys.get_int_max_str_digits() since Python 3.11, 4300 by default);
// past it int() refuses and papermill's typing falls through to float().
const maxIntDigits = 4300

// pythonInt parses s as Python's int(s) does (base 10).
func pythonInt(s string) (*big.Int, bool) {
	s = asciiDigits(pythonStrip(s))
	sign := ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		sign, s = s[:1], s[1:]
	}
	if !digitsWithUnderscores(s) {
		return nil, false
	}
	digits := strings.ReplaceAll(s, "_", "")
	if len(digits) > maxIntDigits {
		return nil, false
	}
	n, ok := new(big.Int).SetString(sign+digits, 10)
	return n, ok
}

// pythonFloat parses s as Python's float(s) does: a decimal number with an
// optional exponent, or inf, infinity or nan in any case, signed. Past
// float64's range the value is an infinity, as in Python.
func pythonFloat(s string) (float64, bool) {
	s = asciiDigits(pythonStrip(s))
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	neg := strings.HasPrefix(s, "-")
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(body), "e")
	if hasExp {
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			exp = exp[1:]
		}
		if !digitsWithUnderscores(exp) {
			return 0, false
		}
	}
	whole, frac, hasDot := strings.Cut(mant, ".")
	switch {
	case !hasDot && !digitsWithUnderscores(whole):
		return 0, false
	case hasDot && whole == "" && !digitsWithUnderscores(frac):
		return 0, false
	case hasDot && whole != "" && (!digitsWithUnderscores(whole) || (frac != "" && !digitsWithUnderscores(frac))):
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	var numErr *strconv.NumError
	if errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange) {
		return f, true // ±Inf or 0, as Python rounds
	}
	return f, err == nil
}

// Injection says what InjectParameters did.
type Injection struct {
	// Index is the injected cell's index in the notebook's Cells.
	Index int
	// Replaced reports that the notebook held an injected-parameters cell
	// (from an earlier papermill or InjectParameters run), replaced in
	// place.
	Replaced bool
	// NoParametersCell reports that no cell is tagged parameters, so the
	// injected cell went first: papermill warns of it, as the values then
	// are not overriding defaults but are merely set before everything.
	NoParametersCell bool
}

// InjectParameters applies papermill's parameters convention to nb: it
// writes a code cell tagged injected-parameters assigning each parameter,
// in order, as a Python literal, as papermill's Python translator writes it
// ("# Parameters" then one "name = value" line each; papermill further
// formats the cell with black when black is installed, which changes only
// the layout of long lists and dicts), and puts it
//   - where the notebook's first injected-parameters cell is, replacing it
//     (any later ones are removed, as they would reassign stale values);
//   - else right after the first cell tagged parameters;
//   - else first, reported as Injection.NoParametersCell.
//
// The values are recorded, as JSON, in metadata.papermill.parameters (where
// papermill and scrapbook read them), replacing what was there; NaN and the
// infinities, which JSON cannot hold (papermill writes Python's non-standard
// NaN and Infinity tokens), are recorded as the strings "nan", "inf" and
// "-inf". The keys of metadata.papermill that describe an earlier papermill
// execution (start_time, end_time, duration, exception) are removed, as
// they would describe a run that is not this one; the others (papermill's
// input_path, output_path, version, environment_variables,
// default_parameters) are left as they are and not written.
//
// language is the kernel's language; "" means the notebook's
// (metadata.kernelspec.language, else metadata.language_info.name). Any
// language but Python (case aside) is a *LanguageError, and a name that is
// not a Python identifier or a value of another type a *ParameterError;
// on error nb is unchanged.
func InjectParameters(nb *nbformat.Notebook, language string, params ...Parameter) (Injection, error) {
	if language == "" {
		language = NotebookLanguage(nb)
	}
	if !strings.EqualFold(language, "python") {
		return Injection{}, &LanguageError{Language: language}
	}
	code, record, err := pythonParameters(params)
	if err != nil {
		return Injection{}, err
	}
	papermill := map[string]json.RawMessage{}
	if raw, ok := nb.Metadata.Extra["papermill"]; ok {
		if json.Unmarshal(raw, &papermill) != nil || papermill == nil {
			papermill = map[string]json.RawMessage{} // not an object: papermill's own would be
		}
	}
	papermill["parameters"] = record
	for _, k := range []string{"start_time", "end_time", "duration", "exception"} {
		delete(papermill, k)
	}
	rawPapermill, err := json.Marshal(papermill)
	if err != nil {
		return Injection{}, err
	}

	cell := nbformat.NewCodeCell(code)
	if err := cell.Metadata.Set("tags", []string{TagInjectedParameters}); err != nil {
		return Injection{}, err
	}
	if nb.NBFormat == 4 && nb.NBFormatMinor < 5 {
		cell.ID = "" // cell ids came with nbformat 4.5
	}
	var inj Injection
	injected := -1
	for i := range nb.Cells {
		if hasTag(&nb.Cells[i], TagInjectedParameters) {
			injected = i
			break
		}
	}
	switch params := slices.IndexFunc(nb.Cells, func(c nbformat.Cell) bool { return hasTag(&c, TagParameters) }); {
	case injected >= 0:
		inj = Injection{Index: injected, Replaced: true}
		nb.Cells[injected] = cell
		for i := len(nb.Cells) - 1; i > injected; i-- {
			if hasTag(&nb.Cells[i], TagInjectedParameters) {
				nb.Cells = slices.Delete(nb.Cells, i, i+1)
			}
		}
	case params >= 0:
		inj = Injection{Index: params + 1}
		nb.Cells = slices.Insert(nb.Cells, params+1, cell)
	default:
		inj = Injection{Index: 0, NoParametersCell: true}
		nb.Cells = slices.Insert(nb.Cells, 0, cell)
	}
	if nb.Metadata.Extra == nil {
		nb.Metadata.Extra = map[string]json.RawMessage{}
	}
	nb.Metadata.Extra["papermill"] = rawPapermill
	return inj, nil
}

// NotebookLanguage returns the language of nb's kernel as the notebook
// names it: metadata.kernelspec.language, else
// metadata.language_info.name, else "".
func NotebookLanguage(nb *nbformat.Notebook) string {
	if ks := nb.Metadata.Kernelspec; ks != nil && ks.Language != "" {
		return ks.Language
	}
	if li := nb.Metadata.LanguageInfo; li != nil {
		return li.Name
	}
	return ""
}

// pythonParameters returns the injected cell's source and the JSON object
// recorded in metadata.papermill.parameters, keys in the parameters'
// order (a later parameter of the same name replaces the earlier value in
// the earlier's place, as a Python dict does).
func pythonParameters(params []Parameter) (code string, record json.RawMessage, err error) {
	var order []string
	values := map[string]any{}
	for _, p := range params {
		if !isIdentifier(p.Name) {
			return "", nil, &ParameterError{Name: p.Name, Reason: "not a Python identifier"}
		}
		if pythonKeywords[p.Name] {
			return "", nil, &ParameterError{Name: p.Name, Reason: "a Python keyword"}
		}
		if _, seen := values[p.Name]; !seen {
			order = append(order, p.Name)
		}
		values[p.Name] = p.Value
	}
	var src strings.Builder
	var rec strings.Builder
	src.WriteString("# Parameters\n")
	rec.WriteByte('{')
	for i, name := range order {
		lit, err := pythonLiteral(values[name])
		if err != nil {
			return "", nil, &ParameterError{Name: name, Reason: err.Error()}
		}
		fmt.Fprintf(&src, "%s = %s\n", name, lit)
		js, err := jsonValue(values[name])
		if err != nil {
			return "", nil, &ParameterError{Name: name, Reason: err.Error()}
		}
		key, _ := json.Marshal(name)
		if i > 0 {
			rec.WriteByte(',')
		}
		rec.Write(key)
		rec.WriteByte(':')
		rec.Write(js)
	}
	rec.WriteByte('}')
	return src.String(), json.RawMessage(rec.String()), nil
}

// isIdentifier reports whether name is a Python identifier: a letter or
// underscore, then letters, digits, underscores and combining marks (an
// approximation of Unicode's XID classes that Python uses, exact for
// ASCII).
func isIdentifier(name string) bool {
	if name == "" || !utf8.ValidString(name) {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Nl, r):
		case i > 0 && (unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Pc)):
		default:
			return false
		}
	}
	return true
}

// pythonKeywords are Python 3's hard keywords, which cannot be assigned;
// soft keywords (match, case, type, _) can.
var pythonKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true,
	"await": true, "break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true,
	"else": true, "except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true, "or": true,
	"pass": true, "raise": true, "return": true, "try": true, "while": true, "with": true, "yield": true,
}

// maxNesting is how deep lists and dicts may nest in a value: as deep as
// Python's parser reads brackets (deeper is "too many nested
// parentheses"). It also ends a value that holds itself, which would
// otherwise recurse until the stack overflows.
const maxNesting = 200

// pythonLiteral writes v as papermill's Python translator does.
func pythonLiteral(v any) (string, error) {
	return pythonLiteralAt(v, 0)
}

// pythonLiteralAt is pythonLiteral for a value inside depth lists and
// dicts.
func pythonLiteralAt(v any, depth int) (string, error) {
	switch v.(type) {
	case []any, map[string]any:
		if depth++; depth > maxNesting {
			return "", fmt.Errorf("lists and dicts nested more than %d deep (Python reads no deeper; a value holding itself never ends)", maxNesting)
		}
	}
	switch v := v.(type) {
	case nil:
		return "None", nil
	case bool:
		if v {
			return "True", nil
		}
		return "False", nil
	case string:
		return pythonString(v), nil
	case float64:
		return pythonFloatLiteral(v), nil
	case float32:
		return pythonFloatLiteral(float64(v)), nil
	case []any:
		items := make([]string, len(v))
		for i, e := range v {
			lit, err := pythonLiteralAt(e, depth)
			if err != nil {
				return "", err
			}
			items[i] = lit
		}
		return "[" + strings.Join(items, ", ") + "]", nil
	case map[string]any:
		items := make([]string, 0, len(v))
		for _, k := range sortedKeys(v) {
			lit, err := pythonLiteralAt(v[k], depth)
			if err != nil {
				return "", err
			}
			items = append(items, pythonString(k)+": "+lit)
		}
		return "{" + strings.Join(items, ", ") + "}", nil
	}
	if n, ok := integer(v); ok {
		return n.String(), nil
	}
	return "", fmt.Errorf("a %T value has no Python translation", v)
}

// jsonValue encodes v for metadata.papermill.parameters, as Python's json
// module would (floats in Python's repr, so 1.0 stays a float), but with
// NaN and the infinities as strings.
func jsonValue(v any) (json.RawMessage, error) {
	switch v := v.(type) {
	case float64:
		return jsonFloat(v), nil
	case float32:
		return jsonFloat(float64(v)), nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			js, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			parts[i] = string(js)
		}
		return json.RawMessage("[" + strings.Join(parts, ",") + "]"), nil
	case map[string]any:
		parts := make([]string, 0, len(v))
		for _, k := range sortedKeys(v) {
			js, err := jsonValue(v[k])
			if err != nil {
				return nil, err
			}
			key, _ := json.Marshal(k)
			parts = append(parts, string(key)+":"+string(js))
		}
		return json.RawMessage("{" + strings.Join(parts, ",") + "}"), nil
	}
	if n, ok := integer(v); ok {
		return json.RawMessage(n.String()), nil
	}
	if _, err := pythonLiteral(v); err != nil {
		return nil, err
	}
	return json.Marshal(v) // nil, bool, string
}

func jsonFloat(f float64) json.RawMessage {
	switch {
	case math.IsNaN(f):
		return json.RawMessage(`"nan"`)
	case math.IsInf(f, 1):
		return json.RawMessage(`"inf"`)
	case math.IsInf(f, -1):
		return json.RawMessage(`"-inf"`)
	}
	return json.RawMessage(pythonFloatLiteral(f))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// integer returns v as a *big.Int when it is one of Go's integer types.
func integer(v any) (*big.Int, bool) {
	switch v := v.(type) {
	case int:
		return big.NewInt(int64(v)), true
	case int8:
		return big.NewInt(int64(v)), true
	case int16:
		return big.NewInt(int64(v)), true
	case int32:
		return big.NewInt(int64(v)), true
	case int64:
		return big.NewInt(v), true
	case uint:
		return new(big.Int).SetUint64(uint64(v)), true
	case uint8:
		return new(big.Int).SetUint64(uint64(v)), true
	case uint16:
		return new(big.Int).SetUint64(uint64(v)), true
	case uint32:
		return new(big.Int).SetUint64(uint64(v)), true
	case uint64:
		return new(big.Int).SetUint64(v), true
	case *big.Int:
		if v == nil {
			return nil, false
		}
		return v, true
	}
	return nil, false
}

// pythonFloatLiteral writes f as Python's repr does (the shortest digits
// that read back as f; positional notation for exponents -4 to 15, with
// ".0" when integral, else scientific with a signed, two-digit or longer
// exponent), and NaN and the infinities as papermill does: float('nan'),
// float('inf'), float('-inf').
func pythonFloatLiteral(f float64) string {
	switch {
	case math.IsNaN(f):
		return "float('nan')"
	case math.IsInf(f, 1):
		return "float('inf')"
	case math.IsInf(f, -1):
		return "float('-inf')"
	}
	return pyrepr.Float(f)
}

// pythonString quotes s as papermill does: Python's unicode_escape codec
// (backslash, \t, \n and \r escaped; other control characters, DEL and
// everything beyond ASCII as \xhh, \uhhhh or \Uhhhhhhhh), then each double
// quote escaped, inside double quotes. Bytes that are not UTF-8 read as
// U+FFFD, as the notebook's JSON would carry them.
func pythonString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r >= ' ' && r < 0x7f:
			b.WriteRune(r)
		default:
			pyrepr.WriteEscape(&b, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
