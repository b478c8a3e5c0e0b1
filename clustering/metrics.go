package clustering

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// Contingency is the table of co-occurrence counts of two labellings of the same
// items: Count[i][j] items have class i in the first labelling and cluster j in the
// second. Classes and Clusters list the original labels in order of first appearance.
type Contingency[T comparable] struct {
	Classes  []T
	Clusters []int
	Count    [][]int
	// RowSums and ColSums are the class and cluster sizes; N is the number of items.
	RowSums, ColSums []int
	N                int
}

// NewContingency builds the contingency table of labelsTrue against labelsPred, which
// must have the same length.
func NewContingency[T comparable](labelsTrue []T, labelsPred []int) (*Contingency[T], error) {
	if len(labelsTrue) != len(labelsPred) {
		return nil, fmt.Errorf("clustering: %d true labels but %d predicted labels: %w", len(labelsTrue), len(labelsPred), lmsys.ErrInvalidInput)
	}
	c := &Contingency[T]{N: len(labelsTrue)}
	ci := map[T]int{}
	ki := map[int]int{}
	type cell struct{ i, j int }
	cells := map[cell]int{}
	for x, t := range labelsTrue {
		i, ok := ci[t]
		if !ok {
			i = len(c.Classes)
			ci[t] = i
			c.Classes = append(c.Classes, t)
		}
		p := labelsPred[x]
		j, ok := ki[p]
		if !ok {
			j = len(c.Clusters)
			ki[p] = j
			c.Clusters = append(c.Clusters, p)
		}
		cells[cell{i, j}]++
	}
	c.Count = make([][]int, len(c.Classes))
	for i := range c.Count {
		c.Count[i] = make([]int, len(c.Clusters))
	}
	c.RowSums = make([]int, len(c.Classes))
	c.ColSums = make([]int, len(c.Clusters))
	for k, v := range cells {
		c.Count[k.i][k.j] = v
		c.RowSums[k.i] += v
		c.ColSums[k.j] += v
	}
	return c, nil
}

// entropy returns the Shannon entropy (natural log) of the distribution of sizes.
func entropy(sizes []int, n int) float64 {
	var h float64
	for _, s := range sizes {
		if s > 0 {
			p := float64(s) / float64(n)
			h -= p * math.Log(p)
		}
	}
	return h
}

// MutualInfo returns the mutual information (natural log) of the two labellings.
func (c *Contingency[T]) MutualInfo() float64 {
	var mi float64
	n := float64(c.N)
	for i, row := range c.Count {
		for j, v := range row {
			if v > 0 {
				fv := float64(v)
				mi += fv / n * math.Log(n*fv/(float64(c.RowSums[i])*float64(c.ColSums[j])))
			}
		}
	}
	return max(mi, 0)
}

// Scores holds the external quality measures of a partition against true labels.
type Scores struct {
	// NMI is the mutual information normalised by the arithmetic mean of the two
	// entropies (scikit-learn's default).
	NMI float64 `json:"nmi"`
	// ARI is the adjusted Rand index.
	ARI float64 `json:"ari"`
	// Homogeneity is 1 when every cluster holds one class only.
	Homogeneity float64 `json:"homogeneity"`
	// Completeness is 1 when every class sits in one cluster only.
	Completeness float64 `json:"completeness"`
	// VMeasure is the harmonic mean of homogeneity and completeness.
	VMeasure float64 `json:"v_measure"`
	// Classes and Clusters count the distinct labels on each side.
	Classes  int `json:"classes"`
	Clusters int `json:"clusters"`
}

// Scores computes every external measure from the table.
func (c *Contingency[T]) Scores() Scores {
	s := Scores{Classes: len(c.Classes), Clusters: len(c.Clusters)}
	s.ARI = c.ARI()
	if c.N == 0 {
		s.NMI, s.Homogeneity, s.Completeness, s.VMeasure = 1, 1, 1, 1
		return s
	}
	mi := c.MutualInfo()
	hc, hk := entropy(c.RowSums, c.N), entropy(c.ColSums, c.N)
	switch {
	case len(c.Classes) == 1 && len(c.Clusters) == 1:
		s.NMI = 1
	case mi == 0:
		s.NMI = 0
	default:
		s.NMI = mi / ((hc + hk) / 2)
	}
	s.Homogeneity, s.Completeness = 1, 1
	if hc > 0 {
		s.Homogeneity = mi / hc
	}
	if hk > 0 {
		s.Completeness = mi / hk
	}
	if s.Homogeneity+s.Completeness > 0 {
		s.VMeasure = 2 * s.Homogeneity * s.Completeness / (s.Homogeneity + s.Completeness)
	}
	return s
}

