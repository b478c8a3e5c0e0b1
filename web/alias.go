package web

import (
	"net/http"
	"reflect"
	"sync"
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
		return withAlias(v, key), nil
	}
}

// aliasTypes caches, per answer type and key, the struct type that embeds the answer
// and adds the alias field.
var aliasTypes sync.Map // aliasKey → reflect.Type

type aliasKey struct {
	t   reflect.Type
	key string
}

// withAlias returns v (a struct with an Items field) as a struct that embeds it and
// holds the same slice under key, so the encoder writes the answer's own keys, then
// key; v is returned as it is when it has no Items field. The struct is built once per
// type with reflect.StructOf: encoding/json then handles it like any other struct.
func withAlias(v any, key string) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct {
		return v
	}
	items := rv.FieldByName("Items")
	if !items.IsValid() {
		return v
	}
	k := aliasKey{rv.Type(), key}
	t, ok := aliasTypes.Load(k)
	if !ok {
		t, _ = aliasTypes.LoadOrStore(k, reflect.StructOf([]reflect.StructField{
			{Name: "Answer", Type: rv.Type(), Anonymous: true},
			{Name: "Alias", Type: items.Type(), Tag: reflect.StructTag(`json:"` + key + `"`)},
		}))
	}
	out := reflect.New(t.(reflect.Type)).Elem()
	out.Field(0).Set(rv)
	out.Field(1).Set(items)
	return out.Interface()
}
