package nbserv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
)

// The nbconvert differential test: every notebook of the corpus in
// testdata/notebooks is executed through the SDK (Kernels.Start, Connect,
// nbexec.Run with errors allowed) on a real Jupyter Server, and by nbclient
// (jupyter nbconvert --to notebook --execute --allow-errors) of the same
// Python environment, with the same ipykernel; the two executed notebooks
// must agree cell by cell (outputs, execution counts, cell metadata) and in
// their metadata, after the normalisations docs/nbexec-differential.md
// lists, each with why. It needs the server's IOPub limits raised (the
// corpus prints more than the defaults let through; the limits at their
// defaults are TestE2ENbexecIOPubLimits's):
//
//	WITH_JUPYTER_SERVER_ARGS='--ServerApp.iopub_msg_rate_limit=1e9 --ServerApp.iopub_data_rate_limit=1e12' \
//	  WITH_JUPYTER_BASES=/ scripts/with-jupyter.sh go test -count=1 -v -run NbconvertDifferential .
//
// (.ci/run does, for both generations). scripts/with-jupyter.sh sets
// NBSERV_JUPYTER_BIN to the jupyter command beside the server.

// corpusDir holds the corpus.
const corpusDir = "testdata/notebooks"

// corpusBound bounds each engine's run of the whole corpus, and
// corpusCellTimeout each cell of the SDK's run: the corpus runs in
// 15–60 s on either engine on two shared cores, so a minute per cell and
// five for the corpus only end a run that hangs.
const (
	corpusBound       = 5 * time.Minute
	corpusCellTimeout = time.Minute
)

func TestNbconvertDifferential(t *testing.T) {
	jurl, bin := os.Getenv("NBSERV_JUPYTER_URL"), os.Getenv("NBSERV_JUPYTER_BIN")
	if jurl == "" || bin == "" {
		t.Skip("NBSERV_JUPYTER_URL or NBSERV_JUPYTER_BIN not set: run under scripts/with-jupyter.sh to compare with nbconvert")
	}
	if !iopubLimitsRaised(os.Getenv("NBSERV_JUPYTER_SERVER_ARGS")) {
		t.Skip("the server's IOPub limits are at their defaults: run with WITH_JUPYTER_SERVER_ARGS raising both (see the file's comment)")
	}
	names := corpus(t)
	c := newClient(t, jurl, os.Getenv("NBSERV_JUPYTER_TOKEN"))

	// nbconvert runs the whole corpus in one process (one Python start-up)
	// while the SDK runs it on the server.
	ctx, cancel := context.WithTimeout(context.Background(), corpusBound)
	defer cancel()
	work, outDir := t.TempDir(), t.TempDir()
	nbconvertDone := make(chan error, 1)
	go func() { nbconvertDone <- nbconvert(ctx, bin, work, outDir, names) }()

	sdk := map[string]*nbformat.Notebook{}
	for _, name := range names {
		nb, err := runCorpusNotebook(ctx, c, filepath.Join(corpusDir, name))
		if err != nil {
			t.Errorf("%s through the SDK: %v", name, err)
			continue
		}
		sdk[name] = nb
	}
	if err := <-nbconvertDone; err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".ipynb"), func(t *testing.T) {
			got, ok := sdk[name]
			if !ok {
				t.Fatal("the SDK's run failed (reported above)")
			}
			data, err := os.ReadFile(filepath.Join(outDir, name))
			if err != nil {
				t.Fatal(err)
			}
			compareExecuted(t, data, got, os.Getenv("NBSERV_JUPYTER_GENERATION") != "2")
		})
	}
}

// iopubLimitsRaised reports whether the server's arguments raise both IOPub
// rate limits.
func iopubLimitsRaised(args string) bool {
	return strings.Contains(args, "iopub_msg_rate_limit=") && strings.Contains(args, "iopub_data_rate_limit=")
}

