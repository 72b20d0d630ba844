package refserver

import (
	"net/http"
	"strings"
)

// kernelSpec is a spec as GET /api/kernelspecs describes it: kernel.json
// with jupyter_client's defaults filled in (env, interrupt_mode).
type kernelSpec struct {
	Argv          []string          `json:"argv"`
	Env           map[string]string `json:"env"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Metadata      map[string]any    `json:"metadata"`
	// KernelProtocolVersion is written by ipykernel 7 (the 2.x
	// environment's), not by Debian's ipykernel 6.
	KernelProtocolVersion string `json:"kernel_protocol_version,omitempty"`
}

// kernelJSON is the spec's kernel.json file as ipykernel installs it,
// without the defaults: what /kernelspecs/{name}/kernel.json serves.
type kernelJSON struct {
	Argv                  []string       `json:"argv"`
	DisplayName           string         `json:"display_name"`
	Language              string         `json:"language"`
	Metadata              map[string]any `json:"metadata"`
	KernelProtocolVersion string         `json:"kernel_protocol_version,omitempty"`
}

type kernelSpecModel struct {
	Name      string            `json:"name"`
	Spec      kernelSpec        `json:"spec"`
	Resources map[string]string `json:"resources"`
}

// specNamed returns the installed kernelspec name matches, or "". Jupyter
// looks specs up by the lower-cased name.
func (s *Server) specNamed(name string) string {
	for _, spec := range s.specs {
		if strings.ToLower(spec) == strings.ToLower(name) {
			return spec
		}
	}
	return ""
}

// specFile is the kernel.json of an installed spec: every spec is
// described as ipykernel's python3 is, in generation 2 as ipykernel 7
// writes it (jupyter-server-2.md, "Status codes"). The interpreter is
// Debian's in both: a real one's path depends on where it is installed.
func specFile(spec string, gen int) kernelJSON {
	display := spec
	if spec == "python3" {
		display = "Python 3 (ipykernel)"
	}
	if gen >= 2 {
		return kernelJSON{
			Argv:        []string{"/usr/bin/python3", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"},
			DisplayName: display, Language: "python",
			Metadata:              map[string]any{"debugger": true, "supported_encryption": []string{"curve"}},
			KernelProtocolVersion: "5.5",
		}
	}
	return kernelJSON{
		Argv:        []string{"/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"},
		DisplayName: display, Language: "python",
		Metadata: map[string]any{"debugger": true},
	}
}

// specModel is the REST model of an installed spec, asked for as name:
// Jupyter echoes the name as asked (PYTHON3) in the model and its URLs.
func (s *Server) specModel(spec, name string) kernelSpecModel {
	f := specFile(spec, s.gen)
	return kernelSpecModel{
		Name: name,
		Spec: kernelSpec{
			Argv: f.Argv, Env: map[string]string{}, DisplayName: f.DisplayName, Language: f.Language,
			InterruptMode: "signal", Metadata: f.Metadata, KernelProtocolVersion: f.KernelProtocolVersion,
		},
		Resources: map[string]string{
			"logo-svg":   s.prefix + "kernelspecs/" + name + "/logo-svg.svg",
			"logo-64x64": s.prefix + "kernelspecs/" + name + "/logo-64x64.png",
			"logo-32x32": s.prefix + "kernelspecs/" + name + "/logo-32x32.png",
		},
	}
}

// kernelspecs is GET /api/kernelspecs: the installed kernelspecs as
// Jupyter describes ipykernel's.
func (s *Server) kernelspecs(_ *http.Request, _ string) reply {
	specs := map[string]kernelSpecModel{}
	for _, name := range s.specs {
		specs[name] = s.specModel(name, name)
	}
	return reply{status: http.StatusOK, body: map[string]any{"default": s.specs[0], "kernelspecs": specs}}
}

// kernelspecByName is GET /api/kernelspecs/{name}; the name arrives
// escaped, as the route matched it. Tornado unescapes it, then Jupyter's
// handler unescapes it again: "py%2520thon" asks for "py thon".
func (s *Server) kernelspecByName(_ *http.Request, raw string) reply {
	name, ok := pyUnquote(raw)
	if !ok {
		return errorReply(http.StatusBadRequest, "Invalid unicode in kernel_name: "+pyBytesRepr(name))
	}
	name, _ = pyUnquote(name)
	name = strings.ToValidUTF8(name, "\uFFFD")
	spec := s.specNamed(name)
	if spec == "" {
		return errorReply(http.StatusNotFound, "Kernel spec "+name+" not found")
	}
	return reply{status: http.StatusOK, body: s.specModel(spec, name)}
}
