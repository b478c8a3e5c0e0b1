package report

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
	"github.com/stretchr/testify/require"
)

// hostile are query texts, titles and values that break out of HTML, attributes,
// Markdown links, tables and lines when written unescaped.
var hostile = []string{
	`<script>alert("x")</script>`,
	`"><img src=x onerror=alert(1)>`,
	`' onmouseover='alert(2)`,
	`[click me](javascript:alert(3))`,
	`![pixel](http://evil.example/p.png)`,
	`| cell | injected |`,
	"first line\n# Heading injection\n| a | b |",
	"`code` and ``` a fence",
	"1. an ordered list",
	"- a bullet",
	`&lt;script&gt; entities`,
	"\u202Edesrever",
	`<!-- a comment -->`,
	`$x^2$ and ~~strike~~ and *em* and _em_`,
	`back\slash \| \]`,
	`</code></td></tr></table><b>bold</b>`,
	`<style>body{display:none}</style>`,
	`http://evil.example/ and www.evil.example`,
}

// fixtureRun is the id of the fixture's run: quotes, brackets and a pipe.
const fixtureRun = `run-"<1>"|x`

// fixture is what newFixture stored.
type fixture struct {
	db        *store.DB
	runID     string
	hierarchy string
}

// fixtureOptions choose what newFixture stores besides queries and a run.
type fixtureOptions struct {
	timestamps, summaries, hierarchy, labels, layout bool
}

func allParts() fixtureOptions { return fixtureOptions{true, true, true, true, true} }

// newFixture stores 60 queries over four weeks in three clusters of one run, with
// hostile texts, titles, languages and models, and, as asked, summaries, a hierarchy,
// refusal and pushback labels and a map.
func newFixture(t testing.TB, o fixtureOptions) fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "q.db")})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ds, err := db.EnsureDataset(ctx, lmsys.Dataset{Name: "fixture"})
	require.NoError(t, err)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
	var qs []lmsys.Query
	cluster := make([]int, 60)
	for i := range 60 {
		c := 0
		switch {
		case i >= 20 && i < 45:
			c = 1
		case i >= 45:
			c = 2
		}
		cluster[i] = c
		text := fmt.Sprintf("question %d about topic %d", i, c)
		if c == 0 {
			text = hostile[i%len(hostile)]
		}
		q := lmsys.Query{DatasetID: ds.ID, ConversationID: fmt.Sprint(i), Text: text,
			Language: []string{"English", "German", `<b>Klingon</b>`}[i%3], Model: []string{"gpt-4", `m"><script>alert(4)</script>`}[i%2]}
		if o.timestamps {
			// Cluster 2 falls in the last two weeks only: it rises.
			week := i % 4
			if c == 2 {
				week = 2 + i%2
			}
			ts := start.Add(time.Duration(week)*7*24*time.Hour + time.Duration(i)*time.Hour)
			q.Timestamp = &ts
		}
		qs = append(qs, q)
	}
	_, err = db.InsertQueries(ctx, qs)
	require.NoError(t, err)
	require.NoError(t, db.CreateRun(ctx, lmsys.Run{ID: fixtureRun, Algorithm: "kmeans", NumClusters: 3, Status: lmsys.RunCompleted,
		Space: lmsys.Space{Provider: "local", Model: "lexical", Dims: 512}, CreatedAt: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)}))
	var as []lmsys.Assignment
	for i := range 60 {
		as = append(as, lmsys.Assignment{RunID: fixtureRun, QueryID: int64(i + 1), ClusterID: cluster[i], Confidence: 1})
	}
	require.NoError(t, db.SaveAssignments(ctx, as))
	f := fixture{db: db, runID: fixtureRun}
	titles := []string{`<script>alert("title")</script> | pipes`, `Title](javascript:alert(5)) *bold*`, "Rising topic"}
	if o.summaries {
		require.NoError(t, db.SaveSummaryRun(ctx, lmsys.SummaryRun{SummaryRunID: "sum-1", RunID: fixtureRun, Model: "offline", NumClusters: 3}))
		var ss []lmsys.Summary
		for c, title := range titles {
			ss = append(ss, lmsys.Summary{RunID: fixtureRun, ClusterID: c, SummaryRunID: "sum-1", Title: title,
				Description: "about " + hostile[c], Model: "offline", NumQueries: 20})
		}
		require.NoError(t, db.SaveSummaries(ctx, ss))
	}
	if o.hierarchy {
		f.hierarchy = "hier-<1>"
		p := 1000
		nodes := []lmsys.HierarchyNode{
			{HierarchyRunID: f.hierarchy, RunID: fixtureRun, ClusterID: p, Level: 1, ChildrenIDs: []int{0, 1, 2}, Title: `Parent <i>category</i> | [x](javascript:y)`,
				Description: hostile[1] + " " + hostile[17], NumQueries: 60},
		}
		sizes := []int{20, 25, 15}
		for c := range 3 {
			nodes = append(nodes, lmsys.HierarchyNode{HierarchyRunID: f.hierarchy, RunID: fixtureRun, ClusterID: c, ParentClusterID: &p, Level: 0,
				Title: titles[c], NumQueries: sizes[c]})
		}
		require.NoError(t, db.SaveHierarchy(ctx, nodes))
	}
	if o.labels {
		for _, facet := range []string{"refusal", "pushback"} {
			key := "builtin:" + facet + "@1"
			require.NoError(t, db.CreateClassificationRun(ctx, lmsys.ClassificationRun{ID: "classify-" + facet, ResultKey: key, TemplateID: facet,
				Facets: []string{facet}, Status: lmsys.ClassificationCompleted, CreatedAt: time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)}))
			var ls []lmsys.Label
			for i := range 60 {
				v := "complied"
				if facet == "refusal" && cluster[i] == 0 && i%4 != 0 {
					v = "refused"
				}
				if facet == "pushback" {
					v = "none"
					if cluster[i] == 1 && i%3 == 0 {
						v = "objects"
					}
				}
				ls = append(ls, lmsys.Label{QueryID: int64(i + 1), Facet: facet, Value: v, ClassificationRunID: "classify-" + facet, ResultKey: key})
			}
			require.NoError(t, db.SaveLabels(ctx, ls))
		}
	}
	if o.layout {
		l := store.Layout{RunID: fixtureRun, Seed: 7}
		for i := range 60 {
			l.QueryIDs = append(l.QueryIDs, int64(i+1))
			l.X = append(l.X, float32(cluster[i]*10)+float32(i%5))
			l.Y = append(l.Y, float32(i%7))
		}
		require.NoError(t, db.SaveLayout(ctx, l))
	}
	return f
}
