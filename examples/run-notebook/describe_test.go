package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbexec"
)

// A cell that raised and may have lost an output stops the run even with
// -allow-errors: what is printed says so, not only the exception, which
// -allow-errors would have let pass. The error is as kernel.Conn.Execute
// returns it for such a cell.
func TestDescribeACellThatMayHaveLostOutput(t *testing.T) {
	err := &nbexec.CellError{Index: 2, Err: fmt.Errorf("%w (why); %w", kernel.ErrOutputMayBeLost, &kernel.Error{Ename: "ValueError", Evalue: "boom"})}
	got := describe(err)
	if !strings.HasPrefix(got, "cell 3: ") || !strings.Contains(got, kernel.ErrOutputMayBeLost.Error()) || !strings.Contains(got, "ValueError") {
		t.Errorf("describe: %q", got)
	}
}
