/*
 * The supervisor view: GET /api/supervisor, again whenever the SSE `queue` event says
 * the queue changed and every 10 s (presence and load change without a queue event).
 * The oldest wait ticks between reads. Names are set with textContent only.
 */
window.RicConsole.page({ rows: "staff-rows", waiting: "figure-waiting", oldest: "figure-oldest",
  claimed: "figure-claimed", online: "figure-online" }, function (C, ui) {
  "use strict";
  var el = C.el;
  var oldestStartedMs = 0;

  function tick() {
    ui.oldest.textContent = oldestStartedMs ? C.duration((Date.now() - oldestStartedMs) / 1000) : "Nobody waiting";
  }

  function loadCell(person) {
    var full = person.load >= person.capacity;
    return el("td", { className: full ? "load-full" : "", dataset: { load: String(person.load) } },
      [person.load + " of " + person.capacity + (full ? " (full)" : "")]);
  }

  function render(data) {
    var q = data.queue;
    ui.waiting.textContent = String(q.waiting);
    ui.claimed.textContent = String(q.claimed);
    ui.online.textContent = String(q.online);
    oldestStartedMs = typeof q.oldest_waiting_seconds === "number" ? Date.now() - q.oldest_waiting_seconds * 1000 : 0;
    tick();
    ui.rows.replaceChildren.apply(ui.rows, data.staff.map(function (person) {
      var links = [];
      person.conversations.forEach(function (id, i) {
        if (i) links.push(", ");
        links.push(el("a", { href: "/inbox?list=open&open=" + encodeURIComponent(id), text: "#" + id }));
      });
      return el("tr", { dataset: { staffId: String(person.id), presence: person.presence } }, [
        el("th", { scope: "row", text: person.name }),
        el("td", { text: person.role }),
        el("td", {}, [el("span", { className: "presence-" + person.presence, text: person.presence === "online" ? "Online" : "Away" })]),
        loadCell(person),
        el("td", {}, links.length ? links : ["None"]),
        el("td", {}, [person.last_seen_at ? C.timeEl(person.last_seen_at) : "Never"]),
      ]);
    }));
  }

  function load() {
    return C.api("GET", "/api/supervisor").then(function (data) { C.clearError(); render(data); }).catch(C.showError);
  }

  C.alerts.listen(C.debounce(load, 200));
  C.alerts.start({}, { onreconnect: load });
  setInterval(load, 10000);
  setInterval(tick, 1000);
  load();
});
