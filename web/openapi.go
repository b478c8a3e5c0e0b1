package web

import (
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/curation"
	"github.com/lmsys-go/lmsys/hierarchy"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/summarize"
)

// param is one parameter of an operation.
type param struct {
	name, in, typ, desc string
	required            bool
}

// operation documents one route. Its schemas are generated from the Go types the
// handler decodes and encodes, so the document cannot drift from the JSON shapes.
type operation struct {
	method, path, tag, summary string
	params                     []param
	body                       any // request body value (nil: none)
	resp                       any // response value
	status                     string
}

// Shared parameters.
var (
	pRun      = param{"run_id", "path", "string", "clustering run id", true}
	pCluster  = param{"cluster_id", "path", "integer", "cluster id", true}
	pRunQ     = param{"run_id", "query", "string", "clustering run id (or in the body for POST)", false}
	pRunQReq  = param{"run_id", "query", "string", "clustering run id", true}
	pSumID    = param{"summary_run_id", "query", "string", "summary run id (default: the latest)", false}
	pAlias    = param{"alias", "query", "string", "summary run alias (instead of summary_run_id)", false}
	pPage     = param{"page", "query", "integer", "page number, 1-based", false}
	pLimit50  = param{"limit", "query", "integer", "items per page (1-100, 50)", false}
	pCursor   = param{"cursor", "query", "integer", "keyset cursor: the next_cursor of the previous page (instead of page)", false}
	pText     = param{"text", "query", "string", "search text", true}
	pClusters = param{"cluster_ids", "query", "string", "comma-separated cluster ids to restrict to", false}
)

