package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// SaveTemplate stores a classification template, replacing one with the same id
// (its creation time stays).
func (d *DB) SaveTemplate(ctx context.Context, t lmsys.ClassificationTemplate) error {
	if t.ID == "" || t.Name == "" || t.Hash == "" {
		return fmt.Errorf("%w: a template needs an id, a name and a hash", lmsys.ErrInvalidInput)
	}
	now := time.Now().UTC()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = now
	}
	err := d.inTx(ctx, func(tx *gorm.DB) error {
		var created sql.NullTime
		if err := tx.Raw(`SELECT created_at FROM classification_templates WHERE template_id = ?`, t.ID).Row().Scan(&created); err == nil && created.Valid {
			t.CreatedAt = created.Time
		}
		if err := tx.Exec(`DELETE FROM classification_templates WHERE template_id = ?`, t.ID).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO classification_templates (template_id, name, version, description, source, yaml_content, template_hash, created_at, updated_at)
			VALUES (?,?,?,?,?,?,?,?,?)`, t.ID, cleanText(t.Name), nullString(cleanText(t.Version)), nullString(cleanText(t.Description)),
			cleanText(t.Source), cleanText(t.Content), t.Hash, t.CreatedAt.UTC(), t.UpdatedAt.UTC()).Error
	})
	if err != nil {
		return fmt.Errorf("store: save template %s: %w", t.ID, err)
	}
	return nil
}

// Templates lists the stored classification templates by name.
func (d *DB) Templates(ctx context.Context) ([]lmsys.ClassificationTemplate, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT template_id, name, COALESCE(version, ''), COALESCE(description, ''), source, yaml_content,
		template_hash, created_at, updated_at FROM classification_templates ORDER BY name, template_id`).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list templates: %w", err)
	}
	defer rows.Close()
	var out []lmsys.ClassificationTemplate
	for rows.Next() {
		var t lmsys.ClassificationTemplate
		var created, updated sql.NullTime
		if err := rows.Scan(&t.ID, &t.Name, &t.Version, &t.Description, &t.Source, &t.Content, &t.Hash, &created, &updated); err != nil {
			return nil, fmt.Errorf("store: list templates: %w", err)
		}
		t.CreatedAt, t.UpdatedAt = created.Time, updated.Time
		out = append(out, t)
	}
	return out, rows.Err()
}

