package search

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/semantic"
)

// CollectionInfo describes one collection of the index: the seed's "chroma info".
type CollectionInfo struct {
	Name string `json:"name"`
	// Kind is KindQueries or KindSummaries ("" for a collection this package did not name).
	Kind string `json:"kind"`
	// Space is the embedding space the collection belongs to (nil when unknown).
	Space *lmsys.Space `json:"space"`
	Count int          `json:"count"`
	Dims  int          `json:"dimension"`
	// Index is the index kind holding it ("exact", "hnsw", or the backend's).
	Index string `json:"index"`
	// Bytes is the size of its file (0 when not saved or not file-backed).
	Bytes int64 `json:"bytes"`
	// Runs lists the store's runs in the collection's space.
	Runs []string `json:"runs"`
}

// infoer is implemented by semantic.Index and semantic.Chroma.
type infoer interface {
	Info(ctx context.Context) ([]semantic.CollectionInfo, error)
}

// Info lists the index's collections with their space (recognised from the store's
// runs and embeddings), item count, dimension and index kind.
func (s *Service) Info(ctx context.Context) ([]CollectionInfo, error) {
	in, ok := s.index.(infoer)
	if !ok {
		return nil, fmt.Errorf("search: the index (%T) cannot list its collections", s.index)
	}
	cols, err := in.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("search: index info: %w", err)
	}
	spaces := map[lmsys.Space][]string{}
	runs, err := s.db.ListRuns(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if !r.Space.IsZero() {
			spaces[r.Space] = append(spaces[r.Space], r.ID)
		}
	}
	rows, err := s.db.Gorm().WithContext(ctx).Raw(`SELECT DISTINCT space FROM embeddings`).Rows()
	if err != nil {
		return nil, fmt.Errorf("search: embedding spaces: %w", err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		if sp, err := lmsys.ParseSpace(v); err == nil {
			if _, ok := spaces[sp]; !ok {
				spaces[sp] = nil
			}
		}
	}
	rows.Close()
	names := map[string]lmsys.Space{}
	for sp := range spaces {
		names[sp.Collection(KindQueries)] = sp
		names[sp.Collection(KindSummaries)] = sp
	}
	out := make([]CollectionInfo, 0, len(cols))
	for _, c := range cols {
		ci := CollectionInfo{Name: c.Name, Count: c.Count, Dims: c.Dims, Index: string(c.Kind), Bytes: c.Bytes, Runs: []string{}}
		for _, k := range []string{KindSummaries, KindQueries} {
			if strings.HasPrefix(c.Name, k+"_") {
				ci.Kind = k
				break
			}
		}
		if sp, ok := names[c.Name]; ok {
			sp := sp
			ci.Space = &sp
			ci.Runs = append(ci.Runs, spaces[sp]...)
			sort.Strings(ci.Runs)
		}
		out = append(out, ci)
	}
	return out, nil
}
