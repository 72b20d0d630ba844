package nbserv_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	nbserv "github.com/nbserv/go-nbserv"
)

func ExampleIdentityService_Me() {
	srv := server()
	defer srv.Close()

	me, err := srv.Client.Identity.Me(context.Background(), map[string][]string{"contents": {"read", "write"}})
	switch {
	case errors.Is(err, nbserv.ErrNotSupported):
		fmt.Println("a Jupyter Server 1.x: no identity API")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(me.Identity.Username, me.Permissions.Allows("contents", "write"))
	}
}
