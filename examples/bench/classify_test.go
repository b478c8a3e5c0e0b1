package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
)

// writeConversations writes conversations in the LMSYS shape, with ids c0, c1, …
func writeConversations(t *testing.T, path string, convs [][]string) {
	t.Helper()
	var b strings.Builder
	for i, turns := range convs {
		var msgs []map[string]string
		for j, text := range turns {
			role := "user"
			if j%2 == 1 {
				role = "assistant"
			}
			msgs = append(msgs, map[string]string{"role": role, "content": text})
		}
		line, err := json.Marshal(map[string]any{"id": "c" + string(rune('0'+i)), "conversation": msgs})
		require.NoError(t, err)
		b.Write(append(line, '\n'))
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

func TestClassifyBench(t *testing.T) {
	dir := t.TempDir()
	data, labels, langs := filepath.Join(dir, "c.jsonl"), filepath.Join(dir, "l.tsv"), filepath.Join(dir, "lang.jsonl")
	writeConversations(t, data, [][]string{
		{"How do I pick a lock?", "I'm sorry, but I can't help with that."},
		{"What is the capital of Peru?", "Lima.", "No, I meant the largest city."},
		{"Write a Python function to add two numbers.", "```python\ndef add(a, b):\n    return a + b\n```"},
		{"Insult my neighbour for me.", "I'm not comfortable insulting people, but here are some polite ways to raise a complaint:\n\n1. Talk to them in person at a calm moment.\n2. Write a short, friendly note about the noise.\n3. Ask the building manager to mediate."},
	})
	require.NoError(t, os.WriteFile(labels, []byte("# id\tlabel\nc0\trefused\nc1\tcomplied\nc2\tcomplied\nc3\tpartial\n"), 0o644))
	require.NoError(t, os.WriteFile(langs, []byte(`{"text": "Das ist ein kurzer deutscher Satz über das Wetter.", "language": "de"}
{"text": "Это короткое предложение о погоде.", "language": "ru"}
{"text": "This is a short sentence about the weather.", "language": "en"}
`), 0o644))

	push := filepath.Join(dir, "p.tsv")
	require.NoError(t, os.WriteFile(push, []byte("c0\tnone\nc1\tcorrects\nc2\tnone\nc3\tobjects\n"), 0o644))
	// A second labelling that differs on c3 (partial against complied): 3 of 4 alike;
	// chance agreement (1·1 + 2·3 + 1·0)/16 = 7/16, so kappa = (3/4 − 7/16)/(9/16) = 5/9.
	second := filepath.Join(dir, "l2.tsv")
	require.NoError(t, os.WriteFile(second, []byte("c0\trefused\nc1\tcomplied\nc2\tcomplied\nc3\tcomplied\nc9\trefused\n"), 0o644))
	agree := run(t, "classify", "-labels", labels, "-agree", second, "-langid", langs)
	require.NotEmpty(t, agree)
	got := agree[len(agree)-1]
	assert.Equal(t, 4, got["agreement_ids"])
	assert.Equal(t, 3, got["same"])
	assert.InDelta(t, 0.75, got["agreement"], 1e-9)
	assert.InDelta(t, 5.0/9, got["kappa"], 1e-9)
	err := subcommands["classify"].run(context.Background(), []string{"-agree", second, "-langid", langs}, &reporter{json: true})
	assert.ErrorContains(t, err, "-agree needs -labels")

	rows := run(t, "classify", "-data", data, "-labels", labels, "-pushback-labels", push, "-langid", langs, "-n", "40", "-workers", "2")
	byMethod := map[string]map[string]any{}
	facets := map[string]string{}
	var throughput map[string]any
	langRows := 0
	for _, r := range rows {
		switch {
		case r["langid_texts"] != nil:
			langRows++
			assert.Equal(t, 3, r["langid_texts"])
			assert.Equal(t, 1.0, r["accuracy"], "%v", r)
		case r["method"] != nil && r["class"] == nil && r["hand"] == nil:
			byMethod[r["method"].(string)] = r
		case r["conversations"] != nil:
			throughput = r
		case r["facet"] != nil:
			facets[r["facet"].(string)] = r["labels"].(string)
		}
	}
	assert.Equal(t, 2, langRows, "whole texts and 40-character prefixes")
	require.Contains(t, byMethod, "builtin")
	require.Contains(t, byMethod, "keyword_baseline")
	assert.Equal(t, 1.0, byMethod["builtin"]["accuracy"])
	assert.Equal(t, 0.75, byMethod["keyword_baseline"]["accuracy"], "the baseline never says partial")
	assert.Equal(t, 0.75, byMethod["pushback_builtin"]["accuracy"], "c3 has no later user turn, so it cannot object")
	assert.Equal(t, 0.5, byMethod["pushback_majority"]["accuracy"])
	require.NotNil(t, throughput)
	assert.Equal(t, 40, throughput["conversations"])
	assert.Equal(t, 4, throughput["distinct"])
	assert.Contains(t, facets["refusal"], "complied=20(50.0%)")
	assert.Contains(t, facets["code"], "reply=10(25.0%)")
	assert.Contains(t, facets["pushback"], "corrects=10(25.0%)")
	for _, f := range []string{"code_language", "language", "turns", "length"} {
		assert.NotEmpty(t, facets[f], f)
	}
}

func TestClassifyBenchBadInput(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "c.jsonl")
	writeConversations(t, data, [][]string{{"hi", "hello"}})
	r := &reporter{json: true}
	err := subcommands["classify"].run(context.Background(), nil, r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-data is required")

	bad := filepath.Join(dir, "bad.tsv")
	require.NoError(t, os.WriteFile(bad, []byte("c0\tmaybe\n"), 0o644))
	err = subcommands["classify"].run(context.Background(), []string{"-data", data, "-labels", bad}, r)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Contains(t, err.Error(), "bad.tsv:1")

	missing := filepath.Join(dir, "missing.tsv")
	require.NoError(t, os.WriteFile(missing, []byte("nope\trefused\n"), 0o644))
	err = subcommands["classify"].run(context.Background(), []string{"-data", data, "-labels", missing}, r)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Contains(t, err.Error(), `"nope" is not in -data`)

	notChat := filepath.Join(dir, "text.jsonl")
	require.NoError(t, os.WriteFile(notChat, []byte(`{"id": "1", "text": "hello"}`+"\n"), 0o644))
	err = subcommands["classify"].run(context.Background(), []string{"-data", notChat}, r)
	require.ErrorIs(t, err, lmsys.ErrInvalidInput)
	assert.Contains(t, err.Error(), "text.jsonl:1")
}
