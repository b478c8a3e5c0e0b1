package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// topics are the intents of the tiny labelled sets: each has its own words, and
// scenarios group three intents each, as slurp's scenarios group its intents.
var topics = []struct{ label, scenario, words string }{
	{"alarm_set", "alarm", "wake me up alarm tomorrow morning"},
	{"alarm_remove", "alarm", "cancel delete my alarm clock"},
	{"alarm_query", "alarm", "which alarms are set tonight"},
	{"weather_query", "weather", "weather forecast rain sunny today"},
	{"weather_wind", "weather", "how windy storm outside wind speed"},
	{"weather_temp", "weather", "temperature degrees cold hot outside"},
	{"music_play", "music", "play song music playlist track"},
	{"music_volume", "music", "turn the volume louder quieter speaker"},
	{"music_like", "music", "i love this song band album"},
	{"email_send", "email", "send email message inbox to boss"},
	{"email_read", "email", "read my new emails unread inbox"},
	{"email_contact", "email", "add contact address phone number"},
}

// writeLabelled writes n JSONL rows (id, text, label, scenario, language) spread over
// topics, with a share in non-Latin scripts for the mixed-language case.
func writeLabelled(t *testing.T, path string, n int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(1, 2))
	foreign := []string{"明天早上叫醒我", "今天天气怎么样", "播放我喜欢的音乐", "Какая погода сегодня", "Включи музыку громче", "メールを送ってください"}
	for i := 0; i < n; i++ {
		tp := topics[i%len(topics)]
		text := fmt.Sprintf("%s please %d", tp.words, rng.IntN(50))
		lang := "English"
		if i%10 == 9 {
			text, lang = foreign[(i/10)%len(foreign)], "other"
		}
		b, err := json.Marshal(map[string]string{"id": fmt.Sprint(i), "text": text, "label": tp.label, "scenario": tp.scenario, "language": lang})
		require.NoError(t, err)
		_, _ = w.Write(append(b, '\n'))
	}
	require.NoError(t, w.Flush())
}

