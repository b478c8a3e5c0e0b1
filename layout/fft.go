package layout

import (
	"math"
	"math/bits"

	"gonum.org/v1/gonum/dsp/fourier"
)

// fftRepulsion computes t-SNE's repulsive forces by interpolation on a grid, as
// FIt-SNE (Linderman et al., 2019) does: the map's bounding square is cut into
// equal boxes with p equispaced interpolation nodes per box and dimension, so that
// the nodes make one equispaced grid. Each point spreads its charges (1, x, y) to
// the nodes of its box by Lagrange weights; the charges are convolved with the
// kernels 1/(1 + d²)² and 1/(1 + d²) sampled at the nodes' offsets, by 2-D FFT (the
// grid zero-padded to twice its side, so that the circular convolution is the
// linear one); every point then reads the potentials back from its box's nodes by
// the same weights. Σ_j K(i,j)² (y_i − y_j) = y_i φ₁ − φ_y with φ the K²
// potentials, and Z = Σ_i Σ_j K(i,j) − n.
//
// Every step gives each point, grid row and column the same numbers whichever
// goroutine computes them, and the charges are spread on one goroutine, so the
// forces do not depend on the number of workers.
type fftRepulsion struct {
	workers int
	p       int     // interpolation nodes per box and dimension
	spacing float64 // widest node spacing, in map units
	minSize int     // smallest FFT side

	size     int // FFT side L, a power of two
	boxes    int // per dimension
	nodes    int // per dimension: boxes·p ≤ L/2
	kernSize int
	kernH    float64
	kern     []complex128 // FFT of K² + i·K (both real: the kernels are even)
	twiddle  []complex128 // exp(−2πi·j/L), j < L/2
	a, b     []complex128 // charges (1 + i·x), (y + i·0), then potentials
	denom    []float64    // Lagrange denominators
	base     []int32      // per point: first node in x and in y
	wts      []float64    // per point: p weights in x, then p in y
	z        []float64    // per point: Σ_j K(i,j)
}

func newFFTRepulsion(n, workers, p int, spacing float64) *fftRepulsion {
	r := &fftRepulsion{workers: max(1, workers), p: p, spacing: spacing, minSize: 32}
	r.base = make([]int32, 2*n)
	r.wts = make([]float64, 2*n*r.p)
	r.z = make([]float64, n)
	r.denom = make([]float64, r.p)
	for j := range r.p {
		d := 1.0
		for l := range r.p {
			if l != j {
				d *= float64(j - l)
			}
		}
		r.denom[j] = d
	}
	return r
}

// weights writes the p Lagrange weights of position t (in node spacings from the
// box's edge, 0 ≤ t ≤ p; the nodes sit at 0.5, 1.5 …) into w.
func (r *fftRepulsion) weights(t float64, w []float64) {
	for j := range r.p {
		v := 1.0
		for l := range r.p {
			if l != j {
				v *= t - (float64(l) + 0.5)
			}
		}
		w[j] = v / r.denom[j]
	}
}

