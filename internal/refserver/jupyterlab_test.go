package refserver

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runJupyterLab runs script, of testdata/jupyterlab, with node on a
// reference server answering as 1.23.3, and returns its report: the last
// line it prints (the library logs its own lines first). It skips the
// test when node or JupyterLab's client is not installed.
func runJupyterLab(t *testing.T, script string) []byte {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir := filepath.Join("testdata", "jupyterlab")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@jupyterlab", "services")); err != nil {
		t.Skip("JupyterLab's client is not installed: npm --prefix internal/refserver/testdata/jupyterlab ci")
	}
	ref := New(Options{Token: tok, Generation: 1})
	ts := httptest.NewServer(ref)
	defer ts.Close()
	defer ref.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NBSERV_URL="+ts.URL+"/", "NBSERV_TOKEN="+tok)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return []byte(lines[len(lines)-1])
}

// TestJupyterLabClient runs JupyterLab's own kernel client
// (@jupyterlab/services 7.6.6, whose KernelConnection JupyterLab uses) on
// the reference server: a client no one here wrote must work against it.
// It needs node and the package installed:
//
//	npm --prefix internal/refserver/testdata/jupyterlab ci
func TestJupyterLabClient(t *testing.T) {
	out := runJupyterLab(t, "check.mjs")
	type execution struct {
		Code  string
		IOPub []struct {
			Type    string
			Content map[string]any
		}
		Stdin  []map[string]any
		Reply  map[string]any
		Failed string
	}
	var report struct {
		OK          bool
		Error       string
		Subprotocol string
		Language    string
		Protocol    string
		Statuses    []string
		Executions  []execution
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if !report.OK {
		t.Fatalf("JupyterLab's client failed: %s", report.Error)
	}
	if report.Language != "python" || report.Protocol != "5.3" || report.Subprotocol != wsProtocolV1 {
		t.Errorf("kernel info %q %q, subprotocol %q", report.Language, report.Protocol, report.Subprotocol)
	}
	summary := func(x execution) string {
		var parts []string
		for _, m := range x.IOPub {
			s := m.Type
			switch m.Type {
			case "stream":
				s += ":" + strings.TrimSpace(m.Content["text"].(string))
			case "execute_result":
				s += ":" + m.Content["data"].(map[string]any)["text/plain"].(string)
			case "error":
				s += ":" + m.Content["ename"].(string)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ") + " => " + x.Reply["status"].(string)
	}
	want := []string{
		"execute_input stream:hello execute_result:2 => ok",
		"execute_input error:ValueError => error",
		"execute_input execute_result:'Ann' => ok",
		"execute_input => ok",
		"execute_input stream:hello Ada => ok",
		"execute_input => ok",
		"execute_input execute_result:42 => ok", // on a second connection
		"execute_input execute_result:True => ok",
		"execute_input error:KeyboardInterrupt => error",
		"execute_input execute_result:False => ok", // restarted
		"execute_input execute_result:42 => ok",
	}
	if len(report.Executions) != len(want) {
		t.Fatalf("executions: %+v", report.Executions)
	}
	for i, x := range report.Executions {
		if x.Failed != "" {
			t.Errorf("%q failed: %s", x.Code, x.Failed)
			continue
		}
		if got := summary(x); got != want[i] {
			t.Errorf("%q: %s, want %s", x.Code, got, want[i])
		}
	}
	if len(report.Executions[2].Stdin) != 1 || report.Executions[2].Stdin[0]["prompt"] != "name? " {
		t.Errorf("stdin: %v", report.Executions[2].Stdin)
	}
	if len(report.Executions[3].Stdin) != 1 || report.Executions[3].Stdin[0]["prompt"] != "who? " {
		t.Errorf("stdin: %v", report.Executions[3].Stdin)
	}
	if last := report.Executions[9].Reply["execution_count"]; last != 1.0 {
		t.Errorf("after restart the count is %v, want 1", last)
	}
	if st := strings.Join(report.Statuses, " "); !strings.Contains(st, "busy idle") || !strings.Contains(st, "restarting") {
		t.Errorf("kernel statuses JupyterLab saw: %s", st)
	}
}
