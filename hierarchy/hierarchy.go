// Package hierarchy organises the clusters of a run into a multi-level taxonomy, the
// way Anthropic's Clio does.
//
// Two methods produce the same output, a []lmsys.HierarchyNode whose level 0 holds the
// run's clusters (the leaves) and whose higher levels hold parents:
//
//   - Merge with an LLM (Options.LLM set) follows Clio level by level: embed each
//     cluster's "title: description", group the clusters into neighbourhoods with
//     k-means, let the LLM propose parent categories per neighbourhood, deduplicate the
//     candidates, assign every child to one parent (validated, re-asked when invalid,
//     an explicit "Unassigned" parent when nothing fits) and rename each parent from
//     the children it received.
//   - The offline merge (Options.LLM nil) needs no network: it groups children with
//     size-capped agglomerative clustering (Ward's linkage by default) on a locally
//     scaled similarity that mixes their centroids with a TF-IDF of their titles,
//     keywords, representative queries and, when leaves carry Texts (Run reads a
//     sample of each cluster's queries), the share of those texts holding each term;
//     children far smaller than their level's mean join the group they are most
//     similar to afterwards instead of taking a parent of their own. Parents are
//     named by c-TF-IDF over their children's text.
//
// Parent cluster ids never collide with leaf ids: a parent at level l ≥ 1 gets the id
// l·B + i, where i counts the parents of that level from 0 and B is IDBase(leaves),
// 1,000,000 unless a leaf id is that large, in which case B is the next power of ten
// above the largest leaf id.
//
// Validate checks the invariants every hierarchy must hold, whichever method built it.
//
// In the pipeline it is the stage after summarize: Run reads a run's clusters and
// their summaries from the Store and writes the nodes to its HierarchyStore, where the
// CLI's show-hierarchy, search, curation (which keeps hierarchies consistent with its
// edits), the viewer and reports read them.
package hierarchy

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
)

// Leaf is one cluster of a run as the merge sees it: its summary, size and centroid.
type Leaf struct {
	// ClusterID is the cluster's id in its run; ids must be distinct and non-negative.
	ClusterID int
	// Size is the number of queries in the cluster.
	Size int
	// Title and Description come from the cluster's summary.
	Title       string
	Description string
	// Keywords and Queries (a few representative queries) come from the summary too.
	Keywords []string
	Queries  []string
	// Centroid is the cluster's centroid in the run's embedding space, normalised to
	// unit length. It may be nil when the run stored none.
	Centroid []float32
	// Texts is a sample of the cluster's distinct query texts (LoadLeaves reads up to
	// TextSample of them for an offline merge). The offline merge compares leaves by
	// the share of these texts holding each term, a far better estimate of what a
	// cluster is about than a handful of representative queries. It may be nil.
	Texts []string
}

// Defaults used when the corresponding Options field is zero.
const (
	DefaultTargetLevels     = 3
	DefaultMergeRatio       = 0.2
	DefaultNeighborhoodSize = 40
	DefaultContextClusters  = 5
	DefaultConcurrency      = 10
	DefaultLocalScaling     = 5
	// SampledTextWeight is the offline merge's default text weight when every leaf
	// carries Texts: the term shares of a real sample are worth more than the text
	// of a summary alone.
	SampledTextWeight = 0.7
	// TextSample is the number of distinct query texts per cluster LoadLeaves reads
	// into Leaf.Texts for an offline merge.
	TextSample = 200
)

// Linkages of the offline merge.
const (
	LinkageAverage = "average"
	LinkageWard    = "ward"
)

// UnassignedTitle is the title of the explicit parent that receives children the LLM
// could not place in any proposed parent.
const UnassignedTitle = "Unassigned"

