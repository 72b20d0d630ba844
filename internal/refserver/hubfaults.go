package refserver

// Hub plays JupyterHub 3.0 and its proxy in front of reference servers,
// one per user, as far as an API client sees them: the hub's REST API for
// users and their default servers, the proxy's routes to running servers,
// and what the hub answers in a server's place when it does not run (the
// redirect and 424 of a GET, the HTML 405 of other methods, the redirect
// to the login page without a valid token). Every answer is the one
// recorded from a real hub in docs/wire/jupyterhub.md H3-H6, with the ports and
// times of the run where they appear.

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HubVersion is the JupyterHub version Hub reports: the one recorded.
const HubVersion = "3.0.0"

// HubOptions configures a Hub.
type HubOptions struct {
	// Token is the hub API token the hub and the users' servers accept (a
	// service's token with admin:servers, access:servers, list:users and
	// read:users). It must not be empty.
	Token string
	// Users are the hub's users, in the order the hub lists them. None of
	// their servers runs at first.
	Users []string
	// SpawnPolls makes a start take that many reads of the user's model
	// (GET /hub/api/users/{name}) before the server is ready: the start
	// answers 202 instead of 201 and the model shows the spawn pending.
	// Zero starts servers at once.
	SpawnPolls int
}

// Hub is the JupyterHub stand-in: an http.Handler, safe for concurrent use,
// to serve at a root URL (its base URL is "/").
type Hub struct {
	token      []byte
	spawnPolls int
	started    time.Time

	mu    sync.Mutex
	users []*hubUser
}

type hubUser struct {
	name    string
	created time.Time
	server  *Server // nil when stopped
	polls   int     // reads of the model left before a pending spawn is ready
	started time.Time
}

// NewHub returns a Hub with opts.Users, every server stopped.
func NewHub(opts HubOptions) *Hub {
	now := time.Now().UTC()
	h := &Hub{token: []byte(opts.Token), spawnPolls: opts.SpawnPolls, started: now}
	for _, name := range opts.Users {
		h.users = append(h.users, &hubUser{name: name, created: now})
	}
	return h
}

// Server returns the reference server running as user's default server,
// or nil when it is not running, for a test to steer (faults, kernels).
func (h *Hub) Server(user string) *Server {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u := h.user(user); u != nil && u.polls == 0 {
		return u.server
	}
	return nil
}

func (h *Hub) user(name string) *hubUser {
	for _, u := range h.users {
		if u.name == name {
			return u
		}
	}
	return nil
}

// authorized reports whether r carries the hub token ("Authorization:
// token" or "?token="), compared in constant time.
func (h *Hub) authorized(r *http.Request) bool {
	got := ""
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token "); ok {
		got = strings.TrimSpace(v)
	} else {
		got = r.URL.Query().Get("token")
	}
	return len(h.token) > 0 && subtle.ConstantTimeCompare([]byte(got), h.token) == 1
}

// ServeHTTP routes as the proxy and the hub do.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.EscapedPath()
	w.Header().Set("X-JupyterHub-Version", HubVersion)
	if rest, ok := strings.CutPrefix(raw, "/user/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		if srv := h.route(name); srv != nil { // the proxy's route to a running server
			srv.ServeHTTP(w, r)
			return
		}
	}
	switch {
	case raw == "/hub/api" || raw == "/hub/api/":
		hubJSON(w, http.StatusOK, map[string]string{"version": HubVersion})
	case strings.HasPrefix(raw, "/hub/api/"):
		h.api(w, r, strings.TrimPrefix(raw, "/hub/api/"))
	case strings.HasPrefix(raw, "/hub/user/"):
		h.userURL(w, r, strings.TrimPrefix(raw, "/hub/user/"))
	case raw == "/hub/login":
		hubPage(w, http.StatusOK, "")
	case strings.HasPrefix(raw, "/hub/"):
		hubPage(w, http.StatusNotFound, "404 : Not Found")
	case r.Method == http.MethodGet:
		// The hub's catch-all: whatever the proxy has no route for goes
		// under /hub/, where the hub looks at it.
		loc := "/hub" + raw
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusFound)
	default:
		hubPage(w, http.StatusMethodNotAllowed, "405 : Method Not Allowed")
	}
}

