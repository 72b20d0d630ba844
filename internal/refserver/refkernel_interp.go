package refserver

// The reference kernel's language: Python as gpython runs it
// (github.com/go-python/gpython v0.2.0, a Python 3.4-like interpreter in
// Go). Each kernel process gets its own interpreter context and __main__
// module, so names set by one execution are there for the next, on any
// connection, until the process restarts. The kernel replaces the
// built-ins that reach the outside (print, input, time.sleep, sys.stdout
// and sys.stderr) with ones that emit ipykernel's messages, removes those
// that would touch the host (open, exec, eval, compile, and every module
// but time, math, string, sys and binascii), bounds pow() (as
// refkernel_bounds.go bounds *, ** and <<), and answers the calls the
// instrumentation adds (refkernel_instrument.go).
//
// Locking: code runs in the shell worker with s.mu released; the
// built-ins take s.mu to emit and to wait, as the scripted steps do.

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"time"

	"github.com/go-python/gpython/ast"
	"github.com/go-python/gpython/compile"
	"github.com/go-python/gpython/py"
	_ "github.com/go-python/gpython/stdlib" // registers the modules and py.NewContext
)

const (
	// maxStrBytes bounds the stdout a kernel buffers before it sends a
	// stream message.
	maxStrBytes = 1 << 20
	// maxGoFrames bounds the Go stack a kernel's Python code may use: a
	// Python call takes about ten Go frames in gpython, so this is about
	// Python's own limit of 1000 nested calls. gpython has no limit, and a
	// Go stack overflow ends the whole process.
	maxGoFrames = 12000
	// maxRangeLen is the longest range gpython makes itself; a longer one
	// is a generator the kernel can interrupt, as built-ins such as sum()
	// loop over a range in Go, out of the instrumentation's reach.
	maxRangeLen = 1 << 22
	// maxCells bounds the cells whose source a kernel keeps for its
	// tracebacks.
	maxCells = 1000
	// maxHeapBytes bounds the server process's heap a kernel's loops may
	// grow: past it, the instrumentation's ticks raise MemoryError
	// (refkernel_bounds.go bounds what one operation makes).
	maxHeapBytes = 2 << 30
	// heapCheckEvery is how often the ticks look at the heap. Reading it
	// takes microseconds, too long for every tick; by time rather than by
	// count, so that a loop whose every iteration doubles a list (each one
	// slower) is looked at as often as one that spins. Between looks the
	// heap grows by what a millisecond allocates, plus one iteration's
	// operation: at most twice the list it extends (refkernel_bounds.go
	// bounds a repetition's).
	heapCheckEvery = time.Millisecond
)

// allowedModules are the modules a kernel's code may import: gpython's
// others (os, glob, tempfile, marshal) reach the host.
var allowedModules = map[string]bool{"time": true, "math": true, "string": true, "sys": true, "binascii": true}

// stopSignal is the panic that ends a kernel's code when its process is
// gone: it unwinds through gpython (which recovers no panics), so no
// except clause can catch it.
type stopSignal struct{}

// interpSetup is Python run in each new interpreter: generators behind the
// built-ins that would otherwise loop in Go.
const interpSetup = `
def iter2(f, sentinel):
    while True:
        v = f()
        if v == sentinel:
            return
        yield v

def bigrange(start, stop, step):
    i = start
    if step > 0:
        while i < stop:
            yield i
            i += step
    else:
        while i > stop:
            yield i
            i += step
`

// interp is one kernel process's interpreter. Only the shell worker uses
// it, one execution at a time.
type interp struct {
	ctx         py.Context
	main        *py.Module
	iter2       py.Object
	bigrange    py.Object
	cells       map[string]*cellCode // by filename
	order       []string             // filenames, oldest first
	seq         int
	run         *pyRun // the execution running its code, or nil
	pcs         []uintptr
	maxHeap     uint64 // maxHeapBytes, lower in tests
	heap        []metrics.Sample
	heapChecked time.Time
}

// pyRun is an execution while its code runs.
type pyRun struct {
	s  *Server
	rt *kernelRuntime
	x  *execution
	// below are ipykernel's frames a traceback ends with when belowExc is
	// the exception (input() interrupted, or without stdin), and belowName
	// the exception's name if not its type's: gpython cannot subclass
	// exceptions, so IPython's StdinNotImplementedError is a
	// NotImplementedError renamed.
	below     []string
	belowExc  py.Object
	belowName string
}

// cellCode is what tracebacks need of a compiled cell: its number, its
// lines, the line map of its instrumentation, and where its names, calls
// and statements are.
type cellCode struct {
	count  int
	lines  []string
	in     *instrumented
	offset int // user line of the instrumented source's line 1, minus 1
	nodes  *cellNodes
}

// cellNodes indexes a cell's syntax tree by line.
type cellNodes struct {
	stmts  map[int]int // statements starting on each line
	raises map[int]bool
	names  map[int][]*ast.Name
	calls  map[int][]*ast.Call
	ends   map[int]int // a function's last line, by its first
}