// corpus lists the corpus's notebooks.
func corpus(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*.ipynb"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks in %s: %v", corpusDir, err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

// nbconvert executes the corpus's notebooks named names with bin's
// nbconvert into outDir, as a user would (errors allowed), in a copy of the
// corpus in work (its kernels' working directory), with a home, config and data
// directory of its own so no user's kernelspec or config leaks in: python3
// is then the kernelspec of bin's own Python environment, the one the
// server's kernels run on.
func nbconvert(ctx context.Context, bin, work, outDir string, names []string) error {
	var args []string
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(work, name), data, 0o644); err != nil {
			return err
		}
		args = append(args, name)
	}
	for _, d := range []string{"home", "config", "data"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		"--ExecutePreprocessor.timeout=" + fmt.Sprint(int(corpusCellTimeout.Seconds())), "--output-dir", outDir}, args...)...)
	cmd.Dir = work
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JUPYTER_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HOME="+filepath.Join(work, "home"), "JUPYTER_CONFIG_DIR="+filepath.Join(work, "config"),
		"JUPYTER_DATA_DIR="+filepath.Join(work, "data"), "JUPYTER_RUNTIME_DIR="+filepath.Join(work, "data", "runtime"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s nbconvert: %v\n%s", bin, err, out.String())
	}
	return nil
}

