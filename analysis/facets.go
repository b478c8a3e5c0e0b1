// Package analysis answers the questions a team asks of a clustering run every week:
// how clusters split by metadata (facets), how their shares move over time (trends),
// and where new queries fall among existing clusters (assign).
//
// It reads a finished stage's output and writes nothing of its own (Assign records the
// new queries it places): the runs and assignments of clustering, the summaries of
// summarize, the labels of classify and the queries' metadata, all through a *store.DB,
// whose SQL does the counting. The CLI's facets, trends, compare-runs and assign
// commands, the HTTP API, the MCP tools and package report print what it computes.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
	"github.com/lmsys-go/lmsys/store"
)

// FacetValue is one value of a facet with its count and share.
type FacetValue struct {
	Key   string  `json:"key"`
	Count int64   `json:"count"`
	Share float64 `json:"share"`
}

// ClusterFacet is the facet's distribution inside one cluster.
type ClusterFacet struct {
	ClusterID int          `json:"cluster_id"`
	Title     string       `json:"title,omitempty"`
	Size      int64        `json:"num_queries"`
	Values    []FacetValue `json:"values"`
}

// Lift says how over-represented a facet value is in a cluster: Lift is the value's
// share in the cluster divided by its share overall. Counts are given so that a high
// lift on three queries reads as what it is.
type Lift struct {
	ClusterID   int     `json:"cluster_id"`
	Title       string  `json:"title,omitempty"`
	Value       string  `json:"value"`
	Count       int64   `json:"count"`
	ClusterSize int64   `json:"cluster_size"`
	Share       float64 `json:"share_in_cluster"`
	BaseShare   float64 `json:"share_overall"`
	Lift        float64 `json:"lift"`
	// Z is the two-proportion z statistic of the cluster's share against the rest of
	// the run's queries.
	Z float64 `json:"z"`
}

// Facet is the distribution of one metadata field over a run. Shares are of
// queries: of the run's (Overall) or the cluster's (Clusters). A list facet (List,
// such as the Clio set's languages) counts each item once for every query whose list
// holds it, so its counts can sum past the queries and its shares past 1.
type Facet struct {
	Field string `json:"field"`
	// List is true for a list facet.
	List            bool           `json:"list,omitempty"`
	Total           int64          `json:"total_queries"`
	Overall         []FacetValue   `json:"overall"`
	Clusters        []ClusterFacet `json:"clusters"`
	OverRepresented []Lift         `json:"over_represented"`
}

// FacetOptions configure Facets.
type FacetOptions struct {
	// Fields are the facets: "language", "model", "dataset", or any key of the
	// queries' extra_metadata JSON (e.g. "moderation_flagged", "turn").
	Fields []string
	// ClusterID, when set, restricts the per-cluster output to that cluster.
	ClusterID *int
	// Top bounds the values listed per cluster and overall (default 10).
	Top int
	// MinCount is the smallest count a lift is reported for (default 5).
	MinCount int64
	// SummaryRef picks the summary run titles come from (empty: latest, if any).
	SummaryRef string
	// Sort orders the over-represented list: "z" (default: the strongest evidence
	// first), "lift" (the largest ratio first, among values counted MinCount times or
	// more) or "count".
	Sort string
}

var metaKey = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// unlabelled is the value of a label facet for a query its classifier has not seen.
const unlabelled = "(unlabelled)"

// labelExpr returns the SQL expression of a label facet over queries q: the label of
// the newest classifier configuration that answered it (store.DB.LatestResultKey),
// and whether that configuration answers the facet with a list.
func labelExpr(ctx context.Context, db *store.DB, facet string) (expr string, args []any, list, ok bool, err error) {
	key, err := db.LatestResultKey(ctx, facet)
	if errors.Is(err, lmsys.ErrNotFound) {
		return "", nil, false, false, nil
	}
	if err != nil {
		return "", nil, false, false, err
	}
	if list, err = db.IsListFacet(ctx, facet); err != nil {
		return "", nil, false, false, err
	}
	return `(SELECT l.label FROM query_classifications l WHERE l.result_key = ? AND l.query_id = q.id AND l.facet = ?)`, []any{key, facet}, list, true, nil
}

