package refserver

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDifferentialContents sends the same raw contents requests to a real
// Jupyter Server and to the reference server (its in-memory tree, then a
// real directory) and compares status, Content-Type, Location and the JSON
// body, after masking what differs by nature: timestamps, generated cell
// ids, the order of directory listings (os.listdir's), and each server's
// root directory in messages (Jupyter prints absolute paths; the in-memory
// tree prints paths below "/"). Raw /files/ bodies are compared byte for
// byte. docs/wire/contents.md C1-C11 record the same facts with curl.
//
// Like TestDifferential it needs scripts/with-jupyter.sh; it works inside
// a fresh directory of its own, so it can share the server with other
// tests.
func TestDifferentialContents(t *testing.T) {
	jurl := os.Getenv("NBSERV_JUPYTER_URL")
	if jurl == "" {
		t.Skip("NBSERV_JUPYTER_URL not set: run under scripts/with-jupyter.sh to compare with a real Jupyter Server")
	}
	for _, backend := range []string{"memory", "directory"} {
		t.Run(backend, func(t *testing.T) {
			root := ""
			if backend == "directory" {
				root = t.TempDir()
			}
			runContentsDifferential(t, jurl, root)
		})
	}
}

type cstep struct {
	name, method, path, body, auth string
	crash                          bool // Jupyter raises an unhandled exception: keys only
	html                           bool // an HTML page: status and type only
	raw                            bool // compare the raw body (/files/)
}

