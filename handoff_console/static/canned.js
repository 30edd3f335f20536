/*
 * Canned replies: list (search, shared/mine), create, edit (in the same form) and
 * delete (with an inline confirmation). Text is set with textContent only.
 */
window.RicConsole.page({
  form: "canned-form", status: "canned-status", list: "canned-list", search: "canned-filter",
  scope: "canned-scope", count: "canned-count", heading: "canned-create-heading",
  save: "canned-save", cancel: "canned-cancel",
}, function (C, ui) {
  "use strict";
  var el = C.el;
  var editing = null; // the canned reply being edited, or null for a new one
  var LANGUAGES = {};
  Array.prototype.forEach.call(ui.form.elements.language.options, function (o) { LANGUAGES[o.value] = o.textContent; });

  function badge(kind, text) { return el("li", { className: "canned-badge", dataset: { kind: kind }, text: text }); }

  function startEdit(c) {
    editing = c;
    var f = ui.form.elements;
    f.title.value = c.title || "";
    f.shortcut.value = c.shortcut || "";
    f.body.value = c.body || "";
    if (c.language && !LANGUAGES[c.language]) {
      f.language.appendChild(el("option", { value: c.language, text: c.language }));
      LANGUAGES[c.language] = c.language;
    }
    f.language.value = c.language || "";
    f.tag.value = c.tag || "";
    f.shared.checked = !!c.shared;
    ui.form.dataset.editing = String(c.id);
    ui.heading.textContent = "Edit “" + (c.title || "") + "”";
    ui.save.textContent = "Save changes";
    ui.cancel.hidden = false;
    ui.status.textContent = "";
    f.title.focus();
  }

  function stopEdit() {
    editing = null;
    ui.form.reset();
    ui.form.dataset.editing = "";
    ui.heading.textContent = "New canned reply";
    ui.save.textContent = "Save canned reply";
    ui.cancel.hidden = true;
  }

  function confirmDelete(c, actions) {
    var yes = el("button", { type: "button", className: "button-danger", text: "Yes, delete" });
    var keep = el("button", { type: "button", className: "button-secondary", text: "Keep it" });
    actions.replaceChildren(el("span", { text: "Delete “" + (c.title || "") + "”?" }), yes, keep);
    keep.addEventListener("click", load);
    keep.focus();
    yes.addEventListener("click", function () {
      C.api("DELETE", "/api/canned-responses/" + encodeURIComponent(c.id)).then(function () {
        if (editing && editing.id === c.id) stopEdit();
        ui.status.textContent = "Deleted “" + (c.title || "") + "”.";
        load();
      }).catch(function (error) { ui.status.textContent = "Not deleted: " + error.message; });
    });
  }

  function itemEl(c) {
    var actions = el("div", { className: "canned-item-actions" });
    if (c.can_edit) {
      var edit = el("button", { type: "button", className: "button-secondary canned-edit", text: "Edit" });
      var del = el("button", { type: "button", className: "button-secondary canned-delete", text: "Delete" });
      edit.setAttribute("aria-label", "Edit " + (c.title || "canned reply"));
      del.setAttribute("aria-label", "Delete " + (c.title || "canned reply"));
      edit.addEventListener("click", function () { startEdit(c); });
      del.addEventListener("click", function () { confirmDelete(c, actions); });
      actions.append(edit, del);
    }
    return el("li", { className: "canned-item panel", dataset: { cannedId: String(c.id), shared: String(!!c.shared) } }, [
      el("h3", {}, [el("span", { className: "canned-title", text: c.title || "Untitled" }), c.shortcut ? el("span", { className: "muted canned-shortcut", text: " /" + c.shortcut }) : null]),
      el("ul", { className: "canned-badges", "aria-label": "Details" }, [
        c.shared ? badge("shared", "Shared") : badge("personal", "Personal" + (c.owner ? " · " + c.owner : "")),
        c.language ? badge("language", LANGUAGES[c.language] || c.language) : null,
        c.tag ? badge("tag", "#" + c.tag) : null,
      ]),
      el("p", { className: "canned-body", text: c.body || "" }),
      actions,
    ]);
  }

  function load() {
    var q = ui.search.value.trim();
    C.api("GET", "/api/canned-responses" + (q ? "?q=" + encodeURIComponent(q) : "")).then(function (data) {
      var items = data && Array.isArray(data.items) ? data.items : [];
      var scope = ui.scope.value;
      if (scope === "shared") items = items.filter(function (c) { return c.shared; });
      if (scope === "mine") items = items.filter(function (c) { return !c.shared; });
      ui.list.replaceChildren.apply(ui.list, items.map(itemEl));
      if (!items.length) ui.list.appendChild(el("li", { className: "muted", text: q || scope ? "Nothing matches." : "No canned replies yet." }));
      ui.count.textContent = items.length === 1 ? "1 canned reply" : items.length + " canned replies";
    }).catch(C.showError);
  }

  ui.form.addEventListener("submit", function (e) {
    e.preventDefault();
    var f = ui.form.elements;
    var body = {
      title: f.title.value.trim(),
      body: f.body.value,
      shortcut: f.shortcut.value.trim() || null,
      language: f.language.value || null,
      tag: f.tag.value.trim() || null,
      shared: f.shared.checked,
    };
    if (!body.title || !body.body.trim()) { ui.status.textContent = "A title and a text are needed."; return; }
    var request = editing
      ? C.api("PUT", "/api/canned-responses/" + encodeURIComponent(editing.id), body)
      : C.api("POST", "/api/canned-responses", body);
    var was = editing;
    request.then(function () {
      stopEdit();
      ui.status.textContent = (was ? "Changes saved to “" : "Saved “") + body.title + "”.";
      load();
    }).catch(function (error) { ui.status.textContent = "Not saved: " + error.message; });
  });
  ui.cancel.addEventListener("click", function () { stopEdit(); ui.status.textContent = ""; });
  ui.search.addEventListener("input", C.debounce(load, 250));
  ui.scope.addEventListener("change", load);
  load();
});
