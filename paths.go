package nbserv

import "net/url"

// validID reports whether id matches Jupyter's route for session and
// kernel ids, \w+-\w+-\w+-\w+-\w+ (a UUID is one). Any other id can only
// reach Jupyter's "no route" 404 page, or, with "/" or "..", another
// endpoint, so it is refused before any request. (Hand-written rather than
// a regexp: it runs on every call.)
func validID(id string) bool {
	groups, n := 1, 0 // groups seen, word characters in the current one
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c == '-':
			if n == 0 {
				return false
			}
			groups, n = groups+1, 0
		case c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			n++
		default:
			return false
		}
	}
	return groups == 5 && n > 0
}

// idPath returns prefix + the escaped id, or a *ValidationError for the
// "id" argument.
func idPath(prefix, id string) (string, error) {
	if id == "" {
		return "", &ValidationError{Field: "id", Problem: "empty"}
	}
	if !validID(id) {
		return "", &ValidationError{Field: "id", Problem: "not a Jupyter id (five groups of letters, digits or _ joined by -)"}
	}
	return prefix + url.PathEscape(id), nil
}
