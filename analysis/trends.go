package analysis

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/store"
)

// Periods a trend can bucket by.
const (
	Hour  = "hour"
	Day   = "day"
	Week  = "week"
	Month = "month"
)

// bucket returns t's label for period: 2026-09-01T13, 2026-09-01, 2026-W36, 2026-09.
func bucket(t time.Time, period string) string {
	t = t.UTC()
	switch period {
	case Hour:
		return t.Format("2006-01-02T15")
	case Day:
		return t.Format("2006-01-02")
	case Month:
		return t.Format("2006-01")
	default:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	}
}

var periodForms = []struct {
	re     *regexp.Regexp
	period string
}{
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}$`), Hour},
	{regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`), Day},
	{regexp.MustCompile(`^\d{4}-W\d{2}$`), Week},
	{regexp.MustCompile(`^\d{4}-\d{2}$`), Month},
}

// PeriodOf returns the period a label such as "2026-09" (month), "2026-W36" (week),
// "2026-09-01" (day) or "2026-09-01T13" (hour) is written in.
func PeriodOf(label string) (string, error) {
	for _, f := range periodForms {
		if f.re.MatchString(label) {
			return f.period, nil
		}
	}
	return "", fmt.Errorf("%w: period %q is not YYYY-MM, YYYY-Www, YYYY-MM-DD or YYYY-MM-DDTHH", lmsys.ErrInvalidInput, label)
}

// TrendOptions configure Trends and ComparePeriods.
type TrendOptions struct {
	// Period is hour, day, week (default) or month.
	Period string
	// Field is "timestamp" (the queries' timestamp column, default) or a key of the
	// extra_metadata JSON holding a time (RFC 3339, a date, or unix seconds).
	Field string
	// SummaryRef picks the summary run titles come from (empty: latest, if any).
	SummaryRef string
	// Label, "facet=value" (refusal=refused), keeps only the queries a classifier
	// gave that label, so a trend follows, say, what refused queries are about.
	Label string
	// Top bounds each list of a comparison (default 10).
	Top int
}

// PeriodShare is a cluster's count and share of one period's queries.
type PeriodShare struct {
	Period string  `json:"period"`
	Count  int64   `json:"count"`
	Share  float64 `json:"share"`
}

// ClusterTrend is one cluster's share per period.
type ClusterTrend struct {
	ClusterID int           `json:"cluster_id"`
	Title     string        `json:"title,omitempty"`
	Total     int64         `json:"num_queries"`
	Periods   []PeriodShare `json:"periods"`
}

// TrendReport is the share of each cluster of a run per period.
type TrendReport struct {
	RunID    string         `json:"run_id"`
	Field    string         `json:"field"`
	Period   string         `json:"period"`
	Periods  []string       `json:"periods"`
	Totals   []int64        `json:"totals"`
	Clusters []ClusterTrend `json:"clusters"`
	// Undated counts the run's queries without a usable time.
	Undated int64 `json:"undated_queries"`
}

// ErrNoTimestamps reports a run whose queries carry no time in the field asked for.
var ErrNoTimestamps = fmt.Errorf("no timestamps: %w", lmsys.ErrEmpty)

// timedRow is one assigned query with its time.
type timedRow struct {
	cluster int
	t       time.Time
}

// scanTimes streams (cluster, time) of a run's queries and counts undated ones.
func scanTimes(ctx context.Context, db *store.DB, runID, field, label string, fn func(timedRow)) (undated int64, err error) {
	lsql, largs, err := LabelCondition(ctx, db, label)
	if err != nil {
		return 0, err
	}
	if field == "" || field == "timestamp" {
		rows, err := db.Gorm().WithContext(ctx).Raw(`SELECT qc.cluster_id, q.timestamp FROM query_clusters qc JOIN queries q ON q.id = qc.query_id
			WHERE qc.run_id = ?`+lsql, append([]any{runID}, largs...)...).Rows()
		if err != nil {
			return 0, fmt.Errorf("analysis: read timestamps: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c int
			var ts sql.NullTime
			if err := rows.Scan(&c, &ts); err != nil {
				return 0, err
			}
			if !ts.Valid {
				undated++
				continue
			}
			fn(timedRow{c, ts.Time})
		}
		return undated, rows.Err()
	}
	expr, eargs, _, err := fieldExpr(ctx, db, field)
	if err != nil {
		return 0, err
	}
	rows, err := db.Gorm().WithContext(ctx).Raw(`SELECT qc.cluster_id, `+expr+` FROM query_clusters qc JOIN queries q ON q.id = qc.query_id
		WHERE qc.run_id = ?`+lsql, append(append(eargs, runID), largs...)...).Rows()
	if err != nil {
		return 0, fmt.Errorf("analysis: read field %s: %w", field, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c int
		var v string
		if err := rows.Scan(&c, &v); err != nil {
			return 0, err
		}
		t, ok := parseTime(v)
		if !ok {
			undated++
			continue
		}
		fn(timedRow{c, t})
	}
	return undated, rows.Err()
}

// parseTime reads RFC 3339, a date, a "YYYY-MM-DD HH:MM:SS" time, or unix seconds
// or milliseconds.
func parseTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
		if n > 1e12 {
			return time.UnixMilli(int64(n)).UTC(), true
		}
		return time.Unix(int64(n), 0).UTC(), true
	}
	return time.Time{}, false
}

