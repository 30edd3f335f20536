// Refreshes the status table every 5 seconds from /api/health. Values are set with
// textContent so nothing from the server is ever parsed as markup.
(function () {
  "use strict";
  const rows = document.getElementById("health-rows");
  const updated = document.getElementById("health-updated");
  async function refresh() {
    try {
      const reply = await fetch("/api/health", { headers: { Accept: "application/json" } });
      const body = await reply.json();
      rows.replaceChildren(...body.services.map((s) => {
        const tr = document.createElement("tr");
        tr.dataset.service = s.name;
        const name = document.createElement("td");
        name.textContent = s.name;
        const status = document.createElement("td");
        const badge = document.createElement("span");
        badge.className = "badge badge-" + (["up", "degraded"].includes(s.status) ? s.status : "down");
        badge.textContent = s.status;
        status.appendChild(badge);
        const detail = document.createElement("td");
        detail.textContent = s.detail;
        tr.append(name, status, detail);
        return tr;
      }));
      updated.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
    } catch (error) {
      updated.textContent = "Could not reach the console API; retrying.";
    }
  }
  setInterval(refresh, 5000);
})();
