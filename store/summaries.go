package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lmsys-go/lmsys"
	"gorm.io/gorm"
)

// SaveSummaryRun inserts or replaces a summary run's record.
func (d *DB) SaveSummaryRun(ctx context.Context, r lmsys.SummaryRun) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	pj, _ := json.Marshal(r.Parameters)
	err := d.db.WithContext(ctx).Exec(`INSERT INTO summary_runs (summary_run_id, run_id, alias, model, prompt_hash, parameters, input_tokens,
		output_tokens, cost_usd, num_clusters, num_failed, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (summary_run_id) DO UPDATE SET alias = excluded.alias, model = excluded.model, prompt_hash = excluded.prompt_hash,
		parameters = excluded.parameters, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
		cost_usd = excluded.cost_usd, num_clusters = excluded.num_clusters, num_failed = excluded.num_failed`,
		r.SummaryRunID, r.RunID, nullString(r.Alias), r.Model, r.PromptHash, string(pj), r.InputTokens, r.OutputTokens, r.CostUSD,
		r.NumClusters, r.NumFailed, r.CreatedAt.UTC()).Error
	if err != nil {
		return fmt.Errorf("store: save summary run %s: %w", r.SummaryRunID, err)
	}
	return nil
}

// SummaryRunExists reports whether any clustering run has a summary run with this id
// (recorded, or only in the summaries of a database the Python tool wrote).
func (d *DB) SummaryRunExists(ctx context.Context, id string) (bool, error) {
	var n int64
	err := d.db.WithContext(ctx).Raw(`SELECT (SELECT COUNT(*) FROM summary_runs WHERE summary_run_id = ?) +
		(SELECT COUNT(*) FROM cluster_summaries WHERE summary_run_id = ?)`, id, id).Row().Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: look up summary run %s: %w", id, err)
	}
	return n > 0, nil
}