// ARI returns the adjusted Rand index, computed from the pair confusion matrix as
// scikit-learn does (1 when the two labellings pair items identically).
func (c *Contingency[T]) ARI() float64 {
	n := float64(c.N)
	var sumSq float64
	for _, row := range c.Count {
		for _, v := range row {
			sumSq += float64(v) * float64(v)
		}
	}
	var sumA, sumB float64
	for _, v := range c.RowSums {
		sumA += float64(v) * float64(v)
	}
	for _, v := range c.ColSums {
		sumB += float64(v) * float64(v)
	}
	tp := sumSq - n
	fp := sumB - sumSq
	fn := sumA - sumSq
	tn := n*n - fp - fn - sumSq
	if fn == 0 && fp == 0 {
		return 1
	}
	return 2 * (tp*tn - fn*fp) / ((tp+fn)*(fn+tn) + (tp+fp)*(fp+tn))
}

// Evaluate compares predicted cluster labels with true labels (class names or ids)
// and returns NMI, ARI, homogeneity, completeness and V-measure.
func Evaluate[T comparable](labelsTrue []T, labelsPred []int) (Scores, error) {
	c, err := NewContingency(labelsTrue, labelsPred)
	if err != nil {
		return Scores{}, err
	}
	return c.Scores(), nil
}

// ARI returns the adjusted Rand index of two labellings of the same items.
func ARI(a, b []int) (float64, error) {
	c, err := NewContingency(a, b)
	if err != nil {
		return 0, err
	}
	return c.ARI(), nil
}

// NMI returns the normalised (arithmetic mean) mutual information of two labellings.
func NMI(a, b []int) (float64, error) {
	s, err := Evaluate(a, b)
	return s.NMI, err
}

