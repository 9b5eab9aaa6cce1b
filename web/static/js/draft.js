/* Alur drafts: what a clerk types into a task form is kept in this browser (localStorage) as it
   changes, and put back when the task page is opened again, so a dropped link loses nothing.
   Forms opt in with data-draft="<key>"; data-draft-restore="yes" on a fresh page, "no" when the
   server re-showed posted values. Elements with data-draft-drop="<key>" forget a draft (the task
   was completed). Drafts older than 14 days are forgotten. No framework, no inline script. */
(function () {
  "use strict";
  var PREFIX = "alur-draft:", MAX_AGE = 14 * 864e5, ls;
  try { ls = window.localStorage; ls.setItem(PREFIX + "probe", "1"); ls.removeItem(PREFIX + "probe"); }
  catch (e) { return; }  // private mode or storage off: the form works as before

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function load(key) { try { return JSON.parse(ls.getItem(key)); } catch (e) { return null; } }

  for (var i = ls.length - 1; i >= 0; i--) {
    var k = ls.key(i);
    if (k && k.indexOf(PREFIX) === 0) {
      var d = load(k);
      if (!d || !d.t || Date.now() - d.t > MAX_AGE) ls.removeItem(k);
    }
  }
  each(document.querySelectorAll("[data-draft-drop]"), function (el) {
    ls.removeItem(PREFIX + el.getAttribute("data-draft-drop"));
  });

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && !el.disabled &&
        ["hidden", "submit", "button", "reset", "file", "password"].indexOf(el.type) < 0;
    });
  }
  function read(form) {
    var v = {};
    fields(form).forEach(function (el) {
      if (el.type === "checkbox") v[el.name] = el.checked;
      else if (el.type === "radio") { if (el.checked) v[el.name] = el.value; else if (!(el.name in v)) v[el.name] = null; }
      else v[el.name] = el.value;
    });
    return v;
  }
  function write(form, v) {
    fields(form).forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(v, el.name)) return;
      var x = v[el.name];
      if (el.type === "checkbox") el.checked = !!x;
      else if (el.type === "radio") el.checked = el.value === x;
      else if (x !== null && x !== undefined) el.value = x;
    });
  }

  each(document.querySelectorAll("form[data-draft]"), function (form) {
    var key = PREFIX + form.getAttribute("data-draft");
    var notice = document.getElementById(form.getAttribute("data-draft-notice") || "");
    function save() { try { ls.setItem(key, JSON.stringify({ t: Date.now(), v: read(form) })); } catch (e) { /* full */ } }
    var saved = load(key);
    if (form.getAttribute("data-draft-restore") === "yes" && saved && saved.v) {
      var before = JSON.stringify(read(form));
      write(form, saved.v);
      if (JSON.stringify(read(form)) !== before && notice) notice.hidden = false;
    } else if (form.getAttribute("data-draft-restore") === "no") {
      save();  // the server showed what was sent: that is the draft now
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    if (notice) {
      each(notice.querySelectorAll("[data-draft-discard]"), function (button) {
        button.addEventListener("click", function () {
          ls.removeItem(key);
          form.reset();
          notice.hidden = true;
        });
      });
    }
  });
})();
