/*
 * Readers: search by name, email, card digits or chat address. Every reader-provided
 * string is set with textContent (RicConsole.el); nothing here assigns innerHTML.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var el = C.el;

  var form = document.getElementById("readers-search");
  var input = document.getElementById("readers-q");
  var rows = document.getElementById("readers-rows");
  var summary = document.getElementById("readers-summary");

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
    summary.textContent = "Searching…";
    C.api("GET", "/api/readers?q=" + encodeURIComponent(query)).then(function (data) {
      var items = data && Array.isArray(data.items) ? data.items : [];
      rows.replaceChildren.apply(rows, items.map(row));
      if (!items.length) summary.textContent = query ? "No reader matches that search." : "No readers yet.";
      else summary.textContent = (items.length === 1 ? "1 reader" : items.length + " readers") + (query ? " found." : ", newest first.");
    }).catch(function (error) { summary.textContent = ""; C.showError(error); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var query = input.value.trim();
    var url = new URL(location.href);
    if (query) url.searchParams.set("q", query); else url.searchParams.delete("q");
    history.replaceState(null, "", url.pathname + url.search);
    load(query);
  });

  input.value = new URLSearchParams(location.search).get("q") || "";
  load(input.value.trim());
})();
