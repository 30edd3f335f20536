/*
 * Canned replies: list (with search) and create. Text is set with textContent only.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var el = C.el;

  var form = document.getElementById("canned-form");
  var status = document.getElementById("canned-status");
  var list = document.getElementById("canned-list");
  var search = document.getElementById("canned-filter");

  function itemEl(c) {
    return el("li", { className: "canned-item panel", dataset: { cannedId: String(c.id) } }, [
      el("h3", {}, [el("span", { text: c.title || "Untitled" }), c.shortcut ? el("span", { className: "muted", text: " /" + c.shortcut }) : null]),
      el("p", { className: "canned-body", text: c.body || "" }),
    ]);
  }

  function load() {
    var q = search.value.trim();
    C.api("GET", "/api/canned-responses" + (q ? "?q=" + encodeURIComponent(q) : "")).then(function (data) {
      var items = data && Array.isArray(data.items) ? data.items : Array.isArray(data) ? data : [];
      list.replaceChildren.apply(list, items.map(itemEl));
      if (!items.length) list.appendChild(el("li", { className: "muted", text: q ? "Nothing matches." : "No canned replies yet." }));
    }).catch(C.showError);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = {
      title: form.elements.title.value.trim(),
      body: form.elements.body.value,
      shortcut: form.elements.shortcut.value.trim() || null,
    };
    if (!body.title || !body.body.trim()) { status.textContent = "A title and a text are needed."; return; }
    C.api("POST", "/api/canned-responses", body).then(function () {
      form.reset();
      status.textContent = "Saved “" + body.title + "”.";
      load();
    }).catch(function (error) { status.textContent = "Not saved: " + error.message; });
  });
  search.addEventListener("input", C.debounce(load, 250));
  load();
})();
