package semantic

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/lmsys-go/lmsys"
)

// Collection file format, version 1. All integers are little-endian; a "string" is
// a uvarint byte length followed by that many bytes of UTF-8.
//
//	magic      8 bytes  "LMSYSVI1"
//	kind       uint8    0 = exact (no graph), 1 = HNSW
//	dims       uint32   vector dimension
//	rows       uint32   stored rows, tombstones included
//	live       uint32   rows that are not tombstones
//	m          uint32   HNSW M (0 for exact)
//	efc        uint32   HNSW efConstruction (0 for exact)
//	entry      int64    HNSW entry node, −1 when empty (−1 for exact)
//	maxLevel   uint32   HNSW top level (0 for exact)
//	vectors    rows × dims float32, row-major, each normalised to unit length
//	rows       per row: dead uint8 (0/1), id string, document string,
//	           metadata uvarint count then count × (key string, value string), keys sorted
//	graph      HNSW only, per row: level uint8, then for each layer 0..level:
//	           count uint32 (≤ 2M on layer 0, ≤ M above) and count × uint32 neighbour rows
//	checksum   uint32   CRC-32C (Castagnoli) of every byte before it
//
// A reader checks every length, count and neighbour against the header and the file
// size before allocating, then the checksum: a truncated or corrupted file is an
// error wrapping lmsys.ErrInvalidInput that names the file and what is wrong.
const fileMagic = "LMSYSVI1"

const (
	kindExact = 0
	kindHNSW  = 1
)

// fileHeader is the fixed-size start of a collection file.
type fileHeader struct {
	Kind     uint8
	Dims     uint32
	Rows     uint32
	Live     uint32
	M        uint32
	EfC      uint32
	Entry    int64
	MaxLevel uint32
}

const headerSize = 8 + 1 + 4*6 + 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// writeCollection writes s (and g when not nil) in the collection file format.
func writeCollection(w io.Writer, s *items, g *graph) error {
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<16)
	dims := s.dims
	if s.len() == 0 {
		dims = 0 // an empty collection has no dimension yet
	}
	h := fileHeader{Kind: kindExact, Dims: uint32(dims), Rows: uint32(s.len()), Live: uint32(s.live()), Entry: -1}
	if g != nil {
		h.Kind, h.M, h.EfC, h.Entry, h.MaxLevel = kindHNSW, uint32(g.m), uint32(g.efc), g.entry, uint32(g.maxLevel)
	}
	bw.WriteString(fileMagic)
	var b [8]byte
	bw.WriteByte(h.Kind)
	for _, x := range []uint32{h.Dims, h.Rows, h.Live, h.M, h.EfC} {
		binary.LittleEndian.PutUint32(b[:4], x)
		bw.Write(b[:4])
	}
	binary.LittleEndian.PutUint64(b[:], uint64(h.Entry))
	bw.Write(b[:])
	binary.LittleEndian.PutUint32(b[:4], h.MaxLevel)
	bw.Write(b[:4])
	// Vectors are encoded 16,384 at a time: one Write per float was 512 million
	// calls for a million 512-d rows.
	raw := make([]byte, 1<<16)
	for off := 0; off < len(s.vecs); {
		m := min(len(raw)/4, len(s.vecs)-off)
		for i, x := range s.vecs[off : off+m] {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
		}
		bw.Write(raw[:4*m])
		off += m
	}
	putString := func(v string) {
		n := binary.PutUvarint(b[:], uint64(len(v)))
		bw.Write(b[:n])
		bw.WriteString(v)
	}
	for r := range s.len() {
		if s.dead[r] {
			bw.WriteByte(1)
		} else {
			bw.WriteByte(0)
		}
		putString(s.ids[r])
		putString(s.docs[r])
		mt := s.meta[r] // keys sorted and unique
		n := binary.PutUvarint(b[:], uint64(mt.pairs()))
		bw.Write(b[:n])
		for _, x := range mt {
			putString(x)
		}
	}
	if g != nil {
		for v := range s.len() {
			bw.WriteByte(g.levels[v])
			for l := 0; l <= int(g.levels[v]); l++ {
				lst := g.links(uint32(v), l)
				cnt := lst[0]
				for _, x := range lst[:1+cnt] {
					binary.LittleEndian.PutUint32(b[:4], x)
					bw.Write(b[:4])
				}
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:4], crc.Sum32())
	_, err := w.Write(b[:4])
	return err
}

