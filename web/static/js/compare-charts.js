/* Charts of the SOP version comparison: case-time histogram, limit met or missed, step times per version.
 * Reads the measured figures from <script type="application/json" id="measured-data"> and the labels
 * from data-msg-* of [data-compare-charts]; loads the vendored Chart.js (data-chart-src) only here.
 * The same numbers are in the page's tables, so without JavaScript nothing is lost. */
(function () {
  "use strict";
  var box = document.querySelector("[data-compare-charts]");
  var source = document.getElementById("measured-data");
  if (!box || !source) { return; }
  var data;
  try { data = JSON.parse(source.textContent); } catch (e) { return; }
  var msg = box.dataset;
  var COLORS = { a: "#8a94a3", b: "#0b5d8c", met: "#1b6e3a", missed: "#a61b1b", wait: "#e0a526",
                 work: "#0b5d8c", budget: "#c9ced6" };
  var HOUR = 3600;

  function hours(seconds) { return seconds === null || seconds === undefined ? null : Math.round(seconds / HOUR * 10) / 10; }

  function sides() { return ["a", "b"].filter(function (s) { return data[s]; }); }

  function binLabels(edges) {
    var labels = [];
    for (var i = 0; i < edges.length - 1; i++) { labels.push(hours(edges[i]) + "–" + hours(edges[i + 1])); }
    labels.push("≥ " + hours(edges[edges.length - 1]) + " " + msg.msgOver);
    return labels;
  }

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    return new window.Chart(canvas, config);
  }

  function caseTime() {
    var first = data[sides()[0]];
    chart("chart-case-time", {
      type: "bar",
      data: {
        labels: binLabels(first.case_time.histogram.edges_seconds),
        datasets: sides().map(function (s) {
          return { label: data.labels[s], data: data[s].case_time.histogram.counts, backgroundColor: COLORS[s] };
        })
      },
      options: { scales: { x: { title: { display: true, text: msg.msgHours } },
                           y: { beginAtZero: true, title: { display: true, text: msg.msgCases }, ticks: { precision: 0 } } } }
    });
  }

  function compliance() {
    var list = sides();
    chart("chart-compliance", {
      type: "bar",
      data: {
        labels: list.map(function (s) { return data.labels[s]; }),
        datasets: [
          { label: msg.msgMet, backgroundColor: COLORS.met, data: list.map(function (s) { return data[s].compliance.met; }) },
          { label: msg.msgMissed, backgroundColor: COLORS.missed, data: list.map(function (s) { return data[s].compliance.missed; }) }
        ]
      },
      options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } }
    });
  }

  // Office steps only: an applicant's step has a budget of days that would flatten every other bar.
  function officeSteps(side) { return data[side].steps.filter(function (s) { return !s.pauses_clock; }); }

  // One scale for both versions' step charts, so that their bars compare by length.
  function stepScaleMax() {
    var most = 0;
    sides().forEach(function (side) {
      officeSteps(side).forEach(function (s) {
        most = Math.max(most, hours((s.wait_median || 0) + (s.work_median || 0)), hours(s.budget_seconds) || 0);
      });
    });
    return most || undefined;
  }

  function steps(side) {
    var rows = officeSteps(side);
    chart("chart-steps-" + side, {
      type: "bar",
      data: {
        labels: rows.map(function (s) { return s.name; }),
        datasets: [
          { label: msg.msgWait, stack: "time", backgroundColor: COLORS.wait, data: rows.map(function (s) { return hours(s.wait_median); }) },
          { label: msg.msgWork, stack: "time", backgroundColor: COLORS.work, data: rows.map(function (s) { return hours(s.work_median); }) },
          { label: msg.msgBudget, stack: "budget", backgroundColor: COLORS.budget, data: rows.map(function (s) { return hours(s.budget_seconds); }) }
        ]
      },
      options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, max: stepScaleMax(), title: { display: true, text: msg.msgHours } },
                                           y: { stacked: true, ticks: { autoSkip: false } } } }
    });
  }

  function draw() {
    if (!window.Chart || !sides().length) { return; }
    box.hidden = false;
    caseTime();
    compliance();
    sides().forEach(steps);
  }

  if (window.Chart) { draw(); return; }
  var script = document.createElement("script");
  script.src = msg.chartSrc;
  script.addEventListener("load", draw);
  document.head.appendChild(script);
})();
