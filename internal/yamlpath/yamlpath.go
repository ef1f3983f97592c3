// Package yamlpath holds what ksk's strict YAML loaders (the policy file and
// the signer configuration) share: dotted key paths for error messages, a
// "did you mean" suggestion for unknown keys, and a bounded file read.
package yamlpath

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// Join appends key to the dotted path ("" is the document root).
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Suggest returns the known key closest to key by edit distance, if it is
// within three edits, or "".
func Suggest(key string, known []string) string {
	best, bestD := "", 4
	for _, k := range known {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b; long strings are
// not compared (64).
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ReadFile reads the file at path, refusing one larger than max bytes
// without reading it all. Its errors wrap errRead and name the path.
func ReadFile(path string, max int64, errRead error) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errRead, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errRead, path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", errRead, path, max)
	}
	return data, nil
}

// Want describes, for an error message, the YAML value that a Go field of
// type t takes: "a string", "true or false", "a list of strings", "an ISO
// 8601 duration such as P21D" (for a type named Duration), and so on.
func Want(t reflect.Type) string {
	switch t.Name() {
	case "Duration":
		return "an ISO 8601 duration such as P21D"
	case "IntChoice":
		return "an integer or a list of integers"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Uint32, reflect.Int64, reflect.Uint16:
		return "a non-negative integer"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(Want(t.Elem()), "a ") + "s"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Pointer:
		return Want(t.Elem())
	}
	return t.String()
}