func indexNodes(tree ast.Ast) *cellNodes {
	n := &cellNodes{stmts: map[int]int{}, raises: map[int]bool{}, names: map[int][]*ast.Name{}, calls: map[int][]*ast.Call{},
		ends: map[int]int{}}
	ast.Walk(tree, func(a ast.Ast) bool {
		switch a := a.(type) {
		case ast.Stmt:
			n.stmts[a.GetLineno()]++
			if _, ok := a.(*ast.Raise); ok {
				n.raises[a.GetLineno()] = true
			}
		}
		if f, ok := a.(*ast.FunctionDef); ok {
			first := f.Lineno
			for _, d := range f.DecoratorList {
				first = min(first, d.GetLineno())
			}
			last := f.Lineno
			ast.Walk(f, func(b ast.Ast) bool {
				last = max(last, b.GetLineno())
				return true
			})
			n.ends[first] = last
		}
		switch a := a.(type) {
		case *ast.Name:
			n.names[a.Lineno] = append(n.names[a.Lineno], a)
		case *ast.Call:
			if line, _ := exprStart(a); line >= 1 {
				n.calls[line] = append(n.calls[line], a)
			}
		}
		return true
	})
	return n
}

// newInterp makes a kernel process's interpreter.
func newInterp() (*interp, error) {
	ip := &interp{cells: map[string]*cellCode{}, pcs: make([]uintptr, maxGoFrames), maxHeap: maxHeapBytes}
	// No sys.path: nothing is imported from the host's files.
	ip.ctx = py.NewContext(py.ContextOpts{SysArgs: []string{""}})
	main, err := ip.ctx.ModuleInit(&py.ModuleImpl{Info: py.ModuleInfo{Name: "__main__"}})
	if err != nil {
		return nil, err
	}
	ip.main = main
	if err := py.Import(ip.ctx, "time"); err != nil {
		return nil, err
	}
	b := ip.ctx.Store().Builtins.Globals
	for _, name := range []string{"open", "exec", "eval", "compile"} {
		delete(b, name)
	}
	method := func(name string, f func(args py.Tuple, kwargs py.StringDict) (py.Object, error)) *py.Method {
		return py.MustNewMethod(name, func(_ py.Object, args py.Tuple, kwargs py.StringDict) (py.Object, error) {
			return f(args, kwargs)
		}, 0, "")
	}
	origRange, origIter := b["range"], b["iter"]
	b["__import__"] = method("__import__", func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		var name py.Object
		var globals, locals, fromlist py.Object = py.None, py.None, py.Tuple{}
		var level py.Object = py.Int(0)
		kwlist := []string{"name", "globals", "locals", "fromlist", "level"}
		if err := py.ParseTupleAndKeywords(args, kwargs, "U|OOOi:__import__", kwlist, &name, &globals, &locals, &fromlist, &level); err != nil {
			return nil, err
		}
		n := string(name.(py.String))
		if !allowedModules[strings.Split(n, ".")[0]] {
			return nil, py.ExceptionNewf(py.ImportError, "No module named '%s'", n)
		}
		g, _ := globals.(py.StringDict)
		l, _ := locals.(py.StringDict)
		fl, _ := fromlist.(py.Tuple)
		if list, ok := fromlist.(*py.List); ok {
			fl = py.Tuple(list.Items)
		}
		return py.ImportModuleLevelObject(ip.ctx, n, g, l, fl, int(level.(py.Int)))
	})
	b["range"] = method("range", func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		r, err := py.Call(origRange, args, kwargs)
		if rg, ok := r.(*py.Range); ok && err == nil && rg.Length > maxRangeLen {
			return py.Call(ip.bigrange, py.Tuple{rg.Start, rg.Stop, rg.Step}, nil)
		}
		return r, err
	})
	b["iter"] = method("iter", func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		if len(args) == 2 {
			return py.Call(ip.iter2, args, kwargs)
		}
		return py.Call(origIter, args, kwargs)
	})
	origBuild := b["__build_class__"]
	b["__build_class__"] = method("__build_class__", func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		return buildClass(origBuild, args, kwargs)
	})
	b["isinstance"] = method("isinstance", instanceBuiltin("isinstance", false))
	b["issubclass"] = method("issubclass", instanceBuiltin("issubclass", true))
	b[sizeName] = sizeGuard{}
	b[deepName] = deepGuard{}
	b[depthCheckName] = depthCheck{}
	b["RecursionError"] = recursionError
	b["ascii"] = method("ascii", func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		if len(args) != 1 || len(kwargs) != 0 {
			return nil, py.ExceptionNewf(py.TypeError, "ascii() takes exactly one argument (%d given)", len(args))
		}
		s, err := asciiRepr(args[0])
		return py.String(s), err
	})
	origGetattr := b["getattr"]
	b["getattr"] = method("getattr", func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		// getattr(o, "__eq__") is o.__eq__, marked as the
		// instrumentation marks the attribute (refkernel_depth.go).
		if len(args) >= 2 {
			if name, ok := args[1].(py.String); ok && deepAttrs[string(name)] {
				d, _ := deepGuard{}.M__pow__(args[0], py.None)
				args = append(py.Tuple{d}, args[1:]...)
			}
		}
		return py.Call(origGetattr, args, kwargs)
	})
	b[fstrName] = method(fstrName, fstrJoin)
	b[fmtName] = method(fmtName, fmtField)
	b["pow"] = method("pow", builtinPow)
	b["print"] = method("print", ip.print)
	b["input"] = method("input", ip.input)
	b["repr"] = method("repr", func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		if len(args) != 1 || len(kwargs) != 0 {
			return nil, py.ExceptionNewf(py.TypeError, "repr() takes exactly one argument (%d given)", len(args))
		}
		s, err := objRepr(args[0])
		return py.String(s), err
	})
	b["setattr"] = method("setattr", func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		if len(args) != 3 {
			return nil, py.ExceptionNewf(py.TypeError, "setattr expected 3 arguments, got %d", len(args))
		}
		if err := guardAttr(args[0], args[1]); err != nil {
			return nil, err
		}
		return py.SetAttr(args[0], args[1], args[2])
	})
	b["delattr"] = method("delattr", func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		if len(args) != 2 {
			return nil, py.ExceptionNewf(py.TypeError, "delattr expected 2 arguments, got %d", len(args))
		}
		if err := guardAttr(args[0], args[1]); err != nil {
			return nil, err
		}
		name, err := py.AttributeName(args[1])
		if err != nil {
			return nil, err
		}
		return py.None, py.DeleteAttrString(args[0], name)
	})
	b[tickName] = method(tickName, func(py.Tuple, py.StringDict) (py.Object, error) { return py.None, ip.check() })
	b[enterName] = method(enterName, func(py.Tuple, py.StringDict) (py.Object, error) {
		if err := ip.check(); err != nil {
			return nil, err
		}
		if runtime.Callers(0, ip.pcs) == len(ip.pcs) {
			return nil, errRecursion("")
		}
		return py.None, nil
	})
	b[guardName] = method(guardName, func(args py.Tuple, _ py.StringDict) (py.Object, error) {
		if len(args) != 2 {
			return nil, py.ExceptionNewf(py.SystemError, "bad guard")
		}
		return args[0], guardAttr(args[0], args[1])
	})

	sys := ip.ctx.Store().MustGetModule("sys").Globals
	sys["path"] = py.NewList()
	for _, name := range []string{"stdout", "stderr"} {
		name := name
		sys[name] = &py.Module{Globals: py.StringDict{
			"__name__": py.String(name),
			"write": method("write", func(args py.Tuple, _ py.StringDict) (py.Object, error) {
				if len(args) != 1 {
					return nil, py.ExceptionNewf(py.TypeError, "write() takes exactly one argument (%d given)", len(args))
				}
				s, ok := args[0].(py.String)
				if !ok {
					return nil, py.ExceptionNewf(py.TypeError, "write() argument must be str, not %s", args[0].Type().Name)
				}
				ip.write(name, string(s))
				return py.Int(len([]rune(string(s)))), nil
			}),
			"flush": method("flush", func(py.Tuple, py.StringDict) (py.Object, error) { return py.None, nil }),
		}}
	}
	// The originals are the server process's own files, shared by every
	// kernel: writing, reading (which would block) or closing them is not
	// the kernel's to do.
	sys["__stdout__"], sys["__stderr__"] = sys["stdout"], sys["stderr"]
	sys["stdin"], sys["__stdin__"] = py.None, py.None
	tm := ip.ctx.Store().MustGetModule("time").Globals
	tm["sleep"] = method("sleep", ip.sleep)

	in, _, err := instrument(interpSetup, py.ExecMode)
	if err != nil {
		return nil, err
	}
	code, err := compile.Compile(in.src, "<nbserv>", py.ExecMode, 0, true)
	if err != nil {
		return nil, err
	}
	g := py.NewStringDict()
	if _, err := ip.ctx.RunCode(code, g, g, nil); err != nil {
		return nil, err
	}
	ip.iter2, ip.bigrange = g["iter2"], g["bigrange"]
	return ip, nil
}

