/* Alur: the compare page's two diagrams, side by side, with the changes marked and viewports in step.
 *
 * Reads the page (templates/compare/_diff.html):
 *   .compare-viewer[data-side=a|b][data-bpmn-url]   where to draw each side and its BPMN XML
 *   #compare-data (application/json)                 {"marks": {"a": {status: [ids]}, "b": {...}}, "failed": text}
 *   .compare-change[data-element][data-in-a][data-in-b]   the list items; choosing one selects the
 *                                                         element in both diagrams and brings it into view
 * Uses the vendored bpmn-js NavigatedViewer (window.BpmnJS); nothing from the internet.
 */
(function () {
  "use strict";

  var viewers = {};
  var syncing = false;

  function readData() {
    var node = document.getElementById("compare-data");
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch (e) {
      return {};
    }
  }

  function fail(box, text) {
    var p = document.createElement("p");
    p.className = "compare-viewer__message";
    p.textContent = text || "The diagram could not be shown.";
    box.replaceChildren(p);
    box.classList.add("compare-viewer--failed");
  }

  function fetchXml(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/xml" } })
      .then(function (response) {
        if (!response.ok) throw new Error("the diagram answered " + response.status);
        return response.text();
      });
  }

  function mark(viewer, marks) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    Object.keys(marks || {}).forEach(function (status) {
      marks[status].forEach(function (id) {
        if (registry.get(id)) canvas.addMarker(id, "compare-" + status);
      });
    });
  }

  // Viewports in step: when one viewer's viewbox changes, give the other the same one.
  function follow(from, to) {
    from.get("eventBus").on("canvas.viewbox.changed", function (event) {
      if (syncing || !viewers[to]) return;
      syncing = true;
      try {
        var box = event.viewbox;
        viewers[to].get("canvas").viewbox({ x: box.x, y: box.y, width: box.width, height: box.height });
      } finally {
        syncing = false;
      }
    });
  }

  function show(id) {
    var centred = false;
    ["b", "a"].forEach(function (side) {
      var viewer = viewers[side];
      if (!viewer) return;
      var element = viewer.get("elementRegistry").get(id);
      var selection = viewer.get("selection");
      if (!element) {
        selection.select(null);
        return;
      }
      selection.select(element);
      if (centred) return;  // the other viewer follows this one's viewport
      centred = true;
      var canvas = viewer.get("canvas");
      var box = canvas.viewbox();
      var cx = element.waypoints ? element.waypoints[0].x : element.x + element.width / 2;
      var cy = element.waypoints ? element.waypoints[0].y : element.y + element.height / 2;
      canvas.viewbox({ x: cx - box.width / 2, y: cy - box.height / 2, width: box.width, height: box.height });
    });
  }

  function choose(item) {
    document.querySelectorAll(".compare-change--chosen").forEach(function (other) {
      other.classList.remove("compare-change--chosen");
    });
    item.classList.add("compare-change--chosen");
    show(item.dataset.element);
  }

  function start() {
    var data = readData();
    var boxes = document.querySelectorAll(".compare-viewer[data-bpmn-url]");
    if (!boxes.length) return;
    if (!window.BpmnJS) {
      boxes.forEach(function (box) { fail(box, data.failed); });
      return;
    }
    var loads = Array.prototype.map.call(boxes, function (box) {
      var side = box.dataset.side;
      return fetchXml(box.dataset.bpmnUrl).then(function (xml) {
        box.replaceChildren();
        var viewer = new window.BpmnJS({ container: box, zoomScroll: { enabled: true } });
        return viewer.importXML(xml).then(function () {
          mark(viewer, (data.marks || {})[side]);
          viewers[side] = viewer;
        });
      }).catch(function (error) {
        if (window.console) console.warn("Alur compare:", error);
        fail(box, data.failed);
      });
    });
    Promise.all(loads).then(function () {
      if (viewers.a && viewers.b) {
        follow(viewers.a, "b");
        follow(viewers.b, "a");
      }
      var first = viewers.b || viewers.a;
      if (first) {
        var canvas = first.get("canvas");
        canvas.zoom("fit-viewport", "auto");
        canvas.zoom(canvas.zoom() * 0.94);
        if (viewers.a && viewers.b) {
          // Start the other one where this one is.
          var box = canvas.viewbox();
          (first === viewers.b ? viewers.a : viewers.b).get("canvas").viewbox(
            { x: box.x, y: box.y, width: box.width, height: box.height });
        }
      }
      window.alurCompare = viewers;  // for tests and the browser console
      document.querySelectorAll(".compare-viewers").forEach(function (node) {
        node.dataset.ready = "1";
      });
    });
    document.querySelectorAll(".compare-change").forEach(function (item) {
      var button = item.querySelector(".compare-change__select");
      if (button) button.addEventListener("click", function () { choose(item); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
