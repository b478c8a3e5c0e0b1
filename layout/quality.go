package layout

import "slices"

// Agreement is the share of each point's k nearest neighbours on the map that carry
// its label, averaged over the points: how well a map keeps labelled groups together
// (1 is perfect; a random map scores about the labels' mean share). It compares every
// pair of points, so it is meant for evaluation sets of up to some tens of thousands.
func Agreement(points []Point, labels []string, k int) float64 {
	n := len(points)
	if n < 2 || len(labels) != n || k <= 0 {
		return 0
	}
	k = min(k, n-1)
	type cand struct {
		j int
		d float32
	}
	buf := make([]cand, 0, k+1)
	total := 0.0
	for i, p := range points {
		buf = buf[:0]
		for j, q := range points {
			if j == i {
				continue
			}
			dx, dy := p.X-q.X, p.Y-q.Y
			d := dx*dx + dy*dy
			if len(buf) == k && d >= buf[k-1].d {
				continue
			}
			at, _ := slices.BinarySearchFunc(buf, d, func(c cand, d float32) int {
				if c.d < d {
					return -1
				}
				if c.d > d {
					return 1
				}
				return 0
			})
			if len(buf) < k {
				buf = append(buf, cand{})
			}
			copy(buf[at+1:], buf[at:len(buf)-1])
			buf[at] = cand{j, d}
		}
		same := 0
		for _, c := range buf {
			if labels[c.j] == labels[i] {
				same++
			}
		}
		total += float64(same) / float64(len(buf))
	}
	return total / float64(n)
}