// guardAttr refuses to change an attribute of a built-in type or
// function: gpython's are shared by every kernel of the process.
func guardAttr(o, name py.Object) error {
	attr, _ := name.(py.String)
	switch o := o.(type) {
	case *py.Type:
		// gpython's instances of classes are Types too, whose type is
		// the class: a user's class and its instances are heap types or
		// of one.
		if o.Flags&py.TPFLAGS_HEAPTYPE == 0 && (o.ObjectType == nil || o.ObjectType.Flags&py.TPFLAGS_HEAPTYPE == 0) {
			return py.ExceptionNewf(py.TypeError, "cannot set '%s' attribute of immutable type '%s'", string(attr), o.Name)
		}
	case *py.Method:
		return py.ExceptionNewf(py.AttributeError, "'builtin_function_or_method' object has no attribute '%s'", string(attr))
	}
	return nil
}

// check is the instrumentation's tick: an interrupt becomes
// KeyboardInterrupt (at every tick, until the execution ends), the end of
// the process a stopSignal.
func (ip *interp) check() error {
	r := ip.run
	if r == nil {
		return nil
	}
	if now := time.Now(); now.Sub(ip.heapChecked) >= heapCheckEvery {
		ip.heapChecked = now
		if ip.heapFull() {
			return py.ExceptionNewf(py.MemoryError, "")
		}
	}
	select {
	case <-r.x.intr:
	default:
		return nil
	}
	r.s.mu.Lock()
	crashed := r.x.crashed
	r.s.mu.Unlock()
	if crashed {
		panic(stopSignal{})
	}
	return py.ExceptionNewf(py.KeyboardInterrupt, "")
}

