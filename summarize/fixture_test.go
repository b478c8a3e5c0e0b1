package summarize

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/require"
)

var testSpace = lmsys.Space{Provider: "test", Model: "axes", Dims: 3}

// fixtureClusters are the clusters of the fixture run: texts, and the direction their
// vectors point in. Cluster 1 sits next to cluster 0; 2 and 3 are far from both; 4 is
// tiny.
var fixtureClusters = []struct {
	texts []string
	dir   [3]float32
}{
	{[]string{"how to sort a python list", "python sort list descending", "sort list of dicts in python", "python sorted vs sort", "sort a python list by key", "python list sort reverse"}, [3]float32{1, 0, 0}},
	{[]string{"python dict comprehension", "merge two python dicts", "iterate over python dict items", "python dict get default", "python dict keys to list"}, [3]float32{0.9, 0.3, 0}},
	{[]string{"write a poem about the sea", "poem about love and loss", "short poem about autumn", "a haiku about rain", "write me a sonnet about the moon"}, [3]float32{0, 1, 0}},
	{[]string{"capital of france", "what is the capital of japan", "capital city of canada", "capital of brazil", "mail me at jane.doe@example.com the capital of peru, key sk-proj-abcdefghijklmnopqrstuvwxyz123456"}, [3]float32{0, 0, 1}},
	{[]string{"tiny cluster one", "tiny cluster two"}, [3]float32{0, -1, 0}},
}

const fixtureRun = "kmeans-5-20260101-000000"

// newFixture stores the fixture run and returns the store.
func newFixture(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db := testdb.SQLite(t)
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "fixture", Source: "test"})
	require.NoError(t, err)
	var qs []lmsys.Query
	vecs := map[string][]float32{}
	clusterOf := map[string]int{}
	for c, fc := range fixtureClusters {
		for i, text := range fc.texts {
			lang := "English"
			if i == 0 && c == 2 {
				lang = "German"
			}
			qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("c%d-%d", c, i), Text: text, Language: lang, Model: "vicuna-13b"})
			// Later texts sit a little off the cluster's direction, so the first is nearest.
			v := fc.dir
			v[(c+1)%3] += 0.05 * float32(i)
			vecs[lmsys.TextHash(text)] = v[:]
			clusterOf[text] = c
		}
		// A duplicate text, which the sample must not repeat.
		qs = append(qs, lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprintf("c%d-dup", c), Text: fc.texts[0], Language: "English", Model: "gpt-4"})
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.NoError(t, db.PutEmbeddings(ctx, testSpace, vecs))
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: fixtureRun, Algorithm: "kmeans", NumClusters: len(fixtureClusters), Space: testSpace,
		Status: lmsys.RunCompleted, CreatedAt: time.Now()}))
	stored, err := db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	var as []lmsys.Assignment
	for _, q := range stored {
		as = append(as, lmsys.Assignment{RunID: fixtureRun, QueryID: q.ID, ClusterID: clusterOf[q.Text], Confidence: 1})
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	cents := map[int][]float32{}
	for c, fc := range fixtureClusters {
		cents[c] = []float32{fc.dir[0], fc.dir[1], fc.dir[2]}
	}
	require.NoError(t, db.SaveCentroids(ctx, fixtureRun, cents))
	return db
}