// Options configures a merge. The zero value merges offline into three levels with a
// merge ratio of 0.2 (200 → 40 → 8).
type Options struct {
	// TargetLevels is the number of levels including the leaves (2 = one merge).
	TargetLevels int
	// MergeRatio is the number of parents per child at each level, in (0, 1).
	MergeRatio float64
	// TopClusters, when positive, fixes the number of top-level parents; the level
	// sizes then follow Clio's geometric ratio (TopClusters/leaves)^(1/(TargetLevels−1))
	// and MergeRatio is ignored.
	TopClusters int

	// SummaryRun names the summary run (id or alias) whose titles Run uses; empty
	// means the latest one.
	SummaryRun string

	// LLM, when not nil, selects the Clio method; nil selects the offline merge.
	LLM Completer
	// Model names the LLM for the record (e.g. "openai/gpt-4o-mini").
	Model string
	// Embedder embeds "title: description" texts. The LLM method requires it; the
	// offline merge uses it only for leaves without a centroid.
	Embedder lmsys.Embedder
	// NeighborhoodSize is the average number of clusters per LLM neighbourhood.
	NeighborhoodSize int
	// ContextClusters is m, the number of nearest clusters outside a neighbourhood
	// shown to the LLM as context.
	ContextClusters int
	// Concurrency bounds the LLM calls in flight.
	Concurrency int
	// NoScrub sends prompts as they are; by default e-mail addresses, phone numbers and
	// similar personal data in them are masked first (internal/scrub).
	NoScrub bool

	// TextWeight is the weight of the text similarity against the centroid similarity
	// in the offline merge, in [0, 1]; zero means SampledTextWeight when every leaf
	// carries Texts and 0.5 otherwise. Use a negative value for 0.
	TextWeight float64
	// Linkage is the offline merge's agglomerative linkage: LinkageWard (the
	// default) or LinkageAverage.
	Linkage string
	// LocalScaling is k of the offline merge's self-tuning similarity kernel (each
	// similarity scaled by the two items' distances to their k-th nearest neighbour);
	// zero means DefaultLocalScaling, a negative value turns it off.
	LocalScaling int
	// Seed makes the k-means and shuffles deterministic.
	Seed int64
	// Parameters are recorded with the hierarchy run's own parameters (a caller's
	// bookkeeping, such as the reuse key of local's pipeline); they do not change the
	// result.
	Parameters map[string]any
	// Now stamps the nodes and names the hierarchy run; nil means time.Now.
	Now func() time.Time
	// Progress receives progress reports; nil is fine.
	Progress lmsys.ProgressFunc
}