// heapFull reports the process's heap over ip.maxHeap after a collection:
// the kernels share the server's memory, and a Go out-of-memory is fatal.
// The heap counts garbage until a collection, so only a heap over the
// bound is collected to look again (a loop catching MemoryError pays for
// that collection at each look).
func (ip *interp) heapFull() bool {
	if ip.heap == nil {
		ip.heap = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	}
	metrics.Read(ip.heap)
	if ip.heap[0].Value.Uint64() <= ip.maxHeap {
		return false
	}
	runtime.GC()
	metrics.Read(ip.heap)
	return ip.heap[0].Value.Uint64() > ip.maxHeap
}

// write is sys.stdout.write and sys.stderr.write.
func (ip *interp) write(name, text string) {
	r := ip.run
	if r == nil {
		return
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.x.crashed {
		panic(stopSignal{})
	}
	if r.x.stdout.Len()+r.x.stderr.Len()+len(text) > maxStrBytes {
		r.s.flush(r.rt, r.x)
	}
	r.s.write(r.x, name, text)
}

// print is Python's print, with Python's str of floats (gpython's differs).
func (ip *interp) print(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
	sep, end := " ", "\n"
	var file py.Object
	for _, k := range sortedKeysOf(kwargs) {
		v := kwargs[k]
		switch k {
		case "sep", "end":
			if v == py.None {
				continue
			}
			s, ok := v.(py.String)
			if !ok {
				return nil, py.ExceptionNewf(py.TypeError, "%s must be None or a string, not %s", k, v.Type().Name)
			}
			if k == "sep" {
				sep = string(s)
			} else {
				end = string(s)
			}
		case "file":
			if v != py.None {
				file = v
			}
		case "flush":
		default:
			return nil, py.ExceptionNewf(py.TypeError, "'%s' is an invalid keyword argument for print()", k)
		}
	}
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteString(sep)
		}
		s, err := objStr(a)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	b.WriteString(end)
	if file == nil {
		sys, err := ip.ctx.GetModule("sys")
		if err != nil {
			return nil, err
		}
		file = sys.Globals["stdout"]
	}
	write, err := py.GetAttrString(file, "write")
	if err != nil {
		return nil, err
	}
	_, err = py.Call(write, py.Tuple{py.String(b.String())}, nil)
	return py.None, err
}

// input is Python's input() as ipykernel provides it: input_request on
// stdin, StdinNotImplementedError without allow_stdin, KeyboardInterrupt
// when interrupted while waiting.
func (ip *interp) input(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
	if len(args) > 1 || len(kwargs) > 0 {
		return nil, py.ExceptionNewf(py.TypeError, "input expected at most 1 argument, got %d", len(args))
	}
	prompt := ""
	if len(args) == 1 {
		s, err := objStr(args[0])
		if err != nil {
			return nil, err
		}
		prompt = s
	}
	r := ip.run
	if r == nil {
		return nil, py.ExceptionNewf(py.RuntimeError, "input() outside an execution")
	}
	r.s.mu.Lock()
	if !r.x.allowStdin {
		r.s.mu.Unlock()
		exc := py.ExceptionNewf(py.NotImplementedError, "%s", stdinNotAllowedText)
		r.below, r.belowExc, r.belowName = stdinNotAllowedFrames(r.x.style), exc, "StdinNotImplementedError"
		return nil, exc
	}
	v, err := r.s.ask(r.rt, r.x, prompt, false)
	r.s.mu.Unlock()
	if errors.Is(err, errStopped) {
		panic(stopSignal{})
	}
	if err != nil {
		exc := py.ExceptionNewf(py.KeyboardInterrupt, "Interrupted by user")
		r.below, r.belowExc = inputInterruptedFrames(r.x.style), exc
		return nil, exc
	}
	return py.String(v), nil
}