// route returns the server the proxy routes /user/<name>/ to, if any: one
// that has started (the real proxy gets its route a moment after the hub
// reports the server ready; here both happen at once).
func (h *Hub) route(escapedName string) *Server {
	name, err := url.PathUnescape(escapedName)
	if err != nil {
		return nil
	}
	return h.Server(name)
}

// userURL is the hub's /hub/user/<name>/... handler, reached by the
// redirect of a GET that the proxy had no route for.
func (h *Hub) userURL(w http.ResponseWriter, r *http.Request, rest string) {
	escaped, userPath, _ := strings.Cut(rest, "/")
	if r.Method == http.MethodGet && !h.authorized(r) {
		w.Header().Set("Location", "/hub/login?next="+url.QueryEscape(r.URL.RequestURI()))
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusFound)
		return
	}
	name, _ := url.PathUnescape(escaped)
	h.mu.Lock()
	u := h.user(name)
	running := u != nil && u.server != nil && u.polls == 0
	h.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && u == nil:
		// The hub raises 404 "No such user", then fails to render its
		// page for a service's token: an empty text/html body.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
	case r.Method == http.MethodGet && running:
		loc := "/user/" + escaped + "/" + userPath + "?redirects=1"
		w.Header().Set("Location", loc)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusFound)
	default:
		// Not running, or starting: the same answer. Any other method
		// gets it too, whoever asks.
		spawn := "http://" + r.Host + "/hub/spawn/" + escaped
		hubJSONRaw(w, http.StatusFailedDependency, fmt.Sprintf(`{"message": %s}`, pyJSONQuote(fmt.Sprintf(
			"JupyterHub server no longer running at /user/%s/%s. Restart the server at %s", escaped, userPath, spawn))))
	}
}

// api serves /hub/api/users, /hub/api/users/{name} and
// /hub/api/users/{name}/server.
func (h *Hub) api(w http.ResponseWriter, r *http.Request, rel string) {
	parts := strings.Split(rel, "/")
	if parts[0] != "users" || len(parts) > 3 || len(parts) == 3 && parts[2] != "server" {
		hubJSONRaw(w, http.StatusNotFound, `{"status": 404, "message": "Not Found"}`)
		return
	}
	if !h.authorized(r) {
		scopes := "list:users"
		if len(parts) > 1 {
			scopes = "read:users, read:users:name, read:servers, read:users:groups, read:users:activity, read:roles:users"
		}
		if len(parts) == 3 {
			scopes = "servers"
			if r.Method == http.MethodDelete {
				scopes = "delete:servers"
			}
		}
		hubJSONRaw(w, http.StatusForbidden, fmt.Sprintf(`{"status": 403, "message": "Action is not authorized with current scopes; requires any of [%s]"}`, scopes))
		return
	}
	if len(parts) == 1 {
		if r.Method != http.MethodGet {
			hubJSONRaw(w, http.StatusMethodNotAllowed, `{"status": 405, "message": "Method Not Allowed"}`)
			return
		}
		h.listUsers(w, r)
		return
	}
	name, err := url.PathUnescape(parts[1])
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.user(name)
	switch {
	case (err != nil || u == nil) && len(parts) == 3 && r.Method == http.MethodDelete:
		// JupyterHub 3.0 crashes here (AttributeError: 'NoneType' object
		// has no attribute 'spawners').
		hubJSONRaw(w, http.StatusInternalServerError, `{"status": 500, "message": "Internal Server Error"}`)
		return
	case err != nil || u == nil:
		hubJSONRaw(w, http.StatusNotFound, `{"status": 404, "message": "Not Found"}`)
		return
	}
	switch {
	case len(parts) == 2 && r.Method == http.MethodGet:
		if u.polls > 0 {
			u.polls--
		}
		hubJSON(w, http.StatusOK, h.model(u))
	case len(parts) == 3 && r.Method == http.MethodPost:
		if u.server != nil {
			hubJSONRaw(w, http.StatusBadRequest, fmt.Sprintf(`{"status": 400, "message": %s}`, pyJSONQuote(name+" is already running")))
			return
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<10))
		// The single-user server the hub was recorded with
		// (docs/wire/jupyterhub.md) is Jupyter Server 1.23.3.
		u.server = New(Options{Token: string(h.token), BaseURL: "/user/" + parts[1] + "/", Generation: 1})
		u.started = time.Now().UTC()
		u.polls = h.spawnPolls
		if u.polls > 0 {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusCreated)
	case len(parts) == 3 && r.Method == http.MethodDelete:
		u.server, u.polls = nil, 0 // its sessions and kernels go with it
		w.WriteHeader(http.StatusNoContent)
	default:
		hubJSONRaw(w, http.StatusMethodNotAllowed, `{"status": 405, "message": "Method Not Allowed"}`)
	}
}

