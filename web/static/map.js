// lmsys viewer: the interactive map of a run. Points come as binary pages of typed
// arrays (x, y in [-1, 1], a group index, a query id) and are drawn with WebGL by
// regl-scatterplot. Hover reads a query (escaped: text is only ever set with
// textContent), a click opens its cluster, a lasso fills the move form, and a
// full-text search lights its hits up.
(function () {
  "use strict";
  var canvas = document.getElementById("map");
  if (!canvas || !window.createScatterplot) { return; }
  var base = document.body.dataset.base || "";
  var run = canvas.dataset.run;
  var color = canvas.dataset.color || "cluster";
  var status = document.getElementById("map-status");
  var tip = document.getElementById("map-tip");
  var labels = document.getElementById("map-labels");

  function headers() { return window.lmsysAuth ? window.lmsysAuth() : {}; }
  function get(path) {
    return fetch(base + path, { headers: headers() }).then(function (r) {
      if (!r.ok) { return r.text().then(function (t) { throw new Error(r.status + " " + t.slice(0, 200)); }); }
      return r;
    });
  }
  function api(path) { return get(path).then(function (r) { return r.json(); }); }

  // palette gives n distinct colours, spread around the hue circle.
  function palette(n) {
    var out = [];
    for (var i = 0; i < n; i++) {
      var h = (i * 0.618033988749895) % 1, s = 0.65, l = 0.5 - 0.12 * ((i >> 3) % 2);
      var q = l < 0.5 ? l * (1 + s) : l + s - l * s, p = 2 * l - q;
      var rgb = [h + 1 / 3, h, h - 1 / 3].map(function (t) {
        if (t < 0) { t += 1; } if (t > 1) { t -= 1; }
        var v = t < 1 / 6 ? p + (q - p) * 6 * t : t < 1 / 2 ? q : t < 2 / 3 ? p + (q - p) * (2 / 3 - t) * 6 : p;
        return Math.round(v * 255);
      });
      out.push("#" + rgb.map(function (v) { return (v < 16 ? "0" : "") + v.toString(16); }).join(""));
    }
    return out;
  }

  var info, xs, ys, gs, ids, index = new Map(), plot, hovered = -1, view = null;

  function load() {
    status.textContent = "loading the map…";
    return api("/api/clustering/runs/" + encodeURIComponent(run) + "/map?color=" + encodeURIComponent(color)).then(function (m) {
      info = m;
      var sel = document.getElementById("map-color");
      if (sel && sel.options.length === 1) {
        var add = function (v, t) { var o = document.createElement("option"); o.value = v; o.textContent = t; sel.appendChild(o); };
        for (var l = 1; l <= m.levels; l++) { add("level:" + l, "hierarchy level " + l); }
        add("language", "language"); add("model", "model");
        m.facets.forEach(function (f) { add("label:" + f, f); });
        sel.value = color;
      }
      xs = new Float32Array(m.num_points); ys = new Float32Array(m.num_points);
      gs = new Int32Array(m.num_points); ids = new Float64Array(m.num_points);
      var at = 0, page = 0;
      function next() {
        if (page >= m.pages) { return Promise.resolve(); }
        return get("/api/clustering/runs/" + encodeURIComponent(run) + "/map/points?page=" + page + "&color=" + encodeURIComponent(color))
          .then(function (r) { return r.arrayBuffer(); }).then(function (buf) {
            var n = buf.byteLength / 20;
            var xy = new Float32Array(buf, 0, 2 * n), id = new Float64Array(buf, 8 * n, n), g = new Int32Array(buf, 16 * n, n);
            for (var i = 0; i < n; i++) { xs[at + i] = xy[2 * i]; ys[at + i] = xy[2 * i + 1]; gs[at + i] = g[i]; ids[at + i] = id[i]; index.set(id[i], at + i); }
            at += n; page++;
            status.textContent = "loading the map… " + at + " of " + m.num_points + " points";
            return next();
          });
      }
      return next();
    }).then(draw).catch(function (e) { status.textContent = "the map could not be loaded: " + e.message; });
  }

  function draw() {
    var rect = canvas.getBoundingClientRect();
    if (!plot) {
      plot = window.createScatterplot({
        canvas: canvas, width: rect.width, height: rect.height,
        pointSize: info.num_points > 200000 ? 1.5 : info.num_points > 20000 ? 2.5 : 4,
        pointSizeSelected: 2, opacity: info.num_points > 200000 ? 0.6 : 0.85,
        colorBy: "valueA", backgroundColor: "#ffffff", lassoColor: "#2b6cb0", deselectOnDblClick: true,
        // From a million points on, regl-scatterplot builds its spatial index in a
        // worker made from a blob: URL, which this page's Content-Security-Policy
        // refuses; the draw then never finishes. Build it on the page instead.
        spatialIndexUseWorker: false
      });
      plot.subscribe("pointOver", over);
      plot.subscribe("pointOut", function () { hovered = -1; tip.hidden = true; });
      plot.subscribe("select", selected);
      plot.subscribe("deselect", function () { selected({ points: [] }); });
      plot.subscribe("view", function (e) { view = e.view; placeLabels(); });
      canvas.addEventListener("click", function () {
        if (hovered < 0 || !hoverCluster) { return; }
        window.location.href = base + "/clusters/" + encodeURIComponent(run) + "/" + hoverCluster;
      });
      window.addEventListener("resize", function () { var r = canvas.getBoundingClientRect(); plot.set({ width: r.width, height: r.height }); });
    }
    plot.set({ pointColor: palette(Math.max(1, info.groups.length)) });
    return plot.draw({ x: xs, y: ys, valueA: gs }, { zDataType: "categorical" }).then(function () {
      view = plot.get("cameraView");
      placeLabels();
      status.textContent = info.num_points + " points, " + info.groups.length + " groups (" + info.color + ")";
      canvas.dataset.drawn = "1";
      window.lmsysMap = { plot: plot, ids: ids, index: index, info: info }; // for scripts and tests driving the page
    });
  }

  // placeLabels names the largest groups at their centroids: more of them as the view
  // zooms in.
  function placeLabels() {
    if (!info || !view) { return; }
    var w = canvas.clientWidth, h = canvas.clientHeight, scale = view[0];
    var show = Math.min(info.groups.length, Math.max(6, Math.round(8 * scale * scale)));
    labels.textContent = "";
    for (var i = 0; i < show; i++) {
      var g = info.groups[i];
      var x = view[0] * g.x + view[4] * g.y + view[12], y = view[1] * g.x + view[5] * g.y + view[13];
      // regl-scatterplot keeps the data's aspect: the longer side of the canvas is
      // squeezed by the ratio of the sides.
      if (w > h) { x *= h / w; } else { y *= w / h; }
      if (x < -1 || x > 1 || y < -1 || y > 1) { continue; }
      var el = document.createElement("span");
      el.className = "map-label";
      el.textContent = g.title || g.key;
      el.style.left = ((x + 1) / 2 * w) + "px";
      el.style.top = ((1 - y) / 2 * h) + "px";
      labels.appendChild(el);
    }
  }

  var hoverCluster = null, hoverSeq = 0;
  function over(i) {
    hovered = i; hoverCluster = null;
    var g = info.groups[gs[i]], seq = ++hoverSeq;
    if (g && g.cluster_id !== undefined) { hoverCluster = g.cluster_id; }
    var p = plot.getScreenPosition(i) || [0, 0];
    tip.style.left = Math.min(p[0] + 12, canvas.clientWidth - 300) + "px";
    tip.style.top = (p[1] + 12) + "px";
    tip.textContent = (g ? (g.title || g.key) + "\n" : "") + "query " + ids[i] + " …";
    tip.hidden = false;
    api("/api/queries/" + ids[i]).then(function (q) {
      if (seq !== hoverSeq) { return; }
      var text = q.query_text || (q.query && q.query.query_text) || "";
      if (hoverCluster === null && Array.isArray(q.clusters)) {
        q.clusters.forEach(function (c) { if (c.run_id === run) { hoverCluster = c.cluster_id; } });
      }
      tip.textContent = (g ? (g.title || g.key) + "\n" : "") + "#" + ids[i] + " " + (text.length > 400 ? text.slice(0, 400) + "…" : text);
    }).catch(function () {});
  }

  function selected(e) {
    var pts = e.points || [];
    var box = document.getElementById("map-move-ids");
    var n = document.getElementById("map-selected");
    if (n) { n.textContent = pts.length; }
    if (box) { box.value = pts.map(function (i) { return ids[i]; }).join(", "); }
  }

  var controls = document.getElementById("map-controls");
  if (controls) {
    document.getElementById("map-color").addEventListener("change", function (ev) {
      color = ev.target.value; index = new Map(); load();
    });
    controls.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = document.getElementById("map-search-text").value.trim(), say = document.getElementById("map-search-status");
      if (!text || !plot) { return; }
      api("/api/search/queries?mode=fulltext&limit=1000&run_id=" + encodeURIComponent(run) + "&text=" + encodeURIComponent(text)).then(function (res) {
        var hits = (res.items || res.results || []).map(function (h) { return index.get(h.query_id); }).filter(function (i) { return i !== undefined; });
        plot.select(hits);
        say.textContent = hits.length + " hits lit up";
      }).catch(function (e) { say.textContent = e.message; });
    });
  }
  load();
})();