// Silhouette returns the mean silhouette coefficient of the partition labels of the
// n×d row-major matrix data under Euclidean distance: for each row,
// (b − a) / max(a, b) with a its mean distance to the other rows of its cluster and
// b the smallest mean distance to the rows of another cluster (0 for a row alone in
// its cluster). Every label, −1 included, is a cluster, as in scikit-learn. When
// 0 < sample < n the score is computed on a uniform sample of that many rows drawn
// with seed. It needs 2 ≤ clusters ≤ rows − 1.
func Silhouette(ctx context.Context, data []float32, n, d int, labels []int, sample int, seed uint64) (float64, error) {
	if _, err := checkMatrix(data, n, d); err != nil {
		return 0, fmt.Errorf("silhouette: %w", err)
	}
	if len(labels) != n {
		return 0, fmt.Errorf("silhouette: %d labels for %d rows: %w", len(labels), n, lmsys.ErrInvalidInput)
	}
	x, lab, m := data[:n*d], labels, n
	if sample > 0 && sample < n {
		idx := sampleIndices(rand.New(rand.NewPCG(seed, 0x51)), n, sample)
		m = len(idx)
		x = make([]float32, m*d)
		lab = make([]int, m)
		for j, i := range idx {
			copy(x[j*d:(j+1)*d], data[i*d:(i+1)*d])
			lab[j] = labels[i]
		}
	}
	ids := map[int]int{}
	dense := make([]int, m)
	for i, l := range lab {
		c, ok := ids[l]
		if !ok {
			c = len(ids)
			ids[l] = c
		}
		dense[i] = c
	}
	k := len(ids)
	if k < 2 || k > m-1 {
		return 0, fmt.Errorf("silhouette: %d clusters among %d rows; it needs between 2 and rows−1: %w", k, m, lmsys.ErrInvalidInput)
	}
	sizes := make([]int, k)
	for _, c := range dense {
		sizes[c]++
	}
	panel := vec.NewPanel(x, m, d)
	xn := panel.Norms()
	workers := vec.Workers(0)
	acc := make([][]float64, workers)
	for w := range acc {
		acc[w] = make([]float64, k)
	}
	s := make([]float64, m)
	err := panel.Distances(ctx, x, m, nil, workers, func(b *vec.Block) error {
		a := acc[b.Worker]
		for i := b.I0; i < b.I1; i++ {
			clear(a)
			xi := x[i*d : (i+1)*d]
			for j, v := range b.Row(i) {
				if j == i {
					continue
				}
				// The expanded form loses precision for near neighbours: recompute.
				if v < 1e-2*(xn[i]+xn[j]) {
					v = vec.SqDist(xi, x[j*d:(j+1)*d])
				}
				a[dense[j]] += math.Sqrt(float64(v))
			}
			own := dense[i]
			if sizes[own] <= 1 {
				s[i] = 0
				continue
			}
			ai := a[own] / float64(sizes[own]-1)
			bi := math.Inf(1)
			for c, v := range a {
				if c != own {
					bi = min(bi, v/float64(sizes[c]))
				}
			}
			if mx := max(ai, bi); mx > 0 {
				s[i] = (bi - ai) / mx
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("silhouette: %w", err)
	}
	var sum float64
	for _, v := range s {
		sum += v
	}
	return sum / float64(m), nil
}

// DaviesBouldin returns the Davies–Bouldin index of the partition labels of the n×d
// row-major matrix data (lower is better): the mean over clusters of the largest
// (Sᵢ + Sⱼ) / ‖cᵢ − cⱼ‖, where S is the mean Euclidean distance of a cluster's rows to
// its centroid c. Every label, −1 included, is a cluster. It needs 2 ≤ clusters ≤
// rows − 1.
func DaviesBouldin(data []float32, n, d int, labels []int) (float64, error) {
	if _, err := checkMatrix(data, n, d); err != nil {
		return 0, fmt.Errorf("davies-bouldin: %w", err)
	}
	if len(labels) != n {
		return 0, fmt.Errorf("davies-bouldin: %d labels for %d rows: %w", len(labels), n, lmsys.ErrInvalidInput)
	}
	ids := map[int]int{}
	dense := make([]int, n)
	for i, l := range labels {
		c, ok := ids[l]
		if !ok {
			c = len(ids)
			ids[l] = c
		}
		dense[i] = c
	}
	k := len(ids)
	if k < 2 || k > n-1 {
		return 0, fmt.Errorf("davies-bouldin: %d clusters among %d rows; it needs between 2 and rows−1: %w", k, n, lmsys.ErrInvalidInput)
	}
	cent := make([]float64, k*d)
	size := make([]int, k)
	for i, c := range dense {
		size[c]++
		for j, v := range data[i*d : (i+1)*d] {
			cent[c*d+j] += float64(v)
		}
	}
	for c := 0; c < k; c++ {
		for j := 0; j < d; j++ {
			cent[c*d+j] /= float64(size[c])
		}
	}
	intra := make([]float64, k)
	for i, c := range dense {
		var s float64
		for j, v := range data[i*d : (i+1)*d] {
			diff := float64(v) - cent[c*d+j]
			s += diff * diff
		}
		intra[c] += math.Sqrt(s)
	}
	allZero := true
	for c := range intra {
		intra[c] /= float64(size[c])
		if math.Abs(intra[c]) > 1e-8 {
			allZero = false
		}
	}
	cd := make([]float64, k*k)
	centZero := true
	for a := 0; a < k; a++ {
		for b := 0; b < k; b++ {
			var s float64
			for j := 0; j < d; j++ {
				diff := cent[a*d+j] - cent[b*d+j]
				s += diff * diff
			}
			cd[a*k+b] = math.Sqrt(s)
			if cd[a*k+b] > 1e-8 {
				centZero = false
			}
		}
	}
	if allZero || centZero {
		return 0, nil
	}
	var total float64
	for a := 0; a < k; a++ {
		worst := math.Inf(-1)
		for b := 0; b < k; b++ {
			dist := cd[a*k+b]
			if dist == 0 {
				dist = math.Inf(1)
			}
			worst = max(worst, (intra[a]+intra[b])/dist)
		}
		total += worst
	}
	return total / float64(k), nil
}