// Trends buckets a run's queries by period and reports each cluster's share of each
// period. A run whose queries have no time fails with an error wrapping
// ErrNoTimestamps that says how to compare datasets instead.
func Trends(ctx context.Context, db *store.DB, runID string, opts TrendOptions) (TrendReport, error) {
	if _, err := db.GetRun(ctx, runID); err != nil {
		return TrendReport{}, err
	}
	if opts.Period == "" {
		opts.Period = Week
	}
	if opts.Field == "" {
		opts.Field = "timestamp"
	}
	switch opts.Period {
	case Hour, Day, Week, Month:
	default:
		return TrendReport{}, fmt.Errorf("%w: period %q: use hour, day, week or month", lmsys.ErrInvalidInput, opts.Period)
	}
	counts := map[int]map[string]int64{}
	totals := map[string]int64{}
	undated, err := scanTimes(ctx, db, runID, opts.Field, opts.Label, func(r timedRow) {
		b := bucket(r.t, opts.Period)
		if counts[r.cluster] == nil {
			counts[r.cluster] = map[string]int64{}
		}
		counts[r.cluster][b]++
		totals[b]++
	})
	if err != nil {
		return TrendReport{}, err
	}
	if len(totals) == 0 {
		return TrendReport{}, fmt.Errorf("run %s: none of its %d queries has a time in %q (LMSYS-Chat-1M has none); compare two datasets instead with `lmsys trends %s --compare-datasets A B`: %w",
			runID, undated, opts.Field, runID, ErrNoTimestamps)
	}
	rep := TrendReport{RunID: runID, Field: opts.Field, Period: opts.Period, Undated: undated}
	for p := range totals {
		rep.Periods = append(rep.Periods, p)
	}
	sort.Strings(rep.Periods)
	for _, p := range rep.Periods {
		rep.Totals = append(rep.Totals, totals[p])
	}
	names := titles(ctx, db, runID, opts.SummaryRef)
	for c, byPeriod := range counts {
		ct := ClusterTrend{ClusterID: c, Title: names[c]}
		for _, p := range rep.Periods {
			n := byPeriod[p]
			ct.Total += n
			ct.Periods = append(ct.Periods, PeriodShare{Period: p, Count: n, Share: float64(n) / float64(totals[p])})
		}
		rep.Clusters = append(rep.Clusters, ct)
	}
	sort.Slice(rep.Clusters, func(i, j int) bool {
		if rep.Clusters[i].Total != rep.Clusters[j].Total {
			return rep.Clusters[i].Total > rep.Clusters[j].Total
		}
		return rep.Clusters[i].ClusterID < rep.Clusters[j].ClusterID
	})
	return rep, nil
}

// Change is one cluster's move between two samples A and B.
type Change struct {
	ClusterID int     `json:"cluster_id"`
	Title     string  `json:"title,omitempty"`
	CountA    int64   `json:"count_a"`
	CountB    int64   `json:"count_b"`
	ShareA    float64 `json:"share_a"`
	ShareB    float64 `json:"share_b"`
	Delta     float64 `json:"delta"`
	// Z is the two-proportion z statistic of the change in share and P its
	// two-sided p-value: small counts give small |Z| however large the Delta.
	Z float64 `json:"z"`
	P float64 `json:"p_value"`
}

// Comparison lists the clusters that grew, shrank, appeared and vanished between
// two samples of a run's queries (two periods, or two datasets).
type Comparison struct {
	RunID    string   `json:"run_id"`
	By       string   `json:"by"`
	A        string   `json:"a"`
	B        string   `json:"b"`
	TotalA   int64    `json:"total_a"`
	TotalB   int64    `json:"total_b"`
	Risers   []Change `json:"risers"`
	Fallers  []Change `json:"fallers"`
	New      []Change `json:"new"`
	Vanished []Change `json:"vanished"`
}

