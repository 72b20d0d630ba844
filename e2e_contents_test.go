package nbserv_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The contents part of the end-to-end suite (see e2e_test.go for the
// harness): the same assertions against the reference server and a
// real Jupyter Server. Facts asserted here are recorded in
// docs/wire/contents.md C6, C12, C13, C14.

// contentsDir makes a fresh directory for the test, its parents included,
// and deletes the whole tree when the test ends.
func contentsDir(t *testing.T, c *nbserv.Client) string {
	t.Helper()
	ctx := context.Background()
	dir := strings.TrimSuffix(uniquePath(t, ""), "/")
	segs := strings.Split(dir, "/")
	for i := range segs {
		if _, err := c.Contents.Mkdir(ctx, strings.Join(segs[:i+1], "/")); err != nil {
			t.Fatalf("Mkdir: %v", err)
		}
	}
	t.Cleanup(func() { removeAll(t, c, segs[0]) })
	return dir
}

// removeAll deletes a tree: Jupyter (deleting for good, not to the trash)
// refuses to delete a directory that is not empty.
func removeAll(t *testing.T, c *nbserv.Client, path string) {
	ctx := context.Background()
	m, err := c.Contents.Stat(ctx, path)
	if errors.Is(err, nbserv.ErrNotFound) {
		return
	}
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	if m.Type == nbserv.ContentsDirectory {
		entries, err := c.Contents.List(ctx, path)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, e := range entries {
			removeAll(t, c, e.Path)
		}
	}
	if err := c.Contents.Delete(ctx, path); err != nil && !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("cleanup: Delete %s: %v", path, err)
	}
}

func testNotebook() *nbformat.Notebook {
	nb := nbformat.New(nbformat.NewMarkdownCell("# Report\nwith *two* lines"), nbformat.NewCodeCell("x = 1\nx + 1"))
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3", Language: "python"}
	n := 1
	nb.Cells[1].ExecutionCount = &n
	out := nbformat.MIMEBundle{}
	out.SetText("text/plain", "2")
	nb.Cells[1].Outputs = []nbformat.Output{
		{OutputType: nbformat.OutputStream, Name: "stdout", Text: "hello\n"},
		{OutputType: nbformat.OutputExecuteResult, ExecutionCount: &n, Data: out, Metadata: nbformat.Metadata{}},
	}
	return nb
}

