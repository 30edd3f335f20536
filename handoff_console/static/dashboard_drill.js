/*
 * The dashboard's drill-down (issue 17): the conversations behind a figure, bar or
 * cell, newest first, each linked to its transcript in the librarian view. The URL
 * carries the page's filters and the drill-down (day, weekday, hour, reason, …).
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var D = window.RicDashboard;
  var DRILL = ["day", "weekday", "hour", "reason", "librarian", "figure"];
  var WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

  function own() {
    var now = new URLSearchParams(location.search);
    var found = {};
    DRILL.forEach(function (key) { if (now.get(key)) found[key] = now.get(key); });
    return found;
  }

  function describe(body) {
    var parts = [body.filters.from + " to " + body.filters.to];
    D.KEYS.forEach(function (key) { if (body.filters[key]) parts.push(key + ": " + body.filters[key]); });
    Object.keys(body.drill).forEach(function (key) {
      var value = body.drill[key];
      parts.push(key === "weekday" ? WEEKDAYS[value] : key + ": " + value);
    });
    var count = body.total + (body.total === 1 ? " conversation" : " conversations");
    if (body.truncated) count += " (the newest " + body.items.length + " shown)";
    return count + " · " + parts.join(" · ");
  }

  function row(item) {
    return C.el("tr", {}, [
      C.el("td", {}, [C.el("a", { href: item.transcript_url, text: "#" + item.conversation_id + " (visit " + item.session + ")" })]),
      C.el("td", { text: item.channel }),
      C.el("td", {}, [C.timeEl(item.started_at)]),
      C.el("td", { text: item.intent || "–" }),
      C.el("td", { className: "num", text: String(item.reader_messages) }),
      C.el("td", { text: item.handoff ? "yes" + (item.handoff_reason ? ": " + item.handoff_reason : "") : "no" }),
      C.el("td", { className: "num", text: item.rating === null ? "–" : String(item.rating) }),
      C.el("td", { text: item.contained ? "yes" : "no" }),
    ]);
  }

  D.get("/api/dashboard/drill?" + D.query(own())).then(function (body) {
    document.getElementById("drill-summary").textContent = describe(body);
    document.getElementById("drill-back").href = "/dashboard/charts?" + D.query();
    D.exportLinks();
    var rows = document.querySelector("#drill-table tbody");
    var items = body.items.map(row);
    if (!items.length) items = [C.el("tr", {}, [C.el("td", { colspan: "8", text: "No conversations." })])];
    rows.replaceChildren.apply(rows, items);
  }).catch(C.showError);
})();
