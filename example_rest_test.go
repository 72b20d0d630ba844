package nbserv_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

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

func ExampleKernelSpecsService_List() {
	srv := server()
	defer srv.Close()

	specs, err := srv.Client.KernelSpecs.List(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("default:", specs.Default)
	py := specs.KernelSpecs["python3"]
	fmt.Printf("%s: %s, %s, interrupted by %s\n", py.Name, py.DisplayName, py.Language, py.InterruptMode)
	fmt.Println(py.Resources["logo-64x64"]) // a URL path, base URL prefix included
	// Output:
	// default: python3
	// python3: Python 3 (ipykernel), python, interrupted by signal
	// /user/alice/kernelspecs/python3/logo-64x64.png
}

func ExampleKernelSpecsService_Resource() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()

	spec, err := srv.Client.KernelSpecs.Get(ctx, "python3")
	if err != nil {
		log.Fatal(err)
	}
	file, ok := spec.ResourceFile("logo-64x64")
	if !ok {
		log.Fatal("no 64x64 logo")
	}
	logo, err := srv.Client.KernelSpecs.Resource(ctx, "python3", file)
	if err != nil {
		log.Fatal(err)
	}
	defer logo.Close()

	dir, err := os.MkdirTemp("", "logos")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, file))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	n, err := io.Copy(f, logo) // streamed, never held in memory whole
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(file, logo.ContentType, n == logo.Size)
	// Output: logo-64x64.png image/png true
}

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

func ExampleConfigSectionsService_Update() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client

	if _, err := c.ConfigSections.Update(ctx, "notebook", map[string]any{
		"load_extensions": map[string]any{"spellchecker/main": true, "old/ext": true},
		"Cell":            map[string]any{"cm_config": map[string]any{"lineNumbers": false}},
	}); err != nil {
		log.Fatal(err)
	}
	// Objects merge; nil (JSON null) deletes a key.
	section, err := c.ConfigSections.Update(ctx, "notebook", map[string]any{
		"load_extensions": map[string]any{"old/ext": nil},
		"Cell":            map[string]any{"cm_config": map[string]any{"lineNumbers": true}},
	})
	if err != nil {
		log.Fatal(err)
	}
	out, _ := json.Marshal(section)
	fmt.Println(string(out))

	var typed struct {
		LoadExtensions map[string]bool `json:"load_extensions"`
	}
	if err := c.ConfigSections.GetInto(ctx, "notebook", &typed); err != nil {
		log.Fatal(err)
	}
	fmt.Println(typed.LoadExtensions)
	// Output:
	// {"Cell":{"cm_config":{"lineNumbers":true}},"load_extensions":{"spellchecker/main":true}}
	// map[spellchecker/main:true]
}

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