func TestE2EContentsNotebookLifecycle(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		dir := contentsDir(t, c)
		path := dir + "/report.ipynb"

		// Upload a notebook: 201, a model without content.
		var r nbserv.Response
		m, err := c.Contents.SaveNotebook(ctx, path, testNotebook(), nbserv.WithResponse(&r))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(tg.url)
		if r.StatusCode != 201 || r.Header.Get("Location") != u.Path+"api/contents/"+path ||
			m.Type != nbserv.ContentsNotebook || m.Path != path || m.Name != "report.ipynb" || m.Format != "" || m.Notebook != nil || m.Message != "" {
			t.Errorf("upload: %d %q %+v", r.StatusCode, r.Header.Get("Location"), m)
		}

		// A session on it.
		s := create(t, c, nbserv.CreateSessionRequest{Path: path, Type: nbserv.SessionNotebook})
		if s.Path != path {
			t.Errorf("session path %q", s.Path)
		}

		// Read it back: the same cells; Jupyter adds "trusted" to the
		// code cell's metadata.
		nb, err := c.Contents.GetNotebook(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		want := testNotebook()
		if len(nb.Cells) != 2 || nb.Cells[0].Source != want.Cells[0].Source || nb.Cells[1].Source != want.Cells[1].Source ||
			nb.Cells[1].Outputs[0].Text != "hello\n" || nb.Cells[1].Outputs[1].String() != "2" || *nb.Cells[1].ExecutionCount != 1 ||
			nb.Metadata.Kernelspec.Name != "python3" || nb.NBFormat != 4 || nb.NBFormatMinor != 5 {
			t.Fatalf("read back %+v", nb)
		}
		if ok, _ := nb.Cells[1].Metadata.Get("trusted", new(bool)); !ok {
			t.Errorf("code cell metadata %q", nb.Cells[1].Metadata)
		}

		// Save: 200 on an existing file.
		nb.Cells = append(nb.Cells, nbformat.NewMarkdownCell("saved"))
		if _, err := c.Contents.SaveNotebook(ctx, path, nb, nbserv.WithResponse(&r)); err != nil || r.StatusCode != 200 {
			t.Fatalf("save: %d %v", r.StatusCode, err)
		}

		// Checkpoint, edit, restore.
		cp, err := c.Contents.CreateCheckpoint(ctx, path, nbserv.WithResponse(&r))
		if err != nil || cp.ID != "checkpoint" || cp.LastModified.IsZero() || r.StatusCode != 201 ||
			!strings.HasSuffix(r.Header.Get("Location"), "/report.ipynb/checkpoints/checkpoint") {
			t.Fatalf("checkpoint: %+v %v %q", cp, err, r.Header.Get("Location"))
		}
		cps, err := c.Contents.ListCheckpoints(ctx, path)
		if err != nil || len(cps) != 1 || cps[0].ID != cp.ID {
			t.Errorf("checkpoints %+v %v", cps, err)
		}
		nb.Cells[2].Source = "edited"
		if _, err := c.Contents.SaveNotebook(ctx, path, nb); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Contents.GetNotebook(ctx, path); got == nil || got.Cells[2].Source != "edited" {
			t.Fatalf("edit not saved: %+v", got)
		}
		if err := c.Contents.RestoreCheckpoint(ctx, path, cp.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Contents.GetNotebook(ctx, path); got == nil || got.Cells[2].Source != "saved" {
			t.Errorf("restore did not restore: %+v", got)
		}

		// Rename; the old path is gone.
		renamed := dir + "/renamed.ipynb"
		m, err = c.Contents.Rename(ctx, path, renamed)
		if err != nil || m.Path != renamed || m.Type != nbserv.ContentsNotebook {
			t.Fatalf("rename: %+v %v", m, err)
		}
		if _, err := c.Contents.Stat(ctx, path); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("old path after rename: %v", err)
		}

		// Copy into the directory (the server names it), and to a name.
		cp1, err := c.Contents.Copy(ctx, renamed, dir)
		if err != nil || cp1.Path != dir+"/renamed-Copy1.ipynb" {
			t.Errorf("copy into dir: %+v %v", cp1, err)
		}
		named, err := c.Contents.Copy(ctx, renamed, dir+"/named.ipynb", nbserv.WithResponse(&r))
		if err != nil || named.Path != dir+"/named.ipynb" || r.StatusCode != 201 {
			t.Errorf("copy to a name: %+v %v", named, err)
		}
		if got, _ := c.Contents.GetNotebook(ctx, dir+"/named.ipynb"); got == nil || len(got.Cells) != 3 {
			t.Errorf("copy's content: %+v", got)
		}

		// Conflicts: rename onto an existing file is a 409, copy onto one
		// a 400.
		_, err = c.Contents.Rename(ctx, renamed, dir+"/named.ipynb")
		var e *nbserv.Error
		if !errors.Is(err, nbserv.ErrConflict) || !errors.As(err, &e) || e.StatusCode != 409 || e.Message != "File already exists: "+dir+"/named.ipynb" {
			t.Errorf("rename onto a file: %v", err)
		}
		_, err = c.Contents.Copy(ctx, renamed, dir+"/named.ipynb")
		if !errors.Is(err, nbserv.ErrBadRequest) || !errors.As(err, &e) || e.Message != "Cannot POST to files, use PUT instead." {
			t.Errorf("copy onto a file: %v", err)
		}

		// Delete.
		for _, p := range []string{cp1.Path, named.Path, renamed} {
			if err := c.Contents.Delete(ctx, p); err != nil {
				t.Errorf("Delete %s: %v", p, err)
			}
		}
		if _, err := c.Contents.Stat(ctx, renamed); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if err := c.Contents.Delete(ctx, renamed); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		entries, err := c.Contents.List(ctx, dir)
		if err != nil || len(entries) != 0 {
			t.Errorf("directory after deletes: %+v %v", entries, err)
		}
	})
}

