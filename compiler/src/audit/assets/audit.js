// featc audit's page: draws the timeline of differing cells (explained, by cause, and
// unexplained) from the report embedded in the page, as stacked SVG bars, one group per
// bucket of read times. Sets data-ready="1" on <body> when drawn, data-error on failure.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  try {
    var report = JSON.parse(document.getElementById("report").textContent);
    var svg = document.getElementById("timeline");
    var buckets = report.timeline || [];
    var causes = Object.keys(report.cells.explained || {}).sort();
    var kinds = causes.concat(["unexplained"]);
    var width = 720, height = 200, left = 48, bottom = 24;
    var plotW = width - left - 8, plotH = height - bottom - 8;
    var totals = buckets.map(function (b) {
      var t = b.unexplained;
      causes.forEach(function (c) { t += (b.explained || {})[c] || 0; });
      return t;
    });
    var max = Math.max.apply(null, [1].concat(totals));
    var barW = buckets.length ? Math.max(1, Math.floor(plotW / buckets.length)) : 1;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    function el(name, attrs, text) {
      var e = document.createElementNS(NS, name);
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
      if (text !== undefined) { e.textContent = text; }
      return e;
    }
    svg.appendChild(el("line", { x1: left, y1: 8 + plotH, x2: width - 8, y2: 8 + plotH, class: "axis" }));
    svg.appendChild(el("text", { x: left - 6, y: 14, class: "tick", "text-anchor": "end" }, String(max)));
    svg.appendChild(el("text", { x: left - 6, y: 8 + plotH, class: "tick", "text-anchor": "end" }, "0"));
    buckets.forEach(function (b, i) {
      var x = left + i * barW, y = 8 + plotH;
      var g = el("g", { class: "bucket", "data-start": b.start_us, "data-end": b.end_us });
      kinds.forEach(function (kind, k) {
        var n = kind === "unexplained" ? b.unexplained : ((b.explained || {})[kind] || 0);
        if (!n) { return; }
        var h = Math.max(1, Math.round(plotH * n / max));
        y -= h;
        var rect = el("rect", { x: x, y: y, width: Math.max(1, barW - 1), height: h,
          class: "seg kind-" + k + (kind === "unexplained" ? " unexplained" : ""),
          "data-kind": kind, "data-count": n });
        rect.appendChild(el("title", {}, kind + ": " + n + " cells, reads from " +
          new Date(b.start_us / 1000).toISOString() + " to " + new Date(b.end_us / 1000).toISOString()));
        g.appendChild(rect);
      });
      svg.appendChild(g);
    });
    if (buckets.length) {
      svg.appendChild(el("text", { x: left, y: height - 6, class: "tick" },
        new Date(buckets[0].start_us / 1000).toISOString()));
      svg.appendChild(el("text", { x: width - 8, y: height - 6, class: "tick", "text-anchor": "end" },
        new Date(buckets[buckets.length - 1].end_us / 1000).toISOString()));
    }
    var legend = document.getElementById("legend");
    kinds.forEach(function (kind, k) {
      var item = document.createElement("span");
      item.className = "legend-item";
      var swatch = document.createElement("span");
      swatch.className = "swatch kind-" + k + (kind === "unexplained" ? " unexplained" : "");
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(kind));
      legend.appendChild(item);
    });
    document.body.setAttribute("data-ready", "1");
  } catch (e) {
    document.body.setAttribute("data-error", String(e));
  }
})();
