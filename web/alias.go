package web

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// alsoAs wraps a list endpoint so that its answer, a page whose list is "items" (the
// Python tool's envelope), also carries that list under key, the name this API gave it
// before it spoke the Python tool's shapes ("runs", "queries", "edits" …): clients of
// either keep working, and the answer stays a superset of both.
func alsoAs(key string, f apiFunc) apiFunc {
	return func(r *http.Request) (any, error) {
		v, err := f(r)
		if err != nil {
			return v, err
		}
		return aliased{v: v, key: key}, nil
	}
}

type aliased struct {
	v   any
	key string
}

// MarshalJSON writes v's object with its "items" repeated under the alias key, last.
func (a aliased) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(a.v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("web: alias %s: %w", a.key, err)
	}
	items, ok := m["items"]
	if !ok {
		return b, nil
	}
	if _, taken := m[a.key]; taken {
		return b, nil // never shadow a field of the answer's own
	}
	// Appended after the answer's own keys, which keep their order.
	key, _ := json.Marshal(a.key)
	out := append(b[:len(b)-1:len(b)-1], ',')
	out = append(append(append(out, key...), ':'), items...)
	return append(out, '}'), nil
}
