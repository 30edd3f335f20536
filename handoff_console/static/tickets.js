/*
 * Tickets: a list filtered by status, with a reply box and a status change per
 * ticket. Reader text is set with textContent only.
 */
window.RicConsole.page({ filter: "ticket-status", list: "tickets-list", summary: "tickets-summary" }, function (C, ui) {
  "use strict";
  var el = C.el;

  var STATUSES = ["new", "open", "pending", "closed"];

  function ticketEl(t) {
    var id = String(t.id);
    var replyId = "ticket-reply-" + id;
    var statusId = "ticket-status-" + id;
    var feedback = el("p", { className: "ticket-feedback muted", role: "status" });
    var reply = el("textarea", { id: replyId, rows: "2" });
    var statusSelect = el("select", { id: statusId }, STATUSES.map(function (s) {
      return el("option", { value: s, text: s, selected: s === t.status });
    }));
    var replyForm = el("form", { className: "ticket-reply" }, [
      el("label", { for: replyId, text: "Reply to ticket #" + id }),
      reply,
      el("button", { type: "submit", text: "Send reply" }),
    ]);
    var statusForm = el("form", { className: "ticket-status-form" }, [
      el("label", { for: statusId, text: "Status" }),
      statusSelect,
      el("button", { type: "submit", className: "button-secondary", text: "Update status" }),
    ]);
    replyForm.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!reply.value.trim()) return;
      C.api("POST", "/api/tickets/" + encodeURIComponent(id) + "/reply", { text: reply.value }).then(function () {
        reply.value = "";
        feedback.textContent = "Reply sent.";
      }).catch(function (error) { feedback.textContent = "Reply not sent: " + error.message; });
    });
    statusForm.addEventListener("submit", function (e) {
      e.preventDefault();
      C.api("PATCH", "/api/tickets/" + encodeURIComponent(id), { status: statusSelect.value }).then(function () {
        feedback.textContent = "Status set to " + statusSelect.value + ".";
        badge.textContent = statusSelect.value;
        li.dataset.status = statusSelect.value;
      }).catch(function (error) { feedback.textContent = "Status not changed: " + error.message; });
    });
    var badge = el("span", { className: "ticket-status-badge", text: t.status || "" });
    var li = el("li", { className: "ticket panel", dataset: { ticketId: id, status: t.status || "" } }, [
      el("h2", { className: "ticket-subject" }, [el("span", { text: "#" + id + " " }), el("span", { text: t.subject || "(no subject)" }), " ", badge]),
      el("p", { className: "ticket-meta muted" }, [
        t.contact ? el("span", { text: "Contact: " + t.contact + " · " }) : null,
        t.reader && t.reader.name ? el("span", { text: "Reader: " + t.reader.name + " · " }) : null,
        t.conversation_id ? el("a", { href: "/conversations/" + encodeURIComponent(t.conversation_id), text: "conversation #" + t.conversation_id }) : null,
        t.conversation_id ? " · " : null,
        C.timeEl(t.created_at),
      ]),
      el("p", { className: "ticket-body", text: t.body || "" }),
      replyForm,
      statusForm,
      feedback,
    ]);
    return li;
  }

  function load() {
    var status = ui.filter.value;
    var url = "/api/tickets" + (status ? "?status=" + encodeURIComponent(status) : "");
    ui.summary.textContent = "Loading tickets…";
    C.api("GET", url).then(function (data) {
      var items = data && Array.isArray(data.items) ? data.items : Array.isArray(data) ? data : [];
      ui.list.replaceChildren.apply(ui.list, items.map(ticketEl));
      if (!items.length) ui.list.appendChild(el("li", { className: "empty", text: status ? "No " + status + " tickets." : "No tickets yet." }));
      ui.summary.textContent = items.length === 1 ? "1 ticket." : items.length + " tickets.";
    }).catch(function (error) { ui.summary.textContent = ""; C.showError(error); });
  }

  ui.filter.addEventListener("change", load);
  document.getElementById("ticket-filter").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  load();
});
