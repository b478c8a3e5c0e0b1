package layout

// attractRow is Σ_t vals[t]·(xi − x_j, yi − y_j) / (1 + ‖(xi, yi) − (x_j, y_j)‖²) over
// the columns j = cols[t] of one row of P, y holding the points as (x0, y0, x1, y1 …):
// the attraction on the point at (xi, yi), in float32, which holds a map's
// differences of neighbours to far better than the repulsion's interpolation. It is
// attractGo, or an assembly kernel that gives the same bits.
var attractRow = attractGo

// attractLanes is the number of partial sums the attraction keeps: edge t goes to
// lane t mod attractLanes, as in a 16-lane vector register, and the lanes are added
// in the order reduceLanes gives.
const attractLanes = 16

// attractGo is the portable attraction. Every product is rounded on its own (the
// conversions keep the compiler from fusing them), so that it gives the bits of the
// vector kernel, which does not fuse either.
func attractGo(y []float32, cols []int32, vals []float32, xi, yi float32) (float32, float32) {
	var ax, ay [attractLanes]float32
	vals = vals[:len(cols)]
	for t, c := range cols {
		j := 2 * int(c)
		p := y[j : j+2 : j+2]
		dx, dy := xi-p[0], yi-p[1]
		q := vals[t] / (1 + (float32(dx*dx) + float32(dy*dy)))
		ax[t%attractLanes] += float32(q * dx)
		ay[t%attractLanes] += float32(q * dy)
	}
	return reduceLanes(&ax), reduceLanes(&ay)
}

// reduceLanes adds the lanes as a vector register is folded: halves, quarters, pairs,
// then the last two.
func reduceLanes(a *[attractLanes]float32) float32 {
	var s [8]float32
	for i := range s {
		s[i] = a[i] + a[i+8]
	}
	t0, t1, t2, t3 := s[0]+s[4], s[1]+s[5], s[2]+s[6], s[3]+s[7]
	return (t0 + t2) + (t1 + t3)
}
