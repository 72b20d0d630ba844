package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// The reader's strings are encoding/json's, escapes, surrogates and
// invalid UTF-8 included.
func TestReaderStrings(t *testing.T) {
	for _, in := range []string{`""`, `"plain"`, `"tab\there"`, `"\u00e9\u4e2d\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`,
		`"\udc00\ud800"`, "\"bad \xff utf8 \xc3\"", `"\"\\\/\b\f\n\r\t"`, "\"\u2028\"", `"\u0000"`} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		r := Reader{Data: []byte(in)}
		if got := r.ReadString(); r.Err != nil || got != want {
			t.Errorf("ReadString(%q) = %q, %v; want %q", in, got, r.Err, want)
		}
		// And the writer's strings decode back to the same text.
		var back string
		if err := json.Unmarshal(AppendQuoted(nil, want), &back); err != nil || back != want {
			t.Errorf("AppendQuoted(%q) = %s", want, AppendQuoted(nil, want))
		}
	}
}

func TestReaderValidity(t *testing.T) {
	for _, in := range []string{`0`, `-0.5e+10`, `1E5`, `[]`, `{}`, ` {"a" : [1, {"b": null}], "c": true } `, `"x"`,
		`01`, `-`, `1.`, `.5`, `1e`, `+1`, `[1,]`, `{"a":1,}`, `{,}`, `[,1]`, `{"a"}`, `{1:2}`, `tru`, `nul`, `"\x"`,
		`"\u12"`, "\"a\nb\"", `[`, `{"a":1`, `"abc`, `{} {}`, `NaN`, "\xef\xbb\xbf{}"} {
		if got, want := Valid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("Valid(%q) = %v, json.Valid says %v", in, got, want)
		}
	}
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if Valid([]byte(deep)) {
		t.Error("nesting deeper than encoding/json's limit accepted")
	}
}

// A typed field drops an earlier raw value of its key; an ill-typed one is
// kept raw and zeroes the field: the last duplicate key wins either way.
func TestReaderStrKeepsWhatDoesNotFit(t *testing.T) {
	r := Reader{Data: []byte(`{"a": 5, "a": "s", "b": "t", "b": [1]}`)}
	var a, b string
	var extra map[string]json.RawMessage
	var n int
	r.OpenObject()
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		switch string(key) {
		case "a":
			r.Str(&a, &extra, key)
		case "b":
			r.Str(&b, &extra, key)
		}
	}
	r.End()
	if r.Err != nil || a != "s" || b != "" || len(extra) != 1 || string(extra["b"]) != "[1]" {
		t.Errorf("a %q b %q extra %q err %v", a, b, extra, r.Err)
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e-3,"x\u00e9",true,false,null]}`, `"\ud83d\ude00"`, `01`, `[1,]`, "\"\xff\"", `{"a" 1}`, `-0`, `1e+`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), json.Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid %v", data, got, want)
		}
		var want string
		if json.Unmarshal(data, &want) == nil {
			r := Reader{Data: data}
			r.Peek()
			if got := r.ReadString(); r.Err != nil || got != want {
				t.Fatalf("ReadString(%q) = %q, %v; want %q", data, got, r.Err, want)
			}
		}
	})
}