// sleep is time.sleep, cut short by an interrupt.
func (ip *interp) sleep(args py.Tuple, _ py.StringDict) (py.Object, error) {
	if len(args) != 1 {
		return nil, py.ExceptionNewf(py.TypeError, "time.sleep() takes exactly one argument (%d given)", len(args))
	}
	var secs float64
	switch v := args[0].(type) {
	case py.Int:
		secs = float64(v)
	case py.Float:
		secs = float64(v)
	case py.Bool:
		if v {
			secs = 1
		}
	case *py.BigInt:
		secs = float64(1 << 62)
		if (*big.Int)(v).Sign() < 0 {
			secs = -1
		}
	default:
		return nil, py.ExceptionNewf(py.TypeError, "'%s' object cannot be interpreted as an integer", v.Type().Name)
	}
	if secs < 0 || secs != secs {
		return nil, py.ExceptionNewf(py.ValueError, "sleep length must be non-negative")
	}
	d := time.Duration(min(secs, float64(1<<62)/float64(time.Second)) * float64(time.Second))
	r := ip.run
	if r == nil {
		return py.None, nil
	}
	r.s.mu.Lock()
	err := r.s.sleep(r.rt, r.x, d)
	r.s.mu.Unlock()
	if errors.Is(err, errStopped) {
		panic(stopSignal{})
	}
	if err != nil {
		return nil, py.ExceptionNewf(py.KeyboardInterrupt, "")
	}
	return py.None, nil
}

// remember keeps a cell's code for tracebacks, forgetting the oldest
// beyond maxCells.
func (ip *interp) remember(name string, c *cellCode) {
	ip.cells[name] = c
	ip.order = append(ip.order, name)
	for len(ip.order) > maxCells {
		delete(ip.cells, ip.order[0])
		ip.order[0] = ""
		ip.order = ip.order[1:]
	}
}

// compiled is a cell ready to run: its statements, and the expression
// whose value IPython displays.
type compiled struct {
	body, last *py.Code
	nodes      *cellNodes
	lines      []string
}

// lastExprName holds the value of a cell's last expression.
const lastExprName = "__nbserv_last__"

// compileCell parses, instruments and compiles a cell. A cell whose last
// statement is an expression is run in two parts, the statements before
// it and an assignment of its value (IPython's displayhook shows it).
func (ip *interp) compileCell(code string, count int, mode py.CompileMode) (*compiled, error) {
	ip.seq++
	name := fmt.Sprintf("<cell-%d>", ip.seq)
	lines := sourceLines(code)
	// What runs is the cell with its f-strings rewritten, line for line;
	// tracebacks quote the user's lines.
	code, err := transformFstrings(code)
	if err != nil {
		return nil, err
	}
	runLines := sourceLines(code)
	in, tree, err := instrument(code, mode)
	if err != nil {
		return nil, err
	}
	nodes := indexNodes(tree)
	out := &compiled{nodes: nodes, lines: lines}
	if mode == py.EvalMode {
		c, err := compile.Compile(in.src, name, py.EvalMode, 0, true)
		if err != nil {
			return nil, err
		}
		ip.remember(name, &cellCode{count: count, lines: lines, in: in, nodes: nodes})
		out.last = c
		return out, nil
	}
	var body []ast.Stmt
	if m, ok := tree.(*ast.Module); ok {
		body = m.Body
	}
	if n := len(body); n > 0 {
		if e, ok := body[n-1].(*ast.ExprStmt); ok && e.Lineno >= 1 && e.Lineno <= len(runLines) {
			head := strings.Join(runLines[:e.Lineno-1], "\n")
			if e.Lineno > 1 {
				head += "\n"
			}
			head += runLines[e.Lineno-1][:min(e.ColOffset, len(runLines[e.Lineno-1]))]
			tail := lastExprName + " = " + strings.Join(append([]string{runLines[e.Lineno-1][min(e.ColOffset, len(runLines[e.Lineno-1])):]}, runLines[e.Lineno:]...), "\n")
			inHead, _, err1 := instrument(head, py.ExecMode)
			inTail, _, err2 := instrument(tail, py.ExecMode)
			if err1 == nil && err2 == nil {
				cHead, err1 := compile.Compile(inHead.src, name, py.ExecMode, 0, true)
				cTail, err2 := compile.Compile(inTail.src, name+"'", py.ExecMode, 0, true)
				if err1 == nil && err2 == nil {
					ip.remember(name, &cellCode{count: count, lines: lines, in: inHead, nodes: nodes})
					ip.remember(name+"'", &cellCode{count: count, lines: lines, in: inTail, offset: e.Lineno - 1, nodes: nodes})
					out.body, out.last = cHead, cTail
					return out, nil
				}
			}
			// Split, the cell does not compile (which cannot happen to a
			// cell that parsed whole): run it whole, without a result.
		}
	}
	c, err := compile.Compile(in.src, name, py.ExecMode, 0, true)
	if err != nil {
		return nil, err
	}
	ip.remember(name, &cellCode{count: count, lines: lines, in: in, nodes: nodes})
	out.body = c
	return out, nil
}

// sourceLines are code's lines as Python's linecache has them: a final
// newline ends the last line rather than starting another.
func sourceLines(code string) []string {
	lines := strings.Split(code, "\n")
	if len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// runCode runs code in the kernel's __main__ with s.mu released, turning
// a panic into an error: stopSignal into errStopped, any other (a bug in
// gpython) into a SystemError.
func (s *Server) runCode(ip *interp, c *py.Code, mode py.CompileMode) (v py.Object, err error) {
	s.mu.Unlock()
	defer s.mu.Lock()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopSignal); ok {
				v, err = nil, errStopped
				return
			}
			v, err = nil, py.ExceptionNewf(py.SystemError, "the interpreter failed: %v", r)
		}
	}()
	return ip.ctx.RunCode(c, ip.main.Globals, ip.main.Globals, nil)
}

