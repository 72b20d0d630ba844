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