// Paths are user data: each reaches the file it names.
func TestE2EContentsOddPaths(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		dir := contentsDir(t, c)
		names := []string{"a b.txt", "hash#tag.txt", "what?.txt", "100%.txt", "plus+semi;eq=.txt", "é 中 😀.txt",
			"checkpoints", "trust", "a..b", "sub dir#1"}
		for _, n := range names[:len(names)-1] {
			// Leading and trailing slashes are dropped.
			if _, err := c.Contents.WriteText(ctx, "/"+dir+"/"+n+"/", "content of "+n); err != nil {
				t.Errorf("write %q: %v", n, err)
			}
		}
		if _, err := c.Contents.Mkdir(ctx, dir+"/sub dir#1"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Contents.WriteFile(ctx, dir+"/sub dir#1/?.bin", []byte{0xff, 0, '%'}); err != nil {
			t.Fatal(err)
		}
		entries, err := c.Contents.List(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name)
			if e.Path != dir+"/"+e.Name {
				t.Errorf("entry path %q", e.Path)
			}
		}
		slices.Sort(got)
		want := slices.Clone(names)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("directory holds %q, want %q", got, want)
		}
		for _, n := range names[:len(names)-1] {
			if text, err := c.Contents.ReadText(ctx, dir+"/"+n); err != nil || text != "content of "+n {
				t.Errorf("read %q: %q %v", n, text, err)
			}
			var buf bytes.Buffer
			if _, err := c.Contents.Download(ctx, dir+"//"+n, &buf, nbserv.TransferOptions{}); err != nil || buf.String() != "content of "+n {
				t.Errorf("download %q: %q %v", n, buf.String(), err)
			}
		}
		if b, err := c.Contents.ReadFile(ctx, dir+"/sub dir#1/?.bin"); err != nil || !bytes.Equal(b, []byte{0xff, 0, '%'}) {
			t.Errorf("binary: %v %v", b, err)
		}
		// The checkpoints of a file named "checkpoints".
		if _, err := c.Contents.CreateCheckpoint(ctx, dir+"/checkpoints"); err != nil {
			t.Errorf("checkpoint of a file named checkpoints: %v", err)
		}
		if cps, err := c.Contents.ListCheckpoints(ctx, dir+"/checkpoints"); err != nil || len(cps) != 1 {
			t.Errorf("checkpoints of a file named checkpoints: %v %v", cps, err)
		}
		// Rename to and from odd names.
		if m, err := c.Contents.Rename(ctx, dir+"/what?.txt", dir+"/sub dir#1/100% ?#.txt"); err != nil || m.Name != "100% ?#.txt" {
			t.Errorf("rename: %+v %v", m, err)
		}
	})
}