// LabelCondition turns "facet=value" into an SQL condition on queries q
// (" AND EXISTS …") that keeps the queries the newest configuration of that facet's
// classifier gave that label, or for a list facet a list holding that item
// (store.DB.LabelMatch). An empty spec is no condition; an unknown facet is an error
// wrapping lmsys.ErrNotFound.
func LabelCondition(ctx context.Context, db *store.DB, spec string) (string, []any, error) {
	if spec == "" {
		return "", nil, nil
	}
	facet, value, err := lmsys.ParseLabel(spec)
	if err != nil {
		return "", nil, err
	}
	return db.LabelMatch(ctx, facet, value)
}

// fieldExpr returns the SQL expression of a facet field over queries q, and whether
// its values are lists (a list facet's labels, items joined by lmsys.ListSeparator).
// Fields are the queries' language, model and dataset; then the facets classifiers
// labelled (refusal, pushback, code …; the language column falls back to the language
// classifier's label where a row has none); then keys of extra_metadata.
func fieldExpr(ctx context.Context, db *store.DB, field string) (string, []any, bool, error) {
	switch field {
	case "language":
		if lexpr, largs, list, ok, err := labelExpr(ctx, db, "language"); err != nil {
			return "", nil, false, err
		} else if ok {
			return `COALESCE(q.language, ` + lexpr + `, '(unknown)')`, largs, list, nil
		}
		return `COALESCE(q.language, '(unknown)')`, nil, false, nil
	case "model":
		return `COALESCE(q.model, '(unknown)')`, nil, false, nil
	case "dataset":
		return `COALESCE((SELECT name FROM datasets ds WHERE ds.id = q.dataset_id), '(none)')`, nil, false, nil
	}
	if !metaKey.MatchString(field) {
		return "", nil, false, fmt.Errorf("%w: facet %q: use language, model, dataset, a classified facet or a metadata key of letters, digits, '_', '.', '-'", lmsys.ErrInvalidInput, field)
	}
	if lexpr, largs, list, ok, err := labelExpr(ctx, db, field); err != nil {
		return "", nil, false, err
	} else if ok {
		return `COALESCE(` + lexpr + `, '` + unlabelled + `')`, largs, list, nil
	}
	if db.Postgres() {
		return `COALESCE((q.extra_metadata::jsonb ->> ?), '(none)')`, []any{field}, false, nil
	}
	return `COALESCE(CAST(json_extract(q.extra_metadata, ?) AS TEXT), '(none)')`, []any{`$."` + field + `"`}, false, nil
}

// titles returns cluster titles of a run's summary run (none when it has no summaries).
func titles(ctx context.Context, db *store.DB, runID, ref string) map[int]string {
	out := map[int]string{}
	ss, err := db.Summaries(ctx, runID, ref)
	if err != nil {
		return out
	}
	for _, s := range ss {
		out[s.ClusterID] = s.Title
	}
	return out
}