// gradient writes into rep, for every point i, Σ_j K(i,j)² (y_i − y_j) with
// K = 1/(1 + ‖y_i − y_j‖²), and returns Z = Σ_{i≠j} K(i,j): the repulsive part of the
// t-SNE gradient is rep/Z.
func (r *fftRepulsion) gradient(y, rep []float64) float64 {
	n := len(y) / 2
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range n {
		xmin, xmax = math.Min(xmin, y[2*i]), math.Max(xmax, y[2*i])
		ymin, ymax = math.Min(ymin, y[2*i+1]), math.Max(ymax, y[2*i+1])
	}
	side := math.Max(math.Max(xmax-xmin, ymax-ymin), 1e-12)
	cx, cy := (xmin+xmax)/2, (ymin+ymax)/2
	// The node spacing is at most r.spacing and one of r.spacing·2^(−j/8), so that
	// the kernel's transform is kept while the map grows within a step.
	L := r.minSize
	for float64(L/(2*r.p)*r.p)*r.spacing < side {
		L *= 2
	}
	boxes := L / (2 * r.p)
	j := math.Floor(-8 * math.Log2(side/float64(boxes*r.p)/r.spacing))
	h := r.spacing * math.Exp2(-j/8)
	w := h * float64(r.p)
	side = w * float64(boxes)
	r.resize(L, boxes)
	if r.kernSize != L || r.kernH != h {
		r.kernel(h)
	}

	// Spread the charges.
	clear(r.a)
	clear(r.b)
	x0, y0 := cx-side/2, cy-side/2
	p := r.p
	parallelRange(r.workers, n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r.locate(i, 0, y[2*i]-x0, w)
			r.locate(i, 1, y[2*i+1]-y0, w)
		}
	})
	for i := range n {
		xr, yr := y[2*i]-cx, y[2*i+1]-cy
		ax, ay := int(r.base[2*i]), int(r.base[2*i+1])
		wx, wy := r.wts[2*i*p:2*i*p+p], r.wts[2*i*p+p:2*i*p+2*p]
		for j := range p {
			row := r.a[(ax+j)*L+ay : (ax+j)*L+ay+p]
			rowB := r.b[(ax+j)*L+ay : (ax+j)*L+ay+p]
			for l := range p {
				c := wx[j] * wy[l]
				row[l] += complex(c, c*xr)
				rowB[l] += complex(c*yr, 0)
			}
		}
	}

	r.forward(r.a, r.nodes)
	r.forward(r.b, r.nodes)
	r.multiply()
	r.inverse(r.a)
	r.inverse(r.b)

	// Read the potentials back.
	scale := 1 / float64(L*L)
	parallelRange(r.workers, n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ax, ay := int(r.base[2*i]), int(r.base[2*i+1])
			wx, wy := r.wts[2*i*p:2*i*p+p], r.wts[2*i*p+p:2*i*p+2*p]
			var va, vb complex128
			for j := range p {
				row := r.a[(ax+j)*L+ay : (ax+j)*L+ay+p]
				rowB := r.b[(ax+j)*L+ay : (ax+j)*L+ay+p]
				for l := range p {
					c := complex(wx[j]*wy[l], 0)
					va += c * row[l]
					vb += c * rowB[l]
				}
			}
			phi1, phix := real(va)*scale, imag(va)*scale
			phiy, z := real(vb)*scale, imag(vb)*scale
			xr, yr := y[2*i]-cx, y[2*i+1]-cy
			rep[2*i] = xr*phi1 - phix
			rep[2*i+1] = yr*phi1 - phiy
			r.z[i] = z
		}
	})
	z := -float64(n)
	for _, v := range r.z {
		z += v
	}
	return z
}

// locate finds point i's box along dimension c from its offset off from the grid's
// edge and the box width w, and its Lagrange weights there.
func (r *fftRepulsion) locate(i, c int, off, w float64) {
	f := off / w
	b := min(max(int(f), 0), r.boxes-1)
	t := min(max((f-float64(b))*float64(r.p), 0), float64(r.p))
	r.base[2*i+c] = int32(b * r.p)
	r.weights(t, r.wts[(2*i+c)*r.p:(2*i+c+1)*r.p])
}

func (r *fftRepulsion) resize(L, boxes int) {
	r.boxes, r.nodes = boxes, boxes*r.p
	if r.size == L {
		return
	}
	r.size = L
	r.a = make([]complex128, L*L)
	r.b = make([]complex128, L*L)
	r.kern = make([]complex128, L*L)
}

// kernel samples K² + i·K at the nodes' offsets (node spacing h), wrapped around
// the L × L grid, and transforms it.
func (r *fftRepulsion) kernel(h float64) {
	L, m := r.size, r.nodes
	clear(r.kern)
	off := func(i int) (int, bool) {
		switch {
		case i < m:
			return i, true
		case i > L-m:
			return i - L, true
		}
		return 0, false
	}
	for a := range L {
		da, ok := off(a)
		if !ok {
			continue
		}
		for b := range L {
			db, ok := off(b)
			if !ok {
				continue
			}
			d2 := h * h * float64(da*da+db*db)
			k := 1 / (1 + d2)
			r.kern[a*L+b] = complex(k*k, k)
		}
	}
	r.forward(r.kern, L)
	r.kernSize, r.kernH = L, h
}

