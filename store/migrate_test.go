package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUpgradeFromSeedSchema writes a database the way the Python seed tool (schema
// version 1) does, then opens it with this library: every row is intact and usable.
func TestUpgradeFromSeedSchema(t *testing.T) {
	for _, adopt := range []bool{false, true} {
		name := "versioned"
		if adopt {
			name = "seed tool database without schema_migrations"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "old.db")
			old, err := store.OpenAtVersion(ctx, path, 1)
			require.NoError(t, err)
			stmts := []string{
				`INSERT INTO queries (id, conversation_id, model, query_text, language, extra_metadata, created_at) VALUES
					(1, 'conv-a', 'vicuna-13b', 'how do I sort a list in python', 'English', '{"turn": 1}', '2025-10-04 17:04:42'),
					(2, 'conv-b', 'gpt-4', 'écris un poème', 'French', NULL, '2025-10-04 17:04:43')`,
				`INSERT INTO clustering_runs (run_id, algorithm, num_clusters, parameters, description, created_at) VALUES
					('kmeans-2-20251004-170442', 'kmeans', 2, '{"embedding_provider": "cohere", "embedding_model": "embed-v4.0", "embedding_dimension": 256}', 'old run', '2025-10-04 17:04:42')`,
				`INSERT INTO query_clusters (run_id, query_id, cluster_id, confidence_score) VALUES ('kmeans-2-20251004-170442', 1, 0, 0.9), ('kmeans-2-20251004-170442', 2, 1, 0.8)`,
				`INSERT INTO cluster_summaries (run_id, cluster_id, summary_run_id, alias, title, description, num_queries, representative_queries, model, generated_at) VALUES
					('kmeans-2-20251004-170442', 0, 'summary-gpt-4o-mini-20251006-155519', 'v1', 'Python list sorting', 'Sorting lists.', 1, '["how do I sort a list in python"]', 'openai/gpt-4o-mini', '2025-10-06 15:55:19')`,
				`INSERT INTO cluster_hierarchies (hierarchy_run_id, run_id, cluster_id, parent_cluster_id, level, children_ids, title, created_at) VALUES
					('hier-kmeans-2-20251004-170442-20251007-101010', 'kmeans-2-20251004-170442', 0, NULL, 0, '[]', 'Python list sorting', '2025-10-07 10:10:10')`,
			}
			for _, s := range stmts {
				require.NoError(t, old.Exec(s).Error)
			}
			if adopt {
				require.NoError(t, old.Exec(`DROP TABLE schema_migrations`).Error)
			}
			sqlDB, _ := old.DB()
			require.NoError(t, sqlDB.Close())

			db, err := store.Open(ctx, store.Config{Path: path})
			require.NoError(t, err)
			defer db.Close()

			qs, err := db.ListQueries(ctx, lmsys.QueryFilter{})
			require.NoError(t, err)
			require.Len(t, qs, 2)
			assert.Equal(t, "how do I sort a list in python", qs[0].Text)
			assert.Equal(t, map[string]any{"turn": float64(1)}, qs[0].Metadata)
			assert.Equal(t, "écris un poème", qs[1].Text)

			run, err := db.GetRun(ctx, "kmeans-2-20251004-170442")
			require.NoError(t, err)
			assert.Equal(t, lmsys.Space{Provider: "cohere", Model: "embed-v4.0", Dims: 256}, run.Space, "space read from the seed's parameters")
			assert.Equal(t, lmsys.RunCompleted, run.Status)
			sizes, err := db.ClusterSizes(ctx, run.ID)
			require.NoError(t, err)
			assert.Equal(t, map[int]int{0: 1, 1: 1}, sizes)

			sums, err := db.Summaries(ctx, run.ID, "v1")
			require.NoError(t, err)
			require.Len(t, sums, 1)
			assert.Equal(t, "Python list sorting", sums[0].Title)
			assert.Equal(t, []string{"how do I sort a list in python"}, sums[0].RepresentativeQueries)
			nodes, err := db.Hierarchy(ctx, "hier-kmeans-2-20251004-170442-20251007-101010")
			require.NoError(t, err)
			assert.Len(t, nodes, 1)

			// Version 3 backfilled text hashes: cached embeddings join old rows.
			space := run.Space
			vec := make([]float32, 256)
			vec[0] = 1
			require.NoError(t, db.PutEmbeddings(ctx, space, map[string][]float32{lmsys.TextHash(qs[0].Text): vec}))
			var got []int64
			require.NoError(t, db.ScanQueryVectors(ctx, space, lmsys.QueryFilter{}, 10, func(ids []int64, _ [][]float32) error {
				got = append(got, ids...)
				return nil
			}))
			assert.Equal(t, []int64{1}, got)

			// New rows go next to old ones; old conversation ids stay unique per dataset.
			ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "new"})
			require.NoError(t, err)
			n, err := db.InsertQueries(ctx, []lmsys.Query{{DatasetID: ds.ID, ConversationID: "conv-a", Text: "new"}})
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			require.NoError(t, db.Close())

			// Opening again migrates nothing and loses nothing.
			db2, err := store.Open(ctx, store.Config{Path: path})
			require.NoError(t, err)
			defer db2.Close()
			n64, err := db2.CountQueries(ctx, lmsys.QueryFilter{})
			require.NoError(t, err)
			assert.Equal(t, int64(3), n64)
		})
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	db, err := store.Open(ctx, store.Config{Path: path})
	require.NoError(t, err)
	require.NoError(t, db.Gorm().Exec(`INSERT INTO schema_migrations (version, name) VALUES (999, 'future')`).Error)
	require.NoError(t, db.Close())
	_, err = store.Open(ctx, store.Config{Path: path})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "newer than this library")
}
