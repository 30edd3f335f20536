/*
 * Canned replies: list (with search) and create. Text is set with textContent only.
 */
window.RicConsole.page({ form: "canned-form", status: "canned-status", list: "canned-list", search: "canned-filter" }, function (C, ui) {
  "use strict";
  var el = C.el;

  function itemEl(c) {
    return el("li", { className: "canned-item panel", dataset: { cannedId: String(c.id) } }, [
      el("h3", {}, [el("span", { text: c.title || "Untitled" }), c.shortcut ? el("span", { className: "muted", text: " /" + c.shortcut }) : null]),
      el("p", { className: "canned-body", text: c.body || "" }),
    ]);
  }

  function load() {
    var q = ui.search.value.trim();
    C.api("GET", "/api/canned-responses" + (q ? "?q=" + encodeURIComponent(q) : "")).then(function (data) {
      var items = data && Array.isArray(data.items) ? data.items : Array.isArray(data) ? data : [];
      ui.list.replaceChildren.apply(ui.list, items.map(itemEl));
      if (!items.length) ui.list.appendChild(el("li", { className: "muted", text: q ? "Nothing matches." : "No canned replies yet." }));
    }).catch(C.showError);
  }

  ui.form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = {
      title: ui.form.elements.title.value.trim(),
      body: ui.form.elements.body.value,
      shortcut: ui.form.elements.shortcut.value.trim() || null,
    };
    if (!body.title || !body.body.trim()) { ui.status.textContent = "A title and a text are needed."; return; }
    C.api("POST", "/api/canned-responses", body).then(function () {
      ui.form.reset();
      ui.status.textContent = "Saved “" + body.title + "”.";
      load();
    }).catch(function (error) { ui.status.textContent = "Not saved: " + error.message; });
  });
  ui.search.addEventListener("input", C.debounce(load, 250));
  load();
});
