package nbserv_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	nbserv "github.com/nbserv/go-nbserv"
)

func ExampleKernelsService_Restart() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client

	k, err := c.Kernels.Start(ctx, nbserv.StartKernelRequest{Name: "python3"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Kernels.Delete(ctx, k.ID)

	// Interrupt, like a notebook's stop button; it returns the kernel as
	// the server reports it afterwards.
	if _, err := c.Kernels.Interrupt(ctx, k.ID); err != nil {
		log.Fatal(err)
	}
	// Restart keeps the kernel's id, so sessions on it keep it too.
	restarted, err := c.Kernels.Restart(ctx, k.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(restarted.ID == k.ID, restarted.Name)

	_, err = c.Kernels.Restart(ctx, "00000000-0000-4000-8000-000000000000")
	fmt.Println(errors.Is(err, nbserv.ErrNotFound))
	// Output:
	// true python3
	// true
}
