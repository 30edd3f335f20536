/*
 * The reader panel: a reusable component that shows one reader to a librarian.
 *
 *   RicReaderPanel.render(container, readerId, options) -> Promise
 *
 *   container  an element; its children are replaced by the panel.
 *   readerId   the reader's record id (GET /api/readers/<id>).
 *   options    (all optional)
 *     sections          which parts to show, in order; default
 *                       ["identities", "library", "history"]:
 *                       identities: "Telegram @ada", "Web chat (Chrome, 3 visits)"…;
 *                       library: loans (titles, due dates in the library's words),
 *                         holds and charges from the library system, with Renew and
 *                         Place a hold on the reader's behalf (audited by the API);
 *                       history: earlier conversations and tickets, newest first,
 *                         each with the reader's rating (CSAT) and a link.
 *     canEdit           true to offer renew / place hold; when left out, the panel
 *                       asks /api/me (librarians and admins may, managers read).
 *     currentConversationId  leave this conversation out of "earlier conversations".
 *     onChange(kind, data)   called after a renewal ("renewed") or a hold ("hold").
 *
 *   RicReaderPanel.refresh(container) -> Promise  renders the same reader again.
 *
 * Needs console.js (window.RicConsole) first. Everything the reader or the library
 * system wrote is set with textContent (RicConsole.el); nothing assigns innerHTML.
 * Card numbers arrive masked from the API and are shown as they are.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var el = C.el;
  var EDIT_ROLES = { librarian: true, admin: true };
  var BRANCHES = [["central", "Central Library"], ["northside", "Northside Branch"],
    ["riverside", "Riverside Branch"], ["online", "Online (digital items)"]];
  var uid = 0;

  function heading(text, id) { return el("h3", { className: "panel-heading", id: id, text: text }); }
  function note(text, className) { return el("p", { className: className || "muted", text: text }); }

  function money(charges) {
    var symbol = charges.currency === "GBP" ? "£" : charges.currency + " ";
    return symbol + charges.total;
  }

  // ---------------------------------------------------------------- identities
  function identities(reader, ids) {
    var list = el("ul", { className: "plain-list rp-identities", "aria-labelledby": ids.identities });
    reader.identities.forEach(function (i) {
      list.appendChild(el("li", { dataset: { channel: i.channel, identityId: String(i.id) } }, [
        el("span", { className: "identity-label", text: i.label }),
        i.reachable ? null : el("span", { className: "muted", text: " (unreachable)" }),
      ]));
    });
    if (!reader.identities.length) list.appendChild(el("li", { className: "empty", text: "No channel identities." }));
    return [heading("Reached on", ids.identities), list];
  }

  // ---------------------------------------------------------------- history
  function stars(csat) {
    if (csat === null || csat === undefined) return el("span", { className: "csat muted", text: "not rated" });
    return el("span", { className: "csat", "aria-label": "rated " + csat + " out of 5", text: "rated " + csat + "/5" });
  }

  function history(reader, options, ids) {
    var items = [];
    reader.conversations.forEach(function (c) {
      if (String(c.id) === String(options.currentConversationId)) return;
      items.push({ when: c.last_activity_at, node: el("li", { className: "rp-conversation", dataset: { conversationId: String(c.id) } }, [
        el("a", { href: "/conversations/" + encodeURIComponent(c.id), text: "Conversation #" + c.id }),
        " ", el("span", { className: "channel-badge", text: c.channel }), " " + (c.state_label || c.status) + " · ",
        C.timeEl(c.last_activity_at), " · ", stars(c.csat),
      ]) });
    });
    reader.tickets.forEach(function (t) {
      items.push({ when: t.created_at, node: el("li", { className: "rp-ticket", dataset: { ticketId: String(t.id) } }, [
        el("a", { href: "/tickets#ticket-" + encodeURIComponent(t.id), text: "Ticket #" + t.id }),
        " ", el("span", { className: "ticket-subject", text: t.subject }), " (" + t.status + ") · ",
        C.timeEl(t.created_at), " · ", stars(t.csat),
      ]) });
    });
    items.sort(function (a, b) { return C.parseTime(b.when) - C.parseTime(a.when); });
    var list = el("ul", { className: "plain-list rp-history", "aria-labelledby": ids.history },
      items.map(function (item) { return item.node; }));
    if (!items.length) list.appendChild(el("li", { className: "empty", text: "No earlier conversations or tickets." }));
    return [heading("Earlier conversations and tickets", ids.history), list];
  }

  // ---------------------------------------------------------------- library account
  function loansTable(account, ctx) {
    var rows = account.loans.map(function (loan) {
      var status = el("span", { className: "rp-renew-status", role: "status" });
      var due = el("td", { className: "rp-due" }, [
        el("span", { className: "rp-due-label", text: loan.due_label }), el("br"),
        el("span", { className: loan.overdue ? "rp-due-relative overdue" : "rp-due-relative muted", text: loan.due_relative }),
      ]);
      var action = ctx.canEdit ? el("button", {
        type: "button", className: "button-secondary rp-renew", text: "Renew",
        "aria-label": "Renew " + loan.title,
        onclick: function () { renew(ctx, loan, action, status, due); },
      }) : null;
      return el("tr", { dataset: { itemId: loan.item_id } }, [
        el("td", {}, [el("span", { className: "rp-title", text: loan.title }), el("br"),
          el("span", { className: "muted small", text: loan.author + " · " + loan.format })]),
        due,
        el("td", { className: "rp-renewals" }, [
          loan.renewals_used + " of " + loan.renewals_allowed + (loan.blocked_by_hold ? " · another reader is waiting" : ""),
          ctx.canEdit ? el("div", { className: "rp-renew-box" }, [action, " ", status]) : null,
        ]),
      ]);
    });
    if (!rows.length) return note("No loans.", "empty rp-no-loans");
    var head = ["Title", "Due", "Renewals"];
    return el("table", { className: "rp-table rp-loans" }, [
      el("caption", { className: "visually-hidden", text: "Loans" }),
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      el("tbody", {}, rows),
    ]);
  }

  function renew(ctx, loan, button, status, dueCell) {
    button.disabled = true;
    status.textContent = "Renewing…";
    C.api("POST", "/api/readers/" + encodeURIComponent(ctx.readerId) + "/renewals", { item_id: loan.item_id }).then(function (data) {
      dueCell.replaceChildren(
        el("span", { className: "rp-due-label", text: data.due_label }), el("br"),
        el("span", { className: "rp-due-relative muted", text: data.due_relative }));
      status.textContent = "Renewed: now due " + data.due_label + ".";
      if (ctx.onChange) ctx.onChange("renewed", data);
    }).catch(function (error) {
      status.textContent = "Not renewed: " + error.message;
    }).then(function () { button.disabled = false; });
  }

  function holdsList(account) {
    if (!account.holds.length) return note("No holds.", "empty rp-no-holds");
    return el("ul", { className: "plain-list rp-holds" }, account.holds.map(function (h) {
      var place = h.status === "waiting" ? " · number " + h.queue_position + " in the queue" : "";
      var by = h.pickup_by_label ? " · collect by " + h.pickup_by_label : "";
      return el("li", { dataset: { holdId: h.hold_id } }, [
        el("span", { className: "rp-title", text: h.title }), ": ",
        el("span", { className: "rp-hold-status", text: h.status_label + " at " + h.pickup_branch_name + place + by }),
      ]);
    }));
  }

  function chargesBlock(account) {
    var charges = account.charges;
    if (!charges.items.length) return note("No charges.", "empty rp-no-charges");
    return el("div", { className: "rp-charges" }, [
      el("p", {}, [el("strong", { className: "rp-charges-total", text: money(charges) + " owed" }),
        charges.blocks_borrowing ? el("span", { className: "overdue", text: " · blocks borrowing and renewals" }) : null]),
      el("ul", { className: "plain-list" }, charges.items.map(function (item) {
        return el("li", { text: item.description + " · " + money({ currency: charges.currency, total: item.amount }) + " · " + item.date_label });
      })),
    ]);
  }

  function holdForm(ctx) {
    var n = ++uid;
    var query = el("input", { type: "search", id: "rp-hold-q-" + n, className: "rp-hold-q", maxlength: "200", autocomplete: "off" });
    var branch = el("select", { id: "rp-hold-branch-" + n, className: "rp-hold-branch" },
      BRANCHES.map(function (b) { return el("option", { value: b[0], text: b[1] }); }));
    var results = el("ul", { className: "plain-list rp-hold-results", "aria-label": "Catalogue matches" });
    var status = el("p", { className: "muted rp-hold-status-line", role: "status" });
    var form = el("form", { className: "rp-hold-form", role: "search" }, [
      el("label", { for: query.id, text: "Find a title" }), query,
      el("label", { for: branch.id, text: "Collect at" }), branch,
      el("button", { type: "submit", className: "button-secondary", text: "Search the catalogue" }),
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      status.textContent = "";
      C.api("GET", "/api/catalogue?q=" + encodeURIComponent(query.value.trim())).then(function (data) {
        results.replaceChildren.apply(results, (data.items || []).map(function (hit) {
          var button = el("button", { type: "button", className: "button-secondary rp-place-hold", text: "Place hold",
            "aria-label": "Place hold on " + hit.title + " (" + hit.format + ")" });
          button.addEventListener("click", function () {
            button.disabled = true;
            var body = { record_id: hit.record_id, format: hit.format, pickup_branch: branch.value };
            C.api("POST", "/api/readers/" + encodeURIComponent(ctx.readerId) + "/holds", body).then(function (placed) {
              if (ctx.onChange) ctx.onChange("hold", placed);
              return render(ctx.container, ctx.readerId, ctx.options).then(function () {
                var box = ctx.container.querySelector(".rp-library");
                if (box) box.insertBefore(el("p", { className: "rp-flash", role: "status", text: "Hold placed: " + placed.message }), box.firstChild);
              });
            }).catch(function (error) {
              status.textContent = "No hold placed: " + error.message;
              button.disabled = false;
            });
          });
          return el("li", {}, [el("span", { text: hit.title + " · " + hit.author + " (" + hit.year + ", " + hit.format + ") · " + hit.available + " of " + hit.total + " on the shelf " }), button]);
        }));
        if (!results.children.length) results.appendChild(el("li", { className: "empty", text: "Nothing in the catalogue matches." }));
      }).catch(function (error) { status.textContent = "Search failed: " + error.message; });
    });
    return el("details", { className: "rp-hold" }, [el("summary", { text: "Place a hold for this reader" }), form, results, status]);
  }

  function library(ctx, ids) {
    var box = el("div", { className: "rp-library", "aria-live": "polite" }, [note("Asking the library system…")]);
    var url = "/api/readers/" + encodeURIComponent(ctx.readerId) + "/library";
    var done = C.api("GET", url).then(function (account) {
      box.replaceChildren(
        el("p", { className: "muted small", text: "Card " + account.card + " · today is " + account.today_label }),
        el("h4", { text: "Loans (" + account.loans.length + ")" }), loansTable(account, ctx),
        el("h4", { text: "Holds (" + account.holds.length + ")" }), holdsList(account),
        el("h4", { text: "Charges" }), chargesBlock(account),
        ctx.canEdit ? holdForm(ctx) : null);
    }).catch(function (error) {
      var text = error.error === "library_system_unavailable"
        ? "Library system unavailable: loans, holds and charges cannot be shown right now. Try again in a few minutes."
        : error.error === "no_card_on_file"
          ? "No library card on file: the reader has not signed in with their card, so their loans cannot be looked up."
          : "Library account not shown: " + error.message;
      box.replaceChildren(el("p", {
        className: error.error === "library_system_unavailable" ? "rp-library-down notice-error" : "rp-library-note muted",
        role: error.error === "library_system_unavailable" ? "alert" : null, text: text,
      }));
    });
    return { nodes: [heading("Library account", ids.library), box], done: done };
  }

  // ---------------------------------------------------------------- render
  function render(container, readerId, options) {
    options = options || {};
    var sections = options.sections || ["identities", "library", "history"];
    var n = ++uid;
    var ids = { identities: "rp-identities-" + n, library: "rp-library-" + n, history: "rp-history-" + n };
    container.__ricReaderPanel = { readerId: readerId, options: options };
    container.classList.add("reader-panel");
    var role = options.canEdit === undefined
      ? C.me().then(function (me) { return !!(me && EDIT_ROLES[me.role]); }).catch(function () { return false; })
      : Promise.resolve(!!options.canEdit);
    return Promise.all([C.api("GET", "/api/readers/" + encodeURIComponent(readerId)), role]).then(function (got) {
      var reader = got[0];
      var ctx = { container: container, readerId: readerId, options: options, canEdit: got[1], onChange: options.onChange };
      var waits = [];
      var parts = [];
      sections.forEach(function (name) {
        var section = el("section", { className: "rp-section rp-section-" + name, "aria-labelledby": ids[name] });
        if (name === "identities") identities(reader, ids).forEach(function (x) { section.appendChild(x); });
        else if (name === "history") history(reader, options, ids).forEach(function (x) { section.appendChild(x); });
        else if (name === "library") {
          var lib = library(ctx, ids);
          lib.nodes.forEach(function (x) { section.appendChild(x); });
          waits.push(lib.done);
        }
        parts.push(section);
      });
      container.replaceChildren.apply(container, parts);
      return Promise.all(waits);
    }).catch(function (error) {
      container.replaceChildren(note(error.status === 404 ? "No such reader." : "Reader not shown: " + error.message, "rp-error"));
    });
  }

  function refresh(container) {
    var state = container.__ricReaderPanel;
    return state ? render(container, state.readerId, state.options) : Promise.resolve();
  }

  window.RicReaderPanel = { render: render, refresh: refresh };
})();