// runCorpusNotebook executes the notebook at path through the SDK, as a
// user of the SDK would: a kernel of the notebook's kernelspec started for
// the run (deleted after), every cell run with errors allowed.
func runCorpusNotebook(ctx context.Context, c *nbserv.Client, path string) (nb *nbformat.Notebook, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	nb, err = nbformat.Parse(data)
	if err != nil {
		return nil, err
	}
	name := ""
	if ks := nb.Metadata.Kernelspec; ks != nil {
		name = ks.Name
	}
	// A directory of its own on the server as the kernel's working
	// directory, as nbconvert's is the copy of the corpus: without a path
	// the kernel would run where the server process was started
	// (docs/wire/nbexec.md NB1), here the repository.
	dir := "nbdiff-" + strings.TrimSuffix(filepath.Base(path), ".ipynb") + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := c.Contents.Mkdir(ctx, dir); err != nil {
		return nil, err
	}
	defer func() {
		if derr := c.Contents.Delete(context.Background(), dir); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	k, err := c.Kernels.Start(ctx, nbserv.StartKernelRequest{Name: name, Path: dir})
	if err != nil {
		return nil, err
	}
	defer func() {
		if derr := c.Kernels.Delete(context.Background(), k.ID); derr != nil && !errors.Is(derr, nbserv.ErrNotFound) {
			err = errors.Join(err, derr)
		}
	}()
	conn, err := c.Kernels.Connect(ctx, k.ID)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := nbexec.Run(ctx, conn, nb, nbexec.Options{AllowErrors: true, CellTimeout: corpusCellTimeout}); err != nil {
		return nil, err
	}
	return nb, nil
}

// compareExecuted compares nbconvert's executed notebook (its file's
// bytes) with the SDK's, normalised, cell by cell; dropCR is for nbconvert
// 6.5, which drops what a "\r" overwrites.
func compareExecuted(t *testing.T, nbconvertFile []byte, sdk *nbformat.Notebook, dropCR bool) {
	t.Helper()
	var want map[string]any
	if err := json.Unmarshal(nbconvertFile, &want); err != nil {
		t.Fatal(err)
	}
	sdkJSON, err := json.Marshal(sdk)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(sdkJSON, &got); err != nil {
		t.Fatal(err)
	}
	normaliseExecuted(want, dropCR)
	normaliseExecuted(got, dropCR)
	if reflect.DeepEqual(want, got) {
		return // quicker than cmp on the huge outputs, which only a difference needs
	}
	if diff := cmp.Diff(want["metadata"], got["metadata"]); diff != "" {
		t.Errorf("notebook metadata (-nbconvert +sdk):\n%s", cut(diff))
	}
	wcells, _ := want["cells"].([]any)
	gcells, _ := got["cells"].([]any)
	if len(wcells) != len(gcells) {
		t.Fatalf("%d cells from nbconvert, %d from the SDK", len(wcells), len(gcells))
	}
	for i := range wcells {
		if diff := cmp.Diff(wcells[i], gcells[i]); diff != "" {
			t.Errorf("cell %d (-nbconvert +sdk):\n%s", i, cut(diff))
		}
	}
}

// cut keeps a diff of huge outputs readable.
func cut(diff string) string {
	const limit = 6000
	if len(diff) <= limit {
		return diff
	}
	return diff[:limit] + fmt.Sprintf("\n… (%d more bytes)", len(diff)-limit)
}

// Masks of what differs between two runs of the same code (see
// docs/nbexec-differential.md).
var (
	// An object's default repr shows its address.
	addressRE = regexp.MustCompile(`0x[0-9a-f]{6,16}`)
	// ipykernel compiles each cell into /tmp/ipykernel_<pid>/<hash>.py,
	// which warnings show; the pid is the kernel's.
	kernelPIDRE = regexp.MustCompile(`ipykernel_[0-9]+/`)
	// nbconvert 6.5 (beside 1.23.3) drops the text a "\r" overwrites,
	// after merging streams (its coalesce_streams: the pattern
	// `.*\r(?=[^\n])`, the lookahead here taken and given back;
	// docs/wire/nbexec.md NB2); nbexec keeps "\r" as sent, as nbconvert 7
	// does.
	overwrittenRE = regexp.MustCompile("[^\n]*\r([^\n])")
)

// normaliseExecuted applies docs/nbexec-differential.md's normalisations to
// an executed notebook decoded as generic JSON, in place.
func normaliseExecuted(nb map[string]any, dropCR bool) {
	cells, _ := nb["cells"].([]any)
	for _, c := range cells {
		cell, _ := c.(map[string]any)
		cell["source"] = joinLines(cell["source"])
		if md, ok := cell["metadata"].(map[string]any); ok {
			if ex, ok := md["execution"].(map[string]any); ok {
				for k := range ex {
					ex[k] = "<date>"
				}
			}
		}
		outs, _ := cell["outputs"].([]any)
		var merged []any
		for _, o := range outs {
			out, _ := o.(map[string]any)
			maskStrings(out)
			if out["output_type"] == "stream" {
				out["text"] = joinLines(out["text"])
				if n := len(merged); n > 0 {
					prev := merged[n-1].(map[string]any)
					if prev["output_type"] == "stream" && prev["name"] == out["name"] {
						prev["text"] = prev["text"].(string) + out["text"].(string)
						continue
					}
				}
			}
			if data, ok := out["data"].(map[string]any); ok {
				for mime, v := range data {
					if mime != "application/json" && !strings.HasSuffix(mime, "+json") {
						data[mime] = joinLines(v)
					}
				}
			}
			merged = append(merged, out)
		}
		for _, o := range merged {
			if out := o.(map[string]any); dropCR && out["output_type"] == "stream" {
				out["text"] = overwrittenRE.ReplaceAllString(out["text"].(string), "$1")
			}
		}
		if outs != nil {
			cell["outputs"] = merged
		}
	}
}

// joinLines joins a multiline string split into lines, as an .ipynb file
// stores it and the contents API and nbformat's Go types do not.
func joinLines(v any) any {
	lines, ok := v.([]any)
	if !ok {
		return v
	}
	var b strings.Builder
	for _, l := range lines {
		s, _ := l.(string)
		b.WriteString(s)
	}
	return b.String()
}

// maskStrings masks addresses and kernel pids in every string under v.
func maskStrings(v any) {
	mask := func(s string) string {
		return kernelPIDRE.ReplaceAllString(addressRE.ReplaceAllString(s, "0x<address>"), "ipykernel_<pid>/")
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok {
				x[k] = mask(s)
			} else {
				maskStrings(e)
			}
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok {
				x[i] = mask(s)
			} else {
				maskStrings(e)
			}
		}
	}
}
