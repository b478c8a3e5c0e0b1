package dataset

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/store"
)

// demoStore returns a SQLite store holding the demo set, and a run over its first
// 50 queries with titled clusters.
func demoStore(t *testing.T) (*store.DB, string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	stats, err := Load(ctx, &ReaderSource{Label: "demo", Reader: bytes.NewReader(demo.JSONL())}, db, LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(len(demo.Queries())), stats.Inserted)
	runID := lmsys.NewRunID("kmeans", 3, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: runID, Algorithm: "kmeans", NumClusters: 3, Space: lmsys.Space{Provider: "test", Model: "m", Dims: 4}}))
	qs, err := db.ListQueries(ctx, lmsys.QueryFilter{Limit: 50})
	require.NoError(t, err)
	var as []lmsys.Assignment
	for i, q := range qs {
		as = append(as, lmsys.Assignment{RunID: runID, QueryID: q.ID, ClusterID: i % 3, Confidence: 0.5})
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	sid := lmsys.NewSummaryRunID("test", time.Now())
	require.NoError(t, db.SaveSummaryRun(ctx, lmsys.SummaryRun{SummaryRunID: sid, RunID: runID, Model: "test"}))
	var ss []lmsys.Summary
	for c := range 3 {
		ss = append(ss, lmsys.Summary{RunID: runID, ClusterID: c, SummaryRunID: sid, Title: fmt.Sprintf("Cluster <%d> \"title\"", c), Model: "test"})
	}
	require.NoError(t, db.SaveSummaries(ctx, ss))
	return db, runID
}

func TestExportFormatsRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, runID := demoStore(t)
	want := demo.Queries()
	wantTexts := make([]string, len(want))
	for i, q := range want {
		wantTexts[i] = q.Text
	}
	sort.Strings(wantTexts)
	for _, format := range ExportFormats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := Export(ctx, db, &buf, ExportOptions{Format: format, BatchSize: 64})
			require.NoError(t, err)
			assert.Equal(t, int64(len(want)), n)
			switch format {
			case FormatJSON:
				var rows []ExportRow
				require.NoError(t, json.Unmarshal(buf.Bytes(), &rows))
				require.Len(t, rows, len(want))
				assert.Equal(t, "demo", rows[0].Dataset)
				var meta map[string]any
				require.NoError(t, json.Unmarshal(rows[0].Metadata, &meta))
				assert.Equal(t, demo.Topic(want[0]), meta["topic"])
			case FormatCSV:
				recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
				require.NoError(t, err)
				assert.Equal(t, csvHeader, recs[0])
				assert.Len(t, recs, len(want)+1)
			case FormatParquet:
				rows, err := parquet.Read[ExportRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
				require.NoError(t, err)
				require.Len(t, rows, len(want))
				assert.True(t, want[0].Timestamp.Equal(*rows[0].Timestamp))
			}
			// What Export writes, Load reads back.
			p := writeFile(t, "export."+format, buf.Bytes())
			src, err := OpenFile(p, Mapping{})
			require.NoError(t, err)
			fresh := newMemStore()
			stats, err := Load(ctx, src, fresh, LoadOptions{})
			require.NoError(t, err)
			assert.Equal(t, int64(len(want)), stats.Inserted, stats.Skipped)
			got := fresh.texts()
			sort.Strings(got)
			assert.Equal(t, wantTexts, got)
			assert.Equal(t, want[0].ConversationID, fresh.queries[0].ConversationID)
			assert.Equal(t, want[0].Model, fresh.queries[0].Model)
		})
	}

	// With a run: only its assigned queries, with cluster ids and titles.
	var buf bytes.Buffer
	n, err := Export(ctx, db, &buf, ExportOptions{Format: FormatJSONL, RunID: runID})
	require.NoError(t, err)
	assert.Equal(t, int64(50), n)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 50)
	var r ExportRow
	require.NoError(t, json.Unmarshal([]byte(lines[4]), &r))
	assert.Equal(t, runID, r.RunID)
	require.NotNil(t, r.ClusterID)
	assert.Equal(t, int64(1), *r.ClusterID)
	assert.Equal(t, `Cluster <1> "title"`, r.ClusterTitle)
	assert.Contains(t, lines[4], `"cluster_title":"Cluster <1> \"title\""`, "no HTML escaping")
	assert.Equal(t, 0.5, *r.Confidence)

	// Filters apply.
	buf.Reset()
	n, err = Export(ctx, db, &buf, ExportOptions{Format: FormatCSV, Filter: lmsys.QueryFilter{Language: "German"}})
	require.NoError(t, err)
	assert.Equal(t, int64(20), n)

	_, err = Export(ctx, db, &buf, ExportOptions{Format: FormatJSON, RunID: "no-such-run"})
	assert.ErrorIs(t, err, lmsys.ErrNotFound)
	_, err = Export(ctx, db, &buf, ExportOptions{Format: "xml"})
	assert.ErrorIs(t, err, lmsys.ErrInvalidInput)

	buf.Reset()
	n, err = Export(ctx, db, &buf, ExportOptions{Format: FormatJSON, Filter: lmsys.QueryFilter{Model: "none"}})
	require.NoError(t, err)
	assert.Equal(t, int64(0), n)
	assert.Equal(t, "[]\n", buf.String())
}
