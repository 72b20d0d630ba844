package refserver

// GET and PATCH /api/me, Jupyter Server 2.x only: who the request is and
// what it may do (docs/wire/jupyter-server-2.md, "/api/me"). A token
// authenticates no named user, so 2.x makes each request a new anonymous
// user (unless the client sends back its username cookie, which this
// server neither sets nor reads) and allows every action asked about.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// identity is 2.x's identity model.
type identity struct {
	Username    string  `json:"username"`
	Name        string  `json:"name"`
	DisplayName string  `json:"display_name"`
	Initials    string  `json:"initials"`
	AvatarURL   *string `json:"avatar_url"`
	Color       *string `json:"color"`
}

// updatableFields are the identity fields PATCH /api/me may change.
var updatableFields = []string{"name", "display_name", "initials", "avatar_url", "color"}

// anonymousMoons name anonymous users, as 2.x names them after moons of
// Jupiter ("Anonymous Sinope").
var anonymousMoons = []string{
	"Adrastea", "Amalthea", "Ananke", "Callisto", "Carme", "Elara", "Europa", "Ganymede",
	"Himalia", "Io", "Leda", "Lysithea", "Metis", "Pasiphae", "Sinope", "Sponde", "Thebe",
}

// newAnonymous is a fresh anonymous identity: a uuid4 hex username and a
// random moon's name.
func newAnonymous() identity {
	id := strings.ReplaceAll(newID(), "-", "")
	var n int
	fmt.Sscanf(id[:4], "%x", &n)
	moon := anonymousMoons[n%len(anonymousMoons)]
	name := "Anonymous " + moon
	return identity{Username: id, Name: name, DisplayName: name, Initials: "A" + moon[:1]}
}

// me is GET and PATCH /api/me.
func (s *Server) me(r *http.Request, _ string) reply {
	who := newAnonymous()
	if r.Method == http.MethodPatch {
		v, err := readJSON(r)
		if err != nil {
			return bodyReply(err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return crashReply(fmt.Sprintf("AttributeError: '%s' object has no attribute 'items'", pyType(v)))
		}
		for k, val := range m {
			str, isStr := val.(string)
			switch {
			case k == "name" && isStr:
				who.Name = str
			case k == "display_name" && isStr:
				who.DisplayName = str
			case k == "initials" && isStr:
				who.Initials = str
			case k == "avatar_url" && isStr:
				who.AvatarURL = &str
			case k == "color" && isStr:
				who.Color = &str
			}
		}
		return reply{status: http.StatusOK, body: map[string]any{"status": "success", "identity": who}}
	}
	perms := map[string]any{}
	if raw, ok := pyArgument(r.URL.RawQuery, "permissions"); ok && raw != "" {
		var asked any
		if json.Unmarshal([]byte(raw), &asked) != nil {
			asked = nil
		}
		m, isDict := asked.(map[string]any)
		if !isDict {
			return errorReply(http.StatusBadRequest, fmt.Sprintf(`permissions should be a JSON dict of {"resource": ["action",]}, got %s`, pyStrRepr(raw)))
		}
		for resource, actions := range m {
			// With the token every action is allowed: the answer lists
			// each one asked for.
			perms[resource] = actions
		}
	}
	perms["updatable_fields"] = updatableFields
	return reply{status: http.StatusOK, body: map[string]any{"identity": who, "permissions": perms}}
}
