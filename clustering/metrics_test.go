package clustering

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// Expected figures were computed with scikit-learn 1.2.1 (Debian python3-sklearn):
// normalized_mutual_info_score, adjusted_rand_score and
// homogeneity_completeness_v_measure on the same inputs.
func TestEvaluateMatchesScikitLearn(t *testing.T) {
	cases := []struct {
		name                  string
		truth, pred           []int
		nmi, ari, h, c, vmeas float64
	}{
		{"perfect_renamed", []int{0, 0, 1, 1, 2, 2}, []int{5, 5, 3, 3, 9, 9}, 1.0, 1.0, 1.0, 1.0, 1.0},
		{"mixed", []int{0, 0, 0, 1, 1, 1, 2, 2, 2, 2}, []int{0, 0, 1, 1, 1, 2, 2, 2, 0, 0}, 0.39464837163589433, 0.09090909090909091, 0.39464837163589433, 0.39464837163589433, 0.39464837163589433},
		{"noise", []int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}, []int{-1, 0, 0, 0, 1, 1, -1, 1, 2, 2, 2, -1}, 0.6631711630466104, 0.4883720930232558, 0.75, 0.5943609377704334, 0.6631711630466105},
		{"one_cluster", []int{0, 1, 2, 0, 1, 2}, []int{0, 0, 0, 0, 0, 0}, 0.0, 0.0, 0.0, 1.0, 0.0},
		{"singletons", []int{0, 0, 1, 1}, []int{0, 1, 2, 3}, 0.6666666666666666, 0.0, 0.9999999999999999, 0.49999999999999994, 0.6666666666666666},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Evaluate(tc.truth, tc.pred)
			require.NoError(t, err)
			assert.InDelta(t, tc.nmi, s.NMI, 1e-12, "nmi")
			assert.InDelta(t, tc.ari, s.ARI, 1e-12, "ari")
			assert.InDelta(t, tc.h, s.Homogeneity, 1e-12, "homogeneity")
			assert.InDelta(t, tc.c, s.Completeness, 1e-12, "completeness")
			assert.InDelta(t, tc.vmeas, s.VMeasure, 1e-12, "v-measure")
			ari, err := ARI(tc.truth, tc.pred)
			require.NoError(t, err)
			assert.InDelta(t, tc.ari, ari, 1e-12)
			nmi, err := NMI(tc.truth, tc.pred)
			require.NoError(t, err)
			assert.InDelta(t, tc.nmi, nmi, 1e-12)
		})
	}
}

func TestEvaluateStringLabels(t *testing.T) {
	s, err := Evaluate([]string{"a", "a", "b", "b", "c", "c", "c"}, []int{1, 1, 1, 0, 0, 2, 2})
	require.NoError(t, err)
	assert.InDelta(t, 0.5636355530993445, s.NMI, 1e-12)
	assert.InDelta(t, 0.2125, s.ARI, 1e-12)
	assert.InDelta(t, 0.5636355530993445, s.VMeasure, 1e-12)
	assert.Equal(t, 3, s.Classes)
	assert.Equal(t, 3, s.Clusters)

	_, err = Evaluate([]string{"a"}, []int{1, 2})
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
}

func TestContingency(t *testing.T) {
	c, err := NewContingency([]string{"x", "y", "x", "y"}, []int{7, 7, 8, 7})
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "y"}, c.Classes)
	assert.Equal(t, []int{7, 8}, c.Clusters)
	assert.Equal(t, [][]int{{1, 1}, {2, 0}}, c.Count)
	assert.Equal(t, []int{2, 2}, c.RowSums)
	assert.Equal(t, []int{3, 1}, c.ColSums)
	assert.Equal(t, 4, c.N)
}

// metricsX is a fixed 12×3 matrix; silhouette_score and davies_bouldin_score of
// scikit-learn 1.2.1 give the figures in TestSilhouetteDaviesBouldin.
var metricsX = []float32{
	2.041, -2.556, 0.418, -0.568, -0.453, -0.216, -2.02, -0.232, -0.865, 3.323, 0.226, -0.353,
	-0.281, -0.668, -1.055, -0.391, 0.482, -0.239, 2.958, 1.8, 2.024, 3.546, 2.545, 1.495,
	1.817, 2.541, 3.935, 1.73, 1.756, 3.002, 1.114, 1.708, 2.883, 2.58, 2.092, 2.67,
}

func TestSilhouetteDaviesBouldin(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		labels  []int
		sil, db float64
	}{
		{[]int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}, 0.0869997796950162, 1.9103525309386165},
		{[]int{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, -1}, 0.05697906905857067, 2.582008255622105},
	}
	for _, tc := range cases {
		s, err := Silhouette(ctx, metricsX, 12, 3, tc.labels, 0, 0)
		require.NoError(t, err)
		assert.InDelta(t, tc.sil, s, 1e-5)
		db, err := DaviesBouldin(metricsX, 12, 3, tc.labels)
		require.NoError(t, err)
		assert.InDelta(t, tc.db, db, 1e-5)
	}
	// A sample as large as the data is the data.
	s, err := Silhouette(ctx, metricsX, 12, 3, cases[0].labels, 12, 1)
	require.NoError(t, err)
	assert.InDelta(t, cases[0].sil, s, 1e-5)
	// A smaller sample gives a valid coefficient.
	s, err = Silhouette(ctx, metricsX, 12, 3, cases[0].labels, 9, 1)
	require.NoError(t, err)
	assert.True(t, s >= -1 && s <= 1)
}

func TestMetricErrors(t *testing.T) {
	ctx := context.Background()
	one := make([]int, 12)
	_, err := Silhouette(ctx, metricsX, 12, 3, one, 0, 0)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = DaviesBouldin(metricsX, 12, 3, one)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = Silhouette(ctx, metricsX, 12, 3, []int{1, 2}, 0, 0)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = DaviesBouldin(metricsX[:5], 12, 3, one)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	_, err = Silhouette(ctx, nil, 0, 3, nil, 0, 0)
	require.True(t, errors.Is(err, lmsys.ErrEmpty))
}