// interp returns the process's interpreter, making it on first use.
func (p *process) interp() (*interp, error) {
	if p.py == nil {
		ip, err := newInterp()
		if err != nil {
			return nil, err
		}
		p.py = ip
	}
	return p.py, nil
}

// runPython runs an execution's code. The caller holds s.mu.
func (s *Server) runPython(rt *kernelRuntime, x *execution) (*failure, error) {
	ip, err := rt.proc.interp()
	if err != nil {
		return &failure{ename: "SystemError", evalue: err.Error(), traceback: bareTraceback(x.style, "SystemError", err.Error())}, nil
	}
	// IPython numbers a cell's lines from its first non-blank one.
	code := strings.Join(cellLines(x.code), "\n")
	c, err := ip.compileCell(code, x.count, py.ExecMode)
	if err != nil {
		return syntaxFailure(x.style, x.count, code, err), nil
	}
	run := &pyRun{s: s, rt: rt, x: x}
	ip.run = run
	defer func() { ip.run = nil }()
	for i, part := range []*py.Code{c.body, c.last} {
		if part == nil {
			continue
		}
		if _, err := s.runCode(ip, part, py.ExecMode); err != nil {
			return ip.failure(run, err)
		}
		if x.interrupted && (i == 1 || c.last == nil) {
			// gpython's for loops end quietly on any error from their
			// iterator, a KeyboardInterrupt raised in a generator
			// included: an interrupted execution ends with it anyway.
			lines := strings.Split(code, "\n")
			return keyboardInterrupt(x, lines, len(lines), false, span{}), nil
		}
	}
	if c.last == nil {
		return nil, nil
	}
	v := ip.main.Globals[lastExprName]
	delete(ip.main.Globals, lastExprName)
	if v == nil || v == py.None || suppressed(x.code) || x.silent {
		return nil, nil
	}
	s.mu.Unlock()
	text, err := objRepr(v) // may run the value's __repr__
	s.mu.Lock()
	if err != nil {
		return ip.failure(run, err)
	}
	ip.main.Globals["_"] = v
	s.result(rt, x, map[string]any{"text/plain": text}, nil)
	return nil, nil
}

// suppressed reports a cell ending with ";", whose value IPython does not
// display.
func suppressed(code string) bool {
	lines := strings.Split(code, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		last := ""
		for _, t := range lexLine(lines[i]) {
			if t.kind != lexSpace && t.kind != lexComment {
				last = lines[i][t.start:t.end]
			}
		}
		if last != "" {
			return last == ";"
		}
	}
	return false
}

// evalUser evaluates a user_expressions entry in the kernel's namespace.
// The caller holds s.mu.
func (s *Server) evalUser(rt *kernelRuntime, x *execution, src string) (string, *failure) {
	ip, err := rt.proc.interp()
	if err != nil {
		return "", &failure{ename: "SystemError", evalue: err.Error()}
	}
	c, err := ip.compileCell(src, x.count, py.EvalMode)
	if err != nil {
		f := syntaxFailure(x.style, x.count, src, err)
		return "", f
	}
	run := &pyRun{s: s, rt: rt, x: x}
	ip.run = run
	defer func() { ip.run = nil }()
	v, err := s.runCode(ip, c.last, py.EvalMode)
	if err == nil {
		s.mu.Unlock()
		var text string
		text, err = objRepr(v)
		s.mu.Lock()
		if err == nil {
			return text, nil
		}
	}
	f, _ := ip.failure(run, err)
	if f == nil {
		f = &failure{ename: "SystemError", evalue: "the kernel stopped"}
	}
	return "", f
}

// failure turns an error from running code into the execution's error.
func (ip *interp) failure(run *pyRun, err error) (*failure, error) {
	if errors.Is(err, errStopped) {
		return nil, errStopped
	}
	var ei py.ExceptionInfo
	switch e := err.(type) {
	case py.ExceptionInfo:
		ei = e
	case *py.Exception:
		ei = py.ExceptionInfo{Type: e.Type(), Value: e}
	default:
		msg := err.Error()
		return &failure{ename: "SystemError", evalue: msg, traceback: bareTraceback(run.x.style, "SystemError", msg)}, nil
	}
	ename := ei.Type.Name
	mine := run.belowExc != nil && run.belowExc == ei.Value
	if mine && run.belowName != "" {
		ename = run.belowName
	}
	evalue, serr := excStr(ei.Value)
	if serr != nil {
		evalue = "<exception str() failed>"
	}
	st := run.x.style
	tb := tbHead(st, ename)
	var frames []*py.Traceback
	for t := ei.Traceback; t != nil; t = t.Next {
		frames = append(frames, t)
	}
	for i, t := range frames {
		cc := ip.cells[t.Frame.Code.Filename]
		if cc == nil {
			continue // the kernel's own Python, or a cell long forgotten
		}
		line := cc.offset + cc.in.userLine(int(t.Lineno))
		innermost := i == len(frames)-1
		call, sc := "", scope{}
		if name := t.Frame.Code.Name; name != "<module>" {
			call = frameCall(st, name, argNames(t.Frame.Code))
			first := cc.offset + cc.in.userLine(int(t.Frame.Code.Firstlineno))
			sc = scope{first, cc.nodes.ends[first]}
		}
		hl := span{}
		if st == ipython8 {
			hl = cc.nodes.executing(cc.lines, line, innermost, ename, evalue)
		}
		tb = append(tb, cellFrame(st, cc.count, cc.lines, line, hl, call, sc))
	}
	if mine {
		tb = append(tb, run.below...)
	}
	tb = append(tb, tbTail(st, ename, evalue))
	return &failure{ename: ename, evalue: evalue, traceback: tb}, nil
}

