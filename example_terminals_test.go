package nbserv_test

import (
	"context"
	"fmt"
	"log"
)

func ExampleTerminalsService_Create() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client

	term, err := c.Terminals.Create(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	// A front end would now attach to /terminals/websocket/{name}.
	fmt.Println("terminal", term.Name)

	if err := c.Terminals.Delete(ctx, term.Name); err != nil {
		log.Fatal(err)
	}
	list, err := c.Terminals.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(list), "terminals")
	// Output:
	// terminal 1
	// 0 terminals
}

func ExampleTerminalsService_Connect() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client

	term, err := c.Terminals.Create(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Terminals.Delete(ctx, term.Name)
	tc, err := c.Terminals.Connect(ctx, term.Name)
	if err != nil {
		log.Fatal(err)
	}
	defer tc.Close()

	if err := tc.Resize(ctx, 40, 120); err != nil {
		log.Fatal(err)
	}
	// Input is typed: "\r" runs the line. The terminal echoes it, so wait
	// for what only the command prints.
	if err := tc.Write(ctx, "stty size\r"); err != nil {
		log.Fatal(err)
	}
	out, err := tc.ReadUntil(ctx, "40 120")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out)
	// Output:
	// "$ stty size\r\n40 120"
}
