package nbserv

import (
	"context"
	"encoding/json"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// ConfigSectionsService reads and changes the server's frontend config
// sections (/api/config/{section}): JSON objects that front ends such as
// the classic notebook keep on the server, one per name ("notebook",
// "tree", "common", ...). Reach it as Client.ConfigSections; it mirrors the
// Python client's ConfigApi.
//
// Jupyter stores each section as a JSON file in the user's config
// directory (serverconfig/{section}.json), so sections outlive the server.
type ConfigSectionsService struct{ c *Client }

// Get returns a config section (GET /api/config/{section}). A section
// never written is
// empty, not an error. JSON numbers become float64 (use GetInto for exact
// types). The section name is ASCII letters, digits and "_" (Jupyter's
// route); any other fails before any request.
//
// Jupyter merges the user's file with the section files of the other
// config directories (system-wide defaults), so Get may return keys that
// Update never wrote.
//
// Python: ConfigApi.api_config_section_name_get.
func (s *ConfigSectionsService) Get(ctx context.Context, section string, opts ...CallOption) (map[string]any, error) {
	path, err := sectionPath(section)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if _, err := s.c.t.Do(ctx, transport.Call{Method: "GET", Path: path, Decode: decodeConfig(&m)}, opts); err != nil {
		return nil, err
	}
	return m, nil
}

// GetInto decodes a config section into v, a pointer to a struct or a
// map, as json.Unmarshal does: typed access to the keys the caller knows.
func (s *ConfigSectionsService) GetInto(ctx context.Context, section string, v any, opts ...CallOption) error {
	path, err := sectionPath(section)
	if err != nil {
		return err
	}
	_, err = s.c.t.Do(ctx, transport.Call{Method: "GET", Path: path, Decode: decodeInto(v)}, opts)
	return err
}

// Update merges patch into a config section and returns the section as
// stored afterwards (PATCH /api/config/{section}).
//
// The merge is recursive: an object in patch is merged into the object at
// the same key, and an object left empty by the merge is removed; any
// other value (a list, a string, a number) replaces the old one; a nil
// value (JSON null) deletes its key, at any depth. So
//
//	c.ConfigSections.Update(ctx, "notebook", map[string]any{
//		"load_extensions": map[string]any{"spellchecker/main": true, "old/ext": nil},
//	})
//
// enables one extension and removes another, leaving the rest. An empty
// or nil patch changes nothing and returns the stored section.
//
// The returned section is the user's file only, without the system-wide
// defaults that Get merges in. Jupyter fails with a 500 (ErrServer) when
// patch puts an object where the stored value is not one: delete the key
// first, or replace it with a non-object.
//
// A merge patch gives the same result applied once or twice, so Update is
// retried like a GET after a lost answer.
//
// Python: ConfigApi.api_config_section_name_patch.
func (s *ConfigSectionsService) Update(ctx context.Context, section string, patch map[string]any, opts ...CallOption) (map[string]any, error) {
	path, err := sectionPath(section)
	if err != nil {
		return nil, err
	}
	if patch == nil {
		patch = map[string]any{} // JSON null would crash Jupyter into a 500
	}
	out := map[string]any{}
	_, err = s.c.t.Do(ctx, transport.Call{Method: "PATCH", Path: path, Body: patch, Decode: decodeConfig(&out), Idempotent: true}, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decodeConfig decodes a section, refusing anything but a JSON object.
func decodeConfig(m *map[string]any) func([]byte) error {
	return func(b []byte) error {
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		if v != nil {
			*m = v
		}
		return nil
	}
}

// sectionPath validates a section name against Jupyter's route (\w+,
// matched on the still-encoded path, so ASCII only) and returns its path.
func sectionPath(section string) (string, error) {
	if err := validWord("section", section); err != nil {
		return "", err
	}
	return "api/config/" + section, nil
}

// validWord refuses a name that Jupyter's (\w+) routes cannot match: empty,
// or holding anything but ASCII letters, digits and "_".
func validWord(field, name string) error {
	if name == "" {
		return &ValidationError{Field: field, Problem: "empty"}
	}
	for i := 0; i < len(name); i++ {
		if !isWordByte(name[i]) {
			return &ValidationError{Field: field, Problem: "not a name of ASCII letters, digits and '_'"}
		}
	}
	return nil
}