// listUsers answers GET /hub/api/users: a plain list, or pages when the
// client accepts the pagination media type; the caller checked the token.
func (h *Hub) listUsers(w http.ResponseWriter, r *http.Request) {
	paged := slices.ContainsFunc(strings.Split(r.Header.Get("Accept"), ","), func(s string) bool {
		return strings.TrimSpace(strings.ToLower(s)) == "application/jupyterhub-pagination+json"
	})
	limit := 50 // api_page_default_limit
	if !paged {
		limit = 200 // api_page_max_limit: old clients get as much as allowed, unsaid
	}
	offset := 0
	q := r.URL.Query()
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			hubJSONRaw(w, http.StatusBadRequest, `{"status": 400, "message": "Invalid argument type, offset and limit must be integers"}`)
			return
		}
		offset = max(n, -n)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			hubJSONRaw(w, http.StatusBadRequest, `{"status": 400, "message": "Invalid argument type, offset and limit must be integers"}`)
			return
		}
		limit = min(max(n, -n, 1), 200)
	}
	h.mu.Lock()
	total := len(h.users)
	items := []map[string]any{}
	for i := offset; i < total && i < offset+limit; i++ {
		items = append(items, h.model(h.users[i]))
	}
	h.mu.Unlock()
	if !paged {
		hubJSON(w, http.StatusOK, items)
		return
	}
	pagination := map[string]any{"offset": offset, "limit": limit, "total": total, "next": nil}
	if offset+limit < total {
		next := url.Values{"offset": {strconv.Itoa(offset + limit)}, "limit": {strconv.Itoa(limit)}}
		pagination["next"] = map[string]any{"offset": offset + limit, "limit": limit,
			"url": "http://" + r.Host + "/hub/api/users?" + next.Encode()}
	}
	hubJSON(w, http.StatusOK, map[string]any{"items": items, "_pagination": pagination})
}

// model is the user's model as the hub sends it; the caller holds h.mu.
func (h *Hub) model(u *hubUser) map[string]any {
	m := map[string]any{
		"kind": "user", "name": u.name, "admin": false, "roles": []string{"user"}, "groups": []string{},
		"created": isoformat(u.created), "last_activity": nil, "pending": nil, "server": nil,
		"servers": map[string]any{},
	}
	if u.server == nil {
		return m
	}
	prefix := "/user/" + url.PathEscape(u.name) + "/"
	s := map[string]any{
		"name": "", "last_activity": isoformat(u.started), "started": isoformat(u.started), "pending": nil,
		"ready": true, "stopped": false, "url": prefix, "user_options": map[string]any{},
		"progress_url": "/hub/api/users/" + url.PathEscape(u.name) + "/server/progress",
	}
	m["last_activity"] = isoformat(u.started)
	if u.polls > 0 {
		s["pending"], s["ready"] = "spawn", false
		m["pending"] = "spawn"
	} else {
		m["server"] = prefix
	}
	m["servers"] = map[string]any{"": s}
	return m
}

// hubJSON writes v as the hub does: JSON with Python's separators is not
// needed by any client, so Go's compact form is used.
func hubJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v) // only maps of plain values
	hubJSONRaw(w, status, string(b))
}

func hubJSONRaw(w http.ResponseWriter, status int, body string) {
	writeBody(w, status, "application/json", body)
}

// hubPage writes the hub's HTML page with an error heading (none for the
// login page), shortened from the real one.
func hubPage(w http.ResponseWriter, status int, heading string) {
	body := "<!DOCTYPE HTML>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>JupyterHub</title>\n</head>\n<body>\n"
	if heading != "" {
		body += "<div class=\"error\">\n  <h1>\n    " + heading + "\n  </h1>\n</div>\n"
	} else {
		body += "<form action=\"/hub/login\" method=\"post\" role=\"form\"></form>\n"
	}
	body += "</body>\n</html>\n"
	writeBody(w, status, "text/html", body)
}

// pyQuote is a JSON string as Python's json.dumps writes it: for the ASCII
// text the hub's messages hold, Go's encoding without HTML escaping.
func pyJSONQuote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
