package refserver

import "net/http"

// kernelspecs is GET /api/kernelspecs: the installed kernelspecs as
// Jupyter describes ipykernel's.
func (s *Server) kernelspecs(_ *http.Request, _ string) reply {
	type spec struct {
		Argv          []string          `json:"argv"`
		Env           map[string]string `json:"env"`
		DisplayName   string            `json:"display_name"`
		Language      string            `json:"language"`
		InterruptMode string            `json:"interrupt_mode"`
		Metadata      map[string]any    `json:"metadata"`
	}
	type entry struct {
		Name      string            `json:"name"`
		Spec      spec              `json:"spec"`
		Resources map[string]string `json:"resources"`
	}
	specs := map[string]entry{}
	for _, name := range s.specs {
		display := name
		if name == "python3" {
			display = "Python 3 (ipykernel)"
		}
		specs[name] = entry{
			Name: name,
			Spec: spec{
				Argv:        []string{"/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"},
				Env:         map[string]string{},
				DisplayName: display, Language: "python", InterruptMode: "signal",
				Metadata: map[string]any{"debugger": true},
			},
			Resources: map[string]string{
				"logo-svg":   s.prefix + "kernelspecs/" + name + "/logo-svg.svg",
				"logo-64x64": s.prefix + "kernelspecs/" + name + "/logo-64x64.png",
				"logo-32x32": s.prefix + "kernelspecs/" + name + "/logo-32x32.png",
			},
		}
	}
	return reply{status: http.StatusOK, body: map[string]any{"default": s.specs[0], "kernelspecs": specs}}
}