func runContentsDifferential(t *testing.T, jurl, refRoot string) {
	token := os.Getenv("NBSERV_JUPYTER_TOKEN")
	u, err := url.Parse(jurl)
	if err != nil {
		t.Fatal(err)
	}
	ref, refClient := newDiffServer(t, New(Options{Token: token, BaseURL: u.Path, ContentsRoot: refRoot, Generation: diffGeneration()}))
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	dir := "diffc-" + hex.EncodeToString(rb[:])
	vars := func() map[string]string { return map[string]string{"D": dir} }
	prefix := strings.TrimSuffix(u.Path, "/") + "/"
	jupyter := &peer{t: t, client: jupyterClient(t), origin: u.Scheme + "://" + u.Host, prefix: prefix, token: token, vars: vars()}
	refPeer := &peer{t: t, client: refClient, origin: ref.URL, prefix: prefix, token: token, vars: vars()}
	defer jupyter.send("DELETE", "api/contents/$D", "", "", nil)

	// Each server's root, as its messages print it, learnt from an error
	// that names the file's absolute path.
	probe := `{"type": "file", "format": "base64", "content": "x"}`
	jupyter.send("PUT", "api/contents/$D", `{"type": "directory"}`, "", nil)
	refPeer.send("PUT", "api/contents/$D", `{"type": "directory"}`, "", nil)
	jroot := rootFromProbe(t, jupyter.send("PUT", "api/contents/$D/probe.txt", probe, "", nil), dir)
	rroot := rootFromProbe(t, refPeer.send("PUT", "api/contents/$D/probe.txt", probe, "", nil), dir)

	nb := `{"cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "outputs": [], "execution_count": null, "source": "print(1)\nx = 2"}, {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# T\n", "text"]}], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}}, "nbformat": 4, "nbformat_minor": 5}`
	nbRich := `{"cells": [{"cell_type": "code", "id": "r1", "metadata": {}, "execution_count": 1, "source": "1", "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": "1\n2", "text/html": "<b>1</b>"}}]}], "metadata": {"title": "$D"}, "nbformat": 4, "nbformat_minor": 5}`
	nbNoIDs := `{"cells": [{"cell_type": "raw", "metadata": {}, "source": "r"}, {"cell_type": "markdown", "metadata": {}, "source": "m"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`
	steps := []cstep{
		// GET, and how paths are read
		{name: "empty dir", method: "GET", path: "api/contents/$D"},
		{name: "dir trailing slash", method: "GET", path: "api/contents/$D/?type=directory"},
		{name: "root without content", method: "GET", path: "api/contents?content=0"},
		{name: "root with slash", method: "GET", path: "api/contents/?content=0&type=directory"},
		{name: "missing", method: "GET", path: "api/contents/$D/nope.txt"},
		{name: "bad type", method: "GET", path: "api/contents/$D?type=bad"},
		{name: "bad format", method: "GET", path: "api/contents/$D?format=x"},
		{name: "bad content", method: "GET", path: "api/contents/$D?content=2"},
		{name: "outside root", method: "GET", path: "api/contents/$D/../../x"},
		{name: "outside root escaped", method: "GET", path: "api/contents/%2E%2E/x"},
		{name: "invalid utf-8", method: "GET", path: "api/contents/$D/%FF"},
		{name: "files invalid utf-8", method: "GET", path: "files/%FF", html: true},
		{name: "double slash", method: "GET", path: "api/contents/$D//x", html: true},
		{name: "405", method: "HEAD", path: "api/contents/$D"},
		{name: "no token", method: "GET", path: "api/contents/$D", auth: "none"},
		{name: "no token write", method: "PUT", path: "api/contents/$D/x.txt", auth: "none"},

		// PUT: files
		{name: "put text", method: "PUT", path: "api/contents/$D/t.txt", body: `{"type": "file", "format": "text", "content": "héllo\nworld\n"}`},
		{name: "put text again", method: "PUT", path: "api/contents/$D/t.txt", body: `{"type": "file", "format": "text", "content": "hello\n"}`},
		{name: "get text", method: "GET", path: "api/contents/$D/t.txt"},
		{name: "get text as base64", method: "GET", path: "api/contents/$D/t.txt?format=base64"},
		{name: "get text no content", method: "GET", path: "api/contents/$D/t.txt?content=0"},
		{name: "get text as directory", method: "GET", path: "api/contents/$D/t.txt?type=directory"},
		{name: "get dir as file", method: "GET", path: "api/contents/$D?type=file"},
		{name: "get text as notebook", method: "GET", path: "api/contents/$D/t.txt?type=notebook"},
		{name: "put base64", method: "PUT", path: "api/contents/$D/b.bin", body: `{"type": "file", "format": "base64", "content": "AAEC/w=="}`},
		{name: "get base64", method: "GET", path: "api/contents/$D/b.bin"},
		{name: "get binary as text", method: "GET", path: "api/contents/$D/b.bin?format=text"},
		{name: "put long base64", method: "PUT", path: "api/contents/$D/long.dat", body: `{"type": "file", "format": "text", "content": "` + strings.Repeat("0123456789", 12) + `"}`},
		{name: "long base64 wraps at 76", method: "GET", path: "api/contents/$D/long.dat?format=base64"},
		{name: "base64 one extra char", method: "PUT", path: "api/contents/$D/b.bin", body: `{"type": "file", "format": "base64", "content": "AAAAx"}`},
		{name: "base64 padding", method: "PUT", path: "api/contents/$D/b.bin", body: `{"type": "file", "format": "base64", "content": "AAAAxy="}`},
		{name: "base64 junk skipped", method: "PUT", path: "api/contents/$D/b2.bin", body: `{"type": "file", "format": "base64", "content": "!AA==AA"}`},
		{name: "base64 non-ascii", method: "PUT", path: "api/contents/$D/b.bin", body: `{"type": "file", "format": "base64", "content": "é"}`},
		{name: "content null", method: "PUT", path: "api/contents/$D/t.txt", body: `{"type": "file", "format": "text", "content": null}`},
		{name: "content number", method: "PUT", path: "api/contents/$D/t.txt", body: `{"type": "file", "format": "text", "content": 5}`},
		{name: "no type", method: "PUT", path: "api/contents/$D/t.txt", body: `{"content": "x"}`},
		{name: "no content", method: "PUT", path: "api/contents/$D/t.txt", body: `{"type": "file"}`},
		{name: "no format", method: "PUT", path: "api/contents/$D/t.txt", body: `{"type": "file", "content": "x"}`},
		{name: "odd type", method: "PUT", path: "api/contents/$D/t.txt", body: `{"type": "weird", "content": "x"}`},
		{name: "new with odd type", method: "PUT", path: "api/contents/$D/odd.txt", body: `{"type": "weird"}`},
		{name: "new file no content", method: "PUT", path: "api/contents/$D/empty.py", body: `{"type": "file"}`},
		{name: "copy with put", method: "PUT", path: "api/contents/$D/t.txt", body: `{"copy_from": "x"}`},
		{name: "put list", method: "PUT", path: "api/contents/$D/t.txt", body: `[1]`, crash: true},
		{name: "put bad json", method: "PUT", path: "api/contents/$D/t.txt", body: `{bad`},
		{name: "put empty body: untitled", method: "PUT", path: "api/contents/$D"},
		{name: "put {} on missing dir", method: "PUT", path: "api/contents/$D/nodir", body: `{}`},
		{name: "put hidden", method: "PUT", path: "api/contents/$D/.h.txt", body: `{"type": "file", "format": "text", "content": "h"}`},
		{name: "put hidden model path", method: "PUT", path: "api/contents/$D/h2.txt", body: `{"type": "file", "format": "text", "content": "h", "path": ".x"}`},
		{name: "put in missing dir", method: "PUT", path: "api/contents/$D/nodir/x.txt", body: `{"type": "file", "format": "text", "content": "x"}`},
		{name: "put file over dir", method: "PUT", path: "api/contents/$D", body: `{"type": "file", "format": "text", "content": "x"}`},
		{name: "put dir", method: "PUT", path: "api/contents/$D/sub", body: `{"type": "directory"}`},
		{name: "put dir again", method: "PUT", path: "api/contents/$D/sub", body: `{"type": "directory"}`},
		{name: "put dir over file", method: "PUT", path: "api/contents/$D/t.txt", body: `{"type": "directory"}`},
		{name: "unicode name", method: "PUT", path: "api/contents/$D/sub/%C3%A9%20%23%3F%25.txt", body: `{"type": "file", "format": "text", "content": "u"}`},
		{name: "escaped slash", method: "PUT", path: "api/contents/$D%2Fsub%2Fslash.txt", body: `{"type": "file", "format": "text", "content": "s"}`},
		{name: "dot segments", method: "GET", path: "api/contents/$D/sub/../t.txt"},
		{name: "list sub", method: "GET", path: "api/contents/$D/sub"},

		// chunked uploads
		{name: "chunk 1", method: "PUT", path: "api/contents/$D/big.bin", body: `{"type": "file", "format": "base64", "content": "AAEC", "chunk": 1}`},
		{name: "chunk 2", method: "PUT", path: "api/contents/$D/big.bin", body: `{"type": "file", "format": "base64", "content": "AwQF", "chunk": 2}`},
		{name: "chunk last", method: "PUT", path: "api/contents/$D/big.bin", body: `{"type": "file", "format": "text", "content": "xyz", "chunk": -1}`},
		{name: "chunked result", method: "GET", path: "api/contents/$D/big.bin"},
		{name: "chunk 1 again truncates", method: "PUT", path: "api/contents/$D/big.bin", body: `{"type": "file", "format": "text", "content": "a", "chunk": 1}`},
		{name: "chunk 2 on new file", method: "PUT", path: "api/contents/$D/big2.bin", body: `{"type": "file", "format": "base64", "content": "AwQF", "chunk": 2}`},
		{name: "chunk notebook", method: "PUT", path: "api/contents/$D/big.bin", body: `{"type": "notebook", "content": "x", "chunk": 2}`},
		{name: "chunk no content", method: "PUT", path: "api/contents/$D/big.bin", body: `{"type": "file", "format": "text", "chunk": 2}`},
		{name: "chunk no format", method: "PUT", path: "api/contents/$D/big.bin", body: `{"type": "file", "content": "x", "chunk": 3}`},
		{name: "chunk missing dir", method: "PUT", path: "api/contents/$D/nodir/big.bin", body: `{"type": "file", "format": "text", "content": "x", "chunk": 2}`},

		// notebooks
		{name: "put notebook", method: "PUT", path: "api/contents/$D/nb.ipynb", body: `{"type": "notebook", "content": ` + nb + `}`},
		{name: "get notebook", method: "GET", path: "api/contents/$D/nb.ipynb"},
		{name: "notebook format ignored", method: "GET", path: "api/contents/$D/nb.ipynb?format=base64"},
		{name: "notebook as text", method: "GET", path: "api/contents/$D/nb.ipynb?type=file"},
		{name: "notebook as base64", method: "GET", path: "api/contents/$D/nb.ipynb?format=base64&type=file"},
		{name: "notebook checkpoint made", method: "GET", path: "api/contents/$D/nb.ipynb/checkpoints"},
		{name: "rich notebook", method: "PUT", path: "api/contents/$D/rich.ipynb", body: `{"type": "notebook", "content": ` + nbRich + `}`},
		{name: "rich untrusted", method: "GET", path: "api/contents/$D/rich.ipynb"},
		{name: "trust", method: "POST", path: "api/contents/$D/rich.ipynb/trust"},
		{name: "rich trusted", method: "GET", path: "api/contents/$D/rich.ipynb"},
		{name: "notebook without ids", method: "PUT", path: "api/contents/$D/noid.ipynb", body: `{"type": "notebook", "content": ` + nbNoIDs + `}`},
		{name: "ids generated", method: "GET", path: "api/contents/$D/noid.ipynb"},
		{name: "invalid cell", method: "PUT", path: "api/contents/$D/v1.ipynb", body: `{"type": "notebook", "content": {"cells": [{"cell_type": "markdown", "id": "a", "source": "x", "metadata": {}, "outputs": []}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}`},
		{name: "invalid read back", method: "GET", path: "api/contents/$D/v1.ipynb"},
		{name: "extra key", method: "PUT", path: "api/contents/$D/v2.ipynb", body: `{"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "extra": 1}}`},
		{name: "no minor", method: "PUT", path: "api/contents/$D/v3.ipynb", body: `{"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4}}`},
		{name: "kernelspec not object", method: "PUT", path: "api/contents/$D/v4.ipynb", body: `{"type": "notebook", "content": {"cells": [], "metadata": {"kernelspec": 5}, "nbformat": 4, "nbformat_minor": 5}}`},
		{name: "cells not array", method: "PUT", path: "api/contents/$D/v5.ipynb", body: `{"type": "notebook", "content": {"cells": {}, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}`},
		{name: "notebook 4.4", method: "PUT", path: "api/contents/$D/v6.ipynb", body: `{"type": "notebook", "content": {"cells": [{"cell_type": "raw", "metadata": {}, "source": ""}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}}`},
		{name: "get 4.4", method: "GET", path: "api/contents/$D/v6.ipynb"},
		{name: "notebook content str", method: "PUT", path: "api/contents/$D/v7.ipynb", body: `{"type": "notebook", "content": "x"}`},
		{name: "notebook content {}", method: "PUT", path: "api/contents/$D/v8.ipynb", body: `{"type": "notebook", "content": {}}`},
		{name: "notebook no metadata", method: "PUT", path: "api/contents/$D/v9.ipynb", body: `{"type": "notebook", "content": {"cells": [], "nbformat": 4, "nbformat_minor": 5}}`},
		{name: "code cell no outputs", method: "PUT", path: "api/contents/$D/v10.ipynb", body: `{"type": "notebook", "content": {"cells": [{"cell_type": "code", "source": "x", "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}`},
		{name: "new notebook", method: "PUT", path: "api/contents/$D/new.ipynb", body: `{"type": "notebook"}`},
		{name: "notebook from put {type}", method: "GET", path: "api/contents/$D/new.ipynb"},
		{name: "unreadable notebook", method: "PUT", path: "api/contents/$D/bad.ipynb", body: `{"type": "file", "format": "text", "content": "not json"}`},
		{name: "get unreadable", method: "GET", path: "api/contents/$D/bad.ipynb"},

		{name: "file that is a list", method: "PUT", path: "api/contents/$D/l1.ipynb", body: `{"type": "file", "format": "text", "content": "[1]"}`},
		{name: "read list notebook", method: "GET", path: "api/contents/$D/l1.ipynb"},
		{name: "file without nbformat", method: "PUT", path: "api/contents/$D/l2.ipynb", body: `{"type": "file", "format": "text", "content": "{\"metadata\": {}}"}`},
		{name: "read version 1", method: "GET", path: "api/contents/$D/l2.ipynb"},
		{name: "file v4 without cells", method: "PUT", path: "api/contents/$D/l3.ipynb", body: `{"type": "file", "format": "text", "content": "{\"nbformat\": 4, \"nbformat_minor\": 5, \"metadata\": {}}"}`},
		{name: "read v4 without cells", method: "GET", path: "api/contents/$D/l3.ipynb"},

		// POST: untitled and copies
		{name: "untitled file", method: "POST", path: "api/contents/$D/sub", body: `{}`},
		{name: "untitled file 2", method: "POST", path: "api/contents/$D/sub", body: `{"type": "file"}`},
		{name: "untitled txt", method: "POST", path: "api/contents/$D/sub", body: `{"ext": ".txt"}`},
		{name: "untitled txt 2", method: "POST", path: "api/contents/$D/sub", body: `{"type": "file", "ext": ".txt"}`},
		{name: "untitled notebook", method: "POST", path: "api/contents/$D/sub", body: `{"type": "notebook"}`},
		{name: "untitled notebook 2", method: "POST", path: "api/contents/$D/sub", body: `{"ext": ".ipynb"}`},
		{name: "untitled folder", method: "POST", path: "api/contents/$D/sub", body: `{"type": "directory"}`},
		{name: "untitled folder 2", method: "POST", path: "api/contents/$D/sub", body: `{"type": "directory"}`},
		{name: "untitled folder with ext", method: "POST", path: "api/contents/$D/sub", body: `{"type": "directory", "ext": ".py"}`},
		{name: "untitled folder with ext 2", method: "POST", path: "api/contents/$D/sub", body: `{"type": "directory", "ext": ".py"}`},
		{name: "untitled two dots", method: "POST", path: "api/contents/$D/sub", body: `{"ext": ".tar.gz"}`},
		{name: "untitled two dots 2", method: "POST", path: "api/contents/$D/sub", body: `{"ext": ".tar.gz"}`},
		{name: "untitled bogus type", method: "POST", path: "api/contents/$D/sub", body: `{"type": "bogus"}`},
		{name: "untitled ext number", method: "POST", path: "api/contents/$D/sub", body: `{"ext": 5}`, crash: true},
		{name: "post no body", method: "POST", path: "api/contents/$D/sub", crash: true},
		{name: "post to missing dir", method: "POST", path: "api/contents/$D/nodir", body: `{}`},
		{name: "post to file", method: "POST", path: "api/contents/$D/t.txt", body: `{}`},
		{name: "listing", method: "GET", path: "api/contents/$D/sub"},
		{name: "copy", method: "POST", path: "api/contents/$D", body: `{"copy_from": "$D/nb.ipynb"}`},
		{name: "copy again", method: "POST", path: "api/contents/$D", body: `{"copy_from": "$D/nb.ipynb"}`},
		{name: "copy of copy", method: "POST", path: "api/contents/$D", body: `{"copy_from": "$D/nb-Copy1.ipynb"}`},
		{name: "copy into dir keeps name", method: "POST", path: "api/contents/$D/sub", body: `{"copy_from": "/$D/t.txt"}`},
		{name: "copy to a name", method: "POST", path: "api/contents/$D/named.txt", body: `{"copy_from": "$D/t.txt"}`},
		{name: "copy binary", method: "POST", path: "api/contents/$D/b-copy.bin", body: `{"copy_from": "$D/b2.bin"}`},
		{name: "copied bytes", method: "GET", path: "files/$D/b-copy.bin", raw: true},
		{name: "copied notebook", method: "GET", path: "api/contents/$D/nb-Copy1.ipynb"},
		{name: "copy dir", method: "POST", path: "api/contents/$D", body: `{"copy_from": "$D/sub"}`},
		{name: "copy missing", method: "POST", path: "api/contents/$D", body: `{"copy_from": "$D/nope"}`},
		{name: "copy missing parent", method: "POST", path: "api/contents/$D/nodir/x.txt", body: `{"copy_from": "$D/t.txt"}`},
		{name: "copy hidden", method: "POST", path: "api/contents/$D", body: `{"copy_from": "$D/.h"}`},
		{name: "copy_from number", method: "POST", path: "api/contents/$D", body: `{"copy_from": 5}`, crash: true},

		// PATCH: rename
		{name: "rename", method: "PATCH", path: "api/contents/$D/named.txt", body: `{"path": "$D/renamed.txt"}`},
		{name: "rename onto existing", method: "PATCH", path: "api/contents/$D/renamed.txt", body: `{"path": "$D/t.txt"}`},
		{name: "rename to itself", method: "PATCH", path: "api/contents/$D/renamed.txt", body: `{"path": "/$D/renamed.txt/"}`},
		{name: "rename {}", method: "PATCH", path: "api/contents/$D/renamed.txt", body: `{}`},
		{name: "rename no body", method: "PATCH", path: "api/contents/$D/renamed.txt"},
		{name: "rename null", method: "PATCH", path: "api/contents/$D/renamed.txt", body: `null`},
		{name: "rename missing", method: "PATCH", path: "api/contents/$D/nope.txt", body: `{"path": "$D/q.txt"}`},
		{name: "rename missing onto existing", method: "PATCH", path: "api/contents/$D/nope.txt", body: `{"path": "$D/t.txt"}`, crash: true},
		{name: "rename into missing dir", method: "PATCH", path: "api/contents/$D/renamed.txt", body: `{"path": "$D/nodir/q.txt"}`},
		{name: "rename dir into itself", method: "PATCH", path: "api/contents/$D/sub", body: `{"path": "$D/sub/inner"}`},
		{name: "rename to hidden", method: "PATCH", path: "api/contents/$D/renamed.txt", body: `{"path": "$D/.r.txt"}`},
		{name: "rename to number", method: "PATCH", path: "api/contents/$D/renamed.txt", body: `{"path": 5}`, crash: true},
		{name: "rename to null", method: "PATCH", path: "api/contents/$D/renamed.txt", body: `{"path": null}`, crash: true},
		{name: "rename outside", method: "PATCH", path: "api/contents/$D/renamed.txt", body: `{"path": "../../x.txt"}`},
		{name: "rename notebook moves checkpoint", method: "PATCH", path: "api/contents/$D/nb-Copy2.ipynb", body: `{"path": "$D/sub/moved.ipynb"}`},
		{name: "moved checkpoint", method: "GET", path: "api/contents/$D/sub/moved.ipynb/checkpoints"},
		{name: "rename dir", method: "PATCH", path: "api/contents/$D/sub/Untitled%20Folder", body: `{"path": "$D/folder"}`},

		// checkpoints
		{name: "file has none", method: "GET", path: "api/contents/$D/t.txt/checkpoints"},
		{name: "create checkpoint", method: "POST", path: "api/contents/$D/t.txt/checkpoints"},
		{name: "list checkpoints", method: "GET", path: "api/contents/$D/t.txt/checkpoints"},
		{name: "change file", method: "PUT", path: "api/contents/$D/t.txt", body: `{"type": "file", "format": "text", "content": "changed"}`},
		{name: "restore", method: "POST", path: "api/contents/$D/t.txt/checkpoints/checkpoint"},
		{name: "restored", method: "GET", path: "api/contents/$D/t.txt"},
		{name: "restore other id", method: "POST", path: "api/contents/$D/t.txt/checkpoints/other", crash: true},
		{name: "delete other id", method: "DELETE", path: "api/contents/$D/t.txt/checkpoints/other"},
		{name: "delete checkpoint", method: "DELETE", path: "api/contents/$D/t.txt/checkpoints/checkpoint"},
		{name: "delete checkpoint again", method: "DELETE", path: "api/contents/$D/t.txt/checkpoints/checkpoint"},
		{name: "checkpoint 405", method: "GET", path: "api/contents/$D/t.txt/checkpoints/checkpoint"},
		{name: "checkpoint of missing file", method: "POST", path: "api/contents/$D/nope.txt/checkpoints", crash: true},
		{name: "checkpoint of a dir", method: "POST", path: "api/contents/$D/sub/checkpoints", crash: true},
		{name: "checkpoints list of missing", method: "GET", path: "api/contents/$D/nope.txt/checkpoints"},
		{name: "checkpoints of a missing dir", method: "GET", path: "api/contents/$D/made/x.txt/checkpoints"},
		{name: "which it creates", method: "GET", path: "api/contents/$D/made?content=0"},
		{name: "checkpoint id not a route", method: "POST", path: "api/contents/$D/t.txt/checkpoints/a%20b", crash: true},

		// raw files
		{name: "files text", method: "GET", path: "files/$D/t.txt", raw: true},
		{name: "files binary", method: "GET", path: "files/$D/b2.bin", raw: true},
		{name: "files notebook", method: "GET", path: "files/$D/nb.ipynb", raw: true},
		{name: "files unicode", method: "GET", path: "files/$D/sub/%C3%A9%20%23%3F%25.txt", raw: true},
		{name: "files python", method: "GET", path: "files/$D/empty.py", raw: true},
		{name: "files missing", method: "GET", path: "files/$D/nope", html: true},
		{name: "files dir", method: "GET", path: "files/$D", html: true},
		{name: "files dir slash", method: "GET", path: "files/$D/", html: true},
		{name: "files hidden", method: "GET", path: "files/$D/.h.txt", html: true},
		{name: "files post", method: "POST", path: "files/$D/t.txt", html: true},
		{name: "files no token", method: "GET", path: "files/$D/t.txt?x=1", auth: "none"},
		{name: "files query token", method: "GET", path: "files/$D/t.txt", auth: "query", raw: true},

		// DELETE
		{name: "delete file", method: "DELETE", path: "api/contents/$D/renamed.txt"},
		{name: "delete again", method: "DELETE", path: "api/contents/$D/renamed.txt"},
		{name: "delete hidden", method: "DELETE", path: "api/contents/$D/.h.txt"},
		{name: "delete outside", method: "DELETE", path: "api/contents/$D/../../x"},
		{name: "delete non-empty dir (trash)", method: "DELETE", path: "api/contents/$D/sub"},
		{name: "delete notebook", method: "DELETE", path: "api/contents/$D/nb.ipynb"},
		{name: "its checkpoint went too", method: "GET", path: "api/contents/$D/nb.ipynb/checkpoints"},
		{name: "final listing", method: "GET", path: "api/contents/$D"},
	}
	for _, st := range steps {
		want := jupyter.send(st.method, st.path, st.body, st.auth, nil)
		got := refPeer.send(st.method, st.path, st.body, st.auth, nil)
		if unmirrored(t, "contents", st.name) {
			continue
		}
		if want.status != got.status || want.contentType != got.contentType || want.location != got.location {
			t.Errorf("%s: jupyter %d %q %q, refserver %d %q %q\njupyter: %.300s\nrefserver: %.300s", st.name,
				want.status, want.contentType, want.location, got.status, got.contentType, got.location, want.raw, got.raw)
			continue
		}
		if statusOnly(t, "contents", st.name) {
			continue
		}
		switch {
		case st.html:
		case st.raw:
			if want.raw != got.raw {
				t.Errorf("%s: raw body: jupyter %q, refserver %q", st.name, want.raw, got.raw)
			}
		case st.crash:
			if diff := cmp.Diff(keys(want.body), keys(got.body)); diff != "" {
				t.Errorf("%s: keys (-jupyter +refserver):\n%s", st.name, diff)
			}
		default:
			w, g := maskContents(want.body, jroot), maskContents(got.body, rroot)
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("%s: body (-jupyter +refserver):\n%s", st.name, diff)
			}
		}
	}
}

