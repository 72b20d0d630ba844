package nbserv

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// listBody is a 10,000-session list as Jupyter sends it.
func listBody(n int) []byte {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, `{"id": "%08x-4691-4c77-a951-f2091166b6aa", "path": "work/nb%d.ipynb", "name": "nb%d", "type": "notebook", "kernel": {"id": "%08x-2d6b-4a43-9a1b-0e7ea6b3a5d1", "name": "python3", "last_activity": "2026-11-27T00:08:47.026443Z", "execution_state": "idle", "connections": 0}, "notebook": {"path": "work/nb%d.ipynb", "name": "nb%d"}}`, i, i, i, i, i, i)
	}
	sb.WriteString("]")
	return []byte(sb.String())
}

// plainListSession is the floor: the same fields in plain structs.
type plainListSession struct {
	ID     string `json:"id"`
	Path   string `json:"path"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Kernel *struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		LastActivity   string `json:"last_activity"`
		ExecutionState string `json:"execution_state"`
		Connections    int    `json:"connections"`
	} `json:"kernel"`
	Notebook *struct {
		Path string `json:"path"`
		Name string `json:"name"`
	} `json:"notebook"`
}

func BenchmarkListDecode(b *testing.B) {
	body := listBody(10000)
	b.Run("sdk", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			list, err := decodeSessions(body, 1<<40)
			if err != nil || len(list) != 10000 {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var list []plainListSession
			if err := json.Unmarshal(body, &list); err != nil || len(list) != 10000 {
				b.Fatal(err)
			}
		}
	})
}
