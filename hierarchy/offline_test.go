package hierarchy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC) }

// planted returns topics×subs×per leaves whose centroids and text carry a planted
// two-level structure: leaf (t, s, i) has id t*100+s*10+i.
func planted(topics, subs, per int, seed uint64) []Leaf {
	rng := rand.New(rand.NewPCG(seed, 1))
	const dims = 32
	randVec := func(scale float64) []float64 {
		v := make([]float64, dims)
		for i := range v {
			v[i] = rng.NormFloat64() * scale
		}
		return v
	}
	topicWords := []string{"cooking", "music", "weather", "email", "travel", "finance"}
	subWords := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}
	var leaves []Leaf
	for t := 0; t < topics; t++ {
		tv := randVec(1)
		for s := 0; s < subs; s++ {
			sv := randVec(0.5)
			for i := 0; i < per; i++ {
				nv := randVec(0.1)
				c := make([]float32, dims)
				for d := range c {
					c[d] = float32(tv[d] + sv[d] + nv[d])
				}
				tw, sw := topicWords[t], fmt.Sprintf("%s%s", topicWords[t][:3], subWords[s])
				leaves = append(leaves, Leaf{
					ClusterID: t*100 + s*10 + i,
					Size:      10 + rng.IntN(50),
					Title:     fmt.Sprintf("%s %s n%d", tw, sw, t*100+s*10+i),
					Keywords:  []string{tw, sw, fmt.Sprintf("unique%d%d%d", t, s, i)},
					Queries:   []string{fmt.Sprintf("help me with %s and %s", tw, sw)},
					Centroid:  normalized(c),
				})
			}
		}
	}
	return leaves
}

func byLevel(nodes []lmsys.HierarchyNode, level int) []lmsys.HierarchyNode {
	var out []lmsys.HierarchyNode
	for _, n := range nodes {
		if n.Level == level {
			out = append(out, n)
		}
	}
	return out
}

func TestOfflinePlantedStructure(t *testing.T) {
	for _, linkage := range []string{LinkageAverage, LinkageWard} {
		t.Run(linkage, func(t *testing.T) {
			leaves := planted(4, 4, 4, 3)
			res, err := Build(context.Background(), "run-1", leaves, Options{MergeRatio: 0.25, Linkage: linkage, Now: fixedNow})
			require.NoError(t, err)
			require.NoError(t, Validate(res.Nodes))
			l1, l2 := byLevel(res.Nodes, 1), byLevel(res.Nodes, 2)
			require.Len(t, l1, 16)
			require.Len(t, l2, 4)
			// Every level-1 parent holds exactly the four leaves of one subtopic.
			for _, p := range l1 {
				require.Len(t, p.ChildrenIDs, 4, p.Title)
				for _, c := range p.ChildrenIDs {
					assert.Equal(t, p.ChildrenIDs[0]/10, c/10, "parent %q mixes subtopics: %v", p.Title, p.ChildrenIDs)
				}
			}
			// Every level-2 parent holds the subtopics of one topic.
			topicOf := map[int]int{}
			for _, p := range l1 {
				topicOf[p.ClusterID] = p.ChildrenIDs[0] / 100
			}
			for _, p := range l2 {
				require.Len(t, p.ChildrenIDs, 4)
				for _, c := range p.ChildrenIDs {
					assert.Equal(t, topicOf[p.ChildrenIDs[0]], topicOf[c])
				}
				// c-TF-IDF names the parent after its topic word.
				assert.Contains(t, p.Title, []string{"Cooking", "Music", "Weather", "Email"}[topicOf[p.ChildrenIDs[0]]])
			}
			assert.Equal(t, "offline", res.Report.Method)
			assert.Equal(t, "hier-run-1-20261127-050000", res.Report.HierarchyRunID)
		})
	}
}

func TestOfflineInvariantsAndIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{1, 2, 3, 7, 50, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var leaves []Leaf
			for i := 0; i < n; i++ {
				c := make([]float32, 16)
				for d := range c {
					c[d] = float32(rng.NormFloat64())
				}
				leaves = append(leaves, Leaf{ClusterID: i * 3, Size: 1 + rng.IntN(100), Title: fmt.Sprintf("topic %d", i%9), Centroid: c})
			}
			res, err := Build(context.Background(), "r", leaves, Options{})
			require.NoError(t, err)
			require.NoError(t, Validate(res.Nodes))
			sizes := LevelSizes(n, Options{})
			for l, want := range sizes {
				assert.Len(t, byLevel(res.Nodes, l), want, "level %d", l)
			}
			total := 0
			for _, lf := range leaves {
				total += lf.Size
			}
			for _, nd := range res.Nodes {
				if nd.Level > 0 {
					assert.GreaterOrEqual(t, nd.ClusterID, nd.Level*1_000_000)
					assert.Less(t, nd.ClusterID, (nd.Level+1)*1_000_000)
					assert.NotEmpty(t, nd.Title)
				}
				if nd.Level == len(sizes)-1 {
					assert.Nil(t, nd.ParentClusterID)
				}
			}
			top := byLevel(res.Nodes, len(sizes)-1)
			sum := 0
			for _, nd := range top {
				sum += nd.NumQueries
			}
			assert.Equal(t, total, sum)
			assert.Equal(t, total, res.Report.NumQueries)
			// No parent exceeds twice the average number of children.
			for _, lr := range res.Report.Levels {
				assert.Empty(t, lr.Oversized, "level %d", lr.Level)
			}
		})
	}
}

func TestOfflineDeterministic(t *testing.T) {
	leaves := planted(3, 3, 5, 11)
	a, err := Build(context.Background(), "r", leaves, Options{Now: fixedNow})
	require.NoError(t, err)
	shuffled := append([]Leaf(nil), leaves...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b, err := Build(context.Background(), "r", leaves, Options{Now: fixedNow})
	require.NoError(t, err)
	assert.Equal(t, a.Nodes, b.Nodes)
	// The grouping does not depend on the order the leaves come in.
	c, err := Build(context.Background(), "r", shuffled, Options{Now: fixedNow})
	require.NoError(t, err)
	assert.Equal(t, groupsOf(a.Nodes), groupsOf(c.Nodes))
}

// groupsOf returns the sorted leaf sets of the level-1 parents.
func groupsOf(nodes []lmsys.HierarchyNode) []string {
	var out []string
	for _, n := range byLevel(nodes, 1) {
		ids := append([]int(nil), n.ChildrenIDs...)
		sort.Ints(ids)
		out = append(out, fmt.Sprint(ids))
	}
	sort.Strings(out)
	return out
}

func TestOfflineWithoutCentroids(t *testing.T) {
	leaves := planted(2, 2, 3, 5)
	for i := range leaves {
		leaves[i].Centroid = nil
	}
	res, err := Build(context.Background(), "r", leaves, Options{TargetLevels: 2, TopClusters: 4})
	require.NoError(t, err)
	require.NoError(t, Validate(res.Nodes))
	assert.Equal(t, "missing", res.Report.Parameters["centroids"])
	for _, p := range byLevel(res.Nodes, 1) {
		for _, c := range p.ChildrenIDs {
			assert.Equal(t, p.ChildrenIDs[0]/10, c/10)
		}
	}
}

func TestIDBase(t *testing.T) {
	assert.Equal(t, 1_000_000, IDBase([]Leaf{{ClusterID: 5}}))
	assert.Equal(t, 10_000_000, IDBase([]Leaf{{ClusterID: 1_000_000}}))
	assert.Equal(t, 100_000_000, IDBase([]Leaf{{ClusterID: 12_345_678}}))
	leaves := []Leaf{{ClusterID: 1_500_000, Size: 1}, {ClusterID: 2, Size: 1}, {ClusterID: 3, Size: 1}}
	res, err := Build(context.Background(), "r", leaves, Options{TargetLevels: 2, MergeRatio: 0.5})
	require.NoError(t, err)
	require.NoError(t, Validate(res.Nodes))
	for _, n := range byLevel(res.Nodes, 1) {
		assert.GreaterOrEqual(t, n.ClusterID, 10_000_000)
	}
}

func TestLevelSizes(t *testing.T) {
	tests := []struct {
		n    int
		opts Options
		want []int
	}{
		{200, Options{}, []int{200, 40, 8}},
		{100, Options{TargetLevels: 2, MergeRatio: 0.5}, []int{100, 50}},
		{100, Options{TargetLevels: 4, MergeRatio: 0.5}, []int{100, 50, 25, 13}},
		{81, Options{TargetLevels: 2, TopClusters: 18}, []int{81, 18}},
		{1000, Options{TargetLevels: 4, TopClusters: 10}, []int{1000, 215, 46, 10}},
		{3, Options{}, []int{3, 1}},
		{2, Options{MergeRatio: 0.9}, []int{2, 1}},
		{1, Options{}, []int{1}},
		{10, Options{TargetLevels: 3, TopClusters: 20}, []int{10, 9, 8}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, LevelSizes(tt.n, tt.opts), "%d %+v", tt.n, tt.opts)
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	ok := []Leaf{{ClusterID: 1, Size: 1}, {ClusterID: 2, Size: 1}}
	tests := []struct {
		name   string
		leaves []Leaf
		opts   Options
		want   error
	}{
		{"no leaves", nil, Options{}, lmsys.ErrEmpty},
		{"duplicate id", []Leaf{{ClusterID: 1}, {ClusterID: 1}}, Options{}, lmsys.ErrInvalidInput},
		{"negative id", []Leaf{{ClusterID: -1}}, Options{}, lmsys.ErrInvalidInput},
		{"negative size", []Leaf{{ClusterID: 1, Size: -3}}, Options{}, lmsys.ErrInvalidInput},
		{"mixed dims", []Leaf{{ClusterID: 1, Centroid: []float32{1, 0}}, {ClusterID: 2, Centroid: []float32{1}}}, Options{}, lmsys.ErrSpaceMismatch},
		{"nan centroid", []Leaf{{ClusterID: 1, Centroid: []float32{float32(nan())}}}, Options{}, lmsys.ErrInvalidInput},
		{"one level", ok, Options{TargetLevels: 1}, lmsys.ErrInvalidInput},
		{"ratio 1", ok, Options{MergeRatio: 1}, lmsys.ErrInvalidInput},
		{"ratio negative", ok, Options{MergeRatio: -0.5}, lmsys.ErrInvalidInput},
		{"bad linkage", ok, Options{Linkage: "single"}, lmsys.ErrInvalidInput},
		{"tiny neighbourhood", ok, Options{NeighborhoodSize: 1}, lmsys.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(context.Background(), "r", tt.leaves, tt.opts)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.want), "%v", err)
		})
	}
}

func TestBuildCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, "r", planted(2, 2, 2, 1), Options{})
	assert.ErrorIs(t, err, context.Canceled)
}

func nan() float64 { var z float64; return z / z }

func TestKeywords(t *testing.T) {
	kw := Keywords([][]string{
		{"set an alarm for six", "wake me up at seven alarm"},
		{"what is the weather today", "will it rain, weather forecast"},
	}, 2)
	require.Len(t, kw, 2)
	assert.Equal(t, "alarm", kw[0][0])
	assert.Equal(t, "weather", kw[1][0])
	assert.Empty(t, Keywords([][]string{{"the and of"}}, 3)[0])
}

func TestTokens(t *testing.T) {
	assert.Equal(t, []string{"café", "2nd", "ünïcode"}, tokens(nil, "What's the café, 2nd 42 a ÜNÏCODE?"))
	assert.Equal(t, []string{"ok", "go"}, tokens(nil, "ok\xffgo"))
}

// sampledLeaves returns topics×per leaves whose centroids are noise and whose titles
// and keywords are unique gibberish: only their sampled texts say which topic they
// belong to. Leaf (t, i) has id t*100+i.
func sampledLeaves(topics, per int, seed uint64) []Leaf {
	rng := rand.New(rand.NewPCG(seed, 3))
	words := [][]string{
		{"recipe", "oven", "bake", "flour"},
		{"playlist", "song", "album", "guitar"},
		{"forecast", "rain", "umbrella", "sunny"},
		{"inbox", "email", "reply", "attachment"},
		{"flight", "airport", "ticket", "boarding"},
	}
	filler := []string{"today", "quickly", "again", "later", "maybe", "really", "tonight", "there"}
	var leaves []Leaf
	for t := 0; t < topics; t++ {
		for i := 0; i < per; i++ {
			c := make([]float32, 16)
			for d := range c {
				c[d] = float32(rng.NormFloat64())
			}
			var texts []string
			for q := 0; q < 30; q++ {
				texts = append(texts, fmt.Sprintf("%s %s %s", words[t][rng.IntN(4)], filler[rng.IntN(len(filler))], filler[rng.IntN(len(filler))]))
			}
			id := t*100 + i
			leaves = append(leaves, Leaf{ClusterID: id, Size: 30, Title: fmt.Sprintf("zz%dq", id), Keywords: []string{fmt.Sprintf("kw%dx", id)},
				Queries: []string{texts[0]}, Centroid: normalized(c), Texts: texts})
		}
	}
	return leaves
}