// rootFromProbe reads a server's root from its "Encoding error saving
// <root>/<dir>/probe.txt" message.
func rootFromProbe(t *testing.T, ex exchange, dir string) string {
	t.Helper()
	m, _ := ex.body.(map[string]any)
	msg, _ := m["message"].(string)
	before, _, ok := strings.Cut(msg, "/"+dir+"/probe.txt")
	root, ok2 := strings.CutPrefix(before, "Encoding error saving ")
	if !ok || !ok2 {
		t.Fatalf("root probe: %d %q", ex.status, ex.raw)
	}
	return root
}

var generatedCellID = regexp.MustCompile(`^[0-9a-f]{8}$`)

// maskContents removes what differs between servers by nature from a
// normalized body: the root in messages, generated cell ids, and the
// order of a directory's entries.
func maskContents(v any, root string) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = maskContents(x, root)
		}
		if _, isCell := v["cell_type"]; isCell {
			if id, ok := v["id"].(string); ok && generatedCellID.MatchString(id) {
				out["id"] = "<cell id>"
			}
		}
		if v["type"] == "directory" {
			if list, ok := out["content"].([]any); ok {
				sort.Slice(list, func(i, j int) bool {
					a, _ := list[i].(map[string]any)
					b, _ := list[j].(map[string]any)
					return a["name"].(string) < b["name"].(string)
				})
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = maskContents(x, root)
		}
		return out
	case string:
		if root != "" {
			return strings.ReplaceAll(v, root, "")
		}
	}
	return v
}
