/* Alur: the modeler's side panel. It edits, for the selected element, what Alur reads from it:
 * name, lane, instructions, time budget and mutu baku, whether the clock pauses, form fields,
 * a branch's condition; with nothing selected, the SOP's identity fields and service limit.
 *
 * Plain DOM, no framework. Texts come translated from the server (messages, see
 * web/workbench_messages.py). Changes go through AlurModel (modeler-model.js), one undoable
 * command each; text fields commit when they lose focus or on Enter, so typing makes no commands.
 *
 *   var panel = AlurPanel(modeler, container, messages, {key: "izin_reklame"});
 */
(function () {
  "use strict";

  var FIELD_TYPES = ["string", "text", "long", "double", "boolean", "date", "enum"];
  var SOP_FIELDS = [  // [property, message key, multi-line]
    ["sop.nomor", "sopNomor", false], ["sop.kodeRegistrasi", "sopKode", false],
    ["sop.dasarHukum", "sopDasarHukum", true], ["sop.kualifikasiPelaksana", "sopKualifikasi", true],
    ["sop.keterkaitan", "sopKeterkaitan", true], ["sop.peralatan", "sopPeralatan", true],
    ["sop.peringatan", "sopPeringatan", true], ["sop.pencatatan", "sopPencatatan", true],
    ["sop.disahkanOleh", "sopDisahkan", false],
  ];
  var MUTU_FIELDS = [
    ["mutu.kelengkapan", "mutuKelengkapan"], ["mutu.output", "mutuOutput"], ["mutu.keterangan", "mutuKeterangan"],
  ];
  var counter = 0;

  function AlurPanel(modeler, container, messages, options) {
    var model = window.AlurModel(modeler);
    var is = window.AlurModel.is;
    var selection = modeler.get("selection");
    var registry = modeler.get("elementRegistry");
    var current = null;  // the element shown, or null for the process
    var opts = options || {};

    function msg(name) { return messages[name] || name; }

    // --- small DOM helpers -------------------------------------------------------------------
    function h(tag, attrs, children) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (k) {
        if (k === "text") node.textContent = attrs[k];
        else if (k === "className") node.className = attrs[k];
        else if (attrs[k] !== undefined && attrs[k] !== null && attrs[k] !== false) node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
      });
      (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
      return node;
    }

    function uid() { counter += 1; return "mp-" + counter; }

    /* A labelled text input or textarea that commits on change (blur) and on Enter in one-line fields. */
    function text(key, label, value, commit, extra) {
      var id = uid();
      var multi = extra && extra.multi;
      var input = h(multi ? "textarea" : "input", Object.assign({ id: id, "data-key": key, rows: multi ? 3 : null },
        (extra && extra.attrs) || {}));
      input.value = value || "";
      input.addEventListener("change", function () { quietly(commit, input.value); });
      if (!multi) input.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); quietly(commit, input.value); } });
      var hint = extra && extra.hint ? h("p", { className: "mp-hint", id: id + "-hint", text: extra.hint }) : null;
      if (hint) input.setAttribute("aria-describedby", id + "-hint");
      return h("div", { className: "mp-row" }, [h("label", { "for": id, text: label }), input, hint]);
    }

    function checkbox(key, label, checked, commit) {
      var id = uid();
      var input = h("input", { type: "checkbox", id: id, "data-key": key, checked: !!checked });
      input.addEventListener("change", function () { commit(input.checked); });
      return h("div", { className: "mp-row mp-check" }, [input, h("label", { "for": id, text: label })]);
    }

    function select(key, label, choices, value, commit) {
      var id = uid();
      var input = h("select", { id: id, "data-key": key });
      choices.forEach(function (c) {
        var o = h("option", { value: c[0], text: c[1] });
        if (c[0] === value) o.selected = true;
        input.appendChild(o);
      });
      input.addEventListener("change", function () { commit(input.value); });
      return h("div", { className: "mp-row" }, [h("label", { "for": id, text: label }), input]);
    }

    function button(key, label, onClick, extra) {
      var b = h("button", Object.assign({ type: "button", className: "mp-button", "data-key": key }, extra || {}), [label]);
      b.addEventListener("click", onClick);
      return b;
    }

    /* Hours and minutes that write an ISO 8601 duration (PT..H..M) into a property. */
    function duration(key, legend, iso, commit, hintText) {
      var minutes = window.AlurModel.durationMinutes(iso);
      var hid = uid(), mid = uid();
      // The visible labels say only "hours" and "minutes"; the names say whose, for screen readers.
      var hours = h("input", { id: hid, type: "number", min: 0, step: 1, inputmode: "numeric", "data-key": key + ".h",
                               "aria-label": legend + ": " + msg("hours") });
      var mins = h("input", { id: mid, type: "number", min: 0, step: 1, inputmode: "numeric", "data-key": key + ".m",
                              "aria-label": legend + ": " + msg("minutes") });
      if (minutes !== null && iso) {
        hours.value = String(Math.floor(minutes / 60));
        mins.value = String(Math.round(minutes % 60));
      }
      var shown = iso ? (minutes === null ? msg("durationInvalid") + " " + iso : "= " + iso) : msg("durationNone");
      var hint = h("p", { className: "mp-hint" + (iso && minutes === null ? " mp-bad" : ""), text: shown + (hintText ? " \u00b7 " + hintText : "") });
      function changed() {
        var written = window.AlurModel.durationText(hours.value, mins.value);
        quietly(commit, written);
        hint.className = "mp-hint";
        hint.textContent = (written ? "= " + written : msg("durationNone")) + (hintText ? " \u00b7 " + hintText : "");
      }
      hours.addEventListener("change", changed);
      mins.addEventListener("change", changed);
      return h("fieldset", { className: "mp-duration" }, [
        h("legend", { text: legend }),
        h("div", { className: "mp-inline" }, [
          h("label", { "for": hid, text: msg("hours") }), hours,
          h("label", { "for": mid, text: msg("minutes") }), mins,
        ]),
        hint,
      ]);
    }

    function section(title, children) {
      return h("section", { className: "mp-section" }, [h("h3", { text: title })].concat(children));
    }

    // --- what each kind of element shows -----------------------------------------------------
    function typeLabel(element) {
      var type = (element.businessObject.$type || "").replace(/^bpmn:/, "");
      return msg("type" + type) !== "type" + type ? msg("type" + type) : type;
    }

    function laneRow(element) {
      var lanes = model.lanes();
      if (!lanes.length) return h("p", { className: "mp-hint", text: msg("noLanes") });
      var lane = model.laneOf(element);
      var choices = lanes.map(function (l) { return [l.id, l.businessObject.name || l.id]; });
      if (!lane) choices.unshift(["", msg("noLane")]);
      return select("lane", msg("lane"), choices, lane ? lane.id : "", function (laneId) {
        var target = registry.get(laneId);
        if (target) model.moveToLane(element, target);
      });
    }

    function formSection(element) {
      var bo = element.businessObject;
      var fields = model.formFields(bo);
      var list = h("ol", { className: "mp-fields" });
      fields.forEach(function (field, i) {
        var k = "field." + i;
        var typeChoices = FIELD_TYPES.map(function (t) { return [t, msg("fieldType_" + t)]; });
        if (field.type && FIELD_TYPES.indexOf(field.type) < 0) typeChoices.push([field.type, field.type]);
        var item = h("li", { className: "mp-field" }, [
          text(k + ".label", msg("fieldLabel"), field.label, function (v) { model.setFieldAttr(element, field, "label", v.trim()); }),
          text(k + ".id", msg("fieldId"), field.id, function (v) { model.setFieldAttr(element, field, "id", v.trim()); },
            { attrs: { spellcheck: "false", autocomplete: "off" } }),
          select(k + ".type", msg("fieldType"), typeChoices, field.type || "string", function (v) {
            model.setFieldAttr(element, field, "type", v);
          }),
          checkbox(k + ".required", msg("fieldRequired"), model.isRequired(field), function (v) {
            model.setRequired(element, field, v);
          }),
        ]);
        if (field.type === "enum") item.appendChild(optionsBlock(element, field, k));
        item.appendChild(h("div", { className: "mp-actions" }, [
          button(k + ".up", "\u2191", function () { model.moveFormField(element, bo, field, -1); },
            { title: msg("moveUp"), "aria-label": msg("moveUp") + ": " + (field.label || field.id), disabled: i === 0 }),
          button(k + ".down", "\u2193", function () { model.moveFormField(element, bo, field, 1); },
            { title: msg("moveDown"), "aria-label": msg("moveDown") + ": " + (field.label || field.id), disabled: i === fields.length - 1 }),
          button(k + ".remove", msg("removeField"), function () { model.removeFormField(element, bo, field); },
            { "aria-label": msg("removeField") + ": " + (field.label || field.id) }),
        ]));
        list.appendChild(item);
      });
      return section(msg("form"), [
        fields.length ? list : h("p", { className: "mp-hint", text: msg("noFields") }),
        button("field.add", msg("addField"), function () {
          model.addFormField(element, bo, msg("newField"));
          focusLater("field." + fields.length + ".label");
        }),
      ]);
    }

    function optionsBlock(element, field, k) {
      var values = model.options(field);
      var list = h("ul", { className: "mp-options" });
      values.forEach(function (option, j) {
        var ok = k + ".option." + j;
        list.appendChild(h("li", {}, [
          text(ok + ".name", msg("optionLabel"), option.name, function (v) { model.setOptionAttr(element, option, "name", v.trim()); }),
          text(ok + ".id", msg("optionId"), option.id, function (v) { model.setOptionAttr(element, option, "id", v.trim()); }),
          button(ok + ".remove", msg("removeOption"), function () {
            model.setOptions(element, field, values.filter(function (o) { return o !== option; }));
          }, { "aria-label": msg("removeOption") + ": " + (option.name || option.id) }),
        ]));
      });
      return h("fieldset", { className: "mp-optionset" }, [h("legend", { text: msg("options") }),
        values.length ? list : h("p", { className: "mp-hint mp-bad", text: msg("noOptions") }),
        button(k + ".option.add", msg("addOption"), function () {
          model.addOption(element, field, msg("newOption"));
          focusLater(k + ".option." + values.length + ".name");
        })]);
    }

    function elementPanel(element) {
      var bo = element.businessObject;
      var parts = [h("p", { className: "mp-type", text: typeLabel(element) + " \u00b7 " + bo.id })];
      var shownName = is(element, "bpmn:TextAnnotation") ? bo.text : bo.name;  // an annotation's label is its text
      parts.push(text("name", msg("name"), shownName, function (v) { model.setName(element, bo, v); }));
      if (is(element, "bpmn:FlowNode")) {
        parts.push(laneRow(element));
        parts.push(text("documentation", msg("instructions"), model.documentation(bo), function (v) {
          model.setDocumentation(element, bo, v);
        }, { multi: true, hint: msg("instructionsHint") }));
      }
      if (is(element, "bpmn:Activity")) {
        var mutu = [duration("mutu.waktu", msg("budget"), model.prop(bo, "mutu.waktu"), function (v) {
          model.setProp(element, bo, "mutu.waktu", v);
        })];
        MUTU_FIELDS.forEach(function (f) {
          mutu.push(text(f[0], msg(f[1]), model.prop(bo, f[0]), function (v) { model.setProp(element, bo, f[0], v); }, { multi: true }));
        });
        mutu.push(checkbox("sla.jeda", msg("pauses"), model.prop(bo, "sla.jeda").toLowerCase() === "true", function (v) {
          model.setProp(element, bo, "sla.jeda", v ? "true" : "");
        }));
        parts.push(section(msg("mutu"), mutu));
      }
      if (is(element, "bpmn:UserTask")) parts.push(formSection(element));
      if (is(element, "bpmn:SequenceFlow") && element.source &&
          (is(element.source, "bpmn:ExclusiveGateway") || is(element.source, "bpmn:InclusiveGateway"))) {
        var isDefault = element.source.businessObject["default"] === bo;
        parts.push(section(msg("branch"), [
          text("condition", msg("condition"), model.condition(bo), function (v) { model.setCondition(element, v); },
            { multi: true, hint: msg("conditionHint"), attrs: { spellcheck: "false" } }),
          checkbox("default", msg("defaultBranch"), isDefault, function (v) { model.setDefaultFlow(element, v); }),
        ]));
      }
      return parts;
    }

    function processPanel() {
      var target = model.processTarget(opts.key, current);
      if (!target) return [h("p", { className: "mp-hint", text: msg("noProcess") })];
      var el = target.element, bo = target.bo;
      var parts = [h("p", { className: "mp-type", text: msg("typeProcess") + " \u00b7 " + bo.id })];
      parts.push(h("p", { className: "mp-hint", text: msg("keyHint") }));
      parts.push(text("process.name", msg("sopName"), bo.name, function (v) { model.setName(el, bo, v); }));
      if (target.participant) {
        parts.push(text("participant.name", msg("poolName"), target.participant.name, function (v) {
          model.setName(el, target.participant, v);
        }));
      }
      parts.push(text("process.documentation", msg("description"), model.documentation(bo), function (v) {
        model.setDocumentation(el, bo, v);
      }, { multi: true }));
      var identity = SOP_FIELDS.map(function (f) {
        return text(f[0], msg(f[1]), model.prop(bo, f[0]), function (v) { model.setProp(el, bo, f[0], v); },
          { multi: f[2], hint: f[0] === "sop.kodeRegistrasi" ? msg("sopKodeHint") : null });
      });
      parts.push(section(msg("identity"), identity));
      var tasks = model.userTasks().map(function (t) { return [t.id, t.businessObject.name || t.id]; });
      parts.push(section(msg("limit"), [
        duration("sla.batasWaktu", msg("limitDuration"), model.prop(bo, "sla.batasWaktu"), function (v) {
          model.setProp(el, bo, "sla.batasWaktu", v);
        }, msg("limitDefault")),
        select("sla.kalender", msg("calendar"), [["", msg("calendarDefault")], ["24x7", msg("calendar24")],
          ["jam-kerja", msg("calendarWork")]], model.prop(bo, "sla.kalender"), function (v) {
          model.setProp(el, bo, "sla.kalender", v);
        }),
        select("sla.mulaiSetelah", msg("clockStart"), [["", msg("clockStartDefault")]].concat(tasks),
          model.prop(bo, "sla.mulaiSetelah"), function (v) { model.setProp(el, bo, "sla.mulaiSetelah", v); }),
        text("sla.eskalasiPada", msg("escalateAt"), model.prop(bo, "sla.eskalasiPada"), function (v) {
          model.setProp(el, bo, "sla.eskalasiPada", v);
        }, { hint: msg("escalateHint") }),
        text("sla.webhook", msg("webhook"), model.prop(bo, "sla.webhook"), function (v) {
          model.setProp(el, bo, "sla.webhook", v);
        }, { attrs: { type: "url", spellcheck: "false" } }),
      ]));
      return parts;
    }

    // --- rendering, keeping the focus where the analyst is ----------------------------------
    var pendingFocus = null;
    var quiet = false;

    /* Commit a typed value without redrawing the panel: the field already shows it, and a redraw
       while the focus moves to the next field would lose what the analyst types there. */
    function quietly(commit, value) {
      quiet = true;
      try { commit(value); } finally { quiet = false; }
    }

    function focusLater(key) { pendingFocus = key; }

    function render() {
      var active = document.activeElement;
      var focusKey = pendingFocus || (active && container.contains(active) ? active.getAttribute("data-key") : null);
      var caret = active && focusKey && !pendingFocus && "selectionStart" in active ? [active.selectionStart, active.selectionEnd] : null;
      pendingFocus = null;
      var scroll = container.scrollTop;
      var showProcess = !current || is(current, "bpmn:Participant") || is(current, "bpmn:Process") ||
        is(current, "bpmn:Collaboration");
      var heading = h("h2", { id: "mp-heading", text: showProcess ? msg("sopHeading") : msg("stepHeading") });
      container.replaceChildren.apply(container, [heading].concat(showProcess ? processPanel() : elementPanel(current)));
      container.scrollTop = scroll;
      if (focusKey) {
        var again = container.querySelector('[data-key="' + focusKey.replace(/"/g, "") + '"]');
        if (again) {
          again.focus();
          try { if (caret && again.setSelectionRange) again.setSelectionRange(caret[0], caret[1]); } catch (e) { /* not a text field */ }
        }
      }
    }

    function show(element) {
      if (element && element.type === "label") element = element.labelTarget;
      current = element && registry.get(element.id) ? element : null;
      render();
    }

    modeler.on("selection.changed", function (e) {
      show(e.newSelection.length === 1 ? e.newSelection[0] : null);
    });
    modeler.on("commandStack.changed", function () {
      if (current && !registry.get(current.id)) current = null;  // deleted, or undone
      if (!quiet) render();
    });

    show(selection.get().length === 1 ? selection.get()[0] : null);
    return { render: render, show: show, current: function () { return current; } };
  }

  window.AlurPanel = AlurPanel;
})();