// reader decodes a collection file, bounding every length by the bytes left.
type reader struct {
	r    *bufio.Reader
	crc  hash.Hash32
	left int64 // bytes left before the checksum
	err  error
	buf  [8]byte
}

func (d *reader) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *reader) read(p []byte) bool {
	if d.err != nil {
		return false
	}
	if int64(len(p)) > d.left {
		d.fail("truncated: needs %d more bytes, %d left", len(p), d.left)
		return false
	}
	if _, err := io.ReadFull(d.r, p); err != nil {
		d.fail("truncated: %v", err)
		return false
	}
	d.crc.Write(p)
	d.left -= int64(len(p))
	return true
}

func (d *reader) u8() uint8 {
	if !d.read(d.buf[:1]) {
		return 0
	}
	return d.buf[0]
}

func (d *reader) u32() uint32 {
	if !d.read(d.buf[:4]) {
		return 0
	}
	return binary.LittleEndian.Uint32(d.buf[:4])
}

func (d *reader) uvarint() uint64 {
	var x uint64
	for shift := 0; shift < 64; shift += 7 {
		c := d.u8()
		if d.err != nil {
			return 0
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	d.fail("malformed varint")
	return 0
}

func (d *reader) str(what string) string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(d.left) {
		d.fail("%s length %d exceeds the %d bytes left", what, n, d.left)
		return ""
	}
	p := make([]byte, n)
	if !d.read(p) {
		return ""
	}
	return string(p)
}

// readCollection decodes a collection file of size bytes. It returns the items and,
// for an HNSW file, the graph (without its rng; the caller sets options).
func readCollection(r io.Reader, size int64) (*items, *graph, error) {
	if size < headerSize+4 {
		return nil, nil, fmt.Errorf("too short for a collection file (%d bytes)", size)
	}
	d := &reader{r: bufio.NewReaderSize(r, 1<<16), crc: crc32.New(castagnoli), left: size - 4}
	magic := make([]byte, 8)
	d.read(magic)
	if d.err == nil && string(magic) != fileMagic {
		return nil, nil, fmt.Errorf("not a collection file (magic %q, want %q)", magic, fileMagic)
	}
	var h fileHeader
	h.Kind = d.u8()
	h.Dims, h.Rows, h.Live, h.M, h.EfC = d.u32(), d.u32(), d.u32(), d.u32(), d.u32()
	var e [8]byte
	if d.read(e[:]) {
		h.Entry = int64(binary.LittleEndian.Uint64(e[:]))
	}
	h.MaxLevel = d.u32()
	if d.err != nil {
		return nil, nil, d.err
	}
	switch {
	case h.Kind != kindExact && h.Kind != kindHNSW:
		return nil, nil, fmt.Errorf("unknown index kind %d", h.Kind)
	case (h.Dims == 0) != (h.Rows == 0) || h.Dims > 1<<16:
		return nil, nil, fmt.Errorf("dimension %d out of range", h.Dims)
	case int64(h.Rows)*int64(h.Dims)*4 > d.left:
		return nil, nil, fmt.Errorf("%d rows of %d dimensions do not fit in %d bytes", h.Rows, h.Dims, d.left)
	case h.Live > h.Rows:
		return nil, nil, fmt.Errorf("live count %d exceeds row count %d", h.Live, h.Rows)
	case h.Kind == kindHNSW && (h.M < 2 || h.M > 1024 || h.EfC == 0 || h.MaxLevel >= maxLevels ||
		h.Entry < -1 || h.Entry >= int64(h.Rows) || (h.Entry < 0) != (h.Rows == 0)):
		return nil, nil, fmt.Errorf("HNSW parameters out of range (M=%d efConstruction=%d entry=%d maxLevel=%d rows=%d)",
			h.M, h.EfC, h.Entry, h.MaxLevel, h.Rows)
	}
	n, dims := int(h.Rows), int(h.Dims)
	s := newItems(dims)
	s.growVecs(n * dims)
	s.vecs = s.vecs[:n*dims]
	raw := make([]byte, 1<<16)
	for off := 0; off < len(s.vecs) && d.err == nil; {
		m := min(len(raw)/4, len(s.vecs)-off)
		if !d.read(raw[:m*4]) {
			break
		}
		for i := range m {
			s.vecs[off+i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[i*4:]))
		}
		off += m
	}
	s.ids, s.docs = make([]string, n), make([]string, n)
	s.meta, s.dead = make([]flatMeta, n), make([]bool, n)
	for r := 0; r < n && d.err == nil; r++ {
		switch d.u8() {
		case 0:
		case 1:
			s.dead[r] = true
			s.ndead++
		default:
			d.fail("row %d: bad tombstone flag", r)
		}
		s.ids[r] = d.str("id")
		s.docs[r] = d.str("document")
		nm := d.uvarint()
		if nm > uint64(d.left) {
			d.fail("row %d: %d metadata entries exceed the bytes left", r, nm)
		}
		for range nm {
			if d.err != nil {
				break
			}
			if s.meta[r] == nil {
				s.meta[r] = make(flatMeta, 0, 2*min(nm, 64))
			}
			k := d.str("metadata key")
			s.meta[r] = append(s.meta[r], k, d.str("metadata value"))
		}
		s.meta[r] = s.meta[r].canonical()
		if d.err != nil {
			break
		}
		if s.ids[r] == "" {
			d.fail("row %d has an empty id", r)
		} else if !s.dead[r] {
			if _, dup := s.index[s.ids[r]]; dup {
				d.fail("id %q is live twice", s.ids[r])
			}
			s.index[s.ids[r]] = uint32(r)
		}
	}
	if d.err == nil && s.live() != int(h.Live) {
		d.fail("header says %d live rows, found %d", h.Live, s.live())
	}
	var g *graph
	if h.Kind == kindHNSW && d.err == nil {
		g = newGraph(s, int(h.M), int(h.EfC), 1)
		g.entry, g.maxLevel = h.Entry, int(h.MaxLevel)
		g.levels = make([]uint8, n)
		g.upper = make([][]uint32, n)
		g.growLinks(n * (g.m0 + 1))
		g.links0 = g.links0[:n*(g.m0+1)]
		for v := 0; v < n && d.err == nil; v++ {
			lv := d.u8()
			if lv > uint8(h.MaxLevel) {
				d.fail("node %d: level %d above the top level %d", v, lv, h.MaxLevel)
				break
			}
			g.levels[v] = lv
			if lv > 0 {
				g.upper[v] = make([]uint32, int(lv)*(g.m+1))
			}
			for l := 0; l <= int(lv) && d.err == nil; l++ {
				lst := g.links(uint32(v), l)
				cnt := d.u32()
				if int(cnt) > len(lst)-1 {
					d.fail("node %d layer %d: %d links, at most %d allowed", v, l, cnt, len(lst)-1)
					break
				}
				lst[0] = cnt
				for i := 1; i <= int(cnt); i++ {
					x := d.u32()
					if x >= h.Rows {
						d.fail("node %d layer %d: neighbour %d out of range", v, l, x)
						break
					}
					lst[i] = x
				}
			}
		}
		// A link on layer l must point at a node that exists on layer l.
		for v := 0; v < n && d.err == nil; v++ {
			for l := 1; l <= int(g.levels[v]); l++ {
				lst := g.links(uint32(v), l)
				for _, x := range lst[1 : 1+lst[0]] {
					if int(g.levels[x]) < l {
						d.fail("node %d layer %d links node %d, which is only on layers 0..%d", v, l, x, g.levels[x])
						break
					}
				}
			}
		}
		if d.err == nil && h.Entry >= 0 && uint32(g.levels[h.Entry]) != h.MaxLevel {
			d.fail("entry node %d is on level %d, not the top level %d", h.Entry, g.levels[h.Entry], h.MaxLevel)
		}
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	if d.left != 0 {
		return nil, nil, fmt.Errorf("%d unexpected bytes before the checksum", d.left)
	}
	var sum [4]byte
	if _, err := io.ReadFull(d.r, sum[:]); err != nil {
		return nil, nil, fmt.Errorf("truncated checksum: %v", err)
	}
	if got, want := binary.LittleEndian.Uint32(sum[:]), d.crc.Sum32(); got != want {
		return nil, nil, fmt.Errorf("checksum mismatch (stored %08x, computed %08x): the file is corrupt", got, want)
	}
	for r := range n {
		if !s.dead[r] {
			if err := checkUnit(s.row(uint32(r))); err != nil {
				return nil, nil, fmt.Errorf("row %d (%q): %v", r, s.ids[r], err)
			}
		}
	}
	return s, g, nil
}

// checkUnit rejects non-finite vectors and ones far from unit length.
func checkUnit(v []float32) error {
	var ss float64
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return errors.New("non-finite vector value")
		}
		ss += float64(x) * float64(x)
	}
	if math.Abs(ss-1) > 1e-3 {
		return fmt.Errorf("vector is not normalised (squared norm %.4g)", ss)
	}
	return nil
}