// compare builds a Comparison from per-cluster counts in A and B.
func compare(ctx context.Context, db *store.DB, runID, by, a, b string, ca, cb map[int]int64, opts TrendOptions) (Comparison, error) {
	cmp := Comparison{RunID: runID, By: by, A: a, B: b, Risers: []Change{}, Fallers: []Change{}, New: []Change{}, Vanished: []Change{}}
	for _, n := range ca {
		cmp.TotalA += n
	}
	for _, n := range cb {
		cmp.TotalB += n
	}
	if cmp.TotalA == 0 || cmp.TotalB == 0 {
		return cmp, fmt.Errorf("run %s has %d queries in %s and %d in %s: both need some: %w", runID, cmp.TotalA, a, cmp.TotalB, b, lmsys.ErrEmpty)
	}
	if opts.Top <= 0 {
		opts.Top = 10
	}
	names := titles(ctx, db, runID, opts.SummaryRef)
	ids := map[int]bool{}
	for c := range ca {
		ids[c] = true
	}
	for c := range cb {
		ids[c] = true
	}
	for c := range ids {
		ch := Change{ClusterID: c, Title: names[c], CountA: ca[c], CountB: cb[c]}
		ch.ShareA = float64(ch.CountA) / float64(cmp.TotalA)
		ch.ShareB = float64(ch.CountB) / float64(cmp.TotalB)
		ch.Delta = ch.ShareB - ch.ShareA
		ch.Z = twoProportionZ(ch.CountA, cmp.TotalA, ch.CountB, cmp.TotalB)
		ch.P = pValue(ch.Z)
		switch {
		case ch.CountA == 0:
			cmp.New = append(cmp.New, ch)
		case ch.CountB == 0:
			cmp.Vanished = append(cmp.Vanished, ch)
		case ch.Z > 0:
			cmp.Risers = append(cmp.Risers, ch)
		case ch.Z < 0:
			cmp.Fallers = append(cmp.Fallers, ch)
		}
	}
	byZ := func(list []Change, desc bool) []Change {
		sort.Slice(list, func(i, j int) bool {
			if list[i].Z != list[j].Z {
				return (list[i].Z > list[j].Z) == desc
			}
			return list[i].ClusterID < list[j].ClusterID
		})
		if len(list) > opts.Top {
			list = list[:opts.Top]
		}
		return list
	}
	cmp.Risers = byZ(cmp.Risers, true)
	cmp.Fallers = byZ(cmp.Fallers, false)
	cmp.New = byZ(cmp.New, true)
	cmp.Vanished = byZ(cmp.Vanished, false)
	return cmp, nil
}

// ComparePeriods compares two periods of a run, written as "2026-09" (months),
// "2026-W36" (weeks), "2026-09-01" (days) or "2026-09-01T13" (hours).
func ComparePeriods(ctx context.Context, db *store.DB, runID, a, b string, opts TrendOptions) (Comparison, error) {
	pa, err := PeriodOf(a)
	if err != nil {
		return Comparison{}, err
	}
	pb, err := PeriodOf(b)
	if err != nil {
		return Comparison{}, err
	}
	if pa != pb {
		return Comparison{}, fmt.Errorf("%w: periods %q (%s) and %q (%s) differ in length", lmsys.ErrInvalidInput, a, pa, b, pb)
	}
	if _, err := db.GetRun(ctx, runID); err != nil {
		return Comparison{}, err
	}
	ca, cb := map[int]int64{}, map[int]int64{}
	var dated int64
	undated, err := scanTimes(ctx, db, runID, opts.Field, opts.Label, func(r timedRow) {
		dated++
		switch bucket(r.t, pa) {
		case a:
			ca[r.cluster]++
		case b:
			cb[r.cluster]++
		}
	})
	if err != nil {
		return Comparison{}, err
	}
	if dated == 0 {
		return Comparison{}, fmt.Errorf("run %s: none of its %d queries has a time (LMSYS-Chat-1M has none); use --compare-datasets A B: %w", runID, undated, ErrNoTimestamps)
	}
	return compare(ctx, db, runID, pa, a, b, ca, cb, opts)
}

// CompareDatasets compares the clusters' shares of two datasets' queries in one run
// (for example last month's export against this month's, loaded as two datasets).
func CompareDatasets(ctx context.Context, db *store.DB, runID, a, b string, opts TrendOptions) (Comparison, error) {
	if _, err := db.GetRun(ctx, runID); err != nil {
		return Comparison{}, err
	}
	counts := [2]map[int]int64{{}, {}}
	for i, name := range []string{a, b} {
		rows, err := db.Gorm().WithContext(ctx).Raw(`SELECT qc.cluster_id, COUNT(*) FROM query_clusters qc JOIN queries q ON q.id = qc.query_id
			JOIN datasets ds ON ds.id = q.dataset_id WHERE qc.run_id = ? AND ds.name = ? GROUP BY qc.cluster_id`, runID, name).Rows()
		if err != nil {
			return Comparison{}, fmt.Errorf("analysis: dataset %s: %w", name, err)
		}
		for rows.Next() {
			var c int
			var n int64
			if err := rows.Scan(&c, &n); err != nil {
				rows.Close()
				return Comparison{}, err
			}
			counts[i][c] = n
		}
		rows.Close()
	}
	return compare(ctx, db, runID, "dataset", a, b, counts[0], counts[1], opts)
}
