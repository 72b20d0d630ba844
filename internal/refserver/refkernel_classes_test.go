package refserver

import (
	"strings"
	"testing"
)

// TestRefKernelExceptionSubclasses: classes derived from exceptions are
// classes (gpython made them exception instances: "'BaseException' object
// is not callable"), raised, caught by themselves and by their bases,
// isinstance/issubclass as CPython's, and rendered uncaught as a built-in
// exception is.
func TestRefKernelExceptionSubclasses(t *testing.T) {
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	for _, tc := range []struct{ code, stdout, result, err string }{
		{code: "class MyError(Exception): pass\nclass Sub(MyError):\n    '''a sub'''\nclass VE(ValueError): pass"},
		{code: "try:\n    raise MyError('x')\nexcept MyError as e:\n    print('caught', repr(e), isinstance(e, Exception), type(e).__name__, e.args)",
			stdout: "caught MyError('x') True MyError ('x',)\n"},
		{code: "try:\n    raise Sub('y', 2)\nexcept MyError as e:\n    print(type(e).__name__, e)", stdout: "Sub ('y', 2)\n"},
		{code: "try:\n    raise VE\nexcept ValueError as e:\n    print(repr(e))", stdout: "VE()\n"},
		{code: "try:\n    raise MyError('z')\nexcept ValueError:\n    print('wrong')\nexcept Exception as e:\n    print('right', e)", stdout: "right z\n"},
		{code: "[isinstance(Sub(), MyError), isinstance(MyError(), Sub), issubclass(Sub, Exception), issubclass(VE, (KeyError, ValueError)), isinstance(1, (str, (int,)))]",
			result: "[True, False, True, True, True]"},
		{code: "MyError, Sub.__doc__", result: "(<class 'MyError'>, 'a sub')"},
		{code: "isinstance(1, 2)", err: "TypeError: isinstance() arg 2 must be a type, a tuple of types, or a union"},
		{code: "issubclass(1, int)", err: "TypeError: issubclass() arg 1 must be a class"},
		{code: "raise Sub('boom')", err: "Sub: boom"},
	} {
		msgs := run(t, c, tc.code)
		out, r, e := outcome(msgs)
		if out != tc.stdout || r != tc.result || e != tc.err {
			t.Errorf("%q:\n got stdout %q result %q error %q\nwant stdout %q result %q error %q", tc.code, out, r, e, tc.stdout, tc.result, tc.err)
		}
		if tc.err == "Sub: boom" {
			tb := traceback(msgs)
			if !strings.HasSuffix(tb, "\x1b[0;31mSub\x1b[0m: boom]") || !strings.Contains(tb, "Cell \x1b[0;32mIn [10], line 1") {
				t.Errorf("traceback %q", tb)
			}
		}
	}
	// A tuple nested past the recursion bound is an error, not a Go stack
	// overflow.
	if _, _, e := outcome(run(t, c, "t = int\nfor i in range(100000):\n    t = (t,)\nisinstance(1, t)")); e != "RecursionError: maximum recursion depth exceeded in __instancecheck__" {
		t.Errorf("deep tuple: %q", e)
	}
}
