package nbserv_test

import (
	"context"
	"fmt"
	"log"

	nbserv "github.com/nbserv/go-nbserv"
)

func ExampleServerService_Status() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()

	st, err := srv.Client.Server.Status(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// An idle-culling job would compare st.LastActivity with time.Now().
	fmt.Println(st.Kernels, "kernels,", st.Connections, "connections")
	// Output: 0 kernels, 0 connections
}

func ExampleServerService_Version() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client

	v, err := c.Server.Version(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if v.AtLeast(2, 0) {
		me, err := c.Identity.Me(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("Jupyter Server", v, "as", me.Identity.DisplayName)
	} else {
		fmt.Println("Jupyter Server", v, "has no /api/me")
	}
}

func ExampleParseServerVersion() {
	v, err := nbserv.ParseServerVersion("2.0.0rc1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Major, v.Minor, v.Patch, v.Suffix, v.AtLeast(2, 0), v.AtLeast(2, 1))
	// Output: 2 0 0 rc1 true false
}

func ExampleServerService_Spec() {
	srv := server()
	defer srv.Close()

	spec, err := srv.Client.Server.Spec(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(spec.ContentType)
	// Output: text/x-yaml
}