func TestE2EContentsUntitledAndErrors(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		dir := contentsDir(t, c)
		var names []string
		for _, tt := range []struct {
			typ nbserv.ContentsType
			ext string
		}{
			{nbserv.ContentsNotebook, ""}, {nbserv.ContentsNotebook, ""}, {nbserv.ContentsFile, ".txt"}, {nbserv.ContentsFile, ""},
			{nbserv.ContentsDirectory, ""}, {nbserv.ContentsDirectory, ""}, {"", ".ipynb"},
		} {
			var r nbserv.Response
			m, err := c.Contents.NewUntitled(ctx, dir, tt.typ, tt.ext, nbserv.WithResponse(&r))
			if err != nil || r.StatusCode != 201 {
				t.Fatalf("NewUntitled %v: %v", tt, err)
			}
			names = append(names, m.Name)
		}
		want := []string{"Untitled.ipynb", "Untitled1.ipynb", "untitled.txt", "untitled", "Untitled Folder", "Untitled Folder 1", "Untitled2.ipynb"}
		if !slices.Equal(names, want) {
			t.Errorf("untitled names %q, want %q", names, want)
		}
		if nb, err := c.Contents.GetNotebook(ctx, dir+"/Untitled.ipynb"); err != nil || len(nb.Cells) != 0 || nb.NBFormat != 4 {
			t.Errorf("new notebook: %+v %v", nb, err)
		}

		var e *nbserv.Error
		check := func(what string, err, is error, status int, msg string) {
			t.Helper()
			if !errors.Is(err, is) || !errors.As(err, &e) || e.StatusCode != status || e.Message != msg {
				t.Errorf("%s: %v", what, err)
			}
		}
		_, err := c.Contents.Get(ctx, dir+"/nope", nbserv.GetOptions{})
		if tg.generation == 2 { // a plain-text body (docs/wire/jupyter-server-2.md G10)
			check("missing", err, nbserv.ErrNotFound, 404, "file or directory '/"+dir+"/nope' does not exist")
		} else {
			check("missing", err, nbserv.ErrNotFound, 404, "file or directory does not exist: '"+dir+"/nope'")
		}
		_, err = c.Contents.List(ctx, dir+"/untitled.txt")
		check("list a file", err, nbserv.ErrBadRequest, 400, dir+"/untitled.txt is not a directory")
		_, err = c.Contents.Get(ctx, dir, nbserv.GetOptions{Type: nbserv.ContentsFile})
		check("a directory as a file", err, nbserv.ErrBadRequest, 400, dir+" is a directory, not a file")
		_, err = c.Contents.Get(ctx, dir, nbserv.GetOptions{Type: "bogus"})
		if tg.generation == 2 { // 2.x reads an unknown type as "file"
			check("bad type", err, nbserv.ErrBadRequest, 400, dir+" is a directory, not a file")
		} else {
			check("bad type", err, nbserv.ErrBadRequest, 400, "Type 'bogus' is invalid")
		}
		_, err = c.Contents.Get(ctx, dir, nbserv.GetOptions{Format: "json"})
		check("bad format", err, nbserv.ErrBadRequest, 400, "Format 'json' is invalid")
		if _, err := c.Contents.WriteFile(ctx, dir+"/bin", []byte{0xff, 0xfe}); err != nil {
			t.Fatal(err)
		}
		_, err = c.Contents.ReadText(ctx, dir+"/bin")
		if !errors.Is(err, nbserv.ErrBadRequest) || !errors.As(err, &e) || e.Reason != "bad format" || !strings.HasSuffix(e.Message, "/bin is not UTF-8 encoded") {
			t.Errorf("text of a binary file: %v", err)
		}
		_, err = c.Contents.Create(ctx, dir+"/untitled.txt", nbserv.CreateRequest{})
		check("POST to a file", err, nbserv.ErrBadRequest, 400, "Cannot POST to files, use PUT instead.")
		_, err = c.Contents.NewUntitled(ctx, dir+"/nodir", nbserv.ContentsFile, "")
		check("POST to a missing directory", err, nbserv.ErrNotFound, 404, "No such directory: "+dir+"/nodir")
		_, err = c.Contents.Copy(ctx, dir+"/Untitled Folder", dir)
		if tg.generation == 2 { // 2.x copies directories
			if err != nil {
				t.Errorf("copy a directory on 2.x: %v", err)
			}
		} else {
			check("copy a directory", err, nbserv.ErrBadRequest, 400, "Can't copy directories")
		}
		err = c.Contents.DeleteCheckpoint(ctx, dir+"/untitled.txt", "nope")
		check("unknown checkpoint", err, nbserv.ErrNotFound, 404, "Checkpoint does not exist: "+dir+"/untitled.txt@nope")
		// Hidden files: not found to read, refused to write or delete.
		_, err = c.Contents.Get(ctx, dir+"/.hidden", nbserv.GetOptions{})
		if !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("hidden: %v", err)
		}
		_, err = c.Contents.WriteText(ctx, dir+"/.hidden", "x")
		if !errors.Is(err, nbserv.ErrBadRequest) || !errors.As(err, &e) || !strings.HasPrefix(e.Message, "Cannot create file or directory") {
			t.Errorf("write hidden: %v", err)
		}
		// A non-empty directory deletes when Jupyter can send it to the
		// trash (its default, delete_to_trash, where the trash is on the
		// root's device); otherwise Jupyter refuses with 400 "… not empty",
		// as a JupyterHub single-user server whose root is its HOME does.
		if _, err := c.Contents.WriteText(ctx, dir+"/Untitled Folder/f", "x"); err != nil {
			t.Fatal(err)
		}
		if err := c.Contents.Delete(ctx, dir+"/Untitled Folder"); err != nil {
			if !tg.real || !errors.Is(err, nbserv.ErrBadRequest) || !errors.As(err, &e) || !strings.HasSuffix(e.Message, "not empty") {
				t.Errorf("delete a non-empty directory: %v", err)
			}
			if err := c.Contents.Delete(ctx, dir+"/Untitled Folder/f"); err != nil {
				t.Fatal(err)
			}
			if err := c.Contents.Delete(ctx, dir+"/Untitled Folder"); err != nil {
				t.Errorf("delete the emptied directory: %v", err)
			}
		}
		if _, err := c.Contents.Stat(ctx, dir+"/Untitled Folder/f"); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("after deleting its directory: %v", err)
		}
		// A wrong token: Open fails with the API's 403, not Jupyter's
		// login page.
		_, err = newClient(t, tg.url, "wrong").Contents.Open(ctx, dir+"/untitled.txt")
		check("wrong token", err, nbserv.ErrUnauthorized, 403, "Forbidden")
		if _, err := c.Contents.Open(ctx, dir); !errors.Is(err, nbserv.ErrInvalidArgument) {
			t.Errorf("open a directory: %v", err)
		}
	})
}