// saveFile writes a collection file atomically: to a temporary file in the same
// directory, synced, then renamed over path, so a failed save leaves the old file.
func saveFile(ctx context.Context, path string, s *items, g *graph) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	tmp := f.Name()
	err = writeCollection(f, s, g)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return nil
}

// loadFile reads a collection file, wrapping any format problem in lmsys.ErrInvalidInput.
func loadFile(path string) (*items, *graph, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: index file %s: %v", lmsys.ErrNotFound, path, err)
		}
		return nil, nil, fmt.Errorf("opening index file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("opening index file: %w", err)
	}
	s, g, err := readCollection(f, st.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: index file %s is corrupt or not an index: %v", lmsys.ErrInvalidInput, path, err)
	}
	return s, g, nil
}

// readHeader reads only the header of a collection file (for listings).
func readHeader(path string) (fileHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileHeader{}, fmt.Errorf("opening index file: %w", err)
	}
	defer f.Close()
	var b [headerSize]byte
	if _, err := io.ReadFull(f, b[:]); err != nil || string(b[:8]) != fileMagic {
		return fileHeader{}, fmt.Errorf("%w: %s is not an index file", lmsys.ErrInvalidInput, path)
	}
	le := binary.LittleEndian
	return fileHeader{Kind: b[8], Dims: le.Uint32(b[9:]), Rows: le.Uint32(b[13:]), Live: le.Uint32(b[17:]),
		M: le.Uint32(b[21:]), EfC: le.Uint32(b[25:]), Entry: int64(le.Uint64(b[29:])), MaxLevel: le.Uint32(b[37:])}, nil
}

