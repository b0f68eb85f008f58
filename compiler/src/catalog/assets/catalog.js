// The catalog page's search: entries whose name, doc, owner or tags hold every
// word of the query stay visible; the query can come from the URL (`#q=TERM`).
window.onerror = function (message) {
  document.body.dataset.error = String(message);
};
(function () {
  var input = document.getElementById("search");
  var count = document.getElementById("match-count");
  var entries = Array.prototype.slice.call(document.querySelectorAll(".entry"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.kind"));
  var nodes = Array.prototype.slice.call(document.querySelectorAll("#lineage-graph .node"));
  var edges = Array.prototype.slice.call(document.querySelectorAll("#lineage-graph .edge"));

  function hidden(anchor) {
    var target = document.getElementById(anchor);
    return target !== null && target.hidden;
  }

  function apply() {
    var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    entries.forEach(function (entry) {
      var text = entry.getAttribute("data-search") || "";
      var match = terms.every(function (t) { return text.indexOf(t) >= 0; });
      entry.hidden = !match;
      if (match) shown += 1;
    });
    sections.forEach(function (section) {
      section.hidden = section.querySelector(".entry:not([hidden])") === null;
    });
    // The graph keeps every node, dimming those of hidden entries and the edges
    // between two of them: what a match reads and what reads it stay in view.
    var searching = terms.length > 0;
    nodes.forEach(function (node) {
      dim(node, searching && hidden(node.getAttribute("data-anchor")));
    });
    edges.forEach(function (edge) {
      var off = hidden(edge.getAttribute("data-from")) && hidden(edge.getAttribute("data-to"));
      dim(edge, searching && off);
    });
    count.textContent = String(shown);
  }

  function dim(element, on) {
    var base = element.getAttribute("class").replace(/ dim$/, "");
    element.setAttribute("class", on ? base + " dim" : base);
  }

  function fromHash() {
    var m = /^#q=(.*)$/.exec(window.location.hash);
    if (m === null) return false;
    var raw = m[1].replace(/\+/g, " ");
    try {
      input.value = decodeURIComponent(raw);
    } catch (e) {
      input.value = raw;
    }
    return true;
  }

  fromHash();
  apply();
  input.addEventListener("input", function () {
    apply();
    var here = window.location.pathname + window.location.search;
    var hash = input.value ? "#q=" + encodeURIComponent(input.value) : here;
    try {
      window.history.replaceState(null, "", hash);
    } catch (e) {
      // A page opened from disk may refuse it; the search works regardless.
    }
  });
  window.addEventListener("hashchange", function () {
    if (fromHash()) apply();
  });
  document.body.dataset.ready = "1";
})();
