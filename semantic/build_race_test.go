package semantic

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/require"
)

// TestParallelBuildPruneRace builds small-M graphs on several goroutines, where
// neighbour lists overflow and are pruned in place constantly: readers holding a
// list's old count must never follow a slot zeroed by the pruning into a level its
// node does not have (onLevel guards that read). Its size is fixed (12 rounds of 3,000
// vectors, 3 under -short), so under -race it is a soak test bounded by work, not time.
func TestParallelBuildPruneRace(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	for r := 0; r < rounds; r++ {
		h := NewHNSW(HNSWOptions{M: 4, EfConstruction: 32, Workers: 4, Seed: uint64(r + 1)})
		rng := rand.New(rand.NewPCG(uint64(r), 9))
		items := make([]lmsys.Vector, 3000)
		for i := range items {
			v := make([]float32, 8)
			for j := range v {
				v[j] = float32(rng.NormFloat64())
			}
			items[i] = lmsys.Vector{ID: fmt.Sprint(i), Values: v}
		}
		require.NoError(t, h.Upsert(context.Background(), "c", items), "round %d", r)
		hits, err := h.Search(context.Background(), "c", items[0].Values, 5, lmsys.Filter{})
		require.NoError(t, err, "round %d: search after build", r)
		require.NotEmpty(t, hits, "round %d: search after build", r)
	}
}
