/* Alur: the SOP modeler page (/sop/drafts/<id>). bpmn-js Modeler with the Camunda extension,
 * the side panel (modeler-panel.js), saving with the draft's revision, and problems checked by the
 * server while the analyst works.
 *
 * The page gives: <script type="application/json" id="modeler-boot"> {id, key, revision, xml,
 * filename, problems, urls: {save, check, download}, messages} and a [data-modeler] element with
 * data-csrf and data-camunda-url. Loaded after the vendored bpmn-modeler bundle (window.BpmnJS).
 *
 * For tests and the curious: window.alurModeler is the bpmn-js Modeler; window.alurWorkbench has
 * save(), check(), state and `ready` (a promise settled once the diagram is drawn).
 */
(function () {
  "use strict";

  var CHECK_DELAY = 800;
  var root = document.querySelector("[data-modeler]");
  var bootNode = document.getElementById("modeler-boot");
  if (!root || !bootNode) return;
  var boot = JSON.parse(bootNode.textContent);
  var M = boot.messages || {};
  var canvasBox = document.getElementById("modeler-canvas");
  var statusBox = document.getElementById("modeler-status");
  var problemsBox = document.getElementById("modeler-problems");
  var alertBox = document.getElementById("modeler-alert");
  var state = { revision: boot.revision, dirty: false, changes: 0, checkedChanges: 0, saving: null, checkTimer: null,
                checkSeq: 0, conflict: false, problems: boot.problems };
  var modeler = null;
  var marked = [];

  function msg(name, values) {
    var text = M[name] || name;
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values && key in values ? values[key] : ""; });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function setStatus(text, kind) {
    statusBox.textContent = text;
    statusBox.className = "modeler-status" + (kind ? " modeler-status--" + kind : "");
  }

  function showAlert(text, buttons) {
    alertBox.replaceChildren(el("p", null, text));
    (buttons || []).forEach(function (b) {
      var node = el("button", b.primary ? "primary" : null, b.label);
      node.type = "button";
      node.addEventListener("click", b.onClick);
      alertBox.appendChild(node);
    });
    alertBox.hidden = false;
    alertBox.focus();
  }

  function postJson(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": root.dataset.csrf },
      body: JSON.stringify(data),
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") < 0) {
        // A sign-in page or an error page instead of an answer: the session is gone or the server failed.
        return { status: response.status, body: { message: response.status >= 500 ? msg("serverFailed") : msg("signedOut") } };
      }
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }, function () {
      return { status: 0, body: { message: msg("offline") } };
    });
  }

  function currentXml() {
    return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
  }

  // --- problems: the list under the diagram, markers and badges on the diagram ---------------
  function clearMarks() {
    var canvas = modeler.get("canvas");
    marked.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
    marked = [];
    modeler.get("overlays").remove({ type: "alur-problem" });
  }

  function select(elementId) {
    var registry = modeler.get("elementRegistry");
    var target = elementId && registry.get(elementId);
    var selection = modeler.get("selection");
    if (target && !target.labelTarget && target !== modeler.get("canvas").getRootElement()) {
      selection.select(target);
      modeler.get("canvas").scrollToElement(target, { top: 120, bottom: 120, left: 160, right: 160 });
    } else {
      selection.select(null);  // the process itself, or nothing drawn: the panel shows the process
    }
    document.getElementById("modeler-panel").focus();
  }

  function mark(problem) {
    var registry = modeler.get("elementRegistry");
    var target = problem.element_id && registry.get(problem.element_id);
    if (!target || target === modeler.get("canvas").getRootElement()) return;
    var cls = "alur-problem--" + (problem.severity === "error" ? "error" : "warning");
    if (!marked.some(function (m) { return m[0] === target.id && m[1] === cls; })) {
      modeler.get("canvas").addMarker(target.id, cls);
      marked.push([target.id, cls]);
    }
    if (target.waypoints) return;  // badges only on shapes: a flow is marked by its colour
    var existing = modeler.get("overlays").get({ element: target.id, type: "alur-problem" });
    if (existing.length) {
      if (problem.severity === "error") existing[0].html.classList.add("alur-badge--error");
      return;
    }
    var badge = el("button", "alur-badge alur-badge--" + (problem.severity === "error" ? "error" : "warning"),
                   problem.severity === "error" ? "!" : "?");
    badge.type = "button";
    badge.title = problem.message;
    badge.setAttribute("aria-label", problem.message);
    badge.addEventListener("click", function () { select(target.id); });
    modeler.get("overlays").add(target.id, "alur-problem", { position: { top: -10, right: 10 }, html: badge });
  }

  function describe(problem) {
    var registry = modeler && modeler.get("elementRegistry");
    var target = problem.element_id && registry && registry.get(problem.element_id);
    var name = target && target.businessObject && target.businessObject.name;
    var where = [];
    if (problem.element_id) where.push(name ? name + " (" + problem.element_id + ")" : problem.element_id);
    if (problem.line) where.push(msg("line", { n: problem.line }));
    return where.join(" \u00b7 ");
  }

  function showProblems(result, refused) {
    state.problems = result;
    var errors = result.errors || [], warnings = result.warnings || [];
    if (modeler) clearMarks();
    var heading = el("h2", null, msg("problemsHeading"));
    var summary = el("p", "modeler-summary");
    if (refused) summary.textContent = msg("refused");
    else if (!errors.length && !warnings.length) summary.textContent = msg("noProblems");
    else summary.textContent = msg("counts", { errors: errors.length, warnings: warnings.length });
    summary.classList.add(errors.length ? "modeler-summary--bad" : "modeler-summary--ok");
    var runnable = el("p", "modeler-runnable " + (result.executable ? "ok" : "bad"),
                      result.executable ? msg("executable") : msg("notExecutable"));
    var list = el("ul", "modeler-problem-list");
    errors.concat(warnings).forEach(function (problem) {
      var item = el("li", "modeler-problem modeler-problem--" + (problem.severity === "error" ? "error" : "warning"));
      item.dataset.elementId = problem.element_id || "";
      if (problem.code) item.dataset.code = problem.code;
      var b = el("button", "modeler-problem__go");
      b.type = "button";
      b.appendChild(el("span", "modeler-problem__severity", problem.severity === "error" ? msg("error") : msg("warning")));
      b.appendChild(el("span", "modeler-problem__message", problem.message));
      var where = describe(problem);
      if (where) b.appendChild(el("span", "modeler-problem__where", where));
      b.addEventListener("click", function () { select(problem.element_id); });
      item.appendChild(b);
      list.appendChild(item);
      if (modeler) mark(problem);
    });
    problemsBox.replaceChildren(heading, summary, runnable, list);
  }

  // --- checking and saving -------------------------------------------------------------------
  function check() {
    var seq = state.checkSeq += 1;
    var changes = state.changes;
    return currentXml().then(function (xml) {
      return postJson(boot.urls.check, { xml: xml });
    }).then(function (answer) {
      if (seq !== state.checkSeq) return null;  // a later check is on its way
      if (answer.status === 200) {
        showProblems(answer.body);
        state.checkedChanges = changes;  // the list now describes the model as of this change
        root.dataset.checked = String(changes);
      } else {
        setStatus(answer.body.message || msg("checkFailed"), "bad");
      }
      return answer;
    });
  }

  function scheduleCheck() {
    clearTimeout(state.checkTimer);
    state.checkTimer = setTimeout(check, CHECK_DELAY);
  }

  function conflict(text) {
    state.conflict = true;
    setStatus(msg("conflictShort"), "bad");
    showAlert(text || msg("conflict"), [
      { label: msg("downloadMine"), onClick: downloadCurrent },
      { label: msg("reload"), primary: true, onClick: function () { state.dirty = false; window.location.reload(); } },
    ]);
  }

  function save() {
    if (state.saving) return state.saving;
    if (state.conflict) { conflict(); return Promise.resolve(false); }
    var changes = state.changes;
    setStatus(msg("saving"), "busy");
    state.saving = currentXml().then(function (xml) {
      return postJson(boot.urls.save, { xml: xml, revision: state.revision });
    }).then(function (answer) {
      var body = answer.body;
      if (answer.status === 200) {
        state.revision = body.revision;
        if (state.changes === changes) state.dirty = false;
        root.dataset.revision = String(body.revision);
        setStatus(state.dirty ? msg("unsaved") : msg("saved"), state.dirty ? "dirty" : "ok");
        showProblems(body);
        return true;
      }
      if (answer.status === 409) conflict(body.message);
      else if (answer.status === 422) {
        setStatus(body.message || msg("saveFailed"), "bad");
        showProblems({ executable: false, errors: body.problems || [], warnings: [] }, true);
      } else setStatus(body.message || msg("saveFailed"), "bad");
      return false;
    }).then(function (ok) { state.saving = null; return ok; }, function (error) {
      state.saving = null;
      setStatus(msg("saveFailed"), "bad");
      if (window.console) console.warn("Alur modeler: save failed", error);
      return false;
    });
    return state.saving;
  }

  function downloadCurrent() {
    return currentXml().then(function (xml) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
      link.download = boot.filename || "sop.bpmn";
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    });
  }

  // --- the page's buttons and forms ----------------------------------------------------------
  function wire() {
    document.getElementById("modeler-save").addEventListener("click", save);
    var download = document.getElementById("modeler-download");
    download.addEventListener("click", function (e) {
      if (!state.dirty) return;  // the saved draft is what the link gives
      e.preventDefault();
      downloadCurrent();
    });
    var publish = document.getElementById("modeler-publish-form");
    if (publish) {
      publish.addEventListener("submit", function (e) {
        if (!state.dirty) return;
        e.preventDefault();
        save().then(function (ok) { if (ok) publish.submit(); });
      });
    }
    document.querySelectorAll("form[data-leave-ok]").forEach(function (form) {
      form.addEventListener("submit", function () { state.dirty = false; });
    });
    window.addEventListener("beforeunload", function (e) {
      if (state.dirty) { e.preventDefault(); e.returnValue = ""; }
    });
    document.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && (e.key === "s" || e.key === "S")) { e.preventDefault(); save(); }
    });
    modeler.on("commandStack.changed", function () {
      state.dirty = true;
      state.changes += 1;
      setStatus(msg("unsaved"), "dirty");
      scheduleCheck();
    });
  }

  /* Show the whole diagram right of the palette (which floats over the canvas's left edge). */
  function fit(canvas) {
    var box = canvas.viewbox();
    var inner = box.inner, outer = box.outer;
    if (!inner.width || !inner.height) return;
    var left = 140, margin = 24;  // the palette is about 115 px wide
    var scale = Math.min((outer.width - left - margin) / inner.width, (outer.height - 2 * margin) / inner.height, 1);
    canvas.viewbox({
      x: inner.x - left / scale,
      y: inner.y - (outer.height / scale - inner.height) / 2,
      width: outer.width / scale, height: outer.height / scale,
    });
  }

  function start(camunda) {
    modeler = new window.BpmnJS({ container: canvasBox, moddleExtensions: { camunda: camunda } });
    window.alurModeler = modeler;
    return modeler.importXML(boot.xml).then(function (result) {
      fit(modeler.get("canvas"));
      window.AlurPanel(modeler, document.getElementById("modeler-panel"), M, { key: boot.key });
      wire();
      showProblems(state.problems);
      setStatus(msg("saved"), "ok");
      root.classList.add("modeler--ready");
      root.dataset.ready = "1";
      if (result.warnings && result.warnings.length && window.console) {
        console.warn("Alur modeler: import warnings", result.warnings.map(function (w) { return w.message; }));
      }
    });
  }

  var ready = fetch(root.dataset.camundaUrl, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("camunda.json answered " + response.status);
      return response.json();
    })
    .then(start)
    .catch(function (error) {
      if (window.console) console.warn("Alur modeler:", error);
      root.classList.add("modeler--failed");
      setStatus(msg("loadFailed"), "bad");
      showProblems(state.problems);
    });

  window.alurWorkbench = { save: save, check: check, state: state, ready: ready, download: downloadCurrent };
})();
