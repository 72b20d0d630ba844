package nbservtest

// WithoutTerminals serves no terminals API, as a Jupyter Server started
// with --ServerApp.terminals_enabled=False (or without terminado): every
// /api/terminals URL answers the HTML 404 page.
func WithoutTerminals() Option { return func(c *config) { c.ref.NoTerminals = true } }
