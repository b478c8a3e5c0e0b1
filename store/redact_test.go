package store_test

import (
	"testing"

	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://alice:s3cret@db:5432/q?sslmode=disable", "postgres://alice:***@db:5432/q?sslmode=disable"},
		{"postgres://alice@db/q", "postgres://alice@db/q"},
		{"postgres://db/q", "postgres://db/q"},
		{"not a url", "not a url"},
	} {
		assert.Equal(t, tc.want, store.RedactURL(tc.in), tc.in)
	}
}
