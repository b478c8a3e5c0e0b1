package layout

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSelectLandmarks: each group gets its share of the landmarks, at least one, and
// the choice follows the rows' keys and the seed, not their order.
func TestSelectLandmarks(t *testing.T) {
	const n = 10000
	keys := make([]int64, n)
	groups := make([]int, n)
	for i := range keys {
		keys[i] = int64(1000 + 7*i)
		groups[i] = 0
		if i%100 == 0 {
			groups[i] = 1 // a group of 1 %
		}
		if i == 5 {
			groups[i] = 2 // a group of one row
		}
	}
	sel := selectLandmarks(keys, groups, 500, 1)
	assert.True(t, slices.IsSorted(sel))
	count := map[int]int{}
	for _, i := range sel {
		count[groups[i]]++
	}
	assert.InDelta(t, 495, count[0], 2)
	assert.Equal(t, 5, count[1])
	assert.Equal(t, 1, count[2], "a group of one row still has its landmark")

	// The rows reversed: the same keys are chosen.
	rk, rg := slices.Clone(keys), slices.Clone(groups)
	slices.Reverse(rk)
	slices.Reverse(rg)
	chosen := func(sel []int, keys []int64) []int64 {
		var out []int64
		for _, i := range sel {
			out = append(out, keys[i])
		}
		slices.Sort(out)
		return out
	}
	assert.Equal(t, chosen(sel, keys), chosen(selectLandmarks(rk, rg, 500, 1), rk))
	assert.NotEqual(t, chosen(sel, keys), chosen(selectLandmarks(keys, groups, 500, 2), keys))
	assert.Len(t, selectLandmarks(keys[:10], nil, 500, 1), 10, "fewer rows than landmarks: all of them")
}