// labels returns the distinct values of key over rows.
func distinct(rows []map[string]any, key string) []string {
	seen := map[string]bool{}
	for _, r := range rows {
		if v, ok := r[key]; ok {
			seen[fmt.Sprint(v)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// finite asserts that the named figures of row are finite numbers.
func finite(t *testing.T, row map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		v, ok := row[k].(float64)
		if assert.True(t, ok, "%s is a float64 in %v", k, row) {
			assert.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s = %v", k, v)
		}
	}
}

func TestEmbedBench(t *testing.T) {
	in := filepath.Join(t.TempDir(), "texts.jsonl")
	writeLabelled(t, in, 60)
	rows := run(t, "embed", "-in", in, "-limit", "40", "-batch", "16", "-model", "local/lexical")
	require.Len(t, rows, 1)
	assert.Equal(t, 40, rows[0]["texts"], "%v", rows[0])
}

func TestEmbedAgreeBench(t *testing.T) {
	in := filepath.Join(t.TempDir(), "texts.jsonl")
	writeLabelled(t, in, 30)
	rows := run(t, "embed-agree", "-in", in, "-limit", "20")
	require.Len(t, rows, 2) // the file, then all files
	finite(t, rows[1], "cos_min", "cos_mean")
	assert.GreaterOrEqual(t, rows[1]["cos_min"], 0.999, "%v", rows[1])
	assert.Equal(t, 20, rows[1]["texts"])
}

func TestFMABench(t *testing.T) {
	if len(peakLoops()) == 0 {
		t.Skip("no multiply-add loops on this architecture")
	}
	rows := run(t, "fma", "-time", "10ms")
	require.Len(t, rows, len(peakLoops()))
	for _, r := range rows {
		finite(t, r, "one_core", "all_cores")
	}
}

func TestEmbedQualityBenches(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	writeLabelled(t, a, 120)
	writeLabelled(t, b, 60)

	rows := run(t, "mixedlang", "-in", a, "-models", "local/lexical,local/hybrid", "-k", "6", "-seeds", "1")
	require.Len(t, rows, 3, "the corpus row and one row per model")
	assert.Equal(t, 120, rows[0]["rows"])
	assert.Equal(t, 12, rows[0]["non_latin"])
	for _, r := range rows[1:] {
		finite(t, r, "script_purity", "script_nmi", "cos_same_script")
	}

	rows = run(t, "embed-nmi", "-sets", a+","+b, "-models", "local/lexical", "-seeds", "1")
	require.Len(t, rows, 2, "one row per set and model")
	for _, r := range rows {
		assert.Equal(t, len(topics), r["k"])
		finite(t, r, "nmi", "ari")
		assert.Greater(t, r["nmi"].(float64), 0.5, "the topics' own words separate them")
	}
}

func TestHDBSCANBench(t *testing.T) {
	rows := run(t, "hdbscan", "-sizes", "200,400", "-d", "8", "-centres", "4", "-min-cluster-size", "10", "-min-samples", "5")
	require.Len(t, rows, 2)
	for _, r := range rows {
		assert.Contains(t, []any{200, 400}, r["n"], "%v", r)
		assert.Positive(t, r["clusters"], "%v", r)
	}
}

// npyFloat32 encodes a row-major n×d float32 matrix as a NumPy .npy file (format 1.0).
func npyFloat32(data []float32, n, d int) []byte {
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, d)
	// Magic (6) + version (2) + header length (2) + header, padded with spaces to a
	// multiple of 64 bytes and ended by a newline.
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	out := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), byte(len(header)>>8))
	out = append(out, header...)
	for _, v := range data {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

func TestKMeansBench(t *testing.T) {
	in := filepath.Join(t.TempDir(), "x.npy")
	const n, d = 600, 8
	data := make([]float32, n*d)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		for j := range d {
			data[i*d+j] = float32(i%5) + 0.1*float32(rng.NormFloat64())
		}
	}
	require.NoError(t, os.WriteFile(in, npyFloat32(data, n, d), 0o644))

	for _, algo := range []string{"lloyd", "minibatch"} {
		rows := run(t, "kmeans", "-in", in, "-k", "5", "-algo", algo, "-batch", "128", "-chunk", "256")
		var fits int
		for _, r := range rows {
			if _, ok := r["inertia"]; ok {
				fits++
				assert.Equal(t, algo, r["algo"])
				assert.Equal(t, 600, r["n"])
			}
		}
		assert.Equal(t, 1, fits, "%s: one result row: %v", algo, rows)
	}
}

func TestSearchBench(t *testing.T) {
	dir := t.TempDir()
	rows := run(t, "search", "-n", "1500", "-d", "16", "-c", "10", "-q", "20", "-k", "5", "-efs-more", "32", "-save", filepath.Join(dir, "hnsw"))
	require.NotEmpty(t, rows)
	indexes := map[string]bool{}
	for _, r := range rows {
		for k, v := range r {
			if strings.HasPrefix(k, "recall@") {
				var recall float64
				_, err := fmt.Sscan(fmt.Sprint(v), &recall)
				require.NoError(t, err, "%s = %v", k, v)
				assert.Greater(t, recall, 0.5, "%v", r)
				indexes[fmt.Sprint(r["index"])] = true
			}
		}
	}
	assert.Equal(t, map[string]bool{"exact": true, "hnsw": true, "hnsw-reloaded": true}, indexes, "recall of each index: %v", rows)
}

func TestSummarizeBench(t *testing.T) {
	data := t.TempDir()
	writeLabelled(t, filepath.Join(data, "hwu64", "normalized.jsonl"), 240)
	rows := run(t, "summarize", "-data", data, "-clusters", "6", "-queries", "300", "-latency", "0s", "-rate429", "0.2", "-retry-after", "0", "-concurrency", "3")
	require.NotEmpty(t, rows)
	assert.Equal(t, []string{"llm-fake-openai", "offline-c-tf-idf"}, distinct(rows, "case"), "%v", rows)
	for _, r := range rows {
		if r["case"] == "llm-fake-openai" {
			// The fake's seeded draws answer none of these six calls 429: a run that
			// retries takes the client's backoff (seconds), too long for a test.
			assert.EqualValues(t, 0, r["lost"], "%v", r)
			assert.EqualValues(t, 6, r["calls"], "one call per cluster: %v", r)
		}
	}
}

func TestHierarchyBench(t *testing.T) {
	slurp := filepath.Join(t.TempDir(), "slurp", "normalized.jsonl")
	writeLabelled(t, slurp, 1200)
	rows := run(t, "hierarchy", "-slurp", slurp, "-leaves", "kmeans", "-embed", "hash", "-emb-cache", "", "-seeds", "1,2",
		"-reps", "1", "-llm-delay", "0s", "-concurrency", "4")
	cases := distinct(rows, "case")
	for _, c := range []string{"slurp-purity", "slurp-purity-mean", "offline-200x3"} {
		assert.Contains(t, cases, c)
	}
	for _, r := range rows {
		if r["case"] == "slurp-purity" {
			finite(t, r, "purity", "leaf_purity")
		}
	}
	// The product's own path: load, embed, cluster and summarise into a store first.
	rows = run(t, "hierarchy", "-slurp", slurp, "-leaves", "product", "-embed", "hybrid", "-emb-cache", "", "-reps", "0", "-llm-delay", "-1s")
	assert.Contains(t, distinct(rows, "leaf_mode"), "product")
}

func TestWebBench(t *testing.T) {
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	run(t, "pipeline", "-n", "1500", "-k", "6", "-data", filepath.Join(dir, "none"), "-dir", work)
	rows := run(t, "web", "-dir", work, "-clients", "4", "-duration", "200ms", "-warm-clusters",
		"-scenarios", "search-fulltext,search-hybrid,search-semantic,cluster-page,cluster-api,clusters-list,runs")
	scenarios := distinct(rows, "scenario")
	assert.Len(t, scenarios, 7, "one row per scenario: %v", rows)
	for _, r := range rows {
		if _, ok := r["scenario"]; ok {
			assert.EqualValues(t, 0, r["errors"], "%v", r)
		}
	}
}

func TestTitlesBench(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	writeLabelled(t, a, 120)
	writeLabelled(t, b, 60)
	rows := run(t, "titles", "-sets", a, "-mixed", a+","+b, "-mixed-per", "40", "-embed", "local/lexical", "-per-cluster", "20", "-examples", "2")
	var sets []map[string]any
	for _, r := range rows {
		if _, ok := r["rows"]; ok {
			sets = append(sets, r)
		}
	}
	require.Len(t, sets, 2, "one figures row per set: a and the mixed one")
	assert.Equal(t, "mixed", sets[1]["set"])
	assert.Equal(t, 80, sets[1]["rows"])
	for _, r := range sets {
		finite(t, r, "keyword_list", "duplicates", "precision20")
		assert.Equal(t, 0, r["function_edge"], "%v", r)
		assert.Greater(t, r["precision20"].(float64), 0.0)
	}
	assert.Len(t, rows, 2+2*2, "and two example titles per set")
}

func TestTitleChecks(t *testing.T) {
	for _, tc := range []struct {
		title      string
		list, edge bool
	}{
		{"List, python, sort", true, false},
		{"Python", true, false},
		{"Python list sorting", false, false},
		{"Sorting of the", false, true},
		{"The alarm", false, true},
		{"Резюме и письма", true, false},
		{"Резюме и сопроводительные письма", false, false},
		{"Code and output", true, false},
		{"Python script and command line", false, false},
		{"Которые, это, напиши", true, true},
	} {
		assert.Equal(t, tc.list, keywordList(tc.title), tc.title)
		assert.Equal(t, tc.edge, functionEdge(tc.title), tc.title)
	}
}
