package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/layout"
	"github.com/lmsys-go/lmsys/store"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerMap)
}

func registerMap(root *cobra.Command, g *globals) {
	var seed uint64
	var output string
	var level, width, height int
	var color string
	cmd := &cobra.Command{
		Use:   "map RUN [--output map.png|map.svg] [--level N | --color FACET] [--seed 42]",
		Short: "Lay out every query of a run on a 2-D map (stored; reused while the run is unchanged) and draw it",
		Long: `map computes a 2-D layout of the run's query vectors that keeps each query's neighbourhood
(t-SNE: perplexity-calibrated affinities among each query's nearest neighbours, laid out by gradient
descent with the repulsion convolved on a grid by FFT; deterministic for a seed) and stores it
with the run. Above 50,000 queries it lays out 25,000 landmarks, a share of each cluster, that way
and places every other query at its nearest landmarks, reading the vectors from the store in
batches instead of holding them. Run again, it reuses the stored layout while the run's queries and the seed are the
same. --output draws it as a PNG or SVG, one colour per cluster, or per hierarchy parent of level N
with --level (1 = the leaves' parents), or per value of a facet with --color (language, model, or a
classified facet such as refusal), the largest groups named at their centres. --json prints the
points: {query_id, x, y, cluster_id}. lmsys serve shows the same map interactively at /runs/RUN/map.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" {
				if ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(output)), "."); ext != "png" && ext != "svg" {
					return usagef("--output %s: the picture must be a .png or .svg file", output)
				}
			}
			if level < 0 {
				return usagef("--level must be 0 (clusters) or a hierarchy level, not %d", level)
			}
			if color != "" && level != 0 {
				return usagef("--color and --level both choose the colours: give one")
			}
			db, err := openStore(cmd, g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			p := newProgress(cmd)
			start := time.Now()
			m, err := layout.Run(ctx, db, args[0], layout.Options{Seed: seed, Progress: p.Func()})
			p.finish()
			if err != nil {
				return err
			}
			var groups []int
			var names map[int]string
			if color != "" {
				groups, names, err = colorGroups(ctx, db, args[0], m.QueryIDs, color)
			} else {
				groups, names, err = mapGroups(ctx, db, args[0], m.Clusters, level)
			}
			if err != nil {
				return err
			}
			if output != "" {
				err := writePicture(output, func(f *os.File) error {
					return layout.Draw(f, m.Points, groups, layout.Picture{Format: strings.TrimPrefix(strings.ToLower(filepath.Ext(output)), "."),
						Width: width, Height: height, Title: "Run " + m.RunID, Names: names})
				})
				if err != nil {
					return fmt.Errorf("map: %w", err)
				}
			}
			if g.json {
				type point struct {
					QueryID   int64   `json:"query_id"`
					X         float32 `json:"x"`
					Y         float32 `json:"y"`
					ClusterID int     `json:"cluster_id"`
				}
				pts := make([]point, len(m.Points))
				for i, pt := range m.Points {
					pts[i] = point{m.QueryIDs[i], pt.X, pt.Y, m.Clusters[i]}
				}
				return printJSON(cmd.OutOrStdout(), map[string]any{"run_id": m.RunID, "seed": m.Seed, "reused": m.Reused, "points": pts})
			}
			how := "computed"
			if m.Reused {
				how = "reused"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Map of run %s: %d queries, %s in %.1fs (seed %d)\n", m.RunID, len(m.Points), how, time.Since(start).Seconds(), m.Seed)
			if output != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "Drawn to %s\n", output)
			}
			return nil
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 42, "random seed of the layout")
	cmd.Flags().StringVar(&output, "output", "", "draw the map to this .png or .svg file")
	cmd.Flags().IntVar(&level, "level", 0, "colour by the parents of this hierarchy level (0: by cluster)")
	cmd.Flags().StringVar(&color, "color", "", "colour by a facet's values instead: language, model, or a classified facet (refusal, pushback …)")
	cmd.Flags().IntVar(&width, "width", 1200, "picture width in pixels")
	cmd.Flags().IntVar(&height, "height", 900, "picture height in pixels")
	root.AddCommand(cmd)
}

// mapGroups returns the group of each point (its cluster, or its ancestor at the
// hierarchy level asked for, from the run's newest hierarchy) and the groups' names.
func mapGroups(ctx context.Context, db *store.DB, runID string, clusters []int, level int) ([]int, map[int]string, error) {
	if level == 0 {
		names := map[int]string{}
		sums, err := db.Summaries(ctx, runID, "")
		if err != nil && !errors.Is(err, lmsys.ErrNotFound) {
			return nil, nil, err
		}
		for _, s := range sums {
			names[s.ClusterID] = s.Title
		}
		return clusters, names, nil
	}
	ids, err := db.Hierarchies(ctx, runID)
	if err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 {
		return nil, nil, usagef("--level %d: run %s has no hierarchy (run lmsys merge-clusters %s first)", level, runID, runID)
	}
	nodes, err := db.Hierarchy(ctx, ids[0])
	if err != nil {
		return nil, nil, err
	}
	ancestor, names, err := layout.LevelGroups(nodes, level)
	if err != nil {
		return nil, nil, usagef("--level %d: hierarchy %s: %v", level, ids[0], err)
	}
	groups := make([]int, len(clusters))
	for i, c := range clusters {
		g, ok := ancestor[c]
		if !ok {
			g = -1 // a cluster the hierarchy does not hold (noise, or added since)
		}
		groups[i] = g
	}
	return groups, names, nil
}

// colorGroups returns the group of each point by a facet's value (language, model or
// a classified facet's label; "(none)" where a query has none) and names each group by
// its value; groups are numbered by size, largest first.
func colorGroups(ctx context.Context, db *store.DB, runID string, ids []int64, facet string) ([]int, map[int]string, error) {
	value, err := layout.FacetValues(ctx, db, runID, facet)
	if errors.Is(err, lmsys.ErrNotFound) {
		return nil, nil, usagef("--color %s: not language, model or a classified facet (lmsys classifications lists them)", facet)
	}
	if err != nil {
		return nil, nil, err
	}
	counts := map[string]int{}
	for _, id := range ids {
		v := value[id]
		if v == "" {
			v = "(none)"
		}
		value[id] = v
		counts[v]++
	}
	keys := layout.BySize(counts)
	index := make(map[string]int, len(keys))
	names := make(map[int]string, len(keys))
	for i, k := range keys {
		index[k], names[i] = i, k
	}
	groups := make([]int, len(ids))
	for i, id := range ids {
		groups[i] = index[value[id]]
	}
	return groups, names, nil
}