// A file of 200 MiB (210 MB) goes up and comes back through the SDK with
// the heap bounded by the chunk size. It runs once against the reference
// server, which is in this process and so serves from a directory, that
// its heap hold no file; with NBSERV_JUPYTER_URL, against that server.
func TestE2EContentsLargeFile(t *testing.T) {
	const size = 200 << 20
	tg := target{name: "refserver-dir"}
	if u := os.Getenv("NBSERV_JUPYTER_URL"); u != "" {
		tg = target{name: "jupyter", url: u, token: os.Getenv("NBSERV_JUPYTER_TOKEN"), real: true}
	} else {
		srv := newRefServer(t, nbservtest.WithContentsRoot(t.TempDir()))
		tg.url, tg.token = srv.URL, srv.Token
	}
	t.Run(tg.name, func(t *testing.T) {
		c := newClient(t, tg.url, tg.token)
		ctx := context.Background()
		dir := contentsDir(t, c)
		path := dir + "/large file.bin"
		gen := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{42}), size) }
		want := sha256.New()
		io.Copy(want, gen())

		chunk := nbserv.DefaultChunkSize
		var calls int
		var m *nbserv.Contents
		var err error
		up := nbserv.HeapPeak(func() {
			m, err = c.Contents.Upload(ctx, path, gen(), nbserv.TransferOptions{Progress: func(int64) { calls++ }})
		})
		if err != nil || m.Size == nil || *m.Size != size || calls != size/chunk {
			t.Fatalf("Upload: %+v, %v, %d progress calls", m, err, calls)
		}
		got := sha256.New()
		var n int64
		down := nbserv.HeapPeak(func() { n, err = c.Contents.Download(ctx, path, got, nbserv.TransferOptions{}) })
		if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
			t.Fatalf("Download: %d bytes, %v", n, err)
		}
		t.Logf("%s: %d MiB in %d MiB chunks: peak heap growth %.1f MiB up, %.1f MiB down", tg.name,
			size>>20, chunk>>20, float64(up)/(1<<20), float64(down)/(1<<20))
		// The bound of Upload's doc comment, for the client alone against
		// a real server; in process the reference server's work on each
		// chunk shares the heap, so the bound there covers both.
		limit := uint64(16*chunk + 8<<20)
		if !tg.real {
			limit = 32*uint64(chunk) + 16<<20
		}
		if up > limit {
			t.Errorf("upload heap grew by %.1f MiB, bound %.1f MiB", float64(up)/(1<<20), float64(limit)/(1<<20))
		}
		if limit := uint64(8 << 20); down > limit {
			t.Errorf("download heap grew by %.1f MiB, bound %.1f MiB (is Client.stream a true stream?)", float64(down)/(1<<20), float64(limit)/(1<<20))
		}
		if err := c.Contents.Delete(ctx, path); err != nil {
			t.Error(err)
		}
	})
}

// Downloads arrive whole and are checked: Jupyter answers /files/ with a
// Content-Length (docs/wire/contents.md C12), for a notebook too (served
// as its file), so Download returns the file's size without asking for its
// model a second time, and a body of another length would fail.
func TestE2EContentsDownloadIsWholeAndChecked(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		dir := contentsDir(t, c)
		if _, err := c.Contents.SaveNotebook(ctx, dir+"/n.ipynb", testNotebook()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Contents.WriteFile(ctx, dir+"/b.bin", bytes.Repeat([]byte{0, 0xff}, 50000)); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{dir + "/n.ipynb", dir + "/b.bin"} {
			st, err := c.Contents.Stat(ctx, p)
			if err != nil || st.Size == nil {
				t.Fatalf("Stat %s: %+v %v", p, st, err)
			}
			var r nbserv.Response
			var buf bytes.Buffer
			n, err := c.Contents.Download(ctx, p, &buf, nbserv.TransferOptions{}, nbserv.WithResponse(&r))
			if err != nil || n != *st.Size || int64(buf.Len()) != n {
				t.Errorf("Download %s: %d bytes, %v; the model says %d", p, n, err, *st.Size)
			}
			if r.Header.Get("Content-Length") != strconv.FormatInt(n, 10) {
				t.Errorf("%s: Content-Length %q for %d bytes", p, r.Header.Get("Content-Length"), n)
			}
		}
	})
}
