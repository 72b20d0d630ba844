package refserver

// Classes derived from exceptions. gpython's exception types use their
// base as their metatype, so its __build_class__ makes
// "class MyError(Exception): pass" by calling BaseException: MyError is
// an exception instance, not a class ("'BaseException' object is not
// callable" when raised), and an explicit metaclass= is ignored. The
// kernel's __build_class__ makes such a class itself, as gpython makes
// its own exception types; every other class is built by gpython's own.
// What gpython's exceptions cannot do, these cannot either: an exception
// has no attributes but args (gpython answers every attribute with args),
// so an __init__ that sets self.x, or a method called on the exception,
// fails.

import "github.com/go-python/gpython/py"

// buildClass is __build_class__(func, name, *bases, **kwargs).
func buildClass(orig py.Object, args py.Tuple, kwargs py.StringDict) (py.Object, error) {
	if len(args) < 3 || !hasExceptionBase(args[2:]) {
		return py.Call(orig, args, kwargs)
	}
	fn, ok := args[0].(*py.Function)
	if !ok {
		return nil, py.ExceptionNewf(py.TypeError, "__build_class__: func must be a function")
	}
	name, ok := args[1].(py.String)
	if !ok {
		return nil, py.ExceptionNewf(py.TypeError, "__build_class__: name is not a string")
	}
	if len(kwargs) != 0 {
		return nil, py.ExceptionNewf(py.TypeError, "the nbserv reference kernel makes exception classes without keywords")
	}
	bases := append(py.Tuple(nil), args[2:]...)
	base, ok := bases[0].(*py.Type)
	if !ok || base.Flags&py.TPFLAGS_BASE_EXC_SUBCLASS == 0 {
		return nil, py.ExceptionNewf(py.TypeError, "the nbserv reference kernel makes exception classes whose first base is an exception")
	}
	ns := py.NewStringDict()
	if _, err := fn.Context.RunCode(fn.Code, fn.Globals, ns, fn.Closure); err != nil {
		return nil, err
	}
	// gpython's own exception types are made this way, by its NewType,
	// less the global registration a type at init takes.
	t := &py.Type{
		ObjectType: base,
		Base:       base,
		Name:       string(name),
		New:        base.New,
		Flags:      base.Flags &^ (py.TPFLAGS_READY | py.TPFLAGS_READYING),
		Dict:       ns,
		Bases:      bases,
	}
	t.Init = func(self py.Object, args py.Tuple, kwargs py.StringDict) error {
		// The class's own __init__, if it or a base made here has one.
		for _, k := range self.Type().Mro {
			if k, ok := k.(*py.Type); ok {
				if f, ok := k.Dict["__init__"]; ok {
					_, err := py.Call(f, append(py.Tuple{self}, args...), kwargs)
					return err
				}
			}
		}
		return nil
	}
	// gpython finds a type's attributes in its dict only.
	ns["__name__"] = name
	if _, ok := ns["__doc__"].(py.String); ok {
		t.Doc = string(ns["__doc__"].(py.String))
	}
	if err := t.Ready(); err != nil {
		return nil, err
	}
	return t, nil
}

func hasExceptionBase(bases py.Tuple) bool {
	for _, b := range bases {
		if t, ok := b.(*py.Type); ok && t.Flags&py.TPFLAGS_BASE_EXC_SUBCLASS != 0 {
			return true
		}
	}
	return false
}

// isInstance is isinstance() (sub is false) or issubclass() (sub is
// true) as CPython's: gpython's isinstance compares types exactly
// (isinstance(True, int) is False there) and refuses exception classes,
// whose metatype is not type, and it has no issubclass. A tuple nested
// past maxReprDepth is CPython's recursion error, not a Go stack overflow.
func isInstance(name string, sub bool, o, cls py.Object, depth int) (bool, error) {
	if depth > maxReprDepth {
		return false, errRecursion(" in __" + map[bool]string{false: "instance", true: "subclass"}[sub] + "check__")
	}
	switch c := cls.(type) {
	case py.Tuple:
		for _, x := range c {
			if ok, err := isInstance(name, sub, o, x, depth+1); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case *py.Type:
		t := o.Type()
		if sub {
			var ok bool
			if t, ok = o.(*py.Type); !ok {
				return false, py.ExceptionNewf(py.TypeError, "issubclass() arg 1 must be a class")
			}
		}
		return t.IsSubtype(c), nil
	}
	what := map[bool]string{false: "a type, a tuple of types", true: "a class, a tuple of classes"}[sub]
	return false, py.ExceptionNewf(py.TypeError, "%s() arg 2 must be %s, or a union", name, what)
}

// instanceBuiltin is isinstance or issubclass.
func instanceBuiltin(name string, sub bool) func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
	return func(args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		if len(kwargs) != 0 {
			return nil, py.ExceptionNewf(py.TypeError, "%s() takes no keyword arguments", name)
		}
		if len(args) != 2 {
			return nil, py.ExceptionNewf(py.TypeError, "%s expected 2 arguments, got %d", name, len(args))
		}
		ok, err := isInstance(name, sub, args[0], args[1], 0)
		return py.NewBool(ok), err
	}
}