// apiOperations lists every API route. TestOpenAPICoversRoutes checks it against the
// routes registerAPI registers.
var apiOperations = []operation{
	{method: "GET", path: "/api/openapi.json", tag: "meta", summary: "This OpenAPI 3 document", resp: map[string]any{}},
	{method: "GET", path: "/openapi.json", tag: "meta", summary: "This OpenAPI 3 document (where the Python tool serves it)", resp: map[string]any{}},
	{method: "GET", path: "/api/health", tag: "meta", summary: "Health check: status ok, the service name, the store's backend and whether search is configured", resp: struct {
		Status  string `json:"status"`
		Service string `json:"service"`
		Store   string `json:"store"`
		Search  bool   `json:"search"`
	}{}},
	{method: "GET", path: "/api/status", tag: "meta", summary: "What the store holds: queries, datasets, languages, models, runs, embeddings", resp: lmsys.Status{}},

	{method: "GET", path: "/api/clustering/runs", tag: "clustering", summary: "A page of clustering runs, newest first", params: []param{{"algorithm", "query", "string", "only runs of this algorithm (kmeans, hdbscan …)", false}, pPage, pLimit50},
		resp: ListPage[RunItem]{}},
	{method: "GET", path: "/api/clustering/runs/{run_id}", tag: "clustering", summary: "One clustering run with its metrics and latest errors", params: []param{pRun}, resp: RunDetail{}},
	{method: "GET", path: "/api/clustering/runs/{run_id}/status", tag: "clustering", summary: "A run's status; processed is the number of queries assigned", params: []param{pRun}, resp: RunStatus{}},
	{method: "GET", path: "/api/clustering/runs/{run_id}/clusters", tag: "clustering", summary: "A page of a run's clusters, largest first, with titles from a summary run (by id or alias; latest by default); an unknown run is an empty page",
		params: []param{pRun, pSumID, pAlias, {"include_counts", "query", "boolean", "count the run's queries (true)", false},
			{"include_percentages", "query", "boolean", "each cluster's percentage of the run's queries (true)", false},
			{"limit", "query", "integer", "keep the largest this many clusters (1-1000)", false}, pPage, {"page_limit", "query", "integer", "clusters per page (1-100, 50)", false},
			{"examples", "query", "integer", "example queries per cluster (0-50)", false}}, resp: ClusterPage{}},
	{method: "GET", path: "/api/clustering/runs/{run_id}/clusters/{cluster_id}", tag: "clustering", summary: "One cluster: its summary, annotations and a page of its queries (page number or cursor)",
		params: []param{pRun, pCluster, pSumID, pAlias, pPage, pLimit50, pCursor}, resp: ClusterDetail{}},
	{method: "POST", path: "/api/clustering/kmeans", tag: "clustering", summary: "Run k-means (embedding missing queries first); synchronous, answers the finished run", body: KMeansRequest{}, resp: lmsys.Run{}, status: "201"},
	{method: "POST", path: "/api/clustering/hdbscan", tag: "clustering", summary: "Run HDBSCAN (embedding missing queries first); synchronous, answers the finished run", body: HDBSCANRequest{}, resp: lmsys.Run{}, status: "201"},

	{method: "GET", path: "/api/queries", tag: "queries", summary: "A page of queries, filtered by run, cluster, dataset, model, language, substring; an unknown run is an empty page",
		params: []param{pRunQ, {"cluster_id", "query", "integer", "cluster id (needs run_id)", false}, {"dataset", "query", "string", "dataset name", false},
			{"model", "query", "string", "model", false}, {"language", "query", "string", "language", false}, {"contains", "query", "string", "case-insensitive substring", false},
			{"label", "query", "string", "only queries with this label: facet=value (refusal=refused); for a list facet, those whose list holds the item (languages=fr)", false}, pPage,
			{"limit", "query", "integer", "queries per page (1-100, 100)", false}, pCursor},
		resp: QueryPage{}},
	{method: "GET", path: "/api/queries/{query_id}", tag: "queries", summary: "One query with its cluster in every run", params: []param{{"query_id", "path", "integer", "query id", true}}, resp: QueryDetail{}},

	{method: "GET", path: "/api/search/queries", tag: "search", summary: "Search queries: full-text (default; every word as a prefix, BM25-ranked), semantic or hybrid, within clusters, with facets",
		params: []param{pText, pRunQ, {"mode", "query", "string", "fulltext (default), semantic or hybrid (these two need run_id)", false}, pPage, pLimit50,
			{"n_results", "query", "integer", "page size up to 1000 (instead of limit)", false},
			{"within_clusters", "query", "string", "first find the clusters nearest this text", false}, {"top_clusters", "query", "integer", "clusters within_clusters keeps (1-50, 10)", false},
			pClusters, {"facets", "query", "string", "comma-separated: cluster, language, model", false}, {"by", "query", "string", "cluster: group results by cluster", false},
			{"label", "query", "string", "keep hits with this label: facet=value (refusal=refused)", false}, pSumID, pAlias},
		resp: SearchPage{}},
	{method: "GET", path: "/api/search/clusters", tag: "search", summary: "Search clusters: full-text (default; title or description contains the text, any run) or semantic (a run's summaries)",
		params: []param{pText, pRunQ, {"mode", "query", "string", "fulltext (default) or semantic (needs run_id)", false}, {"n_results", "query", "integer", "number of clusters (1-100, 20)", false},
			pPage, pClusters, pSumID, pAlias}, resp: ClusterSearchPage{}},
	{method: "GET", path: "/api/search/info", tag: "search", summary: "The vector index's collections", resp: struct {
		Collections []search.CollectionInfo `json:"collections"`
	}{}},
	{method: "GET", path: "/api/verify/runs/{run_id}", tag: "search", summary: "Compare the run's vector collections with the store (no repair)", params: []param{pRun}, resp: search.Report{}},
	{method: "POST", path: "/api/verify/runs/{run_id}/sync", tag: "search", summary: "Compare and repair the run's vector collections", params: []param{pRun}, resp: search.Report{}},

	{method: "GET", path: "/api/hierarchy/", tag: "hierarchy", summary: "A page of hierarchy runs, newest first", params: []param{pRunQ, pPage, pLimit50}, resp: ListPage[HierarchyRunItem]{}},
	{method: "GET", path: "/api/hierarchy", tag: "hierarchy", summary: "The same as /api/hierarchy/", params: []param{pRunQ, pPage, pLimit50}, resp: ListPage[HierarchyRunItem]{}},
	{method: "GET", path: "/api/hierarchy/{hierarchy_run_id}", tag: "hierarchy", summary: "One hierarchy: nodes with query counts (bottom-up from the assignments), per-level report, totals and the tree",
		params: []param{{"hierarchy_run_id", "path", "string", "hierarchy run id", true}, {"include_percentages", "query", "boolean", "percentages and total_queries (true)", false}}, resp: HierarchyDetail{}},
	{method: "POST", path: "/api/hierarchy/", tag: "hierarchy", summary: "Build a hierarchy with the offline merge; synchronous, answers its report", params: []param{pRunQ}, body: HierarchyRequest{}, resp: hierarchy.Report{}, status: "201"},

	{method: "GET", path: "/api/summaries/", tag: "summaries", summary: "A page of summary runs (of one run, or all), newest first", params: []param{pRunQ, pPage, pLimit50}, resp: ListPage[SummaryRunItem]{}},
	{method: "GET", path: "/api/summaries", tag: "summaries", summary: "The same as /api/summaries/", params: []param{pRunQ, pPage, pLimit50}, resp: ListPage[SummaryRunItem]{}},
	{method: "GET", path: "/api/summaries/{summary_run_id}/clusters/{cluster_id}", tag: "summaries", summary: "One cluster's summary in one summary run",
		params: []param{{"summary_run_id", "path", "string", "summary run id", true}, pCluster, pRunQ}, resp: SummaryItem{}},
	{method: "POST", path: "/api/summaries/", tag: "summaries", summary: "Summarise a run's clusters (offline by default, or an LLM model); synchronous", params: []param{pRunQ}, body: SummarizeRequest{}, resp: summarize.Result{}, status: "201"},

	{method: "GET", path: "/api/curation/clusters/{cluster_id}/metadata", tag: "curation", summary: "A cluster's annotations (every field null when unset)", params: []param{pCluster, pRunQReq}, resp: MetadataItem{}},
	{method: "GET", path: "/api/curation/clusters/{cluster_id}/history", tag: "curation", summary: "A page of the edits that concern a cluster, newest first", params: []param{pCluster, pRunQReq, pPage, pLimit50}, resp: EditPage{}},
	{method: "GET", path: "/api/curation/runs/{run_id}/audit", tag: "curation", summary: "A page of a run's audit log, newest first",
		params: []param{pRun, {"since", "query", "string", "RFC 3339 time or YYYY-MM-DD", false}, {"editor", "query", "string", "editor", false},
			{"type", "query", "string", "edit type: " + strings.Join(curation.EditTypes, ", "), false}, pPage, pLimit50}, resp: EditPage{}},
	{method: "GET", path: "/api/curation/runs/{run_id}/orphaned", tag: "curation", summary: "A page of a run's orphaned queries, newest first", params: []param{pRun, pPage, pLimit50}, resp: OrphanPage{}},
	{method: "GET", path: "/api/curation/runs/{run_id}/bad-clusters", tag: "curation", summary: "Clusters worth a look: small, incoherent, generic titles, flagged",
		params: []param{pRun, {"max_size", "query", "integer", "at most this many queries", false}, {"min_coherence", "query", "integer", "coherence below this", false},
			{"generic_titles", "query", "boolean", "vague titles", false}, {"flags", "query", "string", "comma-separated flags", false}, pSumID},
		resp: struct {
			RunID    string                `json:"run_id"`
			Clusters []curation.BadCluster `json:"clusters"`
		}{}},
	{method: "POST", path: "/api/curation/queries/{query_id}/move", tag: "curation", summary: "Move one query to another cluster", params: []param{{"query_id", "path", "integer", "query id", true}, pRunQ}, body: MoveRequest{}, resp: curation.Result{}},
	{method: "POST", path: "/api/curation/queries/move", tag: "curation", summary: "Move several queries (query_ids) to a cluster", params: []param{pRunQ}, body: MoveRequest{}, resp: curation.Result{}},
	{method: "POST", path: "/api/curation/clusters/{cluster_id}/rename", tag: "curation", summary: "Rename a cluster (title and/or description) in a summary run and its hierarchies", params: []param{pCluster, pRunQ}, body: RenameRequest{}, resp: curation.Result{}},
	{method: "POST", path: "/api/curation/clusters/merge", tag: "curation", summary: "Merge source clusters into a target", params: []param{pRunQ}, body: MergeRequest{}, resp: curation.Result{}},
	{method: "POST", path: "/api/curation/clusters/{cluster_id}/split", tag: "curation", summary: "Split a cluster: listed queries form a new one, or k-means into k parts", params: []param{pCluster, pRunQ}, body: SplitRequest{}, resp: curation.Result{}},
	{method: "POST", path: "/api/curation/clusters/{cluster_id}/delete", tag: "curation", summary: "Delete a cluster, orphaning its queries or moving them", params: []param{pCluster, pRunQ}, body: DeleteRequest{}, resp: curation.Result{}},
	{method: "POST", path: "/api/curation/clusters/{cluster_id}/tag", tag: "curation", summary: "Set coherence, quality, flags, notes", params: []param{pCluster, pRunQ}, body: TagRequest{}, resp: curation.Result{}},
	{method: "POST", path: "/api/curation/clusters/{cluster_id}/flag", tag: "curation", summary: "Add one flag", params: []param{pCluster, pRunQ}, body: FlagRequest{}, resp: curation.Result{}},
	{method: "POST", path: "/api/curation/runs/{run_id}/undo", tag: "curation", summary: "Undo an edit (409 when a later edit depends on it)", params: []param{pRun}, body: UndoRequest{}, resp: curation.Result{}},
	{method: "POST", path: "/api/curation/runs/{run_id}/orphaned/reassign", tag: "curation", summary: "Put orphaned queries (listed, or all) into a cluster", params: []param{pRun}, body: ReassignRequest{}, resp: curation.Result{}},

	{method: "GET", path: "/api/analysis/runs/{run_id}/facets", tag: "analysis", summary: "Counts and shares by metadata field, per cluster, with lift",
		params: []param{pRun, {"by", "query", "string", "comma-separated fields: language, model, dataset, a classified facet (refusal …) or an extra_metadata key (language,model)", false},
			{"sort", "query", "string", "order of over_represented: z (default), lift or count", false}, {"top", "query", "integer", "values per facet (10)", false},
			{"min_count", "query", "integer", "smallest count a lift is reported for (5)", false}, {"cluster_id", "query", "integer", "one cluster's breakdown", false}, pSumID, pAlias},
		resp: struct {
			RunID  string           `json:"run_id"`
			Facets []analysis.Facet `json:"facets"`
		}{}},
	{method: "GET", path: "/api/analysis/runs/{run_id}/trends", tag: "analysis", summary: "Each cluster's share per period",
		params: []param{pRun, {"period", "query", "string", "hour, day, week or month", false}, {"field", "query", "string", "timestamp or an extra_metadata key", false},
			{"label", "query", "string", "count only queries with this label: facet=value (refusal=refused); for a list facet, those whose list holds the item", false}, pSumID, pAlias}, resp: analysis.TrendReport{}},
	{method: "GET", path: "/api/analysis/runs/{run_id}/compare", tag: "analysis", summary: "Clusters that grew, shrank, appeared, vanished between two periods (or datasets with by=dataset)",
		params: []param{pRun, {"a", "query", "string", "first period or dataset", true}, {"b", "query", "string", "second period or dataset", true},
			{"by", "query", "string", "period (default) or dataset", false}, {"period", "query", "string", "hour, day, week or month", false}, pSumID, pAlias}, resp: analysis.Comparison{}},
	{method: "GET", path: "/api/analysis/runs/{run_id}/labels/{facet}", tag: "classification", summary: "A classified facet's labels over the run, and for each label the clusters that hold it most; a list facet counts each item once per query holding it, so its shares can sum past 1",
		params: []param{pRun, {"facet", "path", "string", "a classified facet (refusal, pushback, code …)", true}, {"top", "query", "integer", "clusters per label (20)", false}, pSumID, pAlias},
		resp:   LabelClusters{}},
	{method: "GET", path: "/api/clustering/runs/{run_id}/clusters/{cluster_id}/labels", tag: "classification", summary: "The label distribution of every classified facet in one cluster, beside the run's; shares are of labelled queries, and a list facet's (list: true) count each item, so they can sum past 1",
		params: []param{pRun, {"cluster_id", "path", "integer", "cluster id", true}}, resp: ClusterLabels{}},
	{method: "GET", path: "/api/classifications", tag: "classification", summary: "Classification runs, newest first", resp: struct {
		Items []lmsys.ClassificationRun `json:"items"`
		Total int                       `json:"total"`
	}{}},
	{method: "GET", path: "/api/classifications/{classification_run_id}", tag: "classification", summary: "One classification run: template, model, scope, counters, tokens and cost",
		params: []param{{"classification_run_id", "path", "string", "classification run id", true}}, resp: lmsys.ClassificationRun{}},
	{method: "GET", path: "/api/clustering/runs/{run_id}/map", tag: "map", summary: "The run's stored 2-D map: its colour groups (clusters, or a facet's labels) with names, counts and centroids, and how to page its points",
		params: []param{pRun, {"color", "query", "string", "cluster (default), level:N (hierarchy parents), language, model or label:FACET (a list facet: each point by its first item)", false}}, resp: MapInfo{}},
	{method: "GET", path: "/api/clustering/runs/{run_id}/map/points", tag: "map", summary: "One page of the map's points as binary typed arrays (application/octet-stream; see MapInfo.format)",
		params: []param{pRun, {"page", "query", "integer", "page, from 0", false}, {"color", "query", "string", "cluster (default), level:N (hierarchy parents), language, model or label:FACET", false}}, resp: struct{}{}},
	{method: "GET", path: "/api/labels", tag: "classification", summary: "The classified facets, with the number of labelled queries of each (newest configuration); list: true marks a list facet, counted and filtered item by item", resp: struct {
		Facets []struct {
			Facet  string `json:"facet"`
			Labels int64  `json:"labels"`
			List   bool   `json:"list,omitempty"`
		} `json:"facets"`
	}{}},
}

