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