func TestOfflineUsesSampledTexts(t *testing.T) {
	leaves := sampledLeaves(4, 5, 21)
	res, err := Build(context.Background(), "r", leaves, Options{TargetLevels: 2, TopClusters: 4, Now: fixedNow})
	require.NoError(t, err)
	require.NoError(t, Validate(res.Nodes))
	assert.Equal(t, SampledTextWeight, res.Report.Parameters["text_weight"])
	for _, p := range byLevel(res.Nodes, 1) {
		for _, c := range p.ChildrenIDs {
			assert.Equal(t, p.ChildrenIDs[0]/100, c/100, "%s: %v", p.Title, p.ChildrenIDs)
		}
	}
	// Without the samples the same leaves carry no topic, and the merge cannot find it.
	for i := range leaves {
		leaves[i].Texts = nil
	}
	res, err = Build(context.Background(), "r", leaves, Options{TargetLevels: 2, TopClusters: 4, Now: fixedNow})
	require.NoError(t, err)
	assert.Equal(t, 0.5, res.Report.Parameters["text_weight"])
	mixed := 0
	for _, p := range byLevel(res.Nodes, 1) {
		for _, c := range p.ChildrenIDs {
			if p.ChildrenIDs[0]/100 != c/100 {
				mixed++
				break
			}
		}
	}
	assert.Positive(t, mixed)
}

func TestLeafBagTextShares(t *testing.T) {
	b := leafBag(Leaf{Texts: []string{"rain rain today", "rain tomorrow", "snow"}})
	// "rain" is held by two of three texts, whatever it repeats.
	assert.InDelta(t, sampleTermWeight*2.0/3, b["rain"], 1e-9)
	assert.InDelta(t, sampleTermWeight*1.0/3, b["snow"], 1e-9)
	assert.InDelta(t, sampleTermWeight*1.0/3, b["rain tomorrow"], 1e-9)
	assert.Empty(t, leafBag(Leaf{}))
}

func TestClipText(t *testing.T) {
	assert.Equal(t, "abc", clipText("abc", 10))
	assert.Equal(t, "ab", clipText("abc", 2))
	// Never cuts a rune in half.
	assert.Equal(t, "a", clipText("aé", 2))
	assert.Equal(t, "aé", clipText("aé", 3))
}

func TestOfflineSatellitesJoinGroups(t *testing.T) {
	leaves := planted(3, 2, 3, 17)
	rng := rand.New(rand.NewPCG(4, 4))
	// Six stray one-query clusters about one odd subject, tight together and unlike
	// everything else: without satellites they took a parent of their own.
	base := make([]float64, 32)
	for d := range base {
		base[d] = rng.NormFloat64()
	}
	for i := 0; i < 6; i++ {
		c := make([]float32, 32)
		for d := range c {
			c[d] = float32(base[d] + 0.01*rng.NormFloat64())
		}
		leaves = append(leaves, Leaf{ClusterID: 900 + i, Size: 1, Title: fmt.Sprintf("stray oddity %d", i),
			Keywords: []string{"stray", "oddity"}, Queries: []string{"a stray oddity"}, Centroid: normalized(c)})
	}
	res, err := Build(context.Background(), "r", leaves, Options{TargetLevels: 2, TopClusters: 3, Now: fixedNow})
	require.NoError(t, err)
	require.NoError(t, Validate(res.Nodes))
	parents := byLevel(res.Nodes, 1)
	require.Len(t, parents, 3)
	for _, p := range parents {
		topic := -1
		for _, c := range p.ChildrenIDs {
			if c >= 900 {
				continue
			}
			if topic < 0 {
				topic = c / 100
			}
			assert.Equal(t, topic, c/100, "%s: %v", p.Title, p.ChildrenIDs)
		}
		// No parent is spent on stray queries alone.
		assert.GreaterOrEqual(t, topic, 0, "%s: %v", p.Title, p.ChildrenIDs)
	}
}
