/* olist docs: pan, zoom and lineage highlighting for the pre-drawn SVG graph, and the
 * sidebar filter. Hand-written, no dependencies, no network: the layout is done when the
 * site is generated, so this file only reacts to the pointer. The graph stays usable
 * (links on every node) with scripts off.
 */
(function () {
  "use strict";

  var MIN_ZOOM = 0.3;
  var MAX_ZOOM = 4;
  var STEP = 1.25;

  function initGraph(panel) {
    var svg = panel.querySelector("svg.lineage-svg");
    if (!svg) {
      panel.setAttribute("data-ready", "empty");
      return;
    }
    var viewport = svg.querySelector(".viewport");
    var nodes = Array.prototype.slice.call(svg.querySelectorAll(".node"));
    var edges = Array.prototype.slice.call(svg.querySelectorAll(".edge"));
    var view = { x: 0, y: 0, k: 1 };

    // Adjacency from the edges' data attributes: both directions, for highlighting.
    var up = {};
    var down = {};
    edges.forEach(function (edge) {
      var from = edge.getAttribute("data-from");
      var to = edge.getAttribute("data-to");
      (down[from] = down[from] || []).push(to);
      (up[to] = up[to] || []).push(from);
    });

    function apply() {
      viewport.setAttribute("transform",
        "translate(" + view.x.toFixed(2) + " " + view.y.toFixed(2) + ") scale(" + view.k.toFixed(4) + ")");
    }

    // A pointer position in the SVG's own units (the viewBox), whatever its screen size.
    function toSvg(clientX, clientY) {
      var ctm = svg.getScreenCTM();
      if (!ctm) return { x: 0, y: 0 };
      var p = svg.createSVGPoint();
      p.x = clientX;
      p.y = clientY;
      return p.matrixTransform(ctm.inverse());
    }

    function zoomAt(factor, at) {
      var k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.k * factor));
      factor = k / view.k;
      view.x = at.x - (at.x - view.x) * factor;
      view.y = at.y - (at.y - view.y) * factor;
      view.k = k;
      apply();
    }

    function centre() {
      var box = svg.viewBox.baseVal;
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    }

    // Ctrl+wheel (and a trackpad pinch, which arrives as one) zooms; a plain wheel keeps
    // scrolling the page, so a reader scrolling past the graph is not caught by it.
    svg.addEventListener("wheel", function (event) {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      zoomAt(event.deltaY < 0 ? 1.1 : 1 / 1.1, toSvg(event.clientX, event.clientY));
    }, { passive: false });

    // Drag to pan; a drag that starts on a node does not also follow its link.
    var drag = null;
    var moved = false;
    svg.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      drag = { start: toSvg(event.clientX, event.clientY), x: view.x, y: view.y };
      moved = false;
    });
    window.addEventListener("pointermove", function (event) {
      if (!drag) return;
      var now = toSvg(event.clientX, event.clientY);
      var dx = now.x - drag.start.x;
      var dy = now.y - drag.start.y;
      if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!moved) svg.classList.add("dragging");
      moved = true;
      view.x = drag.x + dx;
      view.y = drag.y + dy;
      apply();
    });
    window.addEventListener("pointerup", function () {
      drag = null;
      svg.classList.remove("dragging");
    });
    svg.addEventListener("click", function (event) {
      if (moved) {
        event.preventDefault();
        moved = false;
      }
    }, true);

    panel.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.getAttribute("data-zoom");
        if (how === "fit") {
          view = { x: 0, y: 0, k: 1 };
          apply();
        } else {
          zoomAt(how === "in" ? STEP : 1 / STEP, centre());
        }
      });
    });

    // Hover or focus a node: light it, everything upstream and everything downstream.
    function reach(start, next) {
      var seen = {};
      var todo = [start];
      while (todo.length) {
        var id = todo.pop();
        (next[id] || []).forEach(function (n) {
          if (!seen[n]) {
            seen[n] = true;
            todo.push(n);
          }
        });
      }
      return seen;
    }

    function highlight(id) {
      var lit = Object.assign(reach(id, up), reach(id, down));
      lit[id] = true;
      panel.classList.add("highlighting");
      nodes.forEach(function (node) {
        node.classList.toggle("lit", !!lit[node.getAttribute("data-id")]);
      });
      edges.forEach(function (edge) {
        var on = lit[edge.getAttribute("data-from")] && lit[edge.getAttribute("data-to")];
        edge.classList.toggle("lit", !!on);
      });
    }

    function clear() {
      panel.classList.remove("highlighting");
    }

    nodes.forEach(function (node) {
      var id = node.getAttribute("data-id");
      node.addEventListener("mouseenter", function () { if (!drag) highlight(id); });
      node.addEventListener("mouseleave", clear);
      node.addEventListener("focus", function () { highlight(id); });
      node.addEventListener("blur", clear);
    });

    var status = panel.querySelector(".lineage-status");
    if (status) {
      status.textContent = nodes.length + " nodes · " + edges.length + " edges";
    }
    panel.setAttribute("data-nodes", String(nodes.length));
    panel.setAttribute("data-ready", "true");
  }

  // The sidebar filter also narrows the index tables and marks matching graph nodes.
  function initFilter(input) {
    input.addEventListener("input", function () {
      var term = input.value.trim().toLowerCase();
      document.querySelectorAll("[data-name]").forEach(function (el) {
        var hit = term !== "" && el.getAttribute("data-name").toLowerCase().indexOf(term) >= 0;
        if (el.classList.contains("node")) {
          el.classList.toggle("match", hit);
        } else {
          el.classList.toggle("hidden", term !== "" && !hit);
        }
      });
    });
  }

  document.querySelectorAll(".lineage").forEach(initGraph);
  document.querySelectorAll(".sidebar .filter").forEach(initFilter);
})();
