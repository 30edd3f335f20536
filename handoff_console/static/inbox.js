/*
 * The inbox: lists on the left (GET /api/inbox, every filter in the URL), the chosen
 * conversation in the middle (its own page, /conversations/<id>, in a same-origin
 * frame without the top bar), the reader on the right (RicReaderPanel.render when
 * reader_panel.js is loaded, else a summary from /api/readers/<id>).
 *
 * It refreshes when the SSE `queue` event says the queue changed (shared with the
 * title count and sound in console.js) and every 20 s for the other lists. Keyboard
 * shortcuts are registered with RicConsole.shortcuts. Reader text is set with
 * textContent only.
 */
window.RicConsole.page({
  inbox: "inbox", list: "inbox-list", empty: "inbox-empty", summary: "inbox-summary",
  form: "inbox-filters", clear: "filter-clear", more: "filter-more", prev: "page-prev", next: "page-next",
  frame: "inbox-frame", placeholder: "inbox-placeholder", reader: "inbox-reader-panel",
  announcer: "inbox-announcer", help: "shortcut-help-button",
}, function (C, ui) {
  "use strict";
  var el = C.el;
  var FILTERS = ["q", "channel", "branch", "tag", "language", "from", "to"];
  var LIST_NAMES = { waiting: "Waiting", mine: "Mine", open: "All open", resolved: "Resolved", bot: "Bot only" };
  var LANGUAGES = {};
  Array.prototype.forEach.call(document.querySelectorAll("#filter-language option[value]"), function (o) {
    if (o.value) LANGUAGES[o.value] = o.textContent;
  });
  var CHANNELS = { webchat: "Web chat", telegram: "Telegram", slack: "Slack", email: "Email", sms: "SMS" };
  var STATES = { waiting: "Waiting", claimed: "With a librarian", resolved: "Resolved", abandoned: "Abandoned", ticketed: "Ticket", bot: "Assistant only" };

  var state = readUrl();
  var items = [];
  var rows = new Map();     // conversation_id -> {li, item, startedMs}
  var shownReader = null;
  var loadedFrame = null;
  var request = 0;
  var arrived = new Set();  // conversations that arrived while the page was open

  // ---------------------------------------------------------------- URL <-> state
  function readUrl() {
    var params = new URLSearchParams(location.search);
    var s = { list: params.get("list") || "waiting", page: Number(params.get("page")) || 1, open: Number(params.get("open")) || null };
    if (!LIST_NAMES[s.list]) s.list = "waiting";
    FILTERS.forEach(function (name) { s[name] = params.get(name) || ""; });
    return s;
  }

  function query(s, withOpen) {
    var params = new URLSearchParams();
    params.set("list", s.list);
    FILTERS.forEach(function (name) { if (s[name]) params.set(name, s[name]); });
    if (s.page > 1) params.set("page", String(s.page));
    if (withOpen && s.open) params.set("open", String(s.open));
    return params.toString();
  }

  function pushUrl(replace) {
    var url = location.pathname + "?" + query(state, true);
    if (url === location.pathname + location.search) return;
    if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
  }

  function showFilters() {
    FILTERS.forEach(function (name) { ui.form.elements[name].value = state[name]; });
    ui.more.open = ["channel", "branch", "tag", "language", "from", "to"].some(function (n) { return state[n]; });
    document.querySelectorAll(".inbox-tab").forEach(function (tab) {
      var s = Object.assign({}, state, { list: tab.dataset.list, page: 1, open: null });
      tab.setAttribute("href", "?" + query(s, false));
      if (tab.dataset.list === state.list) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    });
  }

  // ---------------------------------------------------------------- lists
  function load() {
    var mine = ++request;
    return C.api("GET", "/api/inbox?" + query(state, false)).then(function (data) {
      if (mine !== request) return;
      C.clearError();
      render(data);
    }).catch(function (error) {
      if (mine !== request) return;
      C.showError(error);
    });
  }

  function readerName(item) { return item.reader && item.reader.name ? item.reader.name : "Anonymous reader"; }

  function buildRow(item) {
    var li = el("li", { className: "inbox-item",
      dataset: { conversationId: String(item.conversation_id), senderId: item.sender_id } });
    var refs = {
      channel: el("span", { className: "channel-badge" }),
      language: el("span", { className: "language-badge", hidden: true }),
      name: el("strong", { className: "inbox-reader-name" }),
      other: el("span", { className: "inbox-other", hidden: true }),
      wait: el("span", { className: "inbox-wait" }),
      state: el("span", { className: "inbox-state muted small" }),
      question: el("p", { className: "inbox-question" }),
    };
    var link = el("a", { href: "#", className: "inbox-open" }, [
      el("span", { className: "inbox-line" }, [refs.channel, refs.language, refs.name, refs.other, refs.wait]),
      el("span", { className: "inbox-line" }, [refs.state]),
      refs.question,
    ]);
    link.addEventListener("click", function (event) {
      event.preventDefault();
      select(Number(li.dataset.conversationId), true);
    });
    li.appendChild(link);
    return { li: li, refs: refs, link: link, item: null, startedMs: 0 };
  }

  function updateRow(row, item) {
    var r = row.refs;
    row.item = item;
    row.li.dataset.state = item.state;
    if (arrived.has(item.conversation_id)) row.li.classList.add("is-new");
    row.link.setAttribute("href", "?" + query(Object.assign({}, state, { open: item.conversation_id }), true));
    r.channel.textContent = CHANNELS[item.channel] || item.channel;
    // The reader's language, when the assistant detected one other than English.
    r.language.hidden = !item.language || item.language === "en";
    r.language.textContent = item.language ? item.language.toUpperCase() : "";
    if (item.language) r.language.setAttribute("title", "Writes in " + (LANGUAGES[item.language] || item.language));
    r.name.textContent = readerName(item);
    r.other.hidden = !item.other_open;
    r.other.textContent = item.other_open === 1 ? "1 other open chat" : item.other_open + " other open chats";
    var text = STATES[item.state] || item.state;
    if (item.state === "claimed" && item.librarian) text = "With " + item.librarian.name;
    if (item.reason) text += " · " + item.reason;
    if (item.department) text += " · " + item.department;
    r.state.textContent = text;
    r.question.textContent = item.question || "(no message from the reader)";
    if (typeof item.waiting_seconds === "number") {
      var started = Date.now() - item.waiting_seconds * 1000;
      if (!row.startedMs || Math.abs(row.startedMs - started) > 5000) row.startedMs = started;
    } else {
      row.startedMs = 0;
    }
    tick(row);
  }

  function tick(row) {
    if (!row.startedMs) {
      row.refs.wait.replaceChildren(C.timeEl(row.item.last_activity_at));
      row.refs.wait.removeAttribute("aria-label");
    } else {
      row.refs.wait.textContent = C.duration((Date.now() - row.startedMs) / 1000);
      row.refs.wait.setAttribute("aria-label", "Waiting for " + row.refs.wait.textContent);
    }
  }

  function render(data) {
    items = data.items || [];
    Object.keys(LIST_NAMES).forEach(function (name) {
      var count = document.querySelector('[data-count="' + name + '"]');
      if (count) count.textContent = String(data.counts[name]);
    });
    C.syncRows(ui.list, rows, items, buildRow, updateRow);
    ui.empty.hidden = items.length !== 0;
    var first = (data.page - 1) * data.page_size;
    ui.summary.textContent = LIST_NAMES[data.list] + ": " + (data.total === 0 ? "none"
      : (first + 1) + "–" + (first + items.length) + " of " + data.total) + (state.q ? " matching “" + state.q + "”" : "");
    ui.prev.hidden = data.page <= 1;
    ui.next.hidden = first + items.length >= data.total;
    markSelected();
  }

  function markSelected() {
    rows.forEach(function (row, id) {
      var chosen = Number(id) === state.open;
      row.li.classList.toggle("is-selected", chosen);
      if (chosen) row.link.setAttribute("aria-current", "true"); else row.link.removeAttribute("aria-current");
    });
  }

  // ---------------------------------------------------------------- the chosen conversation
  function select(conversationId, push) {
    state.open = conversationId;
    markSelected();
    if (push) pushUrl(false);
    var row = rows.get(String(conversationId));
    if (row) row.li.scrollIntoView({ block: "nearest" });
    if (loadedFrame !== conversationId) {
      loadedFrame = conversationId;
      ui.placeholder.hidden = true;
      ui.frame.hidden = false;
      ui.frame.setAttribute("title", "Conversation " + conversationId);
      ui.frame.src = "/conversations/" + encodeURIComponent(conversationId);
    }
    var readerId = row && row.item.reader ? row.item.reader.id : null;
    if (readerId !== shownReader) showReader(readerId);
  }

  // The conversation page is the states engineer's; here it loses its top bar and
  // back link, and its keys reach the inbox's shortcuts.
  ui.frame.addEventListener("load", function () {
    var doc = ui.frame.contentDocument;
    if (!doc || !doc.head) return;
    doc.documentElement.classList.add("in-inbox-frame"); // conversation.css hides them
    C.shortcuts.watch(doc);
  });

  function frameDoc() { return ui.frame.hidden ? null : ui.frame.contentDocument; }

  function showReader(readerId) {
    shownReader = readerId;
    if (!readerId) { ui.reader.replaceChildren(el("p", { className: "muted", text: "An anonymous reader: nothing on file." })); return; }
    if (window.RicReaderPanel && typeof window.RicReaderPanel.render === "function") {
      window.RicReaderPanel.render(ui.reader, readerId, { currentConversationId: state.open });
      return;
    }
    ui.reader.replaceChildren(el("p", { className: "muted", text: "Loading…" }));
    C.api("GET", "/api/readers/" + encodeURIComponent(readerId)).then(function (r) {
      if (shownReader !== readerId) return;
      var dl = el("dl", {}, [
        el("dt", { text: "Name" }), el("dd", { text: r.name || "Not known" }),
        el("dt", { text: "Card" }), el("dd", { text: r.card || "No card on file" }),
        el("dt", { text: "Email" }), el("dd", { text: r.email || "None" }),
        el("dt", { text: "Verified" }), el("dd", { text: r.verified ? "Yes" : "No" }),
        el("dt", { text: "Reached on" }),
        el("dd", {}, [el("ul", {}, (r.identities || []).map(function (i) { return el("li", { text: i.label }); }))]),
        el("dt", { text: "Conversations" }), el("dd", { text: String((r.conversations || []).length) }),
      ]);
      ui.reader.replaceChildren(dl, el("p", {}, [el("a", { href: "/readers/" + encodeURIComponent(r.id), target: "_top", text: "Full profile" })]));
    }).catch(function (error) {
      ui.reader.replaceChildren(el("p", { className: "muted", text: error.message }));
    });
  }

  // ---------------------------------------------------------------- filters, tabs, pages
  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    FILTERS.forEach(function (name) { state[name] = ui.form.elements[name].value.trim(); });
    state.page = 1;
    pushUrl(false);
    showFilters();
    load();
  });
  ui.clear.addEventListener("click", function () {
    FILTERS.forEach(function (name) { state[name] = ""; });
    state.page = 1;
    pushUrl(false);
    showFilters();
    load();
  });
  document.querySelectorAll(".inbox-tab").forEach(function (tab) {
    tab.addEventListener("click", function (event) {
      event.preventDefault();
      state.list = tab.dataset.list;
      state.page = 1;
      pushUrl(false);
      showFilters();
      load();
    });
  });
  ui.prev.addEventListener("click", function () { state.page -= 1; pushUrl(false); load(); });
  ui.next.addEventListener("click", function () { state.page += 1; pushUrl(false); load(); });
  window.addEventListener("popstate", function () {
    state = readUrl();
    showFilters();
    load().then(function () { if (state.open) select(state.open, false); });
  });

  // ---------------------------------------------------------------- shortcuts
  function move(step) {
    if (!items.length) return;
    var index = items.findIndex(function (item) { return item.conversation_id === state.open; });
    index = index === -1 ? (step > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, index + step));
    select(items[index].conversation_id, true);
    rows.get(String(items[index].conversation_id)).link.focus();
  }

  function nextWaiting() {
    return C.api("GET", "/api/inbox?list=waiting").then(function (data) {
      var first = (data.items || []).filter(function (i) { return i.conversation_id !== state.open; })[0] || (data.items || [])[0];
      if (!first) { ui.announcer.textContent = "Nobody is waiting."; return; }
      if (state.list !== "waiting" && state.list !== "open") { state.list = "waiting"; state.page = 1; showFilters(); }
      return load().then(function () { select(first.conversation_id, true); });
    }).catch(C.showError);
  }

  function claim() {
    if (!state.open) return;
    var id = state.open;
    C.api("POST", "/api/conversations/" + encodeURIComponent(id) + "/claim", {}).then(function () {
      ui.announcer.textContent = "You claimed conversation " + id + ".";
      loadedFrame = null;
      select(id, false);
      load();
    }).catch(function (error) {
      if (error.status === 409) {
        ui.announcer.textContent = error.message;
      }
      C.showError(error);
    });
  }

  function inFrame(selector) {
    var doc = frameDoc();
    return doc ? doc.querySelector(selector) : null;
  }

  function focusReply(text) {
    var box = inFrame("#reply-text");
    if (!box) return;
    box.focus();
    if (text) {
      box.value = text;
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function resolve() {
    var details = inFrame("#resolve-details");
    if (!details) return;
    details.open = true;
    var note = inFrame("#resolve-note");
    if (note) note.focus();
  }

  C.shortcuts.add(["j", "ArrowDown"], "Next conversation in the list", function () { move(1); });
  C.shortcuts.add(["k", "ArrowUp"], "Previous conversation in the list", function () { move(-1); });
  C.shortcuts.add(["n"], "Next waiting conversation", nextWaiting);
  C.shortcuts.add(["c"], "Claim the open conversation", claim);
  C.shortcuts.add(["r"], "Resolve: open the resolve form", resolve);
  C.shortcuts.add(["e", "Enter"], "Focus the reply box", function () { focusReply(""); });
  C.shortcuts.add(["/"], "Canned replies: type / in the reply box", function () { focusReply("/"); });
  ui.help.addEventListener("click", function () { C.shortcuts.help(); });

  // ---------------------------------------------------------------- presence and live updates
  var presence = document.getElementById("presence");
  function showPresence(value) {
    presence.querySelectorAll("input[name=presence]").forEach(function (input) { input.checked = input.value === value; });
    presence.dataset.presence = value;
  }
  presence.addEventListener("change", function (e) {
    var before = presence.dataset.presence || "away";
    C.api("POST", "/api/presence", { presence: e.target.value })
      .then(function () { showPresence(e.target.value); })
      .catch(function (error) { showPresence(before); C.showError(error); });
  });
  C.me().then(function (me) { if (me && typeof me.presence === "string") showPresence(me.presence); }).catch(function () {});

  var reload = C.debounce(load, 200);
  C.alerts.listen(function (queueItems, fresh) {
    if (fresh.length) {
      var item = fresh[0];
      ui.announcer.textContent = fresh.length === 1
        ? "New conversation from " + (item.reader && item.reader.name ? item.reader.name : "an anonymous reader") + " on " + (CHANNELS[item.channel] || item.channel)
        : fresh.length + " new conversations are waiting.";
      fresh.forEach(function (f) { arrived.add(f.conversation_id); });
    }
    reload();
  });
  C.sound.attach(document.getElementById("sound-toggle"), document.getElementById("sound-hint"));
  C.alerts.start({}, { onreconnect: load });
  setInterval(function () { rows.forEach(tick); }, 1000);
  setInterval(load, 20000);

  showFilters();
  pushUrl(true);
  load().then(function () { if (state.open) select(state.open, false); });
});
