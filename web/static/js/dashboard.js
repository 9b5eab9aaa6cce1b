/* Alur dashboard: the weekly compliance trend (vendored Chart.js, loaded only here) and the SOP
 * diagram coloured by each step's median time against its budget (overlays on the bpmn-js viewer
 * that diagram.js draws in #heat-diagram). Data come from <script type="application/json"> blocks;
 * every number is also in the page's tables, so nothing is lost without JavaScript. */
(function () {
  "use strict";

  function json(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  // --- the trend chart ----------------------------------------------------------------------
  var PALETTE = ["#0b5d8c", "#e0a526", "#1b6e3a", "#8a4fa3", "#c0392b", "#5b6472", "#2a9d8f"];

  function percent(cell) { return cell.share === null ? null : Math.round(cell.share * 1000) / 10; }

  function drawTrend(box, data) {
    var msg = box.dataset;
    var datasets = [{ label: msg.msgOffice, data: data.total.map(percent), borderColor: "#1d2430",
                      backgroundColor: "#1d2430", borderWidth: 3, spanGaps: true, tension: 0.2 }];
    data.sops.forEach(function (sop, i) {
      var colour = PALETTE[i % PALETTE.length];
      datasets.push({ label: sop.name, data: sop.weeks.map(percent), borderColor: colour, backgroundColor: colour,
                      borderWidth: 1.5, spanGaps: true, tension: 0.2 });
    });
    box.hidden = false;
    box.alurChart = new window.Chart(document.getElementById("chart-trend"), {
      type: "line",
      data: { labels: data.weeks.map(function (w) { return w.week; }), datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { min: 0, max: 100, title: { display: true, text: msg.msgShare } } },
                 plugins: { legend: { position: "bottom" } } }
    });
  }

  function trend() {
    var box = document.querySelector("[data-dash-charts]");
    var data = json("trend-data");
    if (!box || !data || !data.weeks.length) { return; }
    if (window.Chart) { drawTrend(box, data); return; }
    var tag = document.createElement("script");
    tag.src = box.dataset.chartSrc;
    tag.addEventListener("load", function () { if (window.Chart) { drawTrend(box, data); } });
    document.head.appendChild(tag);
  }

  // --- the heatmap --------------------------------------------------------------------------
  function hours(seconds) {
    if (seconds === null || seconds === undefined) { return "–"; }
    if (seconds < 3600) { return Math.round(seconds / 60) + " m"; }
    return (Math.round(seconds / 360) / 10) + " h";
  }

  function colour(viewer, steps) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    steps.forEach(function (step) {
      if (!registry.get(step.step_id)) { return; }  // a step the diagram does not draw
      canvas.addMarker(step.step_id, "heat-" + step.level);
      var badge = document.createElement("div");
      badge.className = "heat-badge heat-badge--" + step.level;
      badge.textContent = hours(step.duration_median) + (step.budget_seconds ? " / " + hours(step.budget_seconds) : "");
      badge.title = step.name;
      overlays.add(step.step_id, "alur-heat", { position: { bottom: 4, left: 4 }, html: badge });
    });
  }

  function heatmap() {
    var box = document.getElementById("heat-diagram");
    var steps = json("heat-data");
    if (!box || !steps) { return; }
    function ready() {
      if (!box.alurViewer || box.dataset.heatDone) { return false; }
      box.dataset.heatDone = "1";
      colour(box.alurViewer, steps);
      return true;
    }
    if (ready()) { return; }
    // diagram.js marks the box ready once the viewer has drawn it.
    var watcher = new MutationObserver(function () { if (ready()) { watcher.disconnect(); } });
    watcher.observe(box, { attributes: true, attributeFilter: ["class"] });
  }

  // --- the version list follows the chosen SOP ----------------------------------------------
  function versions() {
    var sop = document.getElementById("key");
    var version = document.getElementById("version");
    if (!sop || !version) { return; }
    function sync() {
      Array.prototype.forEach.call(version.options, function (option) {
        if (!option.dataset.sop) { return; }
        option.hidden = option.disabled = option.dataset.sop !== sop.value;
        if (option.disabled && option.selected) { version.value = ""; }
      });
    }
    sop.addEventListener("change", sync);
    sync();
  }

  function start() { versions(); trend(); heatmap(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
