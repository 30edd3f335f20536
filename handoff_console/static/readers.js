/*
 * Readers: search by name, email, card digits or chat address. Every reader-provided
 * string is set with textContent (RicConsole.el); nothing here assigns innerHTML.
 */
window.RicConsole.page({ form: "readers-search", input: "readers-q", rows: "readers-rows", summary: "readers-summary" }, function (C, ui) {
  "use strict";
  var el = C.el;

  function label(r) {
    return r.name || "Anonymous reader";
  }

  function row(r) {
    return el("tr", { dataset: { readerId: String(r.id) } }, [
      el("td", {}, [
        el("a", { href: "/readers/" + encodeURIComponent(r.id), className: "reader-link", text: "#" + r.id + " " + label(r) }),
        r.verified ? el("span", { className: "verified-badge", text: " verified" }) : null,
      ]),
      el("td", { text: r.email || "" }),
      el("td", { className: "card-number", text: r.card || "" }),
      el("td", { text: (r.channels || []).join(", ") }),
    ]);
  }

  function load(query) {
    ui.summary.textContent = "Searching…";
    C.api("GET", "/api/readers?q=" + encodeURIComponent(query)).then(function (data) {
      var items = data && Array.isArray(data.items) ? data.items : [];
      ui.rows.replaceChildren.apply(ui.rows, items.map(row));
      if (!items.length) ui.summary.textContent = query ? "No reader matches that search." : "No readers yet.";
      else ui.summary.textContent = (items.length === 1 ? "1 reader" : items.length + " readers") + (query ? " found." : ", newest first.");
    }).catch(function (error) { ui.summary.textContent = ""; C.showError(error); });
  }

  ui.form.addEventListener("submit", function (e) {
    e.preventDefault();
    var query = ui.input.value.trim();
    var url = new URL(location.href);
    if (query) url.searchParams.set("q", query); else url.searchParams.delete("q");
    history.replaceState(null, "", url.pathname + url.search);
    load(query);
  });

  ui.input.value = new URLSearchParams(location.search).get("q") || "";
  load(ui.input.value.trim());
});
