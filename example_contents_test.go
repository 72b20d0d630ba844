package nbserv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbformat"
)

func ExampleContentsService_SaveNotebook() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client

	nb := nbformat.New(
		nbformat.NewMarkdownCell("# Q3 report"),
		nbformat.NewCodeCell("revenue = 42\nrevenue"),
	)
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3"}
	if _, err := c.Contents.Mkdir(ctx, "reports"); err != nil {
		log.Fatal(err)
	}
	m, err := c.Contents.SaveNotebook(ctx, "reports/q3.ipynb", nb)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Path, m.Type)
	// Output: reports/q3.ipynb notebook
}

func ExampleContentsService_GetNotebook() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client
	// A notebook as an .ipynb file holds it: sources as lists of lines.
	err := srv.WriteFile("run.ipynb", []byte(`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
		{"cell_type": "code", "id": "a1", "metadata": {}, "execution_count": 1, "source": ["print('hi')\n", "6 * 7"],
		 "outputs": [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]},
		             {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": ["42"]}}]}]}`))
	if err != nil {
		log.Fatal(err)
	}

	nb, err := c.Contents.GetNotebook(ctx, "run.ipynb")
	if err != nil {
		log.Fatal(err)
	}
	for _, cell := range nb.Cells {
		fmt.Printf("[%d] %q\n", *cell.ExecutionCount, cell.Source)
		for _, out := range cell.Outputs {
			fmt.Printf("  %s: %q\n", out.OutputType, out.String())
		}
	}
	// Output:
	// [1] "print('hi')\n6 * 7"
	//   stream: "hi\n"
	//   execute_result: "42"
}

func ExampleContentsService_Upload() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client

	// Any io.Reader: a file, a network stream. Memory stays bounded by the
	// chunk size (4 MiB by default), whatever the size of the file.
	data := strings.NewReader(strings.Repeat("0123456789", 100))
	m, err := c.Contents.Upload(ctx, "data.bin", data, nbserv.TransferOptions{
		ChunkSize: 300,
		Progress:  func(done int64) { fmt.Println("stored", done, "bytes") },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Path, *m.Size)

	var back bytes.Buffer
	n, err := c.Contents.Download(ctx, "data.bin", &back, nbserv.TransferOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("downloaded", n, "bytes")
	// Output:
	// stored 300 bytes
	// stored 600 bytes
	// stored 900 bytes
	// stored 1000 bytes
	// data.bin 1000
	// downloaded 1000 bytes
}

func ExampleContentsService_Rename() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client
	for _, p := range []string{"draft.txt", "final.txt"} {
		if _, err := c.Contents.WriteText(ctx, p, "text of "+p); err != nil {
			log.Fatal(err)
		}
	}

	_, err := c.Contents.Rename(ctx, "draft.txt", "final.txt")
	fmt.Println(errors.Is(err, nbserv.ErrConflict))
	m, err := c.Contents.Rename(ctx, "draft.txt", "archive/../draft-old.txt")
	fmt.Println(m, errors.Is(err, nbserv.ErrInvalidArgument))
	m, err = c.Contents.Rename(ctx, "draft.txt", "draft #1.txt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Name)
	// Output:
	// true
	// <nil> true
	// draft #1.txt
}

func ExampleContentsService_RestoreCheckpoint() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client
	if _, err := c.Contents.WriteText(ctx, "notes.txt", "v1"); err != nil {
		log.Fatal(err)
	}
	cp, err := c.Contents.CreateCheckpoint(ctx, "notes.txt")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Contents.WriteText(ctx, "notes.txt", "v2, a mistake"); err != nil {
		log.Fatal(err)
	}
	if err := c.Contents.RestoreCheckpoint(ctx, "notes.txt", cp.ID); err != nil {
		log.Fatal(err)
	}
	text, err := c.Contents.ReadText(ctx, "notes.txt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cp.ID, text)
	// Output: checkpoint v1
}

func ExampleContentsService_List() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client
	for _, typ := range []nbserv.ContentsType{nbserv.ContentsNotebook, nbserv.ContentsNotebook, nbserv.ContentsDirectory} {
		if _, err := c.Contents.NewUntitled(ctx, "", typ, ""); err != nil {
			log.Fatal(err)
		}
	}
	entries, err := c.Contents.List(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Printf("%-10s %s\n", e.Type, e.Name)
	}
	// Output:
	// directory  Untitled Folder
	// notebook   Untitled.ipynb
	// notebook   Untitled1.ipynb
}
