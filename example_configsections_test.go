package nbserv_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
)

func ExampleConfigSectionsService_Update() {
	srv := server()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client

	if _, err := c.ConfigSections.Update(ctx, "notebook", map[string]any{
		"load_extensions": map[string]any{"spellchecker/main": true, "old/ext": true},
		"Cell":            map[string]any{"cm_config": map[string]any{"lineNumbers": false}},
	}); err != nil {
		log.Fatal(err)
	}
	// Objects merge; nil (JSON null) deletes a key.
	section, err := c.ConfigSections.Update(ctx, "notebook", map[string]any{
		"load_extensions": map[string]any{"old/ext": nil},
		"Cell":            map[string]any{"cm_config": map[string]any{"lineNumbers": true}},
	})
	if err != nil {
		log.Fatal(err)
	}
	out, _ := json.Marshal(section)
	fmt.Println(string(out))

	var typed struct {
		LoadExtensions map[string]bool `json:"load_extensions"`
	}
	if err := c.ConfigSections.GetInto(ctx, "notebook", &typed); err != nil {
		log.Fatal(err)
	}
	fmt.Println(typed.LoadExtensions)
	// Output:
	// {"Cell":{"cm_config":{"lineNumbers":true}},"load_extensions":{"spellchecker/main":true}}
	// map[spellchecker/main:true]
}