// argNames are a function's parameters as IPython lists them in a
// traceback's frame header.
func argNames(c *py.Code) []string {
	n := int(c.Argcount + c.Kwonlyargcount)
	var names []string
	for i := 0; i < n && i < len(c.Varnames); i++ {
		names = append(names, c.Varnames[i])
	}
	if c.Flags&py.CO_VARARGS != 0 && n < len(c.Varnames) {
		names = append(names, "*"+c.Varnames[n])
		n++
	}
	if c.Flags&py.CO_VARKEYWORDS != 0 && n < len(c.Varnames) {
		names = append(names, "**"+c.Varnames[n])
	}
	return names
}

// executing is the span IPython highlights on a frame's line, on a line
// holding one statement only: the undefined name of a NameError raised
// there, else the one call on the line (what was executing in an outer
// frame, or the built-in that raised); nothing for a raise statement.
func (n *cellNodes) executing(lines []string, line int, innermost bool, ename, evalue string) span {
	if n.stmts[line] != 1 || line < 1 || line > len(lines) {
		return span{}
	}
	if innermost && ename == "NameError" {
		if name, ok := strings.CutPrefix(evalue, "name '"); ok {
			name, _, _ = strings.Cut(name, "'")
			for _, nm := range n.names[line] {
				if string(nm.Id) == name {
					return span{nm.ColOffset, nm.ColOffset + len(name)}
				}
			}
		}
		return span{}
	}
	if innermost && n.raises[line] || len(n.calls[line]) != 1 {
		return span{}
	}
	_, start := exprStart(n.calls[line][0])
	if end := callEnd(lines[line-1], start); end > start {
		return span{start, end}
	}
	return span{}
}

// callEnd is the end of the call expression starting at start: past the
// closing bracket of its last trailer.
func callEnd(line string, start int) int {
	end := -1
	walkBrackets(line, start, func(toks []lexTok, i, depth int, text string) bool {
		t := toks[i]
		closer := t.kind == lexPunct && strings.Contains(")]}", text)
		switch {
		case closer && depth == 0:
			return false // closes a bracket the call is in
		case closer && depth == 1:
			end = t.end
		case depth == 0 && t.kind != lexSpace && end >= 0 && !(t.kind == lexOp && text == "." || t.kind == lexName):
			return false
		}
		return true
	})
	return end
}

// syntaxFailure is IPython's report of a cell that does not parse.
func syntaxFailure(st tbStyle, count int, code string, err error) *failure {
	ename, msg, line, offset, text := "SyntaxError", err.Error(), 1, 0, ""
	if e, ok := err.(*py.Exception); ok {
		ename = e.Base.Name
		if args, ok := e.Args.(py.Tuple); ok && len(args) > 0 {
			if s, ok := args[0].(py.String); ok {
				msg = string(s)
			}
		}
		if v, ok := e.Dict["lineno"].(py.Int); ok {
			line = int(v)
		}
		if v, ok := e.Dict["offset"].(py.Int); ok {
			offset = int(v)
		}
	} else {
		// The instrumentation could not place a call: not Python's error.
		ename, msg = "NotImplementedError", "the nbserv reference kernel cannot run this cell: "+msg
	}
	lines := strings.Split(code, "\n")
	if line >= 1 && line <= len(lines) {
		text = lines[line-1]
	}
	trimmed := strings.TrimLeft(text, " \t")
	caret := max(0, offset-(len(text)-len(trimmed)))
	tb := fmt.Sprintf("\x1b[0;36m  Cell \x1b[0;32mIn [%d], line %d\x1b[0;36m\x1b[0m\n\x1b[0;31m    %s\x1b[0m\n\x1b[0m    %s^\x1b[0m\n%s\x1b[0;31m:\x1b[0m %s\n",
		count, line, trimmed, strings.Repeat(" ", caret), "\x1b[0;31m"+ename+"\x1b[0m", msg)
	if st == ipython9 {
		tb = fmt.Sprintf("  %s%s%s%s\n%s%s\n    %s^\n%s%s %s\n", colour(36, "Cell"), colour(36, " "), colour(32, fmt.Sprintf("In[%d]", count)),
			colour(32, fmt.Sprintf(", line %d", line)), colour(31, "    "), colour(31, trimmed), strings.Repeat(" ", caret),
			colour(31, ename), colour(31, ":"), msg)
	}
	return &failure{ename: ename, evalue: msg, traceback: []string{tb}}
}

