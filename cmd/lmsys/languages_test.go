package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNonEnglishRunsGetANote(t *testing.T) {
	cases := []struct {
		name     string
		text     func(i int) string
		language string
		want     bool
	}{
		{"Russian without a language column", func(i int) string { return fmt.Sprintf("напиши рассказ про кота номер %d", i) }, "", true},
		{"Chinese with its language", func(i int) string { return fmt.Sprintf("写一首关于春天的诗 %d", i) }, "Chinese", true},
		{"English", func(i int) string { return fmt.Sprintf("write a story about cat number %d", i) }, "English", false},
		{"English without a language column", func(i int) string { return fmt.Sprintf("how do I sort list %d", i) }, "", false},
		{"Spanish without a language column", func(i int) string {
			return fmt.Sprintf("¿cómo puedo ordenar una lista de números en python? ejemplo %d", i)
		}, "", true},
		{"German without a language column", func(i int) string {
			return fmt.Sprintf("Schreibe bitte eine kurze Geschichte über eine Katze, Nummer %d", i)
		}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "q.jsonl")
			f, err := os.Create(path)
			require.NoError(t, err)
			for i := 0; i < 60; i++ {
				row := map[string]string{"id": fmt.Sprint(i), "text": tc.text(i)}
				if tc.language != "" {
					row["language"] = tc.language
				}
				b, _ := json.Marshal(row)
				f.Write(append(b, '\n'))
			}
			require.NoError(t, f.Close())
			db := filepath.Join(dir, "q.db")
			code, _, errOut := cli(t, "--db-path", db, "load", "--source", path)
			require.Equal(t, 0, code, errOut)
			code, _, errOut = cli(t, "--db-path", db, "cluster", "kmeans", "--n-clusters", "3", "--embedding-model", "local/lexical")
			require.Equal(t, 0, code, errOut)
			if tc.want {
				assert.Contains(t, errOut, "of this run's queries are not English")
				assert.Contains(t, errOut, "local/hybrid")
			} else {
				assert.NotContains(t, errOut, "not English")
			}
		})
	}
}
