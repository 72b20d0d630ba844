package nbformat

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// One type for both language_info objects: a kernel_info_reply's, decoded
// through encoding/json as a struct field, and a notebook's metadata's.
// Unknown keys and ill-typed values come back out.
func TestLanguageInfoRoundTripsBothShapes(t *testing.T) {
	reply := `{"status":"ok","language_info":{"name":"python","version":"3.11.2","mimetype":"text/x-python",` +
		`"codemirror_mode": {"name": "ipython", "version": 3},"pygments_lexer":"ipython3","nbconvert_exporter":"python",` +
		`"file_extension":".py","x_new":[1],"version_major":3}}`
	var r struct {
		Status       string       `json:"status"`
		LanguageInfo LanguageInfo `json:"language_info"`
	}
	if err := json.Unmarshal([]byte(reply), &r); err != nil {
		t.Fatal(err)
	}
	li := r.LanguageInfo
	if li.Name != "python" || li.Version != "3.11.2" || li.Mimetype != "text/x-python" || li.FileExtension != ".py" ||
		li.PygmentsLexer != "ipython3" || li.NbconvertExporter != "python" ||
		string(li.CodemirrorMode) != `{"name": "ipython", "version": 3}` ||
		string(li.Extra["x_new"]) != "[1]" || string(li.Extra["version_major"]) != "3" {
		t.Errorf("%+v", li)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(generic(t, []byte(reply)), generic(t, out)); diff != "" {
		t.Errorf("kernel_info_reply round trip (-in +out):\n%s", diff)
	}

	// The same object in a notebook's metadata decodes to the same value.
	nb, err := Parse([]byte(`{"metadata":{"language_info":` + string(mustField(t, reply, "language_info")) + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&li, nb.Metadata.LanguageInfo); diff != "" {
		t.Errorf("reply's and notebook's language_info differ (-reply +notebook):\n%s", diff)
	}

	// null leaves the value alone, as for any struct; what is not an
	// object fails.
	if err := json.Unmarshal([]byte(`null`), &li); err != nil || li.Name != "python" {
		t.Errorf("null: %+v %v", li, err)
	}
	if err := json.Unmarshal([]byte(`"python"`), &li); err == nil {
		t.Error("a string decoded as language_info")
	}
	// An ill-typed known value is kept, never an error.
	if err := json.Unmarshal([]byte(`{"name":"r","version":4}`), &li); err != nil || li.Version != "" || string(li.Extra["version"]) != "4" {
		t.Errorf("ill-typed version: %+v %v", li, err)
	}
}

func mustField(t *testing.T, doc, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	return m[key]
}
