package nbserv_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
)

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
