package nbformat

import "encoding/json"

// Output types of nbformat v4.
const (
	OutputStream        = "stream"
	OutputDisplayData   = "display_data"
	OutputExecuteResult = "execute_result"
	OutputError         = "error"
)

// Output is one output of a code cell. Which fields are used depends on
// OutputType:
//
//   - OutputStream: Name ("stdout" or "stderr") and Text;
//   - OutputDisplayData: Data and Metadata;
//   - OutputExecuteResult: ExecutionCount, Data and Metadata;
//   - OutputError: EName, EValue and Traceback.
type Output struct {
	// OutputType is one of the Output... constants.
	OutputType string
	// Name is a stream's name: "stdout" or "stderr".
	Name string
	// Text is a stream's text.
	Text string
	// Data is a display's or result's content, by MIME type.
	Data MIMEBundle
	// Metadata is a display's or result's metadata, by MIME type.
	Metadata Metadata
	// ExecutionCount is an execute_result's count (nil when null).
	ExecutionCount *int
	// EName, EValue and Traceback describe an error: the exception's
	// name, its value, and the traceback's lines (with ANSI colors).
	EName     string
	EValue    string
	Traceback []string
	// Extra holds unknown keys and ill-typed known ones, raw.
	Extra map[string]json.RawMessage
}

// UnmarshalJSON decodes one output, keeping unknown keys in Extra.
func (o *Output) UnmarshalJSON(data []byte) error {
	return decodeObject("output", data, func(r *reader) {
		*o = Output{}
		r.output(o)
	})
}

// MarshalJSON encodes the output with the keys its type requires.
func (o *Output) MarshalJSON() ([]byte, error) {
	return encode(func(w *jsonWriter) { w.output(o) })
}

// String returns the text of a stream, the text/plain of a result or
// display, or "EName: EValue" of an error: what a console would show.
func (o *Output) String() string {
	switch o.OutputType {
	case OutputStream:
		return o.Text
	case OutputError:
		return o.EName + ": " + o.EValue
	}
	s, _ := o.Data.Text("text/plain")
	return s
}
