package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lmsys-go/lmsys"
	"go.yaml.in/yaml/v3"
)

// List facets. A template's list facet (the Clio set's languages) is stored as one
// label per query, its items joined by lmsys.ListSeparator ("en, fr"), and exported
// and shown that way. Counts and label filters take it item by item: "en, fr" counts
// once for en and once for fr, and languages=fr keeps it. The classifier run records
// its list facets in its parameters (lmsys.ListFacetsParameter); a run recorded before
// that parameter existed is read through its stored template's facet types.

// facetRun is the classifier configuration whose labels of a facet are read: its
// result key, and whether it answers the facet with a list.
type facetRun struct {
	key  string
	list bool
}

// facetConfig returns the configuration of facet that reads use: the one of result
// key when key is set, else the newest run's that answered facet (an error wrapping
// lmsys.ErrNotFound when none has). A key no run records is read as a plain facet.
func (d *DB) facetConfig(ctx context.Context, facet, key string) (facetRun, error) {
	stmt, arg := latestKeyRunQuery, any(facetLike(facet))
	if key != "" {
		stmt, arg = keyRunQuery, key
	}
	var fr facetRun
	var params, provider, templateID string
	err := d.db.WithContext(ctx).Raw(stmt, arg).Row().Scan(&fr.key, &params, &provider, &templateID)
	switch {
	case err == sql.ErrNoRows && key != "":
		return facetRun{key: key}, nil
	case err == sql.ErrNoRows:
		return fr, fmt.Errorf("%w: no classification has labelled facet %q", lmsys.ErrNotFound, facet)
	case err != nil:
		return fr, fmt.Errorf("store: facet %q: %w", facet, err)
	}
	r := lmsys.ClassificationRun{Provider: provider, TemplateID: templateID}
	if strings.Contains(params, `"`+lmsys.ListFacetsParameter+`"`) {
		if err := json.Unmarshal([]byte(params), &r.Parameters); err != nil {
			return fr, fmt.Errorf("store: facet %q: parameters are not JSON: %w", facet, err)
		}
	}
	lists, err := d.runListFacets(ctx, r)
	if err != nil {
		return fr, err
	}
	fr.list = slices.Contains(lists, facet)
	return fr, nil
}

// The newest run that answered a facet (its argument is facetLike(facet)), and the
// newest run of a result key: key, parameters, provider and template.
const (
	runConfigColumns   = `SELECT r.result_key, COALESCE(r.parameters, ''), r.provider, r.template_id FROM classification_runs r WHERE `
	runConfigOrder     = ` ORDER BY r.created_at DESC, r.classification_run_id DESC LIMIT 1`
	latestKeyRunQuery  = runConfigColumns + `r.facets LIKE ? ESCAPE '\'` + runConfigOrder
	keyRunQuery        = runConfigColumns + `r.result_key = ?` + runConfigOrder
	listFacetsTemplate = `SELECT yaml_content FROM classification_templates WHERE template_id = ?`
)

// runListFacets returns the list facets of a run: those of its parameters, or for a
// run recorded without lmsys.ListFacetsParameter, those of its stored template. A
// built-in classifier has none.
func (d *DB) runListFacets(ctx context.Context, r lmsys.ClassificationRun) ([]string, error) {
	if _, ok := r.Parameters[lmsys.ListFacetsParameter]; ok {
		return r.ListFacets(), nil
	}
	if r.Provider == "builtin" {
		return nil, nil
	}
	var contents []string
	if err := d.db.WithContext(ctx).Raw(listFacetsTemplate, r.TemplateID).Scan(&contents).Error; err != nil {
		return nil, fmt.Errorf("store: template %s: %w", r.TemplateID, err)
	}
	if len(contents) == 0 {
		return nil, nil
	}
	return templateListFacets(contents[0]), nil
}