// compacted returns s without its tombstones (s itself when it has none).
func compacted(s *items) *items {
	if s.ndead == 0 {
		return s
	}
	c := newItems(s.dims)
	c.reserve(s.live(), true)
	for r := range s.len() {
		if !s.dead[r] {
			c.appendRow(s, r)
		}
	}
	return c
}

// SaveCollection writes one collection to path in the collection file format
// (see the package documentation), atomically. An unknown collection is lmsys.ErrNotFound.
func (e *Exact) SaveCollection(ctx context.Context, collection, path string) error {
	c := e.coll(collection, false)
	if c == nil {
		return fmt.Errorf("%w: collection %q", lmsys.ErrNotFound, collection)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.s
	if s == nil {
		s = newItems(0)
	}
	return saveFile(ctx, path, s, nil)
}

// LoadCollection replaces the collection with the contents of a collection file
// (written by either index; an HNSW file's graph is ignored).
func (e *Exact) LoadCollection(ctx context.Context, collection, path string) error {
	if err := checkCollection(collection); err != nil {
		return err
	}
	s, _, err := loadFile(path)
	if err != nil {
		return err
	}
	c := e.coll(collection, true)
	c.mu.Lock()
	c.s = compacted(s)
	if c.s.len() == 0 {
		c.s = nil // the dimension is learnt again from the next upsert
	}
	c.mu.Unlock()
	return nil
}

// SaveCollection writes one collection, graph included, to path in the collection
// file format, atomically. An unknown collection is lmsys.ErrNotFound.
func (h *HNSW) SaveCollection(ctx context.Context, collection, path string) error {
	c := h.coll(collection, false)
	if c == nil {
		return fmt.Errorf("%w: collection %q", lmsys.ErrNotFound, collection)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.g == nil {
		return saveFile(ctx, path, newItems(0), nil)
	}
	return saveFile(ctx, path, c.g.s, c.g)
}

// LoadCollection replaces the collection with the contents of a collection file. A
// file written by the exact index has no graph, so one is built.
func (h *HNSW) LoadCollection(ctx context.Context, collection, path string) error {
	if err := checkCollection(collection); err != nil {
		return err
	}
	s, g, err := loadFile(path)
	if err != nil {
		return err
	}
	switch {
	case s.live() == 0:
		g = nil // the dimension is learnt again from the next upsert
	case g == nil:
		g = newGraph(compacted(s), h.opts.M, h.opts.EfConstruction, h.opts.Seed)
		g.insertPending(h.opts.Workers)
	default:
		g.rng = newGraph(s, g.m, g.efc, h.opts.Seed).rng
	}
	c := h.coll(collection, true)
	c.mu.Lock()
	c.g = g
	c.mu.Unlock()
	return nil
}
