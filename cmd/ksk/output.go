package main

import (
	"encoding/json"
)

// writeJSON writes v to stdout as a single JSON object.
func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
