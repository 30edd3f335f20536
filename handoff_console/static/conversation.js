/*
 * One conversation: transcript (live through SSE `message` and `note` events) with its
 * system lines ("Sam Reyes joined", "Resolved by Sam Reyes"), reply box, canned replies,
 * private notes (the reply box's "Private note" mode: stored, shown in the transcript in
 * amber, never relayed; a colleague's note appears live, once), typing both ways (the
 * reader's from the `typing` event, ours sent throttled), reader profile, take-over,
 * transfer, resolve and reopen. The inbox shows this page in its middle pane.
 * The status reads the server's `state_label` (Waiting, With <name>, Resolved): one
 * source of truth. A reply to a waiting conversation claims it on the server; one a
 * colleague holds is refused (409), and the page offers to take it over.
 * Every reader- or staff-provided string is set with textContent; never innerHTML.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var el = C.el;

  var root = document.getElementById("conversation");
  var conversationId = Number(root.dataset.conversationId);
  var myId = Number(root.dataset.staffId);
  var base = "/api/conversations/" + encodeURIComponent(conversationId);

  var ui = {
    status: document.getElementById("conversation-status"),
    channel: document.getElementById("conversation-channel"),
    handoff: document.getElementById("conversation-handoff"),
    transcript: document.getElementById("transcript"),
    claim: document.getElementById("claim-button"),
    reopen: document.getElementById("reopen-button"),
    replyForm: document.getElementById("reply-form"),
    replyText: document.getElementById("reply-text"),
    replySend: document.getElementById("reply-send"),
    cannedSearch: document.getElementById("canned-search"),
    cannedResults: document.getElementById("canned-results"),
    replyLabel: document.getElementById("reply-label"),
    replyHelp: document.getElementById("reply-help"),
    modeNote: document.getElementById("mode-note"),
    readerTyping: document.getElementById("reader-typing"),
    reader: document.getElementById("reader-profile"),
    transferDetails: document.getElementById("transfer-details"),
    transferForm: document.getElementById("transfer-form"),
    transferTo: document.getElementById("transfer-to"),
    transferDepartment: document.getElementById("transfer-department"),
    transferNote: document.getElementById("transfer-note"),
    departments: document.getElementById("department-list"),
    resolveDetails: document.getElementById("resolve-details"),
    resolveForm: document.getElementById("resolve-form"),
    resolveNote: document.getElementById("resolve-note"),
    resolveTags: document.getElementById("resolve-tags"),
  };

  var state = {
    conversation: null, messageIds: new Set(), lineIds: new Set(), pending: [],
    noteIds: new Set(), savingNotes: [],
  };

  // The take-over offer and the unanswered-question check live next to the reply box
  // and the resolve button; they are built here so the template stays the layout.
  var holder = {
    box: el("div", { id: "holder-banner", className: "form-error holder-banner", role: "status", hidden: true }),
    text: el("span", { id: "holder-text" }),
    takeOver: el("button", { type: "button", id: "take-over-button", text: "Take over" }),
    blocked: [],
  };
  holder.box.append(holder.text, " ", holder.takeOver);
  ui.replyForm.parentNode.insertBefore(holder.box, ui.replyForm);
  var unanswered = {
    box: el("div", { id: "unanswered-confirm", className: "form-error unanswered-confirm", role: "alert", hidden: true }),
    force: el("button", { type: "button", id: "resolve-anyway", text: "Resolve anyway" }),
    cancel: el("button", { type: "button", className: "button-secondary", text: "Keep it open" }),
  };
  unanswered.box.append(
    el("p", { text: "The reader's last question is unanswered \u2014 resolve anyway?" }),
    unanswered.force, " ", unanswered.cancel
  );
  ui.resolveForm.appendChild(unanswered.box);

  var CHANNELS = { webchat: "Web chat", telegram: "Telegram", slack: "Slack", email: "Email", sms: "SMS" };
  var STATUS = { active: "With the assistant", handoff: "With a librarian", resolved: "Resolved", abandoned: "Abandoned" };
  var PENDING_POLL_MS = 4000;

  function channelName(c) { return CHANNELS[c] || c || "unknown"; }

  function senderLabel(m) {
    switch (m.sender_kind) {
      case "reader": {
        var r = state.conversation && state.conversation.reader;
        return r && r.name ? r.name + " (reader)" : "Reader";
      }
      case "bot": return "Assistant";
      case "librarian": return m.librarian_name ? m.librarian_name + " (librarian)" : "Librarian";
      case "system": return "System";
      default: return m.sender_kind || "Unknown";
    }
  }

  // ---------------------------------------------------------------- transcript
  function messageEl(m) {
    var li = el("li", { className: "msg msg-" + (m.sender_kind || "system") });
    if (m.id !== undefined && m.id !== null) li.dataset.messageId = String(m.id);
    li.append(
      el("div", { className: "msg-meta" }, [
        el("span", { className: "msg-sender", text: senderLabel(m) }),
        el("span", { className: "msg-channel", text: "via " + channelName(m.channel) }),
        C.timeEl(m.sent_at),
      ]),
      el("p", { className: "msg-text", text: m.text == null ? "" : String(m.text) })
    );
    return li;
  }

  function systemLineEl(line) {
    var li = el("li", { className: "msg msg-system msg-system-line", dataset: { lineId: String(line.id), kind: line.kind } }, [
      el("span", { className: "msg-text", text: line.text }), " ", C.timeEl(line.at),
    ]);
    return li;
  }

  // Every row sits in time order (data-at, in ms): a stored row at its stored time (a
  // message's sent_at, a note's created_at, a system line's at), one of our replies not
  // yet back from the store at the time it was last sent (the outbox row's created_at
  // after a reload). So a note or message stored after a reply sorts below it even while
  // the reply is on its way, and the reply's stored copy then takes its own stored
  // place. `floor` keeps a row below rows it is known to follow (our note after our own
  // earlier replies), whatever the browser's clock says. A row already placed moves.
  function place(li, at, floor) {
    var when = typeof at === "number" ? at : Date.parse(at);
    if (isNaN(when)) when = Date.now();
    if (floor && floor > when) when = floor;
    li.dataset.at = String(when);
    var stick = nearBottom();
    var before = null;
    var rows = ui.transcript.querySelectorAll("li[data-at]");
    for (var i = rows.length - 1; i >= 0; i--) {
      if (rows[i] === li) continue;
      if (Number(rows[i].dataset.at) <= when) break;
      before = rows[i];
    }
    ui.transcript.insertBefore(li, before);
    if (stick) ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  // The latest time of a row in the transcript (0 when it is empty).
  function lastAt(selector) {
    var rows = ui.transcript.querySelectorAll(selector || "li[data-at]");
    var latest = 0;
    for (var i = 0; i < rows.length; i++) latest = Math.max(latest, Number(rows[i].dataset.at) || 0);
    return latest;
  }

  function addSystemLines(lines) {
    (lines || []).forEach(function (line) {
      if (state.lineIds.has(String(line.id))) return;
      state.lineIds.add(String(line.id));
      place(systemLineEl(line), line.at);
    });
  }

  function nearBottom() {
    var t = ui.transcript;
    return t.scrollHeight - t.scrollTop - t.clientHeight < 80;
  }

  function appendMessage(m) {
    if (m.id !== undefined && m.id !== null) {
      if (state.messageIds.has(String(m.id))) return;
      state.messageIds.add(String(m.id));
    }
    // Our own reply coming back from the store replaces its local "sending" bubble.
    if (m.sender_kind === "librarian") {
      var mine = state.pending.find(function (p) { return p.text === m.text && !p.confirmed; });
      if (mine) {
        mine.confirmed = true;
        clearTimeout(mine.timer);
        mine.li.remove();
        state.pending = state.pending.filter(function (p) { return p !== mine; });
      }
    }
    place(messageEl(m), m.sent_at);
  }

  // ---------------------------------------------------------------- header and actions
  function renderHeader(conv) {
    ui.status.textContent = conv.state_label || STATUS[conv.status] || conv.status;
    root.dataset.state = conv.state || "";
    root.dataset.unanswered = conv.unanswered ? "true" : "false";
    ui.channel.textContent = channelName(conv.channel);
    var h = conv.handoff;
    var text = "";
    if (h) {
      if (h.status === "waiting") text = "Waiting for a librarian" + (h.department ? " (" + h.department + ")" : "");
      else if (h.status === "claimed") text = "Claimed by " + (h.librarian ? h.librarian.name : "a librarian");
      else text = "Handoff " + h.status;
      if (h.reason) text += " · reason: " + h.reason;
      if (h.transfer_note) text += " · transfer note: " + h.transfer_note;
    }
    ui.handoff.textContent = text;
    var open = h && (h.status === "waiting" || h.status === "claimed");
    var heldByOther = h && h.status === "claimed" && h.librarian && Number(h.librarian.id) !== myId;
    ui.claim.hidden = !(h && h.status === "waiting");
    holder.box.hidden = !heldByOther;
    if (heldByOther) holder.text.textContent = h.librarian.name + " is handling this conversation \u2014 take over?";
    else holder.blocked = [];
    ui.reopen.hidden = !(h && h.status === "resolved");
    ui.transferDetails.hidden = !open;
    ui.resolveDetails.hidden = !open;
    root.dataset.handoffStatus = h ? h.status : "none";
    ui.replyText.placeholder = heldByOther ? "Another librarian holds this conversation." : "";
  }

  // ---------------------------------------------------------------- private notes
  // A note sits in the transcript at its time, marked and coloured apart from replies.
  // Ours shows at once ("Saving…"); the stored note replaces it, from whichever comes
  // first: the POST's answer or the live `note` event (a colleague's notes come only
  // that way). A note's id is shown once, however often it arrives.
  function noteEl(n) {
    return el("li", { className: "msg msg-note", dataset: { noteId: String(n.id) } }, [
      el("div", { className: "msg-meta" }, [
        el("span", { className: "note-badge", text: "Private note" }),
        el("span", { className: "msg-sender", text: n.author || "Staff" }),
        el("span", { className: "muted", text: "not sent to the reader" }),
        C.timeEl(n.created_at),
      ]),
      el("p", { className: "msg-text", text: n.body || "" }),
    ]);
  }

  function addNote(n, floor) {
    if (state.noteIds.has(String(n.id))) return;
    state.noteIds.add(String(n.id));
    place(noteEl(n), n.created_at, floor);
  }

  // Our note being saved, with `body` as written: {body, li, floor}.
  function savingNote(body) {
    var li = el("li", { className: "msg msg-note msg-note-saving", dataset: { state: "saving" } }, [
      el("div", { className: "msg-meta" }, [
        el("span", { className: "note-badge", text: "Private note" }),
        el("span", { className: "msg-sender", text: root.dataset.staffName || "You" }),
        el("span", { className: "msg-state", role: "status", text: "Saving\u2026" }),
      ]),
      el("p", { className: "msg-text", text: body }),
    ]);
    // Below our replies still on their way: the note was written after them.
    var saving = { body: body, li: li, floor: lastAt("li.msg-local") };
    place(li, Date.now(), lastAt());
    state.savingNotes.push(saving);
    return saving;
  }

  function dropSaving(saving) {
    saving.li.remove();
    state.savingNotes = state.savingNotes.filter(function (s) { return s !== saving; });
  }

  // Notes from the store (the conversation view, a live `note` event): one of ours that
  // is still saving gives up its place to it.
  function addNotes(notes) {
    (notes || []).forEach(function (n) {
      if (!n || n.id === undefined || n.id === null || state.noteIds.has(String(n.id))) return;
      var mine = n.author === root.dataset.staffName ? state.savingNotes.find(function (s) {
        return s.body === n.body;
      }) : null;
      if (mine) dropSaving(mine);
      addNote(n, mine ? mine.floor : 0);
    });
  }

  // ---------------------------------------------------------------- reader profile
  function field(label, value, className) {
    return [el("dt", { text: label }), el("dd", { className: className || null }, Array.isArray(value) ? value : [value])];
  }

  function listOf(items, render, emptyText) {
    if (!Array.isArray(items) || !items.length) return el("p", { className: "muted", text: emptyText });
    return el("ul", { className: "plain-list" }, items.map(function (x) { return el("li", {}, render(x)); }));
  }

  function renderReader(r) {
    if (!r) {
      ui.reader.replaceChildren(
        el("p", { className: "reader-name", text: "Anonymous reader" }),
        el("p", { className: "muted", text: "This reader has not identified themselves. Loans, tickets and history are not available." })
      );
      return;
    }
    var dl = el("dl", { className: "profile" });
    var card = r.card_number_masked
      ? [el("span", { className: "card-number", text: r.card_number_masked }), " ",
        el("span", { className: r.verified ? "verified-badge" : "unverified-badge", text: r.verified ? "verified" : "not verified" })]
      : el("span", { className: "muted", text: "no card on file" });
    field("Name", r.name || "Anonymous reader", r.name ? null : "muted").forEach(function (n) { dl.appendChild(n); });
    field("Email", r.email || "—").forEach(function (n) { dl.appendChild(n); });
    field("Library card", card).forEach(function (n) { dl.appendChild(n); });
    field("Loans", r.loans_summary || "not available", r.loans_summary ? null : "muted").forEach(function (n) { dl.appendChild(n); });
    ui.reader.replaceChildren(
      dl,
      el("h3", { text: "Identities" }),
      listOf(r.identities, function (i) {
        return [el("span", { className: "channel-badge", text: channelName(i.channel) }), " ", el("span", { text: i.external_id || "" })];
      }, "None recorded."),
      el("h3", { text: "Past conversations" }),
      listOf(r.past_conversations, function (c) {
        return [
          el("a", { href: "/conversations/" + encodeURIComponent(c.id), text: "#" + c.id }), " ",
          el("span", { text: channelName(c.channel) + " · " + (c.state_label || STATUS[c.status] || c.status || "") + " · " }),
          C.timeEl(c.started_at),
        ];
      }, "No earlier conversations."),
      el("h3", { text: "Tickets" }),
      listOf(r.tickets, function (t) {
        return [el("a", { href: "/tickets#ticket-" + encodeURIComponent(t.id), text: "#" + t.id }), " ", el("span", { text: (t.subject || "") + " (" + (t.status || "") + ")" })];
      }, "No tickets."),
      el("h3", { text: "Feedback" }),
      listOf(r.feedback, function (f) {
        return [el("span", { className: "rating", text: "Rating " + f.rating + "/5" }), f.comment ? " — " : "", f.comment ? el("q", { text: f.comment }) : null];
      }, "No feedback.")
    );
  }

  // ---------------------------------------------------------------- loading
  function load() {
    return C.api("GET", base).then(function (conv) {
      state.conversation = conv;
      renderHeader(conv);
      var messages = Array.isArray(conv.messages) ? conv.messages : [];
      messages.forEach(appendMessage);
      addSystemLines(conv.system_lines);
      addNotes(conv.notes);
      showReaderTyping(conv.reader_typing === true);
      renderReader(conv.reader);
      showUndelivered(conv.undelivered);
      ui.transcript.scrollTop = ui.transcript.scrollHeight;
    }).catch(C.showError);
  }

  // Header-only refresh (after claim, transfer, resolve, or a queue change).
  function reloadHeader() {
    return C.api("GET", base).then(function (conv) {
      state.conversation = conv;
      renderHeader(conv);
      (conv.messages || []).forEach(appendMessage);
      addSystemLines(conv.system_lines);
      addNotes(conv.notes);
    }).catch(C.showError);
  }

  // ---------------------------------------------------------------- replying
  var STATE_TEXT = {
    sending: "Sending…",
    sent: "Sent",
    pending: "Not sent — retrying…",
    failed: "Not sent",
  };

  function setReplyState(p, s, detail) {
    p.li.dataset.state = s;
    p.stateEl.textContent = STATE_TEXT[s] + (detail ? " (" + detail + ")" : "");
    p.retry.hidden = s !== "failed";
  }

  // After a 502 the server keeps the reply and its worker retries delivery. We watch
  // the reply's outbound row in the conversation's `undelivered` list: gone means
  // delivered, "failed" means the server gave up (then a manual retry is safe).
  function watchPending(p) {
    clearTimeout(p.timer);
    p.timer = setTimeout(function () {
      if (p.confirmed) return;
      C.api("GET", base).then(function (conv) {
        if (p.confirmed) return;
        var row = (conv.undelivered || []).find(function (u) { return String(u.id) === String(p.outboundId); });
        if (!row) setReplyState(p, "sent");
        else if (row.status === "failed") setReplyState(p, "failed", row.last_error ? "the chat server is unreachable" : "");
        else watchPending(p);
      }).catch(function () { watchPending(p); });
    }, PENDING_POLL_MS);
  }

  // A reply to a waiting conversation claims it on the server: show who holds it now.
  function afterReply() {
    var h = state.conversation && state.conversation.handoff;
    if (h && h.status === "waiting") reloadHeader();
  }

  function postReply(p) {
    // Sent now (again, after "Try again" or a take-over): it sorts at this time.
    place(p.li, Date.now());
    setReplyState(p, "sending");
    C.api("POST", base + "/messages", { text: p.text }).then(function (reply) {
      if (p.confirmed) return;
      if (reply && reply.id !== undefined) { p.outboundId = reply.id; p.li.dataset.outboundId = String(reply.id); }
      setReplyState(p, "sent");
      afterReply();
    }).catch(function (error) {
      if (p.confirmed) return;
      if (error && error.status === 502 && error.body && error.body.status === "pending") {
        p.outboundId = error.body.id;
        p.li.dataset.outboundId = String(error.body.id);
        setReplyState(p, "pending");
        watchPending(p);
        afterReply();
      } else if (error && error.status === 409 && error.error === "already_claimed") {
        // Nothing was saved or sent: the reply waits here until the librarian takes over.
        var name = (error.body && error.body.claimed_by) || "Another librarian";
        setReplyState(p, "failed", name + " is handling this conversation");
        if (holder.blocked.indexOf(p) < 0) holder.blocked.push(p);
        holder.text.textContent = name + " is handling this conversation \u2014 take over?";
        holder.box.hidden = false;
        reloadHeader();
      } else {
        setReplyState(p, "failed", error && error.message ? error.message : "error");
      }
    });
  }

  function localReply(text, sentAt) {
    var stateEl = el("span", { className: "msg-state", role: "status" });
    var retry = el("button", { type: "button", className: "link-button", text: "Try again", hidden: true });
    var li = el("li", { className: "msg msg-librarian msg-local" }, [
      el("div", { className: "msg-meta" }, [
        el("span", { className: "msg-sender", text: (root.dataset.staffName || "You") + " (librarian)" }),
        el("span", { className: "msg-channel", text: "via " + channelName(state.conversation ? state.conversation.channel : "") }),
        C.timeEl(sentAt || new Date().toISOString()),
      ]),
      el("p", { className: "msg-text", text: text }),
      el("div", { className: "msg-foot" }, [stateEl, " ", retry]),
    ]);
    var p = { text: text, li: li, stateEl: stateEl, retry: retry, confirmed: false, timer: 0, outboundId: null };
    retry.addEventListener("click", function () { postReply(p); });
    state.pending.push(p);
    place(li, sentAt || Date.now());
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
    return p;
  }

  // Replies that were still undelivered when the page loaded.
  function showUndelivered(rows) {
    (rows || []).forEach(function (u) {
      if (typeof u.text !== "string") return;
      if (state.pending.some(function (p) { return String(p.outboundId) === String(u.id); })) return;
      var p = localReply(u.text, u.created_at);
      p.outboundId = u.id;
      p.li.dataset.outboundId = String(u.id);
      if (u.status === "failed") setReplyState(p, "failed");
      else if (u.status === "pending") { setReplyState(p, "pending"); watchPending(p); }
      else setReplyState(p, "sent", u.status === "pending_email" ? "will go by email" : "");
    });
  }

  function sendReply() {
    var text = ui.replyText.value;
    if (!text.trim()) return;
    if (noteMode()) { addPrivateNote(text); return; }
    librarianStopped();
    var p = localReply(text);
    ui.replyText.value = "";
    postReply(p);
  }

  // ---------------------------------------------------------------- reply or private note
  function noteMode() { return ui.modeNote.checked; }

  function applyMode() {
    var note = noteMode();
    ui.replyForm.dataset.mode = note ? "note" : "reply";
    ui.replyLabel.textContent = note ? "Private note (staff only \u2014 the reader never sees it)" : "Reply to the reader";
    ui.replySend.textContent = note ? "Add note" : "Send";
    ui.replyHelp.textContent = note ? "Enter adds the note; Shift+Enter starts a new line." : "Enter sends; Shift+Enter starts a new line.";
    if (note) librarianStopped();
  }

  function addPrivateNote(text) {
    ui.replySend.disabled = true;
    var saving = savingNote(text);
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
    C.api("POST", base + "/notes", { body: text }).then(function (note) {
      C.clearError();
      ui.replyText.value = "";
      dropSaving(saving);
      if (note && note.id !== undefined) addNote(note, saving.floor);
      ui.transcript.scrollTop = ui.transcript.scrollHeight;
    }).catch(function (error) {
      // Not saved: the text stays in the box to try again.
      dropSaving(saving);
      C.showError(error);
    }).then(function () { ui.replySend.disabled = false; });
  }

  Array.prototype.forEach.call(ui.replyForm.querySelectorAll("input[name=mode]"), function (radio) {
    radio.addEventListener("change", function () { applyMode(); ui.replyText.focus(); });
  });

  // ---------------------------------------------------------------- typing, both ways
  // Ours: one POST every TYPING_REFRESH_MS while typing a reply (not a note), "off"
  // after TYPING_IDLE_MS without a keystroke or when the reply is sent.
  var TYPING_REFRESH_MS = 2500;
  var TYPING_IDLE_MS = 4000;
  var typing = { sentAt: 0, idle: 0 };

  function handoffOpen() {
    var h = state.conversation && state.conversation.handoff;
    return !!h && (h.status === "waiting" || h.status === "claimed");
  }

  function postTyping(on) {
    C.api("POST", base + "/typing", { on: on }).catch(function () { /* a hint only; the reply still goes */ });
  }

  function librarianTyping() {
    clearTimeout(typing.idle);
    if (noteMode() || !handoffOpen() || !ui.replyText.value.trim()) { librarianStopped(); return; }
    if (Date.now() - typing.sentAt >= TYPING_REFRESH_MS) { typing.sentAt = Date.now(); postTyping(true); }
    typing.idle = setTimeout(librarianStopped, TYPING_IDLE_MS);
  }

  function librarianStopped() {
    clearTimeout(typing.idle);
    if (!typing.sentAt) return;
    typing.sentAt = 0;
    postTyping(false);
  }

  ui.replyText.addEventListener("input", librarianTyping);

  // Theirs: the `typing` event lists every conversation whose reader is typing now.
  function showReaderTyping(on) {
    var r = state.conversation && state.conversation.reader;
    ui.readerTyping.hidden = !on;
    ui.readerTyping.textContent = on ? (r && r.name ? r.name : "The reader") + " is typing\u2026" : "";
  }

  ui.replyForm.addEventListener("submit", function (e) { e.preventDefault(); sendReply(); });
  ui.replyText.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendReply(); }
  });

  // ---------------------------------------------------------------- canned replies
  function insertText(text) {
    var t = ui.replyText;
    t.value = t.value.trim() ? t.value.replace(/\s*$/, "") + "\n" + text : text;
    t.focus();
    t.setSelectionRange(t.value.length, t.value.length);
  }

  var searchCanned = C.debounce(function () {
    var q = ui.cannedSearch.value.trim();
    if (!q) { ui.cannedResults.replaceChildren(); return; }
    C.api("GET", "/api/canned-responses?q=" + encodeURIComponent(q)).then(function (data) {
      var items = data && Array.isArray(data.items) ? data.items : Array.isArray(data) ? data : [];
      if (!items.length) {
        ui.cannedResults.replaceChildren(el("li", { className: "muted", text: "No canned replies match." }));
        return;
      }
      ui.cannedResults.replaceChildren.apply(ui.cannedResults, items.map(function (c) {
        var button = el("button", { type: "button", className: "canned-choice" }, [
          el("strong", { text: c.title || "Untitled" }),
          c.shortcut ? el("span", { className: "muted", text: " /" + c.shortcut }) : null,
          el("span", { className: "canned-preview", text: c.body || "" }),
        ]);
        button.addEventListener("click", function () {
          C.api("GET", "/api/canned-responses/" + encodeURIComponent(c.id) + "/render?conversation_id=" + encodeURIComponent(conversationId))
            .then(function (r) {
              insertText(r && typeof r.text === "string" ? r.text : c.body || "");
              ui.cannedResults.replaceChildren();
              ui.cannedSearch.value = "";
            }).catch(C.showError);
        });
        return el("li", {}, [button]);
      }));
    }).catch(C.showError);
  }, 250);
  ui.cannedSearch.addEventListener("input", searchCanned);
  ui.cannedSearch.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") {
      var first = ui.cannedResults.querySelector("button");
      if (first) { e.preventDefault(); first.focus(); }
    }
  });

  // ---------------------------------------------------------------- take over
  holder.takeOver.addEventListener("click", function () {
    holder.takeOver.disabled = true;
    C.api("POST", base + "/claim", { take_over: true }).then(function () {
      C.clearError();
      var blocked = holder.blocked;
      holder.blocked = [];
      holder.box.hidden = true;
      blocked.forEach(postReply);
      return reloadHeader();
    }).catch(C.showError).then(function () { holder.takeOver.disabled = false; });
  });

  // ---------------------------------------------------------------- claim / transfer / resolve / reopen
  ui.claim.addEventListener("click", function () {
    ui.claim.disabled = true;
    C.api("POST", base + "/claim", {}).then(function () {
      C.clearError();
      return reloadHeader();
    }).catch(function (error) {
      if (error && error.status === 409 && error.error === "already_claimed") {
        C.showError({ message: "Already claimed by " + (error.body.claimed_by || "another librarian") + "." });
        reloadHeader();
      } else {
        C.showError(error);
      }
    }).then(function () { ui.claim.disabled = false; });
  });

  var staffLoaded = false;
  ui.transferDetails.addEventListener("toggle", function () {
    if (!ui.transferDetails.open || staffLoaded) return;
    C.api("GET", "/api/staff").then(function (data) {
      staffLoaded = true;
      var people = data && Array.isArray(data.items) ? data.items : Array.isArray(data) ? data : [];
      var departments = new Set();
      people.forEach(function (s) {
        if (s.department) departments.add(s.department);
        if (Number(s.id) === myId) return;
        var label = (s.display_name || s.name || s.username || "#" + s.id) +
          (s.presence ? " — " + s.presence : "") + (s.department ? " (" + s.department + ")" : "");
        ui.transferTo.appendChild(el("option", { value: String(s.id), text: label }));
      });
      ui.departments.replaceChildren.apply(ui.departments, Array.from(departments).map(function (d) {
        return el("option", { value: d });
      }));
    }).catch(C.showError);
  });

  ui.transferForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var to = ui.transferTo.value;
    var body = {
      to_user_id: to ? Number(to) : null,
      department: ui.transferDepartment.value.trim() || null,
      note: ui.transferNote.value.trim() || null,
    };
    if (body.to_user_id === null && body.department === null) {
      C.showError({ message: "Choose a librarian or a department to transfer to." });
      return;
    }
    C.api("POST", base + "/transfer", body).then(function () {
      C.clearError();
      ui.transferForm.reset();
      ui.transferDetails.open = false;
      return reloadHeader();
    }).catch(C.showError);
  });

  // The server refuses (409 unanswered) while the reader's last message has no reply;
  // the librarian confirms here, and the second request resolves anyway.
  function resolve(requireAnswered) {
    var tags = ui.resolveTags.value.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
    var submit = document.getElementById("resolve-submit");
    submit.disabled = true;
    unanswered.force.disabled = true;
    var body = { note: ui.resolveNote.value.trim() || null, tags: tags, require_answered: requireAnswered };
    C.api("POST", base + "/resolve", body).then(function () {
      C.clearError();
      unanswered.box.hidden = true;
      ui.resolveForm.reset();
      ui.resolveDetails.open = false;
      return reloadHeader();
    }).catch(function (error) {
      if (error && error.status === 409 && error.error === "unanswered") {
        unanswered.box.hidden = false;
        unanswered.force.focus();
      } else {
        C.showError(error);
      }
    }).then(function () { submit.disabled = false; unanswered.force.disabled = false; });
  }

  ui.resolveForm.addEventListener("submit", function (e) { e.preventDefault(); resolve(true); });
  unanswered.force.addEventListener("click", function () { resolve(false); });
  unanswered.cancel.addEventListener("click", function () { unanswered.box.hidden = true; ui.replyText.focus(); });

  ui.reopen.addEventListener("click", function () {
    C.api("POST", base + "/reopen", {}).then(function () {
      C.clearError();
      return reloadHeader();
    }).catch(C.showError);
  });

  // ---------------------------------------------------------------- live updates
  load().then(function () {
    C.subscribe({
      message: function (data) {
        if (!data || Number(data.conversation_id) !== conversationId || !data.message) return;
        appendMessage(data.message);
        if (data.message.sender_kind === "reader") showReaderTyping(false);
      },
      note: function (data) {
        if (!data || Number(data.conversation_id) !== conversationId || !data.note) return;
        addNotes([data.note]);
      },
      typing: function (data) {
        var ids = data && Array.isArray(data.conversation_ids) ? data.conversation_ids : [];
        showReaderTyping(ids.map(Number).indexOf(conversationId) >= 0);
      },
      queue: function (data) {
        // Someone else claimed, transferred or resolved this conversation.
        var items = data && Array.isArray(data.items) ? data.items : [];
        var mine = items.find(function (i) { return Number(i.conversation_id) === conversationId; });
        var h = state.conversation && state.conversation.handoff;
        var before = h && (h.status === "waiting" || h.status === "claimed") ? h.status + "|" + (h.librarian ? h.librarian.id : "") : "closed";
        var after = mine ? mine.status + "|" + (mine.librarian ? mine.librarian.id : "") : "closed";
        if (before !== after) reloadHeader();
      },
    }, { onreconnect: reloadHeader });
  });
})();
