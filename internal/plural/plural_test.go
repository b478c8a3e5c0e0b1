package plural

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 children"}, {1, "1 child"}, {2, "2 children"}, {40, "40 children"}, {-1, "-1 children"}} {
		assert.Equal(t, tc.want, Count(tc.n, "child", "children"))
	}
}