func jsonOrNil(v any, empty bool) (any, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// CreateClassificationRun records a new classification run (status running unless
// set).
func (d *DB) CreateClassificationRun(ctx context.Context, r lmsys.ClassificationRun) error {
	if r.ID == "" || r.ResultKey == "" {
		return fmt.Errorf("%w: a classification run needs an id and a result key", lmsys.ErrInvalidInput)
	}
	if r.Status == "" {
		r.Status = lmsys.ClassificationRunning
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	facets, err := json.Marshal(r.Facets)
	if err != nil {
		return fmt.Errorf("store: classification run %s facets: %w", r.ID, err)
	}
	params, err := jsonOrNil(r.Parameters, len(r.Parameters) == 0)
	if err != nil {
		return fmt.Errorf("store: classification run %s parameters: %w", r.ID, err)
	}
	scope, err := jsonOrNil(r.Scope, len(r.Scope) == 0)
	if err != nil {
		return fmt.Errorf("store: classification run %s scope: %w", r.ID, err)
	}
	err = d.db.WithContext(ctx).Exec(`INSERT INTO classification_runs (classification_run_id, template_id, template_hash, result_key, provider, model,
		facets, parameters, scope, status, error, total_queries, processed_queries, error_count, calls, input_tokens, output_tokens, cost, created_at, completed_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.TemplateID, r.TemplateHash, r.ResultKey, r.Provider, r.Model, string(facets), params, scope, r.Status, nullString(r.Error),
		r.TotalQueries, r.ProcessedQueries, r.ErrorCount, r.Calls, r.InputTokens, r.OutputTokens, r.Cost, r.CreatedAt.UTC(), r.CompletedAt).Error
	if err != nil {
		return fmt.Errorf("store: create classification run %s: %w", r.ID, err)
	}
	return nil
}

// UpdateClassificationRun saves a run's status, error, counters, cost and
// completion time.
func (d *DB) UpdateClassificationRun(ctx context.Context, r lmsys.ClassificationRun) error {
	res := d.db.WithContext(ctx).Exec(`UPDATE classification_runs SET status = ?, error = ?, total_queries = ?, processed_queries = ?, error_count = ?,
		calls = ?, input_tokens = ?, output_tokens = ?, cost = ?, completed_at = ? WHERE classification_run_id = ?`,
		r.Status, nullString(r.Error), r.TotalQueries, r.ProcessedQueries, r.ErrorCount, r.Calls, r.InputTokens, r.OutputTokens, r.Cost,
		r.CompletedAt, r.ID)
	if res.Error != nil {
		return fmt.Errorf("store: update classification run %s: %w", r.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: classification run %q", lmsys.ErrNotFound, r.ID)
	}
	return nil
}

const classificationRunColumns = `classification_run_id, template_id, template_hash, result_key, provider, model, COALESCE(facets, '[]'),
	COALESCE(parameters, ''), COALESCE(scope, ''), status, COALESCE(error, ''), total_queries, processed_queries, error_count, calls,
	input_tokens, output_tokens, cost, created_at, completed_at`

func scanClassificationRun(row interface{ Scan(...any) error }) (lmsys.ClassificationRun, error) {
	var r lmsys.ClassificationRun
	var facets, params, scope string
	var created, completed sql.NullTime
	err := row.Scan(&r.ID, &r.TemplateID, &r.TemplateHash, &r.ResultKey, &r.Provider, &r.Model, &facets, &params, &scope, &r.Status,
		&r.Error, &r.TotalQueries, &r.ProcessedQueries, &r.ErrorCount, &r.Calls, &r.InputTokens, &r.OutputTokens, &r.Cost, &created, &completed)
	if err != nil {
		return r, err
	}
	r.CreatedAt = created.Time
	if completed.Valid {
		t := completed.Time
		r.CompletedAt = &t
	}
	if err := json.Unmarshal([]byte(facets), &r.Facets); err != nil {
		return r, fmt.Errorf("classification run %s: facets are not JSON: %w", r.ID, err)
	}
	if params != "" {
		if err := json.Unmarshal([]byte(params), &r.Parameters); err != nil {
			return r, fmt.Errorf("classification run %s: parameters are not JSON: %w", r.ID, err)
		}
	}
	if scope != "" {
		if err := json.Unmarshal([]byte(scope), &r.Scope); err != nil {
			return r, fmt.Errorf("classification run %s: scope is not JSON: %w", r.ID, err)
		}
	}
	return r, nil
}

// GetClassificationRun returns one classification run, or an error wrapping
// lmsys.ErrNotFound.
func (d *DB) GetClassificationRun(ctx context.Context, id string) (lmsys.ClassificationRun, error) {
	row := d.db.WithContext(ctx).Raw(`SELECT `+classificationRunColumns+` FROM classification_runs WHERE classification_run_id = ?`, id).Row()
	r, err := scanClassificationRun(row)
	if err == sql.ErrNoRows {
		return r, fmt.Errorf("%w: classification run %q", lmsys.ErrNotFound, id)
	}
	if err != nil {
		return r, fmt.Errorf("store: classification run %s: %w", id, err)
	}
	return r, nil
}

// ClassificationRuns lists the classification runs, newest first.
func (d *DB) ClassificationRuns(ctx context.Context) ([]lmsys.ClassificationRun, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT ` + classificationRunColumns + ` FROM classification_runs ORDER BY created_at DESC, classification_run_id DESC`).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: list classification runs: %w", err)
	}
	defer rows.Close()
	var out []lmsys.ClassificationRun
	for rows.Next() {
		r, err := scanClassificationRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list classification runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveLabels stores labels in one transaction; a label for a (result key, query,
// facet) already stored is replaced. Every label needs a run id, a result key, a
// query id and a facet.
func (d *DB) SaveLabels(ctx context.Context, ls []lmsys.Label) error {
	if len(ls) == 0 {
		return nil
	}
	for _, l := range ls {
		if l.ClassificationRunID == "" || l.ResultKey == "" || l.QueryID == 0 || l.Facet == "" {
			return fmt.Errorf("%w: label %+v lacks a run id, result key, query id or facet", lmsys.ErrInvalidInput, l)
		}
	}
	now := time.Now().UTC()
	conflict := `ON CONFLICT (result_key, query_id, facet) DO UPDATE SET classification_run_id = excluded.classification_run_id,
		label = excluded.label, text_hash = excluded.text_hash, reasoning = excluded.reasoning, created_at = excluded.created_at`
	err := d.inTx(ctx, func(tx *gorm.DB) error {
		for start := 0; start < len(ls); start += 100 {
			part := ls[start:min(start+100, len(ls))]
			var sb strings.Builder
			args := make([]any, 0, 8*len(part))
			sb.WriteString(`INSERT INTO query_classifications (classification_run_id, result_key, query_id, facet, label, text_hash, reasoning, created_at) VALUES `)
			for i, l := range part {
				if i > 0 {
					sb.WriteString(",")
				}
				sb.WriteString("(?,?,?,?,?,?,?,?)")
				at := l.CreatedAt
				if at.IsZero() {
					at = now
				}
				v := cleanText(l.Value)
				args = append(args, l.ClassificationRunID, l.ResultKey, l.QueryID, cleanText(l.Facet), v, lmsys.TextHash(v),
					nullString(cleanText(l.Reasoning)), at.UTC())
			}
			sb.WriteString(" ")
			sb.WriteString(conflict)
			if err := tx.Exec(sb.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save %d labels: %w", len(ls), err)
	}
	return nil
}

// LabeledQueryIDs returns which of ids have a label under resultKey.
func (d *DB) LabeledQueryIDs(ctx context.Context, resultKey string, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	for start := 0; start < len(ids); start += 900 {
		part := ids[start:min(start+900, len(ids))]
		var got []int64
		if err := d.db.WithContext(ctx).Raw(`SELECT DISTINCT query_id FROM query_classifications WHERE result_key = ? AND query_id IN ?`, resultKey, part).
			Scan(&got).Error; err != nil {
			return nil, fmt.Errorf("store: labelled queries: %w", err)
		}
		for _, id := range got {
			out[id] = true
		}
	}
	return out, nil
}

// facetLike returns the LIKE pattern matching a facet name in classification_runs.facets.
func facetLike(facet string) string {
	quoted, _ := json.Marshal(facet)
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(string(quoted)) + "%"
}

// latestKeyQuery selects the result key of the newest classification run that
// answered a facet; its argument is facetLike(facet). latestKeySQL is the same as a
// subquery.
const (
	latestKeyQuery = `SELECT r.result_key FROM classification_runs r WHERE r.facets LIKE ? ESCAPE '\' ORDER BY r.created_at DESC, r.classification_run_id DESC LIMIT 1`
	latestKeySQL   = "(" + latestKeyQuery + ")"
)

// LabelCondition returns an SQL condition on queries q (" AND EXISTS …") keeping the
// queries the newest configuration of facet's classifier gave the label value, with
// its arguments, for statements over queries q that the store does not build itself.
// It compares the whole stored label: DB.LabelMatch also finds an item of a list
// facet's label.
func LabelCondition(facet, value string) (string, []any) {
	return " AND EXISTS (SELECT 1 FROM query_classifications lf WHERE lf.result_key = " + latestKeySQL +
		" AND lf.query_id = q.id AND lf.facet = ? AND lf.label = ?)", []any{facetLike(facet), facet, value}
}

// LatestResultKey returns the result key of the newest classification run that
// answered facet, or an error wrapping lmsys.ErrNotFound.
func (d *DB) LatestResultKey(ctx context.Context, facet string) (string, error) {
	var keys []string
	err := d.db.WithContext(ctx).Raw(latestKeyQuery, facetLike(facet)).Scan(&keys).Error
	if err != nil {
		return "", fmt.Errorf("store: facet %q: %w", facet, err)
	}
	if len(keys) == 0 {
		return "", fmt.Errorf("%w: no classification has labelled facet %q", lmsys.ErrNotFound, facet)
	}
	return keys[0], nil
}

// labelWhere returns the FROM and WHERE of the labels f selects, as qc, and the
// configuration of f.Facet read (zero without a facet).
func (d *DB) labelWhere(ctx context.Context, f lmsys.LabelFilter) (string, []any, facetRun, error) {
	var where []string
	var args []any
	var fr facetRun
	from := ` FROM query_classifications qc`
	if f.RunID != "" {
		from += ` JOIN query_clusters m ON m.query_id = qc.query_id AND m.run_id = ?`
		args = append(args, f.RunID)
		if f.ClusterID != nil {
			from += ` AND m.cluster_id = ?`
			args = append(args, *f.ClusterID)
		}
	}
	if f.Facet != "" {
		var err error
		if fr, err = d.facetConfig(ctx, f.Facet, f.ResultKey); err != nil {
			return "", nil, fr, err
		}
		where = append(where, `qc.facet = ?`, `qc.result_key = ?`)
		args = append(args, f.Facet, fr.key)
	} else if f.ResultKey != "" {
		where = append(where, `qc.result_key = ?`)
		args = append(args, f.ResultKey)
	}
	if len(f.QueryIDs) > 0 {
		where = append(where, `qc.query_id IN ?`)
		args = append(args, f.QueryIDs)
	}
	if len(where) > 0 {
		from += ` WHERE ` + strings.Join(where, " AND ")
	}
	return from, args, fr, nil
}

// Labels returns the labels f selects, in query id order, as stored (a list facet's
// items joined by lmsys.ListSeparator). A facet without a result key reads the
// newest configuration that answered it.
func (d *DB) Labels(ctx context.Context, f lmsys.LabelFilter) ([]lmsys.Label, error) {
	from, args, _, err := d.labelWhere(ctx, f)
	if err != nil {
		return nil, err
	}
	rows, err := d.db.WithContext(ctx).Raw(`SELECT qc.query_id, qc.facet, qc.label, COALESCE(qc.reasoning, ''), qc.classification_run_id, qc.result_key, qc.created_at`+
		from+` ORDER BY qc.query_id, qc.facet`, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: labels: %w", err)
	}
	defer rows.Close()
	var out []lmsys.Label
	for rows.Next() {
		var l lmsys.Label
		var at sql.NullTime
		if err := rows.Scan(&l.QueryID, &l.Facet, &l.Value, &l.Reasoning, &l.ClassificationRunID, &l.ResultKey, &at); err != nil {
			return nil, fmt.Errorf("store: labels: %w", err)
		}
		l.CreatedAt = at.Time
		out = append(out, l)
	}
	return out, rows.Err()
}

// Distribution is a facet's labels among some queries.
type Distribution struct {
	// Counts are the labels, largest first (ties by label). A list facet's are its
	// items, each counted once for every query whose list holds it.
	Counts []lmsys.Count `json:"counts"`
	// Queries is the number of labelled queries counted, the denominator of a share:
	// the sum of Counts for a plain facet. A list facet's shares of it can sum past 1.
	Queries int64 `json:"queries"`
	// List is true for a list facet (ListFacets).
	List bool `json:"list,omitempty"`
}

// distribution builds the Distribution of a facet from the counts of its stored
// labels.
func distribution(cs []lmsys.Count, list bool) Distribution {
	dist := Distribution{Counts: cs, List: list}
	for _, c := range cs {
		dist.Queries += c.Count
	}
	if list {
		dist.Counts = itemCounts(cs)
	}
	return dist
}

// LabelCounts counts the labels of one facet among the queries f selects, largest
// first (f.Facet is required). A list facet counts its items: a query labelled
// "en, fr" counts once for en and once for fr (LabelDistribution also says how many
// queries were counted).
func (d *DB) LabelCounts(ctx context.Context, f lmsys.LabelFilter) ([]lmsys.Count, error) {
	dist, err := d.LabelDistribution(ctx, f)
	return dist.Counts, err
}

// LabelDistribution is LabelCounts with the number of queries counted and whether
// the facet is a list.
func (d *DB) LabelDistribution(ctx context.Context, f lmsys.LabelFilter) (Distribution, error) {
	if f.Facet == "" {
		return Distribution{}, fmt.Errorf("%w: label counts need a facet", lmsys.ErrInvalidInput)
	}
	from, args, fr, err := d.labelWhere(ctx, f)
	if err != nil {
		return Distribution{}, err
	}
	var out []lmsys.Count
	err = d.db.WithContext(ctx).Raw(`SELECT qc.label AS key, COUNT(*) AS count`+from+` GROUP BY qc.label ORDER BY count DESC, key`, args...).Scan(&out).Error
	if err != nil {
		return Distribution{}, fmt.Errorf("store: label counts: %w", err)
	}
	return distribution(out, fr.list), nil
}

// ClusterLabelCounts counts the labels of every labelled facet among one cluster's
// queries, each facet under the newest configuration that answered it, largest
// first; a list facet counts its items (see LabelCounts). It reads the cluster's
// labels in one statement, through its members, so its cost follows the cluster's
// size, not the number of labels stored.
func (d *DB) ClusterLabelCounts(ctx context.Context, runID string, clusterID int) (map[string][]lmsys.Count, error) {
	dists, err := d.ClusterLabelDistributions(ctx, runID, clusterID)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]lmsys.Count, len(dists))
	for f, dist := range dists {
		out[f] = dist.Counts
	}
	return out, nil
}

// ClusterLabelDistributions is ClusterLabelCounts with each facet's number of
// labelled queries and whether it is a list.
func (d *DB) ClusterLabelDistributions(ctx context.Context, runID string, clusterID int) (map[string]Distribution, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT qc.facet, qc.result_key, qc.label, COUNT(*) FROM query_clusters m
		JOIN query_classifications qc ON qc.query_id = m.query_id WHERE m.run_id = ? AND m.cluster_id = ?
		GROUP BY qc.facet, qc.result_key, qc.label`, runID, clusterID).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: labels of cluster %d of %s: %w", clusterID, runID, err)
	}
	type row struct {
		facet, key string
		c          lmsys.Count
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.facet, &r.key, &r.c.Key, &r.c.Count); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: labels of cluster %d of %s: %w", clusterID, runID, err)
		}
		all = append(all, r)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("store: labels of cluster %d of %s: %w", clusterID, runID, err)
	}
	latest := map[string]facetRun{}
	counts := map[string][]lmsys.Count{}
	for _, r := range all {
		fr, ok := latest[r.facet]
		if !ok {
			if fr, err = d.facetConfig(ctx, r.facet, ""); err != nil && !errors.Is(err, lmsys.ErrNotFound) {
				return nil, err
			}
			latest[r.facet] = fr
		}
		if r.key == fr.key {
			counts[r.facet] = append(counts[r.facet], r.c)
		}
	}
	out := make(map[string]Distribution, len(counts))
	for f, cs := range counts {
		sortCounts(cs)
		out[f] = distribution(cs, latest[f].list)
	}
	return out, nil
}

// LabelVersion returns a stamp of the stored labels that changes when labels are
// added or a classification run is created, advanced or deleted: the newest label id
// with the runs' count and counters. A reader that caches label counts re-reads them
// when the stamp changes. (A label replaced in place by a resumed run of the same
// configuration changes its run's counters, and so the stamp.)
func (d *DB) LabelVersion(ctx context.Context) (string, error) {
	var maxID, runs, processed, errs int64
	err := d.db.WithContext(ctx).Raw(`SELECT (SELECT COALESCE(MAX(id), 0) FROM query_classifications),
		(SELECT COUNT(*) FROM classification_runs), (SELECT COALESCE(SUM(processed_queries), 0) FROM classification_runs),
		(SELECT COALESCE(SUM(error_count), 0) FROM classification_runs)`).Row().Scan(&maxID, &runs, &processed, &errs)
	if err != nil {
		return "", fmt.Errorf("store: label version: %w", err)
	}
	return fmt.Sprintf("%d/%d/%d/%d", maxID, runs, processed, errs), nil
}

// LabelFacets lists the facets that have labels, with their number of labels under
// the newest configuration that answered each.
func (d *DB) LabelFacets(ctx context.Context) ([]lmsys.Count, error) {
	var facets []string
	if err := d.db.WithContext(ctx).Raw(`SELECT DISTINCT facet FROM query_classifications ORDER BY facet`).Scan(&facets).Error; err != nil {
		return nil, fmt.Errorf("store: label facets: %w", err)
	}
	out := make([]lmsys.Count, 0, len(facets))
	for _, f := range facets {
		key, err := d.LatestResultKey(ctx, f)
		if err != nil {
			continue // labels whose run was deleted
		}
		var n int64
		if err := d.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM query_classifications WHERE facet = ? AND result_key = ?`, f, key).Row().Scan(&n); err != nil {
			return nil, fmt.Errorf("store: label facets: %w", err)
		}
		out = append(out, lmsys.Count{Key: f, Count: n})
	}
	return out, nil
}

var (
	_ lmsys.LabelStore        = (*DB)(nil)
	_ lmsys.ConversationStore = (*DB)(nil)
)
