package nbformat_test

import (
	"fmt"
	"log"

	"github.com/nbserv/go-nbserv/nbformat"
)

func ExampleParse() {
	nb, err := nbformat.Parse([]byte(`{"nbformat": 4, "nbformat_minor": 5, "metadata": {"my_tool": {"run": 3}},
		"cells": [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": ["# Title\n", "Text"], "x-extension": true}]}`))
	if err != nil {
		log.Fatal(err)
	}
	nb.Cells[0].Source += " edited"
	out, err := nb.MarshalJSON()
	if err != nil {
		log.Fatal(err)
	}
	// Keys the model does not know are written back as they came.
	fmt.Println(string(out))
	// Output: {"cells":[{"id":"m","cell_type":"markdown","metadata":{},"source":"# Title\nText edited","x-extension":true}],"metadata":{"my_tool":{"run": 3}},"nbformat":4,"nbformat_minor":5}
}

func ExampleNew() {
	nb := nbformat.New(nbformat.NewMarkdownCell("# Report"), nbformat.NewCodeCell("print(1 + 1)"))
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3"}
	out := nbformat.MIMEBundle{}
	out.SetText("text/plain", "2")
	nb.Cells[1].Outputs = append(nb.Cells[1].Outputs, nbformat.Output{OutputType: nbformat.OutputDisplayData, Data: out})
	for _, c := range nb.Cells {
		fmt.Println(c.CellType, len(c.ID), c.Source)
	}
	fmt.Println(nb.Cells[1].Outputs[0].String())
	// Output:
	// markdown 8 # Report
	// code 8 print(1 + 1)
	// 2
}
