package semantic

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFlatMeta(t *testing.T) {
	cases := []struct {
		name  string
		in    map[string]string
		want  flatMeta
		where map[string]string
		match bool
	}{
		{"empty", nil, nil, map[string]string{"a": "1"}, false},
		{"empty matches no condition", map[string]string{}, nil, nil, true},
		{"sorted pairs", map[string]string{"b": "2", "a": "1", "c": ""}, flatMeta{"a", "1", "b", "2", "c", ""}, map[string]string{"a": "1", "c": ""}, true},
		{"wrong value", map[string]string{"model": "gpt-4"}, flatMeta{"model", "gpt-4"}, map[string]string{"model": "llama"}, false},
		{"missing key", map[string]string{"model": "gpt-4"}, flatMeta{"model", "gpt-4"}, map[string]string{"lang": ""}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFlatMeta(c.in)
			assert.Equal(t, c.want, f)
			assert.Equal(t, len(c.want)/2, f.pairs())
			assert.Equal(t, c.match, f.matches(c.where))
			if len(c.in) == 0 {
				assert.Nil(t, f.toMap())
			} else {
				assert.Equal(t, c.in, f.toMap())
			}
			m := map[string]string{"stale": "x"}
			f.fill(m)
			assert.Equal(t, len(c.in), len(m), "fill clears what was there")
		})
	}
}

func TestFlatMetaCanonical(t *testing.T) {
	cases := []struct {
		name string
		in   flatMeta
		want flatMeta
	}{
		{"none", nil, nil},
		{"one", flatMeta{"k", "v"}, flatMeta{"k", "v"}},
		{"unsorted", flatMeta{"b", "2", "a", "1"}, flatMeta{"a", "1", "b", "2"}},
		{"a repeated key keeps its last value", flatMeta{"a", "1", "b", "2", "a", "3"}, flatMeta{"a", "3", "b", "2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, c.in.canonical())
		})
	}
}
