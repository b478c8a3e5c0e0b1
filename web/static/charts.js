// lmsys viewer: charts. A run's cluster sizes, a cluster's share over time and its
// language and model bars are drawn with uPlot from the API; a hierarchy's top levels
// are a treemap in SVG. Text from the data is only ever set with textContent.
(function () {
  "use strict";
  var base = document.body.dataset.base || "";
  var SVG = "http://www.w3.org/2000/svg";

  function api(path) {
    return fetch(base + path, { headers: window.lmsysAuth ? window.lmsysAuth() : {} }).then(function (r) {
      if (!r.ok) { return r.json().catch(function () { return {}; }).then(function (b) { var e = new Error((b.error && b.error.message) || r.statusText); e.status = r.status; throw e; }); }
      return r.json();
    });
  }
  function width(el) { return Math.max(300, el.clientWidth || 600); }
  function note(el, text) { var p = document.createElement("p"); p.className = "muted"; p.textContent = text; el.appendChild(p); }

  // bars draws one bar per label; tip names the hovered bar.
  function bars(el, labels, values, yLabel, fmt) {
    var xs = labels.map(function (_, i) { return i; });
    var tip = document.createElement("div"); tip.className = "chart-tip";
    var u = new window.uPlot({
      width: width(el), height: 220, legend: { show: false }, cursor: { points: { show: false } },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
      axes: [{ values: function (_, ticks) { return ticks.map(function (t) { var s = labels[t] || ""; return s.length > 14 ? s.slice(0, 13) + "…" : s; }); },
               splits: function () { return labels.length <= 24 ? xs : []; }, rotate: 0 },
             { label: yLabel, size: 60 }],
      series: [{}, { fill: "rgba(43,108,176,.55)", stroke: "#2b6cb0", paths: window.uPlot.paths.bars({ size: [0.8, 60] }), points: { show: false } }],
      hooks: { setCursor: [function (u) {
        var i = u.cursor.idx;
        if (i == null) { tip.hidden = true; return; }
        tip.hidden = false; tip.textContent = labels[i] + ": " + fmt(values[i]);
      }] }
    }, [xs, values], el);
    el.appendChild(tip); tip.hidden = true;
    return u;
  }

  // The run page: every cluster's size, largest first.
  var sizes = document.getElementById("sizes-chart");
  if (sizes && window.uPlot) {
    var run = sizes.dataset.run, items = [];
    var page = function (p) {
      return api("/api/clustering/runs/" + encodeURIComponent(run) + "/clusters?limit=100&page=" + p).then(function (r) {
        items = items.concat(r.items || []);
        if (p < (r.pages || 1) && p < 50) { return page(p + 1); }
      });
    };
    page(1).then(function () {
      items.sort(function (a, b) { return b.num_queries - a.num_queries; });
      bars(sizes, items.map(function (c) { return (c.title || "Cluster " + c.cluster_id) + " (" + c.cluster_id + ")"; }),
        items.map(function (c) { return c.num_queries; }), "queries", function (v) { return v + " queries"; });
      sizes.dataset.drawn = "1";
    }).catch(function (e) { note(sizes, "cluster sizes unavailable: " + e.message); });
  }

  // The cluster page: its share per week, and its language and model mix.
  var trend = document.getElementById("trend-chart");
  if (trend && window.uPlot) {
    var tr = trend.dataset.run, tc = Number(trend.dataset.cluster);
    api("/api/analysis/runs/" + encodeURIComponent(tr) + "/trends?period=week").then(function (rep) {
      var c = (rep.clusters || []).filter(function (x) { return x.cluster_id === tc; })[0];
      if (!c) { note(trend, "no dated queries in this cluster"); return; }
      var xs = rep.periods.map(function (_, i) { return i; });
      new window.uPlot({
        width: width(trend), height: 200, legend: { show: false },
        scales: { x: { time: false } },
        axes: [{ values: function (_, ticks) { return ticks.map(function (t) { return rep.periods[t] || ""; }); } }, { label: "share %", size: 50 }],
        series: [{}, { stroke: "#2b6cb0", width: 2, points: { show: true } }]
      }, [xs, c.periods.map(function (p) { return 100 * p.share; })], trend);
      trend.dataset.drawn = "1";
    }).catch(function (e) { note(trend, e.status === 422 || e.status === 404 ? "no timestamps to draw a trend" : "trend unavailable: " + e.message); });
  }
  var facets = document.getElementById("facet-charts");
  if (facets && window.uPlot) {
    api("/api/analysis/runs/" + encodeURIComponent(facets.dataset.run) + "/facets?by=language,model&cluster_id=" + facets.dataset.cluster).then(function (r) {
      (r.facets || []).forEach(function (f) {
        var c = (f.clusters || [])[0];
        if (!c || !c.values.length) { return; }
        var box = document.createElement("div"); box.className = "chart facet-chart";
        var h = document.createElement("h3"); h.textContent = f.field; box.appendChild(h);
        facets.appendChild(box);
        bars(box, c.values.map(function (v) { return v.key; }), c.values.map(function (v) { return 100 * v.share; }), "% of cluster",
          function (v) { return v.toFixed(1) + "%"; });
      });
      facets.dataset.drawn = "1";
    }).catch(function (e) { note(facets, "facets unavailable: " + e.message); });
  }

  // The hierarchy page: a squarified treemap of the top level and its children.
  var tm = document.getElementById("treemap");
  if (tm) {
    api("/api/hierarchy/" + encodeURIComponent(tm.dataset.hierarchy)).then(function (h) {
      var W = width(tm), H = 420, svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 " + W + " " + H); svg.setAttribute("width", "100%"); svg.setAttribute("role", "img");
      var roots = (h.tree || []).filter(function (n) { return n.query_count > 0; });
      layout(roots, 0, 0, W, H).forEach(function (b, i) {
        var hue = (i * 137.5) % 360;
        rect(svg, b, "hsl(" + hue + ",45%,82%)", "#fff", 2, b.node);
        var kids = (b.node.children || []).filter(function (n) { return n.query_count > 0; });
        var pad = 18;
        if (kids.length && b.w > 60 && b.h > 40) {
          layout(kids, b.x + 3, b.y + pad, b.w - 6, b.h - pad - 3).forEach(function (k) { rect(svg, k, "hsl(" + hue + ",50%,68%)", "#fff", 1, k.node); });
        }
        label(svg, b.x + 4, b.y + 13, b.w - 8, title(b.node) + " · " + (100 * b.node.share).toFixed(1) + "%", true);
      });
      tm.appendChild(svg);
      tm.dataset.drawn = "1";
    }).catch(function (e) { note(tm, "treemap unavailable: " + e.message); });
  }
  function title(n) { return n.title || ("Cluster " + n.cluster_id); }
  function rect(svg, b, fill, stroke, sw, node) {
    var r = document.createElementNS(SVG, "rect");
    r.setAttribute("x", b.x); r.setAttribute("y", b.y); r.setAttribute("width", Math.max(0, b.w)); r.setAttribute("height", Math.max(0, b.h));
    r.setAttribute("fill", fill); r.setAttribute("stroke", stroke); r.setAttribute("stroke-width", sw);
    var t = document.createElementNS(SVG, "title"); t.textContent = title(node) + " — " + node.query_count + " queries"; r.appendChild(t);
    svg.appendChild(r);
    if (node.level === 0 && b.w > 50 && b.h > 16) { label(svg, b.x + 3, b.y + 12, b.w - 6, title(node), false); }
  }
  function label(svg, x, y, w, text, bold) {
    var chars = Math.floor(w / 6.5);
    if (chars < 3) { return; }
    var t = document.createElementNS(SVG, "text");
    t.setAttribute("x", x); t.setAttribute("y", y); t.setAttribute("font-size", bold ? "12" : "10");
    if (bold) { t.setAttribute("font-weight", "600"); }
    t.textContent = text.length > chars ? text.slice(0, chars - 1) + "…" : text;
    svg.appendChild(t);
  }
  // layout places nodes (by query_count) in the rectangle with the squarified
  // algorithm of Bruls, Huizing and van Wijk.
  function layout(nodes, x, y, w, h) {
    var items = nodes.slice().sort(function (a, b) { return b.query_count - a.query_count; });
    var total = items.reduce(function (s, n) { return s + n.query_count; }, 0), out = [];
    if (!total || w <= 0 || h <= 0) { return out; }
    var scale = w * h / total, row = [], i = 0;
    var worst = function (row, side) {
      var s = row.reduce(function (a, n) { return a + n.query_count * scale; }, 0), mx = 0, mn = Infinity;
      row.forEach(function (n) { var a = n.query_count * scale; mx = Math.max(mx, a); mn = Math.min(mn, a); });
      return Math.max(side * side * mx / (s * s), s * s / (side * side * mn));
    };
    while (i < items.length) {
      var side = Math.min(w, h), next = row.concat([items[i]]);
      if (!row.length || worst(next, side) <= worst(row, side)) { row = next; i++; continue; }
      place();
    }
    place();
    return out;
    function place() {
      if (!row.length) { return; }
      var s = row.reduce(function (a, n) { return a + n.query_count * scale; }, 0), off = 0;
      if (w >= h) {
        var cw = s / h;
        row.forEach(function (n) { var ch = n.query_count * scale / cw; out.push({ node: n, x: x, y: y + off, w: cw, h: ch }); off += ch; });
        x += cw; w -= cw;
      } else {
        var rh = s / w;
        row.forEach(function (n) { var rw = n.query_count * scale / rh; out.push({ node: n, x: x + off, y: y, w: rw, h: rh }); off += rw; });
        y += rh; h -= rh;
      }
      row = [];
    }
  }
})();
