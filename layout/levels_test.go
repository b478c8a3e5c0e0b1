package layout_test

import (
	"context"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/internal/testdb"
	"github.com/lmsys-go/lmsys/layout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A map coloured by a list facet gives each point the first item of its list; a
// plain facet's label stays whole.
func TestFacetValuesOfAListFacet(t *testing.T) {
	ctx := context.Background()
	db := testdb.SQLite(t)
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "d"})
	require.NoError(t, err)
	_, err = db.InsertQueries(ctx, []lmsys.Query{{DatasetID: ds.ID, ConversationID: "a", Text: "a"}, {DatasetID: ds.ID, ConversationID: "b", Text: "b"}})
	require.NoError(t, err)
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: "run", Algorithm: "kmeans", NumClusters: 1, Status: lmsys.RunCompleted}))
	require.NoError(t, db.SaveAssignments(ctx, []lmsys.Assignment{{RunID: "run", QueryID: 1}, {RunID: "run", QueryID: 2}}))
	require.NoError(t, db.CreateClassificationRun(ctx, lmsys.ClassificationRun{ID: "c", TemplateID: "clio-1", TemplateHash: "h", ResultKey: "k",
		Provider: "openai", Model: "openai/x", Facets: []string{"languages", "note"}, Parameters: map[string]any{lmsys.ListFacetsParameter: []string{"languages"}}}))
	var ls []lmsys.Label
	for id, v := range map[int64]string{1: "fr, en", 2: "en"} {
		ls = append(ls, lmsys.Label{QueryID: id, Facet: "languages", Value: v, ClassificationRunID: "c", ResultKey: "k"},
			lmsys.Label{QueryID: id, Facet: "note", Value: v, ClassificationRunID: "c", ResultKey: "k"})
	}
	require.NoError(t, db.SaveLabels(ctx, ls))
	got, err := layout.FacetValues(ctx, db, "run", "languages")
	require.NoError(t, err)
	assert.Equal(t, map[int64]string{1: "fr", 2: "en"}, got)
	got, err = layout.FacetValues(ctx, db, "run", "note")
	require.NoError(t, err)
	assert.Equal(t, map[int64]string{1: "fr, en", 2: "en"}, got)
}
