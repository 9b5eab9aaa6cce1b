/* Alur: draw an SOP diagram in every `.diagram[data-bpmn-url]` box with the vendored bpmn-js viewer.
 *
 * No framework, no inline script, nothing from the internet. The viewer (about 200 KB) and its
 * stylesheets are fetched only when the page has such a box, so pages without one stay light.
 *
 * The box (written by the page):
 *   <div class="diagram" data-bpmn-url="/same/origin/url/of/the.bpmn"
 *        data-highlight="step_id"                 one element id: this task's step (optional)
 *        data-completed="id1 id2" data-active="id3"   space-separated element ids (optional)
 *        aria-label="...">fallback text shown without JavaScript</div>
 *
 * Texts come from the <script> tag's data-msg-* attributes (translated by the server, see
 * templates/_diagram.html); the viewer's address from its data-viewer-src attribute.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var config = (script && script.dataset) || {};

  function msg(name, fallback) {
    return config["msg" + name] || fallback;
  }

  function staticUrl(name, relative) {
    if (config[name]) return config[name];
    // Without the attribute: next to this script, in ../vendor/bpmn-js/.
    return new URL(relative, (script && script.src) || window.location.href).href;
  }

  var VIEWER_SRC = staticUrl("viewerSrc", "../vendor/bpmn-js/bpmn-navigated-viewer.production.min.js");
  var VIEWER_CSS = [
    staticUrl("diagramCss", "../vendor/bpmn-js/diagram-js.css"),
    staticUrl("bpmnCss", "../vendor/bpmn-js/bpmn-js.css"),
  ];

  var loading = null;

  function loadStylesheet(href) {
    return new Promise(function (resolve) {
      if (document.querySelector('link[rel="stylesheet"][href="' + href + '"]')) return resolve();
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      // A missing stylesheet leaves the drawing plainer; it is not a reason to give up.
      link.onload = link.onerror = function () { resolve(); };
      document.head.appendChild(link);
    });
  }

  function loadViewer() {
    if (window.BpmnJS) return Promise.resolve(window.BpmnJS);
    if (loading) return loading;
    var styles = Promise.all(VIEWER_CSS.map(loadStylesheet));
    var code = new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = VIEWER_SRC;
      tag.async = true;
      tag.onload = function () {
        if (window.BpmnJS) resolve(window.BpmnJS);
        else reject(new Error("the viewer script defined no BpmnJS"));
      };
      tag.onerror = function () { reject(new Error("the viewer script did not load")); };
      document.head.appendChild(tag);
    });
    loading = Promise.all([code, styles]).then(function (both) { return both[0]; });
    loading.catch(function () { loading = null; });  // a later box may try again
    return loading;
  }

  function sameOrigin(url) {
    try {
      return new URL(url, window.location.href).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  function fetchXml(url) {
    if (!sameOrigin(url)) return Promise.reject(new Error("the diagram address is not on this server"));
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/xml, text/xml" },
    }).then(function (response) {
      if (!response.ok) throw new Error("the diagram answered " + response.status);
      return response.text();
    });
  }

  function ids(value) {
    return (value || "").split(/\s+/).filter(Boolean);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function showMessage(box, text) {
    box.classList.remove("diagram--loading", "diagram--ready");
    box.classList.add("diagram--failed");
    box.replaceChildren(el("p", "diagram__message", text));
    box.setAttribute("aria-busy", "false");
  }

  function legend(box) {
    // Only the keys this box uses: a task page marks its step, a case page every step's state.
    var keys = [];
    if (box.dataset.highlight) keys.push(["current", msg("Current", "This step"), "\u25C9"]);
    if (box.hasAttribute("data-completed") || box.hasAttribute("data-active")) {
      keys.push(["completed", msg("Completed", "Completed"), "\u2713"],
                ["active", msg("Active", "In progress"), "\u25B6"],
                ["pending", msg("Pending", "Not yet"), "\u2026"]);
    }
    var list = el("ul", "diagram__legend");
    keys.forEach(function (item) {
      var entry = el("li", "diagram__key diagram__key--" + item[0]);
      var swatch = el("span", "diagram__swatch", item[2]);
      swatch.setAttribute("aria-hidden", "true");
      entry.appendChild(swatch);
      entry.appendChild(document.createTextNode(" " + item[1]));
      list.appendChild(entry);
    });
    return list;
  }

  function button(text, label, onClick) {
    var b = el("button", "diagram__button", text);
    b.type = "button";
    b.title = label;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  function mark(viewer, box) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    var groups = [
      ["alur-completed", ids(box.dataset.completed)],
      ["alur-active", ids(box.dataset.active)],
      ["alur-current", ids(box.dataset.highlight)],
    ];
    var marked = 0;
    groups.forEach(function (group) {
      group[1].forEach(function (id) {
        if (registry.get(id)) {  // ids the diagram does not draw are skipped, not fatal
          canvas.addMarker(id, group[0]);
          marked += 1;
        }
      });
    });
    return marked;
  }

  function render(box, BpmnJS, xml) {
    var surface = el("div", "diagram__canvas");
    var bar = el("div", "diagram__bar");
    var tools = el("div", "diagram__tools");
    box.replaceChildren(surface, bar);

    // Zooming with the mouse wheel is off so that scrolling the page never gets stuck on the
    // diagram; drag to move, the buttons to zoom.
    var viewer = new BpmnJS({ container: surface, zoomScroll: { enabled: false } });
    var canvas = viewer.get("canvas");
    function fit() {
      canvas.resized();
      canvas.zoom("fit-viewport", "auto");
      canvas.zoom(canvas.zoom() * 0.94);  // a margin, so no shape touches the edge
    }
    tools.appendChild(button("+", msg("ZoomIn", "Zoom in"), function () {
      canvas.zoom(Math.min(canvas.zoom() * 1.25, 4));
    }));
    tools.appendChild(button("\u2212", msg("ZoomOut", "Zoom out"), function () {
      canvas.zoom(Math.max(canvas.zoom() / 1.25, 0.2));
    }));
    tools.appendChild(button("\u2922", msg("Fit", "Fit to box"), fit));
    bar.appendChild(legend(box));
    bar.appendChild(tools);

    return viewer.importXML(xml).then(function () {
      mark(viewer, box);
      fit();
      box.classList.remove("diagram--loading");
      box.classList.add("diagram--ready");
      box.setAttribute("aria-busy", "false");
      box.alurViewer = viewer;  // for the page's own scripts and for tests
      var timer = null;
      window.addEventListener("resize", function () {
        clearTimeout(timer);
        timer = setTimeout(fit, 150);
      });
    });
  }

  function show(box) {
    if (box.dataset.diagramStarted) return null;  // the partial was included twice
    box.dataset.diagramStarted = "1";
    var url = box.dataset.bpmnUrl;
    box.classList.add("diagram--loading");
    box.setAttribute("aria-busy", "true");
    if (!box.getAttribute("role")) box.setAttribute("role", "figure");
    if (!box.getAttribute("aria-label")) box.setAttribute("aria-label", msg("Label", "SOP diagram"));
    box.replaceChildren(el("p", "diagram__message", msg("Loading", "Loading the diagram\u2026")));
    return Promise.all([loadViewer(), fetchXml(url)])
      .then(function (both) { return render(box, both[0], both[1]); })
      .catch(function (error) {
        if (window.console) console.warn("Alur diagram:", url, error);
        showMessage(box, msg("Failed", "The diagram could not be shown. The steps are listed on this page."));
      });
  }

  function start() {
    var boxes = document.querySelectorAll(".diagram[data-bpmn-url]");
    for (var i = 0; i < boxes.length; i += 1) show(boxes[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
