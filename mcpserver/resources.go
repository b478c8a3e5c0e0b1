package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lmsys-go/lmsys"
)

// Resource URIs.
const (
	runPrefix       = "lmsys://runs/"
	hierarchyPrefix = "lmsys://hierarchies/"
)

// RunURI returns the resource URI of a clustering run.
func RunURI(runID string) string { return runPrefix + url.PathEscape(runID) }

// HierarchyURI returns the resource URI of a hierarchy run.
func HierarchyURI(hierarchyID string) string { return hierarchyPrefix + url.PathEscape(hierarchyID) }

// resourceRuns is the number of runs a resources/list page lists (each followed by
// its hierarchies).
const resourceRuns = 50

func (s *server) addResources(srv *mcp.Server) {
	srv.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: runPrefix + "{run_id}", Name: "run", Title: "Clustering run",
		Description: "A clustering run with its metrics: the JSON of GET /api/clustering/runs/{run_id}.", MIMEType: "application/json"}, s.readResource)
	srv.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: hierarchyPrefix + "{hierarchy_id}", Name: "hierarchy", Title: "Hierarchy",
		Description: "A hierarchy of a run's clusters: the JSON of GET /api/hierarchy/{hierarchy_run_id}, cut to the byte cap.",
		MIMEType:    "application/json"}, s.readResource)
	srv.AddReceivingMiddleware(s.listResources)
}

// readResource answers a run or a hierarchy as the HTTP API does.
func (s *server) readResource(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	var v any
	var spec fitSpec
	var err error
	switch {
	case strings.HasPrefix(uri, runPrefix):
		id, uerr := url.PathUnescape(strings.TrimPrefix(uri, runPrefix))
		if uerr != nil {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		v, err = s.api.Run(ctx, id)
	case strings.HasPrefix(uri, hierarchyPrefix):
		id, uerr := url.PathUnescape(strings.TrimPrefix(uri, hierarchyPrefix))
		if uerr != nil {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		v, err = s.api.Hierarchy(ctx, id)
		spec = fitSpec{hint: "the show_hierarchy tool pages the nodes"}
	default:
		return nil, mcp.ResourceNotFoundError(uri)
	}
	if errors.Is(err, lmsys.ErrNotFound) {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	if err != nil {
		return nil, err
	}
	b, err := s.fit(v, spec)
	if err != nil {
		return nil, err
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(b)}}}, nil
}

// listResources answers resources/list with the runs, newest first, each followed by
// its hierarchies; the cursor is the number of runs already listed.
func (s *server) listResources(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "resources/list" {
			return next(ctx, method, req)
		}
		from := 0
		if lr, ok := req.(*mcp.ListResourcesRequest); ok && lr.Params != nil && lr.Params.Cursor != "" {
			n, err := strconv.Atoi(lr.Params.Cursor)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("invalid cursor %q", lr.Params.Cursor)
			}
			from = n
			// The cursor is ours, not the SDK's.
			cp, params := *lr, *lr.Params
			params.Cursor = ""
			cp.Params = &params
			req = &cp
		}
		// The SDK's own answer settles the cache fields; its (empty) list is replaced.
		r, err := next(ctx, method, req)
		if err != nil {
			return nil, err
		}
		res, ok := r.(*mcp.ListResourcesResult)
		if !ok {
			return r, nil
		}
		runs, err := s.deps.Store.ListRuns(ctx)
		if err != nil {
			return nil, err
		}
		res.Resources, res.NextCursor = []*mcp.Resource{}, ""
		end := min(from+resourceRuns, len(runs))
		for _, run := range runs[min(from, end):end] {
			title := fmt.Sprintf("%s run, %d clusters of %d queries (%s)", run.Algorithm, run.NumClusters, run.NumQueries, run.Status)
			res.Resources = append(res.Resources, &mcp.Resource{URI: RunURI(run.ID), Name: run.ID, Title: title, Description: run.Description,
				MIMEType: "application/json"})
			hs, err := s.api.Hierarchies(ctx, run.ID)
			if err != nil {
				return nil, err
			}
			for _, h := range hs {
				res.Resources = append(res.Resources, &mcp.Resource{URI: HierarchyURI(h.HierarchyRunID), Name: h.HierarchyRunID,
					Title: "Hierarchy of " + run.ID, MIMEType: "application/json"})
			}
		}
		if end < len(runs) {
			res.NextCursor = strconv.Itoa(end)
		}
		return res, nil
	}
}