// Python's str and repr, for the types whose gpython rendering differs
// from CPython's (floats, one-element tuples, exceptions) and for the
// containers holding them.

func objStr(o py.Object) (string, error) {
	switch o := o.(type) {
	case py.String:
		return string(o), nil
	case *py.Exception:
		return excStr(o)
	case py.Float, py.Tuple, *py.List, py.StringDict, *py.Set, *py.FrozenSet:
		return objRepr(o)
	}
	s, err := py.Str(o)
	if err != nil {
		return "", err
	}
	if s, ok := s.(py.String); ok {
		return string(s), nil
	}
	return "", py.ExceptionNewf(py.TypeError, "__str__ returned non-string")
}

// maxReprDepth bounds the nesting objRepr follows, as CPython's recursion
// limit does ("maximum recursion depth exceeded while getting the repr of
// an object"): the walk recurses in Go, and a list nested a million deep
// would overflow the Go stack, which ends the whole process.
const maxReprDepth = 1000

func objRepr(o py.Object) (string, error) {
	var b strings.Builder
	err := reprInto(&b, o, map[any]bool{}, 0)
	return b.String(), err
}

// reprInto writes o's repr; seen holds the lists and dicts being written
// (a dict by its map's pointer: a map is no key), which write as "[...]"
// and "{...}" where they hold themselves, as CPython's.
func reprInto(b *strings.Builder, o py.Object, seen map[any]bool, depth int) error {
	if depth > maxReprDepth {
		return errRecursion(" while getting the repr of an object")
	}
	items := func(open, close string, xs []py.Object, trailingComma bool) error {
		b.WriteString(open)
		for i, x := range xs {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := reprInto(b, x, seen, depth+1); err != nil {
				return err
			}
		}
		if trailingComma && len(xs) == 1 {
			b.WriteString(",")
		}
		b.WriteString(close)
		return nil
	}
	switch o := o.(type) {
	case py.String:
		b.WriteString(pyReprStr(string(o)))
		return nil
	case py.Float:
		b.WriteString(pyReprFloat(float64(o)))
		return nil
	case py.Tuple:
		return items("(", ")", o, true)
	case *py.List:
		if seen[o] {
			b.WriteString("[...]")
			return nil
		}
		seen[o] = true
		defer delete(seen, o)
		return items("[", "]", o.Items, false)
	case py.StringDict:
		key := reflect.ValueOf(o).Pointer()
		if seen[key] {
			b.WriteString("{...}")
			return nil
		}
		seen[key] = true
		defer delete(seen, key)
		// gpython's dicts are Go maps, without insertion order: sorted.
		b.WriteString("{")
		for i, k := range sortedKeysOf(o) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyReprStr(k) + ": ")
			if err := reprInto(b, o[k], seen, depth+1); err != nil {
				return err
			}
		}
		b.WriteString("}")
		return nil
	case *py.Exception:
		b.WriteString(o.Base.Name)
		args, _ := o.Args.(py.Tuple)
		return items("(", ")", args, false)
	case *py.Set, *py.FrozenSet:
		// gpython's repr recursed in Go as deep as sets hold sets.
		xs := setItems(o)
		open, close := "{", "}"
		if _, frozen := o.(*py.FrozenSet); frozen {
			open, close = "frozenset({", "})"
		}
		if len(xs) == 0 {
			b.WriteString(o.Type().Name + "()")
			return nil
		}
		return items(open, close, xs, false)
	}
	r, err := py.Repr(o)
	if err != nil {
		return err
	}
	s, ok := r.(py.String)
	if !ok {
		return py.ExceptionNewf(py.TypeError, "__repr__ returned non-string")
	}
	b.WriteString(string(s))
	return nil
}

// excStr is str() of an exception: its one argument, or the tuple of
// them; KeyError shows its key's repr.
// An exception whose one argument is an exception is the str of that
// one: followed in a loop, at most maxReprDepth deep, as CPython's
// recursion limit stops it, rather than recursing in Go as deep as the
// chain goes.
func excStr(o py.Object) (string, error) {
	for depth := 0; ; depth++ {
		if depth > maxReprDepth {
			return "", errRecursion(" while getting the str of an object")
		}
		e, ok := o.(*py.Exception)
		if !ok {
			return objStr(o)
		}
		args, _ := e.Args.(py.Tuple)
		switch {
		case len(args) == 0:
			return "", nil
		case len(args) == 1 && e.Base.Name == "KeyError":
			return objRepr(args[0])
		case len(args) == 1:
			o = args[0]
			continue
		}
		return objRepr(args)
	}
}

func sortedKeysOf(d py.StringDict) []string {
	ks := make([]string, 0, len(d))
	for k := range d {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