// Facets counts a run's queries by each field, overall and per cluster, and lists the
// clusters where a value is most over-represented.
func Facets(ctx context.Context, db *store.DB, runID string, opts FacetOptions) ([]Facet, error) {
	if _, err := db.GetRun(ctx, runID); err != nil {
		return nil, err
	}
	if len(opts.Fields) == 0 {
		opts.Fields = []string{"language", "model"}
	}
	if opts.Top <= 0 {
		opts.Top = 10
	}
	if opts.MinCount <= 0 {
		opts.MinCount = 5
	}
	switch opts.Sort {
	case "", "z", "lift", "count":
	default:
		return nil, fmt.Errorf("%w: sort %q: use z, lift or count", lmsys.ErrInvalidInput, opts.Sort)
	}
	names := titles(ctx, db, runID, opts.SummaryRef)
	var out []Facet
	for _, field := range opts.Fields {
		field = strings.TrimSpace(field)
		expr, eargs, list, err := fieldExpr(ctx, db, field)
		if err != nil {
			return nil, err
		}
		args := append(eargs, runID)
		rows, err := db.Gorm().WithContext(ctx).Raw(`SELECT qc.cluster_id, `+expr+` AS k, COUNT(*) FROM query_clusters qc
			JOIN queries q ON q.id = qc.query_id WHERE qc.run_id = ? GROUP BY qc.cluster_id, k`, args...).Rows()
		if err != nil {
			return nil, fmt.Errorf("analysis: facet %s: %w", field, err)
		}
		counts := map[int]map[string]int64{}
		overall := map[string]int64{}
		sizes := map[int]int64{}
		var total int64
		for rows.Next() {
			var c int
			var k string
			var n int64
			if err := rows.Scan(&c, &k, &n); err != nil {
				rows.Close()
				return nil, err
			}
			keys := []string{k}
			if list {
				// A list counts once for each of its items; sizes and totals count
				// queries, so a list facet's shares can sum past 1.
				keys = lmsys.ListItems(k)
			}
			if counts[c] == nil {
				counts[c] = map[string]int64{}
			}
			for _, k := range keys {
				if field == "language" {
					// The language classifier's codes read as the column's names.
					k = classify.LanguageName(k)
				}
				counts[c][k] += n
				overall[k] += n
			}
			sizes[c] += n
			total += n
		}
		rows.Close()
		f := Facet{Field: field, List: list, Total: total, Overall: topValues(overall, total, opts.Top), Clusters: []ClusterFacet{}, OverRepresented: []Lift{}}
		var cids []int
		for c := range counts {
			if opts.ClusterID == nil || *opts.ClusterID == c {
				cids = append(cids, c)
			}
		}
		sort.Slice(cids, func(i, j int) bool {
			if sizes[cids[i]] != sizes[cids[j]] {
				return sizes[cids[i]] > sizes[cids[j]]
			}
			return cids[i] < cids[j]
		})
		for _, c := range cids {
			f.Clusters = append(f.Clusters, ClusterFacet{ClusterID: c, Title: names[c], Size: sizes[c], Values: topValues(counts[c], sizes[c], opts.Top)})
			for k, n := range counts[c] {
				if n < opts.MinCount {
					continue
				}
				share := float64(n) / float64(sizes[c])
				base := float64(overall[k]) / float64(total)
				lift := share / base
				if lift <= 1 {
					continue
				}
				restN, restK := total-sizes[c], overall[k]-n
				f.OverRepresented = append(f.OverRepresented, Lift{ClusterID: c, Title: names[c], Value: k, Count: n, ClusterSize: sizes[c],
					Share: share, BaseShare: base, Lift: lift, Z: twoProportionZ(restK, restN, n, sizes[c])})
			}
		}
		sortLifts(f.OverRepresented, opts.Sort)
		if len(f.OverRepresented) > opts.Top {
			f.OverRepresented = f.OverRepresented[:opts.Top]
		}
		out = append(out, f)
	}
	return out, nil
}

// sortLifts orders lifts by the key named (z, lift or count), the others breaking
// ties, then by cluster and value.
func sortLifts(ls []Lift, by string) {
	key := func(l Lift) [3]float64 {
		switch by {
		case "lift":
			return [3]float64{l.Lift, l.Z, float64(l.Count)}
		case "count":
			return [3]float64{float64(l.Count), l.Z, l.Lift}
		}
		return [3]float64{l.Z, l.Lift, float64(l.Count)}
	}
	sort.Slice(ls, func(i, j int) bool {
		a, b := key(ls[i]), key(ls[j])
		for k := range a {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		if ls[i].ClusterID != ls[j].ClusterID {
			return ls[i].ClusterID < ls[j].ClusterID
		}
		return ls[i].Value < ls[j].Value
	})
}

// topValues returns the top values of counts by count (ties by key) with shares.
func topValues(counts map[string]int64, total int64, top int) []FacetValue {
	out := make([]FacetValue, 0, len(counts))
	for k, n := range counts {
		out = append(out, FacetValue{Key: k, Count: n, Share: float64(n) / float64(max(total, 1))})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if top > 0 && len(out) > top {
		out = out[:top]
	}
	return out
}

// twoProportionZ returns the z statistic of the change from proportion k1/n1 to k2/n2
// under the pooled null hypothesis (0 when undefined).
func twoProportionZ(k1, n1, k2, n2 int64) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 0
	}
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	p := float64(k1+k2) / float64(n1+n2)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 0
	}
	return (p2 - p1) / se
}

// pValue returns the two-sided p-value of a standard normal z.
func pValue(z float64) float64 { return math.Erfc(math.Abs(z) / math.Sqrt2) }