func (o Options) withDefaults() Options {
	if o.TargetLevels == 0 {
		o.TargetLevels = DefaultTargetLevels
	}
	if o.MergeRatio == 0 {
		o.MergeRatio = DefaultMergeRatio
	}
	if o.NeighborhoodSize == 0 {
		o.NeighborhoodSize = DefaultNeighborhoodSize
	}
	if o.ContextClusters == 0 {
		o.ContextClusters = DefaultContextClusters
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	switch {
	case o.TextWeight == 0:
		o.TextWeight = 0.5
	case o.TextWeight < 0:
		o.TextWeight = 0
	}
	if o.Linkage == "" {
		o.Linkage = LinkageWard
	}
	switch {
	case o.LocalScaling == 0:
		o.LocalScaling = DefaultLocalScaling
	case o.LocalScaling < 0:
		o.LocalScaling = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func (o Options) check() error {
	switch {
	case o.TargetLevels < 2:
		return fmt.Errorf("%w: target levels %d: need at least 2 (leaves and one merge)", lmsys.ErrInvalidInput, o.TargetLevels)
	case o.TargetLevels > 10:
		return fmt.Errorf("%w: target levels %d: at most 10", lmsys.ErrInvalidInput, o.TargetLevels)
	case o.TopClusters <= 0 && (o.MergeRatio <= 0 || o.MergeRatio >= 1 || math.IsNaN(o.MergeRatio)):
		return fmt.Errorf("%w: merge ratio %g: must be in (0, 1)", lmsys.ErrInvalidInput, o.MergeRatio)
	case o.TopClusters < 0:
		return fmt.Errorf("%w: top clusters %d: must be positive", lmsys.ErrInvalidInput, o.TopClusters)
	case o.NeighborhoodSize < 2:
		return fmt.Errorf("%w: neighborhood size %d: need at least 2", lmsys.ErrInvalidInput, o.NeighborhoodSize)
	case o.ContextClusters < 0:
		return fmt.Errorf("%w: context clusters %d: must not be negative", lmsys.ErrInvalidInput, o.ContextClusters)
	case o.Concurrency < 1:
		return fmt.Errorf("%w: concurrency %d: must be positive", lmsys.ErrInvalidInput, o.Concurrency)
	case o.Linkage != LinkageAverage && o.Linkage != LinkageWard:
		return fmt.Errorf("%w: linkage %q: want %q or %q", lmsys.ErrInvalidInput, o.Linkage, LinkageAverage, LinkageWard)
	case o.TextWeight > 1:
		return fmt.Errorf("%w: text weight %g: must be at most 1", lmsys.ErrInvalidInput, o.TextWeight)
	}
	return nil
}

// parameters returns the options as recorded in a Report.
func (o Options) parameters() map[string]any {
	p := map[string]any{
		"target_levels": o.TargetLevels,
		"merge_ratio":   o.MergeRatio,
		"seed":          o.Seed,
	}
	if o.TopClusters > 0 {
		p["top_clusters"] = o.TopClusters
		delete(p, "merge_ratio")
	}
	if o.LLM != nil {
		p["neighborhood_size"] = o.NeighborhoodSize
		p["context_clusters"] = o.ContextClusters
		p["concurrency"] = o.Concurrency
		p["scrubbed"] = !o.NoScrub
	} else {
		p["text_weight"] = o.TextWeight
		p["linkage"] = o.Linkage
		p["local_scaling"] = o.LocalScaling
	}
	if o.SummaryRun != "" {
		p["summary_run"] = o.SummaryRun
	}
	if o.Embedder != nil {
		p["embedding_space"] = o.Embedder.Space().String()
	}
	for k, v := range o.Parameters {
		p[k] = v
	}
	return p
}

// LevelSizes returns the planned number of nodes per level for n leaves: element 0 is
// n, each next one is the previous times the merge ratio (or Clio's geometric ratio
// when opts.TopClusters is set), rounded and at least 1. Planning stops early when a
// level could not be smaller than the one below it, so the result may be shorter than
// opts.TargetLevels.
func LevelSizes(n int, opts Options) []int {
	opts = opts.withDefaults()
	sizes := []int{n}
	if n <= 1 {
		return sizes
	}
	ratio := opts.MergeRatio
	if opts.TopClusters > 0 {
		ratio = math.Pow(float64(opts.TopClusters)/float64(n), 1/float64(opts.TargetLevels-1))
	}
	for l := 1; l < opts.TargetLevels; l++ {
		var k int
		if opts.TopClusters > 0 {
			k = int(math.Round(float64(n) * math.Pow(ratio, float64(l))))
			if l == opts.TargetLevels-1 {
				k = opts.TopClusters
			}
		} else {
			k = int(math.Round(float64(sizes[l-1]) * ratio))
		}
		prev := sizes[l-1]
		if k < 1 {
			k = 1
		}
		if k >= prev {
			if prev == 1 {
				break
			}
			k = prev - 1
		}
		sizes = append(sizes, k)
	}
	return sizes
}

// IDBase returns B, the id stride of parents: a parent at level l gets id l·B + i.
// B is 1,000,000, or the next power of ten above the largest leaf id when that is
// larger.
func IDBase(leaves []Leaf) int {
	maxID := 0
	for _, l := range leaves {
		if l.ClusterID > maxID {
			maxID = l.ClusterID
		}
	}
	b := 1_000_000
	for b <= maxID {
		b *= 10
	}
	return b
}

// LevelReport describes one level of a built hierarchy.
type LevelReport struct {
	Level int `json:"level"`
	// Nodes is the number of nodes at this level, Unassigned included.
	Nodes int `json:"nodes"`
	// Planned is the number of parents the level sizes asked for.
	Planned int `json:"planned"`
	// Unassigned is the number of children of the level below placed in the
	// Unassigned parent (LLM method only).
	Unassigned int `json:"unassigned"`
	// Candidates is the number of parent names the LLM proposed before and after
	// deduplication (LLM method only).
	Candidates        int `json:"candidates,omitempty"`
	DedupedCandidates int `json:"deduped_candidates,omitempty"`
	// Reasked counts assignment answers that were invalid and asked again.
	Reasked int `json:"reasked,omitempty"`
	// LLMCalls counts the calls made for this level, by step.
	LLMCalls map[string]int `json:"llm_calls,omitempty"`
	// Oversized lists parents with more than twice the average number of children.
	Oversized []int `json:"oversized,omitempty"`
	// Failures lists LLM steps that never got a valid answer and how they were handled.
	Failures []string `json:"failures,omitempty"`
	// MaxChildren and MeanChildren describe the fan-in of this level's nodes.
	MaxChildren  int     `json:"max_children"`
	MeanChildren float64 `json:"mean_children"`
}

// Report records how a hierarchy was built: method, model, parameters and counts.
type Report struct {
	HierarchyRunID string         `json:"hierarchy_run_id"`
	RunID          string         `json:"run_id"`
	Method         string         `json:"method"`
	Model          string         `json:"model,omitempty"`
	Parameters     map[string]any `json:"parameters"`
	Leaves         int            `json:"leaves"`
	NumQueries     int            `json:"num_queries"`
	Levels         []LevelReport  `json:"levels"`
	LLMCalls       int            `json:"llm_calls"`
	// Usage is what the LLM calls cost (LLM method only).
	Usage   *llm.Usage `json:"usage,omitempty"`
	Seconds float64    `json:"seconds"`
}

// Result is a built hierarchy with its report.
type Result struct {
	Nodes  []lmsys.HierarchyNode `json:"nodes"`
	Report Report                `json:"report"`
}

// Build merges leaves into a hierarchy: with opts.LLM when it is set, offline
// otherwise. runID is recorded on every node; the hierarchy run id is
// lmsys.NewHierarchyRunID(runID, opts.Now()).
func Build(ctx context.Context, runID string, leaves []Leaf, opts Options) (Result, error) {
	if opts.TextWeight == 0 && opts.LLM == nil && len(leaves) > 0 && allSampled(leaves) {
		opts.TextWeight = SampledTextWeight
	}
	opts = opts.withDefaults()
	if err := opts.check(); err != nil {
		return Result{}, err
	}
	if err := checkLeaves(leaves); err != nil {
		return Result{}, err
	}
	if opts.LLM != nil {
		return buildClio(ctx, runID, leaves, opts)
	}
	return buildOffline(ctx, runID, leaves, opts)
}

// allSampled reports whether every leaf carries sampled texts.
func allSampled(leaves []Leaf) bool {
	for _, l := range leaves {
		if len(l.Texts) == 0 {
			return false
		}
	}
	return true
}

func checkLeaves(leaves []Leaf) error {
	if len(leaves) == 0 {
		return fmt.Errorf("%w: no clusters to merge", lmsys.ErrEmpty)
	}
	seen := make(map[int]bool, len(leaves))
	dims := -1
	for i, l := range leaves {
		if l.ClusterID < 0 {
			return fmt.Errorf("%w: leaf %d has negative cluster id %d", lmsys.ErrInvalidInput, i, l.ClusterID)
		}
		if seen[l.ClusterID] {
			return fmt.Errorf("%w: cluster id %d appears twice", lmsys.ErrInvalidInput, l.ClusterID)
		}
		seen[l.ClusterID] = true
		if l.Size < 0 {
			return fmt.Errorf("%w: cluster %d has negative size %d", lmsys.ErrInvalidInput, l.ClusterID, l.Size)
		}
		if l.Centroid != nil {
			if dims >= 0 && len(l.Centroid) != dims {
				return fmt.Errorf("%w: cluster %d centroid has %d dimensions, others %d", lmsys.ErrSpaceMismatch, l.ClusterID, len(l.Centroid), dims)
			}
			dims = len(l.Centroid)
			for _, v := range l.Centroid {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("%w: cluster %d centroid holds %v", lmsys.ErrInvalidInput, l.ClusterID, v)
				}
			}
		}
	}
	return nil
}

// levelReport fills the fan-in figures of level l (≥ 1) from its nodes.
func levelReport(level int, planned int, nodes []lmsys.HierarchyNode) LevelReport {
	lr := LevelReport{Level: level, Nodes: len(nodes), Planned: planned}
	total := 0
	for _, n := range nodes {
		total += len(n.ChildrenIDs)
		if len(n.ChildrenIDs) > lr.MaxChildren {
			lr.MaxChildren = len(n.ChildrenIDs)
		}
	}
	if len(nodes) > 0 {
		lr.MeanChildren = float64(total) / float64(len(nodes))
	}
	for _, n := range nodes {
		if float64(len(n.ChildrenIDs)) > 2*lr.MeanChildren {
			lr.Oversized = append(lr.Oversized, n.ClusterID)
		}
	}
	sort.Ints(lr.Oversized)
	return lr
}