// forward transforms the L × L grid x (row-major) in place, of which only the first
// rows rows may be non-zero: those rows by gonum's radix-2 FFT, then every column
// by columns.
func (r *fftRepulsion) forward(x []complex128, rows int) {
	L := r.size
	parallelRange(r.workers, rows, func(lo, hi int) {
		for a := lo; a < hi; a++ {
			fourier.CoefficientsRadix2(x[a*L : (a+1)*L])
		}
	})
	r.columns(x, false)
}

// inverse undoes forward (unnormalised: the values come back L² times), computing
// only the first r.nodes rows of the result.
func (r *fftRepulsion) inverse(x []complex128) {
	L := r.size
	r.columns(x, true)
	parallelRange(r.workers, r.nodes, func(lo, hi int) {
		for a := lo; a < hi; a++ {
			fourier.SequenceRadix2(x[a*L : (a+1)*L])
		}
	})
}

// columns transforms every column of the L × L grid x in place, forward (the sign of
// fourier.CoefficientsRadix2) or inverse (that of SequenceRadix2, unnormalised), by
// radix-2 butterflies between whole rows: the rows in bit-reversed order, then
// log₂ L stages, each row pair scaled by one twiddle from a table. Running along
// rows instead of down each column needs no transposition and no twiddle
// recurrence. Each goroutine takes a band of columns through every stage, and a
// column's numbers do not depend on the band that holds it.
func (r *fftRepulsion) columns(x []complex128, inverse bool) {
	L := r.size
	if len(r.twiddle) != L/2 {
		r.twiddle = make([]complex128, L/2)
		for j := range r.twiddle {
			s, c := math.Sincos(-2 * math.Pi * float64(j) / float64(L))
			r.twiddle[j] = complex(c, s)
		}
	}
	lz := bits.LeadingZeros(uint(L - 1))
	parallelRange(r.workers, L, func(c0, c1 int) {
		for i := range L {
			if j := int(bits.Reverse(uint(i)) >> lz); i < j {
				ri, rj := x[i*L+c0:i*L+c1], x[j*L+c0:j*L+c1]
				for c := range ri {
					ri[c], rj[c] = rj[c], ri[c]
				}
			}
		}
		for m := 1; m < L; m *= 2 {
			stride := L / (2 * m)
			for k := 0; k < L; k += 2 * m {
				for j := range m {
					w := r.twiddle[j*stride]
					if inverse {
						w = conj(w)
					}
					butterflies(x[(k+j)*L+c0:(k+j)*L+c1], x[(k+j+m)*L+c0:(k+j+m)*L+c1], w)
				}
			}
		}
	})
}

// multiply turns the transforms of the charges into those of the potentials:
// a = (F₁ + i·F_x) ↦ (F₁ + i·F_x)·K̂², and b = F_y ↦ F_y·K̂² + i·F₁·K̂, where F₁ is
// recovered from a's Hermitian symmetry: F₁(k) = (a(k) + conj(a(−k)))/2.
func (r *fftRepulsion) multiply() {
	L := r.size
	// Row u pairs with row L−u: one goroutine takes both.
	parallelRange(r.workers, L/2+1, func(lo, hi int) {
		for u := lo; u < hi; u++ {
			u2 := (L - u) % L
			for v := range L {
				v2 := (L - v) % L
				k, k2 := u*L+v, u2*L+v2
				if u == u2 && v > v2 {
					continue // done as the pair's other end
				}
				a1, a2 := r.a[k], r.a[k2]
				f1 := complex(0.5, 0) * (a1 + conj(a2))
				f2 := complex(0.5, 0) * (a2 + conj(a1))
				q1, q2 := r.kern[k], r.kern[k2]
				b1, b2 := r.b[k], r.b[k2]
				r.a[k] = a1 * complex(real(q1), 0)
				r.a[k2] = a2 * complex(real(q2), 0)
				r.b[k] = b1*complex(real(q1), 0) + f1*complex(0, imag(q1))
				r.b[k2] = b2*complex(real(q2), 0) + f2*complex(0, imag(q2))
			}
		}
	})
}

// butterfliesGo sets top, bot = top + w·bot, top − w·bot.
func butterfliesGo(top, bot []complex128, w complex128) {
	bot = bot[:len(top)]
	for c, v := range bot {
		u := w * v
		top[c], bot[c] = top[c]+u, top[c]-u
	}
}

func conj(c complex128) complex128 { return complex(real(c), -imag(c)) }
