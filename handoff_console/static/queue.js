/*
 * The live queue: GET /api/queue once, then every SSE `queue` event replaces the
 * list in place (no reload). New arrivals are highlighted, announced, counted in
 * the tab title and (when enabled) beeped. All reader text is set with textContent.
 */
window.RicConsole.page({ list: "queue-list", empty: "queue-empty", summary: "queue-summary", announcer: "queue-announcer" }, function (C, ui) {
  "use strict";
  var el = C.el;

  var baseTitle = document.title;
  var myId = Number(ui.list.dataset.staffId);

  var rows = new Map();        // conversation_id -> {li, item, startedMs}
  var seenHandoffs = new Set(); // handoff ids already shown (so only new ones are "new")
  var loaded = false;

  var CHANNELS = { webchat: "Web chat", telegram: "Telegram", slack: "Slack", email: "Email", sms: "SMS" };
  var SENDERS = { reader: "Reader", bot: "Assistant", librarian: "Librarian", system: "System" };

  function readerName(item) {
    return item.reader && item.reader.name ? item.reader.name : "Anonymous reader";
  }

  function key(item) { return String(item.handoff_id != null ? item.handoff_id : item.conversation_id); }

  // ---------------------------------------------------------------- rendering
  function buildRow(item) {
    var li = el("li", {
      className: "queue-item",
      dataset: { conversationId: String(item.conversation_id), senderId: String(item.sender_id || "") },
    });
    var refs = {
      channel: el("span", { className: "channel-badge" }),
      reader: el("span", { className: "queue-reader" }),
      verified: el("span", { className: "verified-badge", text: "verified", hidden: true }),
      wait: el("span", { className: "queue-wait", "aria-label": "Waiting time" }),
      reason: el("span", { className: "queue-reason" }),
      department: el("span", { className: "queue-department muted" }),
      lastSender: el("span", { className: "queue-last-sender" }),
      lastText: el("span", { className: "queue-last-text" }),
      state: el("span", { className: "queue-state" }),
      claimError: el("p", { className: "claim-error", role: "status" }),
      actions: el("div", { className: "queue-actions" }),
    };
    li.append(
      el("div", { className: "queue-line" }, [
        refs.channel, " ", el("strong", {}, [refs.reader]), " ", refs.verified,
        el("span", { className: "queue-wait-wrap" }, ["waiting ", refs.wait]),
      ]),
      el("div", { className: "queue-line" }, [el("span", { className: "label", text: "Reason: " }), refs.reason, " ", refs.department]),
      el("p", { className: "queue-last" }, [refs.lastSender, refs.lastText]),
      el("div", { className: "queue-line queue-foot" }, [refs.state, refs.actions]),
      refs.claimError
    );
    return { li: li, refs: refs, item: null, startedMs: 0, actionKey: "" };
  }

  function updateRow(row, item) {
    var r = row.refs;
    var previous = row.item;
    row.item = item;
    var ws = typeof item.waiting_seconds === "number" ? item.waiting_seconds : 0;
    // Anchor on the server's waiting_seconds so a skewed client clock doesn't matter.
    if (!previous || previous.handoff_id !== item.handoff_id || Math.abs((Date.now() - row.startedMs) / 1000 - ws) > 5) {
      row.startedMs = Date.now() - ws * 1000;
    }
    row.li.dataset.status = item.status;
    r.channel.textContent = CHANNELS[item.channel] || item.channel || "unknown channel";
    r.reader.textContent = readerName(item);
    r.verified.hidden = !(item.reader && item.reader.verified);
    r.reason.textContent = item.reason || "no reason given";
    r.department.textContent = item.department ? "· " + item.department : "";
    if (item.last_message) {
      r.lastSender.textContent = (SENDERS[item.last_message.sender_kind] || item.last_message.sender_kind || "") + ": ";
      r.lastText.textContent = item.last_message.text || "";
    } else {
      r.lastSender.textContent = "";
      r.lastText.textContent = "No messages yet.";
    }
    var mine = item.librarian && Number(item.librarian.id) === myId;
    var actionKey = item.status + "|" + (mine ? "mine" : "") + "|" + (item.librarian ? item.librarian.name : "");
    if (actionKey !== row.actionKey) {
      row.actionKey = actionKey;
      var href = "/conversations/" + encodeURIComponent(item.conversation_id);
      if (item.status === "waiting") {
        r.state.textContent = "Waiting";
        var claim = el("button", {
          type: "button", className: "claim-button", text: "Claim",
          "aria-label": "Claim conversation with " + readerName(item),
        });
        claim.addEventListener("click", function () { claimConversation(row, claim); });
        r.actions.replaceChildren(claim, " ", el("a", { href: href, className: "view-link", text: "View" }));
      } else {
        r.state.textContent = item.librarian ? "Claimed by " + item.librarian.name : "Claimed";
        r.actions.replaceChildren(el("a", { href: href, className: "view-link", text: mine ? "Open" : "View" }));
      }
    }
    tickRow(row);
  }

  function tickRow(row) {
    row.refs.wait.textContent = C.duration((Date.now() - row.startedMs) / 1000);
  }

  function render(items) {
    var arrivals = [];
    C.syncRows(ui.list, rows, items, buildRow, function (row, item) {
      updateRow(row, item);
      var k = key(item);
      if (!seenHandoffs.has(k)) {
        seenHandoffs.add(k);
        if (loaded && item.status === "waiting") arrivals.push(row);
      }
    });

    var waiting = items.filter(function (item) { return item.status === "waiting"; }).length;
    ui.empty.hidden = items.length !== 0;
    ui.summary.textContent = waiting === 1 ? "1 reader is waiting." : waiting + " readers are waiting.";
    if (items.length > waiting) ui.summary.textContent += " " + (items.length - waiting) + " claimed.";
    document.title = waiting > 0 ? "(" + waiting + ") " + baseTitle : baseTitle;
    if (arrivals.length) announceArrivals(arrivals);
    loaded = true;
  }

  function announceArrivals(arrivals) {
    arrivals.forEach(function (row) {
      row.li.classList.add("is-new");
      row.li.dataset.new = "true";
    });
    var first = arrivals[0].item;
    ui.announcer.textContent = arrivals.length === 1
      ? "New conversation from " + readerName(first) + " on " + (CHANNELS[first.channel] || first.channel) + ": " + (first.reason || "")
      : arrivals.length + " new conversations are waiting.";
    C.sound.play();
  }

  // The highlight stays until the librarian has had a chance to see it.
  function acknowledge(li) {
    if (!li || !li.classList.contains("is-new")) return;
    setTimeout(function () { li.classList.remove("is-new"); delete li.dataset.new; }, 8000);
  }
  ui.list.addEventListener("pointerover", function (e) { acknowledge(e.target.closest(".queue-item")); });
  ui.list.addEventListener("focusin", function (e) { acknowledge(e.target.closest(".queue-item")); });

  // ---------------------------------------------------------------- actions
  function claimConversation(row, button) {
    button.disabled = true;
    row.refs.claimError.textContent = "";
    var id = row.item.conversation_id;
    C.api("POST", "/api/conversations/" + encodeURIComponent(id) + "/claim", {})
      .then(function () { location.assign("/conversations/" + encodeURIComponent(id)); })
      .catch(function (error) {
        button.disabled = false;
        if (error && error.status === 409) {
          var by = error.body && error.body.claimed_by;
          var name = by && typeof by === "object" ? by.name || by.display_name : by;
          row.refs.claimError.textContent = "Already claimed by " + (name || "another librarian") + ".";
          refresh();
        } else {
          C.showError(error);
        }
      });
  }

  function refresh() {
    return C.api("GET", "/api/queue").then(function (data) {
      render(data && Array.isArray(data.items) ? data.items : []);
    }).catch(C.showError);
  }

  // ---------------------------------------------------------------- presence
  var presence = document.getElementById("presence");
  function showPresence(value) {
    presence.querySelectorAll("input[name=presence]").forEach(function (input) {
      input.checked = input.value === value;
    });
    presence.dataset.presence = value;
  }
  presence.addEventListener("change", function (e) {
    var value = e.target.value;
    var before = presence.dataset.presence || "away";
    C.api("POST", "/api/presence", { presence: value })
      .then(function () { showPresence(value); })
      .catch(function (error) { showPresence(before); C.showError(error); });
  });
  C.me().then(function (me) {
    if (me && typeof me.presence === "string") showPresence(me.presence);
    if (me && me.id) myId = Number(me.id);
  }).catch(function () { /* shown by the queue fetch if the API is down */ });

  // ---------------------------------------------------------------- boot
  C.sound.attach(document.getElementById("sound-toggle"), document.getElementById("sound-hint"));
  setInterval(function () { rows.forEach(tickRow); }, 1000);
  refresh();
  C.subscribe({
    queue: function (data) { render(data && Array.isArray(data.items) ? data.items : []); },
  }, { onreconnect: refresh });
});
