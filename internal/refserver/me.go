package refserver

// GET and PATCH /api/me, Jupyter Server 2.x only: who the request is and
// what it may do (docs/wire/jupyter-server-2.md G6). A token
// authenticates no named user, so 2.x makes each request a new anonymous
// user (unless the client sends back its username cookie, which this
// server neither sets nor reads) and allows every action asked about.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// identity is 2.x's identity model. PATCH stores any JSON value in an
// updatable field, so the fields hold JSON values.
type identity struct {
	Username    string `json:"username"`
	Name        any    `json:"name"`
	DisplayName any    `json:"display_name"`
	Initials    any    `json:"initials"`
	AvatarURL   any    `json:"avatar_url"`
	Color       any    `json:"color"`
}

// updatableFields are the identity fields PATCH /api/me may change.
var updatableFields = []string{"name", "display_name", "initials", "avatar_url", "color"}

// anonymousMoons name anonymous users, as 2.x names them after moons of
// Jupiter ("Anonymous Sinope").
var anonymousMoons = []string{
	"Adrastea", "Amalthea", "Ananke", "Arche", "Callisto", "Carme", "Elara", "Europa", "Ganymede",
	"Hermippe", "Himalia", "Io", "Leda", "Lysithea", "Metis", "Pasiphae", "Sinope", "Sponde", "Thebe",
}

// newAnonymous is a fresh anonymous identity: a uuid4 hex username and a
// random moon's name.
func newAnonymous() identity {
	id := strings.ReplaceAll(newID(), "-", "")
	n, _ := strconv.ParseUint(id[:4], 16, 16)
	moon := anonymousMoons[int(n)%len(anonymousMoons)]
	name := "Anonymous " + moon
	return identity{Username: id, Name: name, DisplayName: name, Initials: "A" + moon[:1]}
}

// me is GET and PATCH /api/me, as probed on 2.21.1.
func (s *Server) me(r *http.Request, _ string) reply {
	who := newAnonymous()
	if r.Method == http.MethodPatch {
		v, err := readJSON(r)
		if err != nil && err != errNoJSON {
			return bodyReply(err)
		}
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			return errorReply(http.StatusBadRequest, "Invalid or missing JSON body")
		}
		for k := range m {
			if !slices.Contains(updatableFields, k) {
				return errorReply(http.StatusBadRequest, "Field "+k+" is not updatable")
			}
		}
		for k, val := range m {
			switch k {
			case "name":
				who.Name = val
			case "display_name":
				who.DisplayName = val
			case "initials":
				who.Initials = val
			case "avatar_url":
				who.AvatarURL = val
			case "color":
				who.Color = val
			}
		}
		return reply{status: http.StatusOK, body: map[string]any{"status": "success", "identity": who}}
	}
	perms := map[string]any{}
	if raw, ok := pyArgument(r.URL.RawQuery, "permissions"); ok && raw != "" {
		bad := errorReply(http.StatusBadRequest, fmt.Sprintf(`permissions should be a JSON dict of {"resource": ["action",]}, got %s`, pyStrRepr(raw)))
		var asked any
		if json.Unmarshal([]byte(raw), &asked) != nil {
			return bad
		}
		m, isDict := asked.(map[string]any)
		if !isDict {
			return bad
		}
		for resource, actions := range m {
			list, ok := actions.([]any)
			if !ok {
				return bad
			}
			for _, a := range list {
				if _, ok := a.(string); !ok {
					return bad
				}
			}
			// With the token every action is allowed: the answer lists
			// each one asked for.
			perms[resource] = list
		}
	}
	perms["updatable_fields"] = updatableFields
	return reply{status: http.StatusOK, body: map[string]any{"identity": who, "permissions": perms}}
}
