package clustering

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/f16"
)

// halfMax is the largest finite binary16 value.
const halfMax = 65504

// HalfMatrix holds the rows of a Source in memory as IEEE binary16 ("half") values,
// 2 bytes a dimension plus 8 bytes of id a row, in blocks of a fixed number of rows
// (no block is ever copied to grow the matrix). It is itself a Source: Scan decodes
// the rows to float32 a batch at a time and yields them with their ids in the order
// they were added. On Unix the values live in memory mapped from the OS, outside the
// Go heap (so they do not raise the garbage collector's target); Release gives it back
// at once, and a cleanup does once the matrix is unreachable. Half floats keep about three significant decimal digits (relative
// error ≤ 2⁻¹¹), which moves a unit vector's squared distances by less than 10⁻³.
type HalfMatrix struct {
	d      int
	block  int
	n      int
	ids    [][]int64
	halves [][]uint16
	// maps unmaps the blocks of halves (allocated outside the Go heap where the OS
	// allows it); Release calls it, and so does a cleanup once the matrix is
	// unreachable.
	maps *halfMappings
}

// halfMappings holds the functions that give the blocks of a HalfMatrix back.
type halfMappings struct{ free []func() }

func (h *halfMappings) release() {
	for _, f := range h.free {
		f()
	}
	h.free = nil
}

// NewHalfMatrix returns an empty matrix of rows of d dimensions, allocated block rows
// at a time (default 65536 when block ≤ 0).
func NewHalfMatrix(d, block int) *HalfMatrix {
	if block <= 0 {
		block = 65536
	}
	m := &HalfMatrix{d: d, block: block, maps: &halfMappings{}}
	runtime.AddCleanup(m, (*halfMappings).release, m.maps)
	return m
}

// Release gives the matrix's memory back at once and empties it; without it the
// memory goes back once the matrix is unreachable.
func (m *HalfMatrix) Release() {
	m.maps.release()
	m.ids, m.halves, m.n = nil, nil, 0
}

// HalfMatrixBytes is the memory a HalfMatrix of n rows of d dimensions takes.
func HalfMatrixBytes(n, d int) int64 { return int64(n) * int64(2*d+8) }

// Len returns the number of rows.
func (m *HalfMatrix) Len() int { return m.n }

// Dims returns the dimension of the rows.
func (m *HalfMatrix) Dims() int { return m.d }

// Bytes returns the memory the rows hold (whole blocks).
func (m *HalfMatrix) Bytes() int64 { return HalfMatrixBytes(len(m.ids)*m.block, m.d) }

// Append adds a row. It fails, adding nothing, when v has the wrong dimension or a
// value that is not finite or beyond the half range (|x| > 65504).
func (m *HalfMatrix) Append(id int64, v []float32) error {
	if len(v) != m.d {
		return errDims(id, len(v), m.d)
	}
	for _, x := range v {
		if !(math.Abs(float64(x)) <= halfMax) {
			return fmt.Errorf("half matrix: vector of id %d holds %g, beyond the half-float range ±%d: %w", id, x, halfMax, lmsys.ErrInvalidInput)
		}
	}
	b, r := m.n/m.block, m.n%m.block
	if b == len(m.ids) {
		m.ids = append(m.ids, make([]int64, m.block))
		h, free := allocHalves(m.block * m.d)
		m.halves = append(m.halves, h)
		m.maps.free = append(m.maps.free, free)
	}
	m.ids[b][r] = id
	f16.FromFloat32s(m.halves[b][r*m.d:(r+1)*m.d], v)
	m.n++
	return nil
}

// Row decodes row i into dst (len ≥ Dims) and returns its id.
func (m *HalfMatrix) Row(i int, dst []float32) int64 {
	b, r := i/m.block, i%m.block
	f16.ToFloat32s(dst, m.halves[b][r*m.d:(r+1)*m.d])
	return m.ids[b][r]
}

// decode decodes rows [i0, i1) into dst (row-major) and returns their ids, a view of
// the matrix's memory; the range must lie in one block.
func (m *HalfMatrix) decode(i0, i1 int, dst []float32) []int64 {
	b, r0 := i0/m.block, i0%m.block
	r1 := r0 + (i1 - i0)
	f16.ToFloat32s(dst, m.halves[b][r0*m.d:r1*m.d])
	return m.ids[b][r0:r1]
}

// Scan yields the rows, decoded, batch at a time (default 10000; a batch never spans
// two blocks, so it may be shorter). ids and vecs are reused between calls of fn.
func (m *HalfMatrix) Scan(ctx context.Context, batch int, fn func(ids []int64, vecs [][]float32) error) error {
	var vecs [][]float32
	return m.scanFlat(ctx, batch, func(ids []int64, flat []float32) error {
		vecs = vecs[:0]
		for j := range ids {
			vecs = append(vecs, flat[j*m.d:(j+1)*m.d:(j+1)*m.d])
		}
		return fn(ids, vecs)
	})
}

// scanFlat is Scan with each batch's rows decoded into one row-major matrix, which fn
// may modify (it is overwritten by the next batch).
func (m *HalfMatrix) scanFlat(ctx context.Context, batch int, fn func(ids []int64, flat []float32) error) error {
	if batch <= 0 {
		batch = 10000
	}
	batch = min(batch, m.block, max(m.n, 1))
	flat := make([]float32, batch*m.d)
	for i0 := 0; i0 < m.n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		i1 := min(i0+batch, m.n, (i0/m.block+1)*m.block)
		ids := m.decode(i0, i1, flat)
		if err := fn(ids, flat[:len(ids)*m.d]); err != nil {
			return err
		}
		i0 = i1
	}
	return nil
}

// MemoryBudget returns the default memory a HalfMatrix may take: half of what the
// machine has available (MemAvailable in /proc/meminfo, where there is one) and half
// of the headroom below the Go runtime's memory limit (debug.SetMemoryLimit, GOMEMLIMIT)
// when one is set; 0 when neither can be read.
func MemoryBudget() int64 {
	budget := int64(0)
	if avail := memAvailable(); avail > 0 {
		budget = avail / 2
	}
	if limit := debug.SetMemoryLimit(-1); limit > 0 && limit < math.MaxInt64 {
		var head int64
		if used := heapInUse(); used < limit {
			head = (limit - used) / 2
		}
		if budget == 0 || head < budget {
			budget = head
		}
	}
	return budget
}

// memAvailable reads MemAvailable from /proc/meminfo, in bytes; 0 when unknown.
func memAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// heapInUse is the memory the Go runtime holds from the OS and has not returned,
// which is what its memory limit counts.
func heapInUse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys - ms.HeapReleased)
}
