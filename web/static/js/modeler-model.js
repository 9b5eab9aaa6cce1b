/* Alur: read and change what Alur cares about in a BPMN model, through bpmn-js's modeling API.
 *
 * Every change is one command on the modeler's command stack (modeling.updateProperties,
 * updateModdleProperties, updateLabel, moveElements), so undo and redo work for each of them.
 * Property keys are the ones the engine reads (README, workflow_engine/sop_info.py):
 * sop.* and sla.* on the process, mutu.* and sla.jeda on a task, camunda:formData on a user task.
 *
 *   var model = AlurModel(modeler);
 *   model.prop(bo, "mutu.waktu") / model.setProp(element, bo, "mutu.waktu", "PT30M")
 */
(function () {
  "use strict";

  var DURATION = /^P(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

  function is(element, type) {
    var bo = element && (element.businessObject || element);
    return !!(bo && bo.$instanceOf && bo.$instanceOf(type));
  }

  /* Minutes in an ISO 8601 duration (weeks and days as 7 x 24 h and 24 h, as the engine counts),
     or null when the text is not one the engine accepts. */
  function durationMinutes(text) {
    var value = (text || "").trim();
    var m = DURATION.exec(value);
    if (!m || value.toUpperCase() === "P" || /T$/i.test(value)) return null;
    var units = [7 * 24 * 60, 24 * 60, 60, 1, 1 / 60];
    var total = 0;
    for (var i = 0; i < units.length; i += 1) {
      if (m[i + 1] !== undefined) total += parseFloat(m[i + 1].replace(",", ".")) * units[i];
    }
    return total;
  }

  /* PT..H..M for hours and minutes; "" for nothing (the property is then removed). */
  function durationText(hours, minutes) {
    var total = Math.round((Number(hours) || 0) * 60 + (Number(minutes) || 0));
    if (total <= 0) return "";
    var h = Math.floor(total / 60), mm = total % 60;
    return "PT" + (h ? h + "H" : "") + (mm ? mm + "M" : "");
  }

  function AlurModel(modeler) {
    var modeling = modeler.get("modeling");
    var moddle = modeler.get("moddle");
    var registry = modeler.get("elementRegistry");
    var canvas = modeler.get("canvas");

    function create(type, attrs, parent) {
      var made = moddle.create(type, attrs || {});
      if (parent) made.$parent = parent;
      return made;
    }

    function update(element, target, changes) {
      modeling.updateModdleProperties(element, target, changes);
    }

    function extension(bo, type) {
      var values = (bo.extensionElements && bo.extensionElements.values) || [];
      for (var i = 0; i < values.length; i += 1) if (is(values[i], type)) return values[i];
      return null;
    }

    /* Put a new extension element (camunda:Properties, camunda:FormData) on `bo` in one command. */
    function addExtension(element, bo, made) {
      var ext = bo.extensionElements;
      if (ext) {
        made.$parent = ext;
        update(element, ext, { values: (ext.values || []).concat([made]) });
      } else {
        ext = create("bpmn:ExtensionElements", { values: [made] }, bo);
        made.$parent = ext;
        update(element, bo, { extensionElements: ext });
      }
    }

    // --- camunda:properties ------------------------------------------------------------------
    function props(bo) {
      var found = extension(bo, "camunda:Properties");
      return found ? (found.values || []) : [];
    }

    function prop(bo, name) {
      // The engine keeps the last of duplicated names; so does the panel.
      var list = props(bo).filter(function (p) { return (p.name || "").trim() === name; });
      return list.length ? (list[list.length - 1].value || "") : "";
    }

    function setProp(element, bo, name, value) {
      value = (value || "").trim();
      var holder = extension(bo, "camunda:Properties");
      var same = holder ? holder.values.filter(function (p) { return (p.name || "").trim() === name; }) : [];
      if (!value) {
        if (same.length) update(element, holder, { values: holder.values.filter(function (p) { return same.indexOf(p) < 0; }) });
        return;
      }
      if (same.length === 1) {
        if (same[0].value !== value) update(element, same[0], { value: value });
        return;
      }
      if (same.length > 1) {  // duplicates: keep one, with the new value
        var kept = holder.values.filter(function (p) { return same.indexOf(p) < 0; });
        update(element, holder, { values: kept.concat([create("camunda:Property", { name: name, value: value }, holder)]) });
        return;
      }
      if (holder) {
        update(element, holder, { values: holder.values.concat([create("camunda:Property", { name: name, value: value }, holder)]) });
        return;
      }
      var made = create("camunda:Properties", { values: [] });
      made.values.push(create("camunda:Property", { name: name, value: value }, made));
      addExtension(element, bo, made);
    }

    // --- documentation -----------------------------------------------------------------------
    function documentation(bo) {
      var docs = bo.documentation || [];
      return docs.length ? (docs[0].text || "") : "";
    }

    function setDocumentation(element, bo, text) {
      var docs = bo.documentation || [];
      text = (text || "").trim();
      if (docs.length) {
        if (!text) update(element, bo, { documentation: docs.slice(1) });
        else if (docs[0].text !== text) update(element, docs[0], { text: text });
      } else if (text) {
        update(element, bo, { documentation: [create("bpmn:Documentation", { text: text }, bo)] });
      }
    }

    // --- names -------------------------------------------------------------------------------
    function setName(element, bo, name) {
      name = (name || "").trim();
      if ((bo.name || "") === name) return;
      // Shapes carry their name as a label; the process itself (the root) has no label to update.
      if (element.businessObject === bo && element !== canvas.getRootElement()) modeling.updateLabel(element, name || null);
      else update(element, bo, { name: name || undefined });
    }

    // --- lanes -------------------------------------------------------------------------------
    function lanes() {
      return registry.filter(function (e) {
        var bo = e.businessObject;
        return is(e, "bpmn:Lane") && !(bo.childLaneSet && (bo.childLaneSet.lanes || []).length);
      });
    }

    function laneOf(element) {
      var bo = element.businessObject;
      var found = lanes().filter(function (lane) {
        return (lane.businessObject.flowNodeRef || []).indexOf(bo) >= 0;
      });
      return found.length ? found[found.length - 1] : null;
    }

    /* Move a shape into a lane: down or up to the lane's middle, keeping its place along the lane. */
    function moveToLane(element, lane) {
      var dy = Math.round(lane.y + lane.height / 2 - (element.y + element.height / 2));
      var dx = 0;
      var left = lane.x + 50, right = lane.x + lane.width - 20;  // clear of the lane's title band
      if (element.x < left) dx = left - element.x;
      else if (element.x + element.width > right) dx = right - element.x - element.width;
      if (dx || dy) modeling.moveElements([element], { x: dx, y: dy }, element.parent);
    }

    // --- the process -------------------------------------------------------------------------
    /* The process the panel edits when no shape is selected: {element, bo, participant}. */
    function processTarget(preferredKey, selected) {
      var root = canvas.getRootElement();
      var rootBo = root.businessObject;
      if (selected && is(selected, "bpmn:Participant") && selected.businessObject.processRef) {
        return { element: selected, bo: selected.businessObject.processRef, participant: selected.businessObject };
      }
      if (is(rootBo, "bpmn:Process")) return { element: root, bo: rootBo, participant: null };
      var parts = ((rootBo && rootBo.participants) || []).filter(function (p) { return p.processRef; });
      if (!parts.length) return null;
      var chosen = parts.filter(function (p) { return p.processRef.id === preferredKey; })[0] || parts[0];
      return { element: registry.get(chosen.id) || root, bo: chosen.processRef, participant: chosen };
    }

    function userTasks() {
      return registry.filter(function (e) { return is(e, "bpmn:UserTask") && e.type !== "label"; });
    }

    // --- form fields (camunda:formData) ------------------------------------------------------
    function formFields(bo) {
      var data = extension(bo, "camunda:FormData");
      return data ? (data.fields || []) : [];
    }

    function setFormFields(element, bo, fields) {
      var data = extension(bo, "camunda:FormData");
      if (data) {
        update(element, data, { fields: fields });
        return;
      }
      data = create("camunda:FormData", { fields: fields });
      fields.forEach(function (f) { f.$parent = data; });
      addExtension(element, bo, data);
    }

    function newFieldId(bo) {
      var used = formFields(bo).map(function (f) { return f.id; });
      for (var n = used.length + 1; ; n += 1) {
        if (used.indexOf("field_" + n) < 0) return "field_" + n;
      }
    }

    function addFormField(element, bo, label) {
      var field = create("camunda:FormField", { id: newFieldId(bo), label: label, type: "string" });
      setFormFields(element, bo, formFields(bo).concat([field]));
      return field;
    }

    function removeFormField(element, bo, field) {
      setFormFields(element, bo, formFields(bo).filter(function (f) { return f !== field; }));
    }

    function moveFormField(element, bo, field, step) {
      var fields = formFields(bo).slice();
      var i = fields.indexOf(field), j = i + step;
      if (i < 0 || j < 0 || j >= fields.length) return;
      fields.splice(i, 1);
      fields.splice(j, 0, field);
      setFormFields(element, bo, fields);
    }

    function setFieldAttr(element, field, name, value) {
      var changes = {};
      changes[name] = value;
      if (name === "type" && value !== "enum" && (field.values || []).length) changes.values = [];
      if ((field[name] || "") !== value || changes.values) update(element, field, changes);
    }

    function constraints(field) {
      return (field.validation && field.validation.constraints) || [];
    }

    function isRequired(field) {
      return constraints(field).some(function (c) { return c.name === "required"; });
    }

    function setRequired(element, field, required) {
      var list = constraints(field);
      if (required === isRequired(field)) return;
      if (!required) {
        var rest = list.filter(function (c) { return c.name !== "required"; });
        if (rest.length) update(element, field.validation, { constraints: rest });
        else update(element, field, { validation: undefined });
        return;
      }
      if (field.validation) {
        update(element, field.validation, { constraints: list.concat([create("camunda:Constraint", { name: "required" }, field.validation)]) });
      } else {
        var validation = create("camunda:Validation", { constraints: [] }, field);
        validation.constraints.push(create("camunda:Constraint", { name: "required" }, validation));
        update(element, field, { validation: validation });
      }
    }

    function options(field) {
      return field.values || [];
    }

    function setOptions(element, field, values) {
      update(element, field, { values: values });
    }

    function addOption(element, field, label) {
      var used = options(field).map(function (v) { return v.id; });
      var n = used.length + 1;
      while (used.indexOf("option_" + n) >= 0) n += 1;
      setOptions(element, field, options(field).concat([create("camunda:Value", { id: "option_" + n, name: label }, field)]));
    }

    function setOptionAttr(element, option, name, value) {
      var changes = {};
      changes[name] = value;
      if ((option[name] || "") !== value) update(element, option, changes);
    }

    // --- conditions on gateway branches ------------------------------------------------------
    function condition(bo) {
      return (bo.conditionExpression && bo.conditionExpression.body) || "";
    }

    function setCondition(element, text) {
      text = (text || "").trim();
      if (condition(element.businessObject) === text) return;
      modeling.updateProperties(element, {
        conditionExpression: text ? moddle.create("bpmn:FormalExpression", { body: text }) : undefined,
      });
    }

    function setDefaultFlow(element, isDefault) {
      var gateway = element.source;
      var current = gateway.businessObject["default"];
      if (isDefault && current !== element.businessObject) modeling.updateProperties(gateway, { "default": element.businessObject });
      else if (!isDefault && current === element.businessObject) modeling.updateProperties(gateway, { "default": undefined });
    }

    return {
      is: is, prop: prop, setProp: setProp, documentation: documentation, setDocumentation: setDocumentation,
      setName: setName, lanes: lanes, laneOf: laneOf, moveToLane: moveToLane, processTarget: processTarget,
      userTasks: userTasks, formFields: formFields, addFormField: addFormField, removeFormField: removeFormField,
      moveFormField: moveFormField, setFieldAttr: setFieldAttr, isRequired: isRequired, setRequired: setRequired,
      options: options, setOptions: setOptions, addOption: addOption, setOptionAttr: setOptionAttr,
      condition: condition, setCondition: setCondition, setDefaultFlow: setDefaultFlow,
    };
  }

  AlurModel.is = is;
  AlurModel.durationMinutes = durationMinutes;
  AlurModel.durationText = durationText;
  window.AlurModel = AlurModel;
})();