var (
	openAPIOnce sync.Once
	openAPIDoc  map[string]any
)

// openAPIDocument returns the OpenAPI 3.0 document of the API.
func openAPIDocument() map[string]any {
	openAPIOnce.Do(func() { openAPIDoc = buildOpenAPI() })
	return openAPIDoc
}

func buildOpenAPI() map[string]any {
	errSchema := schemaOf(reflect.TypeOf(errorBody{}), 0)
	errResp := func(d string) map[string]any {
		return map[string]any{"description": d, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	}
	paths := map[string]any{}
	for _, op := range apiOperations {
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		var params []any
		for _, p := range op.params {
			params = append(params, map[string]any{"name": p.name, "in": p.in, "required": p.required || p.in == "path", "description": p.desc,
				"schema": map[string]any{"type": p.typ}})
		}
		status := op.status
		if status == "" {
			status = "200"
		}
		responses := map[string]any{
			status: map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(op.resp), 0)}}},
			"400":  errResp("invalid input: a parameter the operation cannot use, or malformed JSON"),
			"422":  errResp("a malformed or out-of-range query parameter"),
			"404":  errResp("unknown run, cluster, query, summary run or hierarchy"),
			"421":  errResp("the Host header names no allowed host (a request answered without the token)"),
			"500":  errResp("internal error"),
		}
		o := map[string]any{"tags": []string{op.tag}, "summary": op.summary, "operationId": operationID(op), "responses": responses}
		if params != nil {
			o["parameters"] = params
		}
		if op.method == "GET" {
			responses["401"] = errResp("missing bearer token (when reads need it)")
			responses["403"] = errResp("wrong bearer token")
			if strings.HasPrefix(op.path, "/api/search/") {
				responses["422"] = errResp("search text longer than the server's limit (query_too_long)")
			}
		}
		if op.method == "POST" {
			responses["401"] = errResp("missing bearer token")
			responses["403"] = errResp("wrong token, or the server is read-only")
			responses["409"] = errResp("conflict with the current state (undo of an edit a later one depends on)")
			responses["413"] = errResp("request body over the limit")
			responses["422"] = errResp("nothing to process, or a malformed query parameter")
			o["security"] = []any{map[string]any{"bearer": []string{}}}
			if op.body != nil {
				o["requestBody"] = map[string]any{"required": false, "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(op.body), 0)}}}
			}
		}
		item[strings.ToLower(op.method)] = o
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "lmsys API", "version": "1.0.0",
			"description": "Clustering runs, clusters, summaries, hierarchies, search, curation and analysis of LLM conversation logs. " +
				"Write endpoints (POST) need Authorization: Bearer <token> when the server has one, and reads too unless it serves them publicly; " +
				"requests answered without the token need a loopback or allowed Host (421 otherwise). Errors are {error: {type, message}, detail: {error: {type, message}}, code}."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         map[string]any{"Error": errSchema},
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

func operationID(op operation) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.method))
	for _, part := range strings.Split(op.path, "/") {
		part = strings.Trim(part, "{}")
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
			if w == "api" {
				continue
			}
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

var timeType = reflect.TypeOf(time.Time{})

// schemaOf returns a JSON schema for t as encoding/json writes it.
func schemaOf(t reflect.Type, depth int) map[string]any {
	if t == nil {
		return map[string]any{}
	}
	if depth > 8 {
		return map[string]any{"type": "object"}
	}
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	var s map[string]any
	switch {
	case t == timeType:
		s = map[string]any{"type": "string", "format": "date-time"}
	case t.Implements(reflect.TypeOf((*interface{ MarshalJSON() ([]byte, error) })(nil)).Elem()) && t.Kind() == reflect.Struct:
		s = map[string]any{"type": "object"}
		if t.Kind() == reflect.Struct {
			s = structSchema(t, depth)
		}
	default:
		switch t.Kind() {
		case reflect.Bool:
			s = map[string]any{"type": "boolean"}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			s = map[string]any{"type": "integer"}
		case reflect.Float32, reflect.Float64:
			s = map[string]any{"type": "number"}
		case reflect.String:
			s = map[string]any{"type": "string"}
		case reflect.Slice, reflect.Array:
			s = map[string]any{"type": "array", "items": schemaOf(t.Elem(), depth+1)}
		case reflect.Map:
			s = map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), depth+1)}
		case reflect.Struct:
			s = structSchema(t, depth)
		default:
			s = map[string]any{}
		}
	}
	if nullable {
		s["nullable"] = true
	}
	return s
}

func structSchema(t reflect.Type, depth int) map[string]any {
	props := map[string]any{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type, depth+1)
		}
	}
	walk(t)
	return map[string]any{"type": "object", "properties": props}
}