// SummaryRuns lists a run's summary runs, newest first. Summary runs written by the seed
// tool (no summary_runs row) are listed from their summaries.
func (d *DB) SummaryRuns(ctx context.Context, runID string) ([]lmsys.SummaryRun, error) {
	rows, err := d.db.WithContext(ctx).Raw(`SELECT cs.summary_run_id, cs.run_id, COALESCE(MAX(cs.alias), ''), COALESCE(MAX(cs.model), ''),
		COALESCE(MAX(sr.prompt_hash), ''), COALESCE(MAX(sr.parameters), ''), COALESCE(MAX(sr.input_tokens), 0), COALESCE(MAX(sr.output_tokens), 0),
		COALESCE(MAX(sr.cost_usd), 0), COUNT(*), SUM(CASE WHEN cs.error IS NOT NULL AND cs.error <> '' THEN 1 ELSE 0 END), MAX(cs.generated_at)
		FROM cluster_summaries cs LEFT JOIN summary_runs sr ON sr.summary_run_id = cs.summary_run_id
		WHERE cs.run_id = ? GROUP BY cs.summary_run_id, cs.run_id ORDER BY MAX(cs.generated_at) DESC, cs.summary_run_id DESC`, runID).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: summary runs of %s: %w", runID, err)
	}
	defer rows.Close()
	out := []lmsys.SummaryRun{}
	for rows.Next() {
		var r lmsys.SummaryRun
		var params string
		var created anyTime
		if err := rows.Scan(&r.SummaryRunID, &r.RunID, &r.Alias, &r.Model, &r.PromptHash, &params, &r.InputTokens, &r.OutputTokens,
			&r.CostUSD, &r.NumClusters, &r.NumFailed, &created); err != nil {
			return nil, err
		}
		if params != "" {
			if err := json.Unmarshal([]byte(params), &r.Parameters); err != nil {
				return nil, fmt.Errorf("store: summary run %s: parameters is not a JSON object: %w", r.SummaryRunID, err)
			}
		}
		r.CreatedAt = time.Time(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveSummaries inserts or replaces summaries keyed by (summary run, cluster).
func (d *DB) SaveSummaries(ctx context.Context, ss []lmsys.Summary) error {
	if len(ss) == 0 {
		return nil
	}
	now := time.Now().UTC()
	return d.inTx(ctx, func(tx *gorm.DB) error {
		_, err := d.bulkExec(ctx, tx, `INSERT INTO cluster_summaries (run_id, cluster_id, summary_run_id, alias, title, description, summary,
			num_queries, representative_queries, model, parameters, generated_at, keywords, coherence, mixed, error)`,
			`ON CONFLICT (summary_run_id, cluster_id) DO UPDATE SET alias = excluded.alias, title = excluded.title,
			description = excluded.description, summary = excluded.summary, num_queries = excluded.num_queries,
			representative_queries = excluded.representative_queries, model = excluded.model, parameters = excluded.parameters,
			generated_at = excluded.generated_at, keywords = excluded.keywords, coherence = excluded.coherence, mixed = excluded.mixed,
			error = excluded.error`, 16, 100, len(ss), func(i int, dst []any) []any {
				s := &ss[i]
				reps, _ := json.Marshal(nonNil(s.RepresentativeQueries))
				kw, _ := json.Marshal(nonNil(s.Keywords))
				var params any
				if len(s.Parameters) > 0 {
					b, _ := json.Marshal(s.Parameters)
					params = string(b)
				}
				gen := s.GeneratedAt
				if gen.IsZero() {
					gen = now
				}
				mixed := 0
				if s.Mixed {
					mixed = 1
				}
				return append(dst, s.RunID, s.ClusterID, s.SummaryRunID, nullString(s.Alias), cleanText(s.Title), cleanText(s.Description),
					cleanText(s.Summary), s.NumQueries, cleanText(string(reps)), s.Model, params, gen.UTC(), string(kw), s.Coherence, mixed,
					nullString(s.Error))
			})
		if err != nil {
			return fmt.Errorf("store: save %d summaries: %w", len(ss), err)
		}
		return nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ResolveSummaryRun returns the id of a run's summary run named by ref (an id or an
// alias), or the latest one when ref is empty.
func (d *DB) ResolveSummaryRun(ctx context.Context, runID, ref string) (string, error) {
	stmt := `SELECT summary_run_id FROM cluster_summaries WHERE run_id = ?`
	args := []any{runID}
	if ref != "" {
		stmt += ` AND (summary_run_id = ? OR alias = ?)`
		args = append(args, ref, ref)
	}
	var id string
	err := d.db.WithContext(ctx).Raw(stmt+` ORDER BY generated_at DESC, summary_run_id DESC LIMIT 1`, args...).Row().Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if ref == "" {
			return "", fmt.Errorf("summaries of run %q (run `lmsys summarize %s` first): %w", runID, runID, lmsys.ErrNotFound)
		}
		return "", fmt.Errorf("summary run or alias %q of run %q: %w", ref, runID, lmsys.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: resolve summary run: %w", err)
	}
	return id, nil
}

// Summaries returns the summaries of one summary run of a run (ref: id or alias; empty
// means the latest), ordered by cluster id.
func (d *DB) Summaries(ctx context.Context, runID, ref string) ([]lmsys.Summary, error) {
	id, err := d.ResolveSummaryRun(ctx, runID, ref)
	if err != nil {
		return nil, err
	}
	rows, err := d.db.WithContext(ctx).Raw(`SELECT run_id, cluster_id, summary_run_id, COALESCE(alias, ''), COALESCE(title, ''),
		COALESCE(description, ''), COALESCE(summary, ''), COALESCE(num_queries, 0), COALESCE(representative_queries, '[]'), COALESCE(model, ''),
		COALESCE(parameters, ''), generated_at, COALESCE(keywords, '[]'), coherence, mixed, COALESCE(error, '')
		FROM cluster_summaries WHERE run_id = ? AND summary_run_id = ? ORDER BY cluster_id`, runID, id).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: summaries of %s: %w", runID, err)
	}
	defer rows.Close()
	out := []lmsys.Summary{}
	for rows.Next() {
		var s lmsys.Summary
		var reps, params, kw string
		var gen sql.NullTime
		var mixed int
		if err := rows.Scan(&s.RunID, &s.ClusterID, &s.SummaryRunID, &s.Alias, &s.Title, &s.Description, &s.Summary, &s.NumQueries,
			&reps, &s.Model, &params, &gen, &kw, &s.Coherence, &mixed, &s.Error); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(reps), &s.RepresentativeQueries); err != nil {
			return nil, fmt.Errorf("store: summary %s/%d: representative_queries is not JSON: %w", id, s.ClusterID, err)
		}
		if err := json.Unmarshal([]byte(kw), &s.Keywords); err != nil {
			return nil, fmt.Errorf("store: summary %s/%d: keywords is not a JSON list: %w", id, s.ClusterID, err)
		}
		if params != "" {
			if err := json.Unmarshal([]byte(params), &s.Parameters); err != nil {
				return nil, fmt.Errorf("store: summary %s/%d: parameters is not a JSON object: %w", id, s.ClusterID, err)
			}
		}
		s.GeneratedAt = gen.Time
		s.Mixed = mixed != 0
		out = append(out, s)
	}
	return out, rows.Err()
}

// LLMCache is a response cache for LLM calls kept in the llm_cache table.
type LLMCache struct{ d *DB }

// LLMCache returns the store's LLM response cache.
func (d *DB) LLMCache() LLMCache { return LLMCache{d} }

// Get returns the cached value of key.
func (c LLMCache) Get(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := c.d.db.WithContext(ctx).Raw(`SELECT response FROM llm_cache WHERE cache_key = ?`, key).Row().Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: llm cache get: %w", err)
	}
	return v, true, nil
}

// Put stores value under key, replacing an older one.
func (c LLMCache) Put(ctx context.Context, key, value string) error {
	err := c.d.db.WithContext(ctx).Exec(`INSERT INTO llm_cache (cache_key, response, created_at) VALUES (?, ?, ?)
		ON CONFLICT (cache_key) DO UPDATE SET response = excluded.response, created_at = excluded.created_at`, key, cleanText(value), time.Now().UTC()).Error
	if err != nil {
		return fmt.Errorf("store: llm cache put: %w", err)
	}
	return nil
}
