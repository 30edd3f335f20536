/*
 * Tickets: a list filtered by status and assignee. Each ticket shows the reader's
 * message, its status and assignee as selects that save on change, the full reply
 * history and a reply box. Reader text is set with textContent only.
 */
window.RicConsole.page({
  filter: "ticket-status", assignee: "ticket-assignee-filter", list: "tickets-list", summary: "tickets-summary",
}, function (C, ui) {
  "use strict";
  var el = C.el;

  var STATUSES = { new: "New", open: "Open", pending: "Pending (waiting for the reader)", closed: "Closed" };
  var DELIVERY = { sent: "sent", pending: "sending…", sending: "sending…", failed: "not delivered", pending_email: "email queued" };
  var staff = [];
  var me = null;

  function replyEl(r) {
    return el("li", { className: "ticket-reply-entry", dataset: { replyId: String(r.id) } }, [
      el("div", { className: "small muted" }, [
        el("strong", { text: r.author || "Staff" }), " · ",
        C.timeEl(r.created_at), " · ",
        el("span", { text: (r.delivery === "email" ? "by email, " : "in the chat, ") + (DELIVERY[r.status] || r.status) }),
      ]),
      el("p", { className: "ticket-reply-text", text: r.text || "" }),
    ]);
  }

  function historyEl(t) {
    var replies = Array.isArray(t.replies) ? t.replies : [];
    return el("div", { className: "ticket-history-block" }, [
      el("h3", { text: replies.length ? "Replies (" + replies.length + ")" : "No reply yet" }),
      el("ol", { className: "ticket-history", "aria-label": "Replies to ticket " + t.id }, replies.map(replyEl)),
    ]);
  }

  function assigneeOptions(t) {
    var options = [el("option", { value: "", text: "Unassigned" })];
    var known = false;
    staff.forEach(function (s) {
      if (t.assignee && t.assignee.id === s.id) known = true;
      var label = s.display_name + (me && me.id === s.id ? " (me)" : "");
      options.push(el("option", { value: String(s.id), text: label, selected: !!(t.assignee && t.assignee.id === s.id) }));
    });
    if (t.assignee && !known) options.push(el("option", { value: String(t.assignee.id), text: t.assignee.name, selected: true }));
    return options;
  }

  function ticketEl(t) {
    var id = String(t.id);
    var url = "/api/tickets/" + encodeURIComponent(id);
    var li = el("li", { id: "ticket-" + id, className: "ticket panel", dataset: { ticketId: id, status: t.status || "" } });
    var feedback = el("p", { className: "ticket-feedback muted small", role: "status" });
    var statusSelect = el("select", { id: "ticket-status-" + id, className: "ticket-status-select" }, Object.keys(STATUSES).map(function (s) {
      return el("option", { value: s, text: STATUSES[s], selected: s === t.status });
    }));
    var assigneeSelect = el("select", { id: "ticket-assignee-" + id, className: "ticket-assignee-select" }, assigneeOptions(t));
    var reply = el("textarea", { id: "ticket-reply-" + id, rows: "2", maxlength: "4000" });
    var replyForm = el("form", { className: "ticket-reply" }, [
      el("label", { for: reply.id, text: "Reply to " + (t.reader && t.reader.name ? t.reader.name : "the reader") }),
      reply,
      el("button", { type: "submit", text: "Send reply" }),
    ]);

    function saved(updated, message) {
      feedback.textContent = message;
      li.replaceWith(ticketEl(updated));
      var again = document.querySelector('[data-ticket-id="' + id + '"] .ticket-feedback');
      if (again) again.textContent = message;
    }

    function change(body, message, select, previous) {
      select.disabled = true;
      C.api("PATCH", url, body).then(function (updated) { saved(updated, message(updated)); })
        .catch(function (error) {
          select.value = previous;
          select.disabled = false;
          feedback.textContent = "Not saved: " + error.message;
        });
    }

    statusSelect.addEventListener("change", function () {
      change({ status: statusSelect.value }, function (u) { return "Status saved: " + STATUSES[u.status] + "."; }, statusSelect, t.status);
    });
    assigneeSelect.addEventListener("change", function () {
      var value = assigneeSelect.value ? Number(assigneeSelect.value) : null;
      change({ assignee_id: value }, function (u) { return u.assignee ? "Assigned to " + u.assignee.name + "." : "Unassigned."; },
        assigneeSelect, t.assignee ? String(t.assignee.id) : "");
    });
    replyForm.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!reply.value.trim()) { feedback.textContent = "Write a reply first."; return; }
      C.api("POST", url + "/reply", { text: reply.value }).then(function () {
        return C.api("GET", url);
      }).then(function (updated) { saved(updated, "Reply sent."); })
        .catch(function (error) { feedback.textContent = "Reply not sent: " + error.message; });
    });

    var reader = t.reader && t.reader.name ? t.reader.name : "A reader";
    li.append(
      el("div", { className: "ticket-head" }, [
        el("h2", { className: "ticket-subject", tabindex: "-1", text: t.subject || "(no subject)" }),
        el("span", { className: "ticket-status-badge", text: STATUSES[t.status] ? t.status : "" }),
        el("span", { className: "muted small", text: "#" + id }),
      ]),
      el("p", { className: "ticket-meta muted small" }, [
        el("span", { text: reader + " · " }),
        t.contact ? el("span", { text: (t.contact.indexOf("@") > 0 ? "reply by email to " : "reply in the chat ") + (t.contact.indexOf("@") > 0 ? t.contact : "") + " · " }) : null,
        t.conversation_id ? el("a", { href: "/conversations/" + encodeURIComponent(t.conversation_id), text: "conversation #" + t.conversation_id }) : null,
        t.conversation_id ? " · " : null,
        C.timeEl(t.created_at),
      ]),
      el("div", { className: "ticket-controls" }, [
        el("div", {}, [el("label", { for: statusSelect.id, text: "Status" }), statusSelect]),
        el("div", {}, [el("label", { for: assigneeSelect.id, text: "Assignee" }), assigneeSelect]),
      ]),
      el("p", { className: "ticket-question ticket-body", text: t.body || "" }),
      historyEl(t),
      replyForm,
      feedback
    );
    return li;
  }

  function load() {
    var params = [];
    if (ui.filter.value) params.push("status=" + encodeURIComponent(ui.filter.value));
    if (ui.assignee.value) params.push("assignee=" + encodeURIComponent(ui.assignee.value));
    ui.summary.textContent = "Loading tickets…";
    C.api("GET", "/api/tickets" + (params.length ? "?" + params.join("&") : "")).then(function (data) {
      var items = data && Array.isArray(data.items) ? data.items : [];
      ui.list.replaceChildren.apply(ui.list, items.map(ticketEl));
      if (!items.length) ui.list.appendChild(el("li", { className: "empty", text: params.length ? "No tickets match." : "No tickets yet." }));
      ui.summary.textContent = items.length === 1 ? "1 ticket." : items.length + " tickets.";
      return showTarget();
    }).catch(function (error) { ui.summary.textContent = ""; C.showError(error); });
  }

  // A link to /tickets#ticket-12 (the reader panel's) opens that ticket: it is marked,
  // scrolled to and focused; one the filters hide is fetched and shown first.
  function showTarget() {
    var match = /^#ticket-(\d+)$/.exec(window.location.hash);
    if (!match) return null;
    var found = document.getElementById("ticket-" + match[1]);
    var shown = found ? Promise.resolve(found) : C.api("GET", "/api/tickets/" + match[1]).then(function (t) {
      var empty = ui.list.querySelector(".empty");
      if (empty) empty.remove();
      var li = ticketEl(t);
      ui.list.insertBefore(li, ui.list.firstChild);
      return li;
    });
    return shown.then(function (li) {
      Array.prototype.forEach.call(ui.list.querySelectorAll(".is-target"), function (n) { n.classList.remove("is-target"); });
      li.classList.add("is-target");
      li.scrollIntoView({ block: "start" });
      li.querySelector(".ticket-subject").focus({ preventScroll: true });
    }).catch(C.showError);
  }

  window.addEventListener("hashchange", showTarget);
  ui.filter.addEventListener("change", load);
  ui.assignee.addEventListener("change", load);
  document.getElementById("ticket-filter").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  Promise.all([
    C.api("GET", "/api/staff").then(function (d) { staff = d && Array.isArray(d.items) ? d.items : []; }),
    C.me().then(function (m) { me = m; }),
  ]).catch(C.showError).then(load);
});
