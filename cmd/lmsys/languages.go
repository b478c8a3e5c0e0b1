package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/store"
)

// nonEnglishShare estimates the share of a run's queries that are not English: from
// the queries' language column where they have one, otherwise detected in their text
// (classify.DetectLanguage, as the built-in language classifier does; a text with no
// letters counts as English). It reads at most 5,000 of the run's queries.
func nonEnglishShare(ctx context.Context, db *store.DB, runID string) (float64, error) {
	var seen, other int
	err := db.ScanQueries(ctx, lmsys.QueryFilter{RunID: runID}, 1000, func(qs []lmsys.Query) error {
		for _, q := range qs {
			if seen >= 5000 {
				return errStopScan
			}
			seen++
			switch lang := strings.ToLower(strings.TrimSpace(q.Language)); {
			case lang == "english" || lang == "en":
			case lang != "" && lang != "unknown":
				other++
			default:
				if code := classify.DetectLanguage(q.Text); code != "en" && code != classify.Undetermined {
					other++
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return 0, err
	}
	if seen == 0 {
		return 0, nil
	}
	return float64(other) / float64(seen), nil
}

var errStopScan = errors.New("enough queries read")

// noteLanguages tells, on w, what the offline encoder can and cannot do for a run of
// a local embedding space whose queries are largely not English, unless the run
// clustered a facet's text instead of the queries.
func noteLanguages(ctx context.Context, db *store.DB, run lmsys.Run, w io.Writer) {
	if on, _ := run.Parameters["on"].(string); run.Space.Provider != "local" || on != "" {
		return // a run clustered on a facet's text (the English Clio request) is not the queries' languages
	}
	share, err := nonEnglishShare(ctx, db, run.ID)
	if err != nil || share <= 0.5 {
		return
	}
	fmt.Fprintf(w, "Note: %.0f%% of this run's queries are not English. The offline encoder (%s) understands English\n"+
		"meaning only: queries in other languages cluster by shared words and script, not by what they ask, so one\n"+
		"language's questions about different things can share a cluster. For multilingual logs use\n"+
		"--embedding-model local/hybrid (offline, keeps scripts apart by their words) or a multilingual model:\n"+
		"cohere/embed-v4.0 (CO_API_KEY), openai/text-embedding-3-small (OPENAI_API_KEY), or ollama/bge-m3 (OLLAMA_HOST).\n",
		100*share, run.Space)
}