// templateListFacets reads the names of the list facets of a stored template (YAML or
// JSON with a facets list of {name, type}); any other content has none.
func templateListFacets(content string) []string {
	if !strings.Contains(content, "list") {
		return nil // built-in classifiers' rules, and templates without a list facet
	}
	var t struct {
		Facets []struct {
			Name string `yaml:"name"`
			Type string `yaml:"type"`
		} `yaml:"facets"`
	}
	if yaml.Unmarshal([]byte(content), &t) != nil {
		return nil
	}
	var out []string
	for _, f := range t.Facets {
		if strings.TrimSpace(f.Type) == "list" {
			out = append(out, strings.TrimSpace(f.Name))
		}
	}
	return out
}

// ListFacets returns the labelled facets answered with a list by the newest
// classifier configuration that answered each: their labels join items with
// lmsys.ListSeparator, and counts and label filters take them item by item.
func (d *DB) ListFacets(ctx context.Context) (map[string]bool, error) {
	runs, err := d.ClassificationRuns(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	seen := map[string]bool{}
	for _, r := range runs {
		var lists []string
		read := false
		for _, f := range r.Facets {
			if seen[f] {
				continue
			}
			seen[f] = true
			if !read {
				if lists, err = d.runListFacets(ctx, r); err != nil {
					return nil, err
				}
				read = true
			}
			if slices.Contains(lists, f) {
				out[f] = true
			}
		}
	}
	return out, nil
}

// IsListFacet reports whether the newest classifier configuration that answered facet
// answers it with a list (false, with no error, for a facet nothing has labelled).
func (d *DB) IsListFacet(ctx context.Context, facet string) (bool, error) {
	fr, err := d.facetConfig(ctx, facet, "")
	if err != nil && !errors.Is(err, lmsys.ErrNotFound) {
		return false, err
	}
	return fr.list, nil
}

// itemCounts turns the counts of a list facet's labels into the counts of their
// items: each label counts once for each of its items. The result is sorted.
func itemCounts(cs []lmsys.Count) []lmsys.Count {
	byItem := map[string]int64{}
	for _, c := range cs {
		for _, it := range lmsys.ListItems(c.Key) {
			byItem[it] += c.Count
		}
	}
	out := make([]lmsys.Count, 0, len(byItem))
	for k, n := range byItem {
		out = append(out, lmsys.Count{Key: k, Count: n})
	}
	sortCounts(out)
	return out
}

// sortCounts orders counts largest first, ties by key.
func sortCounts(cs []lmsys.Count) {
	slices.SortFunc(cs, func(a, b lmsys.Count) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// LabelMatch returns an SQL condition on queries q (" AND EXISTS …") keeping the
// queries whose label of facet, under the newest configuration that answered it,
// matches value as lmsys.LabelMatches says: the label itself, or for a list facet
// one of its items exactly ("fr" keeps "en, fr", never "frr" or "en-fr"); a value
// with a comma is compared with the whole stored label. It errs, wrapping
// lmsys.ErrNotFound, when nothing has labelled facet.
//
// An item is found with instr (SQLite) or strpos (PostgreSQL) of ", item, " in
// ", label, ": a plain, case-sensitive substring test as exact as the = of a plain
// facet, with no pattern characters to escape, on the one label the (result key,
// query, facet) index finds for each query.
func (d *DB) LabelMatch(ctx context.Context, facet, value string) (string, []any, error) {
	fr, err := d.facetConfig(ctx, facet, "")
	if err != nil {
		return "", nil, err
	}
	if !fr.list || strings.Contains(value, ",") {
		cond, args := LabelCondition(facet, value)
		return cond, args, nil
	}
	find := "instr"
	if d.postgres {
		find = "strpos"
	}
	sep := lmsys.ListSeparator
	return " AND EXISTS (SELECT 1 FROM query_classifications lf WHERE lf.result_key = " + latestKeySQL +
			" AND lf.query_id = q.id AND lf.facet = ? AND " + find + "('" + sep + "' || lf.label || '" + sep + "', ?) > 0)",
		[]any{facetLike(facet), facet, sep + value + sep}, nil
}
