/*
 * Reader Interaction Center - embeddable web chat widget.
 *
 * Embed with one tag:
 *   <script src="https://host/webhooks/webchat/widget.js" defer
 *           data-title="Ask the library" data-open="true" data-greeting="Hi!"></script>
 *
 * Wire protocol: see connectors/webchat/protocol.py and connectors/webchat/handoff.py.
 * Plain ES2019, no dependencies, no build step. Every server- or reader-provided
 * string goes through textContent / createTextNode; never innerHTML.
 */
(function () {
  "use strict";

  // A page that includes the tag twice must not get two widgets fighting over storage.
  if (window.RicWebchat) return;

  // currentScript is only set while this file is first executing, so capture it now.
  var script = document.currentScript ||
    document.querySelector('script[src*="/webhooks/webchat/widget.js"]');
  var scriptSrc = script && script.src ? script.src : location.origin + "/webhooks/webchat/widget.js";
  var attr = function (name) { return script ? script.getAttribute("data-" + name) : null; };
  var TITLE = attr("title") || "Ask the library";
  var GREETING = attr("greeting");
  var START_OPEN = attr("open") === "true";

  // Resolving against the script URL keeps any path prefix (reverse proxies) and
  // drops cache-busting query strings.
  var WS_URL = (function () {
    var u = new URL("ws", scriptSrc);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    return u.href;
  })();

  var KEY_SESSION = "ric.webchat.session";
  var KEY_SINCE = "ric.webchat.since";
  var KEY_OUTBOX = "ric.webchat.outbox";
  var PING_MS = 25000;
  var PONG_TIMEOUT_MS = 10000;
  var MAX_BACKOFF_MS = 30000;
  var ORIGIN_REFUSED = 4403; // close code: this page's origin may not use the chat
  var TOO_MANY_SOCKETS = 4429; // close code: too many chats open from this tab's network or in this conversation
  var BOT_NAME = "Library assistant";

  // localStorage throws in some privacy modes and sandboxed iframes; the chat must
  // still work there, just without surviving a reload.
  var store = {
    get: function (k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* memory only */ } },
  };

  // randomUUID only exists in secure contexts; library sites are sometimes plain http.
  function uuid() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // The server counts Python code points, not UTF-16 units: an emoji is 1, not 2.
  function charCount(text) { return Array.from(text).length; }

  // The outbox lives in localStorage (shared by all tabs), so always re-read before
  // writing instead of trusting an in-memory copy another tab may have outdated.
  var outbox = {
    read: function () {
      try {
        var v = JSON.parse(store.get(KEY_OUTBOX) || "[]");
        return Array.isArray(v) ? v.filter(function (e) { return e && typeof e.id === "string"; }) : [];
      } catch (e) { return []; }
    },
    add: function (entry) { var l = outbox.read(); l.push(entry); store.set(KEY_OUTBOX, JSON.stringify(l)); },
    remove: function (id) {
      store.set(KEY_OUTBOX, JSON.stringify(outbox.read().filter(function (e) { return e.id !== id; })));
    },
  };

  var state = {
    sessionId: store.get(KEY_SESSION),
    newestTs: 0,            // replay cursor for reconnects within this page
    historyLoaded: false,   // false until the first full history arrived (since=0)
    maxChars: 4000,
    ws: null,
    ready: false,           // welcome + history received: safe to send messages
    attempt: 0,
    retryAt: 0,
    timers: { retry: 0, countdown: 0, ping: 0, pong: 0, typing: 0 },
    isOpen: false,
    unread: 0,
    readerEls: new Map(),   // reader message id -> bubble (dedupe + ack/fail updates)
    pending: new Set(),     // ids this tab is responsible for delivering
    botKeys: new Set(),     // "ts|text" of rendered bot messages (dedupe)
    restored: "",           // text the widget put back into the input box (busy refusals)
    entries: new Map(),     // id -> outbox entry sent by this tab (localStorage may be off)
    secret: false,          // the bot asked for the PIN: the masked box is in use
    lines: new Set(),       // keys of handoff system lines shown ("7:joined")
    opening: null,          // the welcome's greeting and topics, shown on an empty chat
    botTyping: false,       // the assistant is working on a reply
    staffTyping: "",        // first name of the librarian typing a reply ("Sam")
    typingSentAt: 0,        // when this tab last told the server the reader types
    capped: false,          // refused as one socket too many; said once until connected
  };
  var TYPING_REFRESH_MS = 2500; // at most one "typing" frame per this while typing
  var TYPING_IDLE_MS = 4000;    // no keystroke for this long: the reader stopped

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "text") node.textContent = props[k];
      else if (k === "className") node.className = props[k];
      else node.setAttribute(k, props[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function timeEl(ms) {
    var d = new Date(ms);
    return el("time", { datetime: d.toISOString(), text: pad(d.getHours()) + ":" + pad(d.getMinutes()) });
  }

  // `all: initial` on :host stops the page's inherited fonts/colours leaking in;
  // the shadow root keeps the page's selectors out.
  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    ".ric-root{font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1b1b1b}",
    ".ric-sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    "button,textarea{font:inherit;color:inherit}",
    ":focus-visible{outline:3px solid #f2a900;outline-offset:2px}",
    ".ric-launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;background:#0b5394;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3);display:flex;align-items:center;justify-content:center}",
    ".ric-launcher:hover{background:#083d6e}",
    ".ric-launcher svg{width:28px;height:28px;fill:currentColor}",
    ".ric-badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#c62828;color:#fff;font-size:13px;font-weight:700;line-height:22px;text-align:center}",
    ".ric-panel{position:fixed;right:16px;bottom:88px;z-index:2147483001;width:380px;max-width:calc(100vw - 32px);height:580px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".ric-header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#0b5394;color:#fff}",
    ".ric-heading{flex:1;min-width:0}",
    ".ric-title{margin:0;font-size:17px;font-weight:700;overflow-wrap:anywhere}",
    ".ric-status{font-size:13px;opacity:.95}",
    ".ric-close{border:0;background:transparent;color:#fff;font-size:26px;line-height:1;width:40px;height:40px;border-radius:6px;cursor:pointer}",
    ".ric-close:hover{background:rgba(255,255,255,.15)}",
    ".ric-log{flex:1;overflow-y:auto;overflow-x:hidden;padding:12px;background:#f4f6f8;display:flex;flex-direction:column;gap:10px}",
    ".ric-msg,.ric-opening{max-width:85%;padding:8px 11px;border-radius:12px;background:#fff;border:1px solid #d5dbe1;overflow-wrap:anywhere;word-break:break-word}",
    ".ric-reader{align-self:flex-end;background:#dcebf9;border-color:#b4cfea}",
    ".ric-bot,.ric-librarian,.ric-error,.ric-opening{align-self:flex-start}",
    ".ric-librarian{background:#eaf6ec;border-color:#b5dcbc}",
    ".ric-error{background:#fdecea;border-color:#e6a19a;color:#7a1c14}",
    ".ric-meta{display:flex;gap:8px;justify-content:space-between;font-size:12px;color:#4a5560;margin-bottom:2px}",
    ".ric-error .ric-meta{color:#7a1c14}",
    ".ric-sender{font-weight:700}",
    ".ric-text{white-space:pre-wrap}",
    ".ric-img{display:block;max-width:100%;height:auto;margin-top:6px;border-radius:6px}",
    ".ric-state{font-size:12px;color:#4a5560;margin-top:2px;text-align:right}",
    ".ric-reader[data-state=failed]{border-color:#c62828}",
    ".ric-reader[data-state=failed] .ric-state{color:#a01d1d;font-weight:700}",
    ".ric-choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}",
    ".ric-choice,.ric-topic{border:1px solid #0b5394;background:#fff;color:#0b5394;border-radius:16px;padding:6px 12px;min-height:36px;cursor:pointer;max-width:100%;text-align:left;overflow-wrap:anywhere}",
    ".ric-choice:hover:not(:disabled),.ric-topic:hover:not(:disabled){background:#e8f1fa}",
    ".ric-choice:disabled,.ric-topic:disabled{border-color:#aab4be;color:#5f6b76;cursor:default}",
    ".ric-system{align-self:center;max-width:95%;padding:3px 10px;border-radius:10px;background:#e4e8ec;color:#30373e;font-size:13px;text-align:center}",
    ".ric-queue{padding:6px 12px;font-size:14px;background:#fff4d6;color:#3d2f00;border-bottom:1px solid #e6cf8a}",
    ".ric-queue[data-state=with_librarian]{background:#eaf6ec;color:#123d1a;border-color:#b5dcbc}",
    ".ric-typing{padding:4px 14px;font-size:13px;font-style:italic;color:#4a5560;background:#f4f6f8}",
    ".ric-form{display:flex;flex-wrap:wrap;align-items:flex-end;gap:8px;padding:10px;border-top:1px solid #d5dbe1}",
    ".ric-input{flex:1;min-width:0;font-size:16px;resize:none;max-height:140px;padding:8px 10px;border:1px solid #8a96a3;border-radius:8px}",
    ".ric-send{border:0;background:#0b5394;color:#fff;border-radius:8px;padding:0 16px;height:42px;font-weight:700;cursor:pointer}",
    ".ric-send:hover{background:#083d6e}",
    ".ric-counter{flex-basis:100%;font-size:12px;color:#4a5560}",
    ".ric-counter.ric-over{color:#a01d1d;font-weight:700}",
    // Under 480px a floating card leaves no room to type: take the whole screen.
    "@media (max-width:480px){.ric-panel{inset:0;right:0;bottom:0;width:100%;max-width:100%;height:100%;max-height:100%;border-radius:0}}",
  ].join("\n");

  // ---------------------------------------------------------------- build UI
  // A constructed stylesheet is CSSOM, not inline CSS: a host page whose
  // Content-Security-Policy has no 'unsafe-inline' in style-src (the console's demo page)
  // still styles the widget. Browsers without constructable stylesheets (before Safari
  // 16.4) get a <style> element, which such a policy blocks.
  function addStyles(shadow) {
    if (typeof CSSStyleSheet === "function" && "adoptedStyleSheets" in shadow && "replaceSync" in CSSStyleSheet.prototype) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      shadow.appendChild(el("style", { text: CSS }));
    }
  }

  var host = el("div", { id: "ric-webchat" });
  var root = host.attachShadow({ mode: "open" }); // open: integrators' tests can reach in
  var ui = {};

  function buildUi() {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    ui.badge = el("span", { className: "ric-badge", "aria-hidden": "true", hidden: "" });
    ui.launcher = el("button", {
      type: "button", className: "ric-launcher", "aria-label": "Open library chat",
      "aria-expanded": "false", "aria-controls": "ric-panel",
    }, [svg, ui.badge]);

    ui.status = el("div", { className: "ric-status", text: "Connecting…" });
    ui.close = el("button", { type: "button", className: "ric-close", "aria-label": "Close chat", text: "×" });
    var header = el("div", { className: "ric-header" }, [
      el("div", { className: "ric-heading" }, [el("h2", { className: "ric-title", text: TITLE }), ui.status]),
      ui.close,
    ]);
    ui.queue = el("div", { className: "ric-queue", role: "status", hidden: "" });
    ui.log = el("div", { className: "ric-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0", "aria-label": "Conversation" });
    ui.typing = el("div", { className: "ric-typing", "aria-live": "polite", hidden: "" });
    ui.input = el("textarea", { id: "ric-input", className: "ric-input", rows: "1", placeholder: "Type your question…", "aria-describedby": "ric-counter" });
    // A textarea cannot be type=password: while the bot asks for the PIN, this box stands in.
    ui.pin = el("input", {
      id: "ric-pin", className: "ric-input", type: "password", autocomplete: "off",
      inputmode: "numeric", placeholder: "Your PIN", hidden: "",
    });
    ui.label = el("label", { for: "ric-input", className: "ric-sr", text: "Your message" });
    ui.counter = el("div", { id: "ric-counter", className: "ric-counter", hidden: "" });
    ui.send = el("button", { type: "submit", className: "ric-send", "aria-label": "Send message", text: "Send" });
    ui.form = el("form", { className: "ric-form" }, [
      ui.label, ui.input, ui.pin, ui.send, ui.counter,
    ]);
    ui.panel = el("div", { id: "ric-panel", className: "ric-panel", role: "dialog", "aria-label": TITLE, hidden: "" },
      [header, ui.queue, ui.log, ui.typing, ui.form]);
    // Lives outside the panel: the log is display:none while closed, and hidden
    // live regions are not announced.
    ui.announcer = el("div", { className: "ric-sr", "aria-live": "polite", "aria-atomic": "true" });
    addStyles(root);
    root.appendChild(el("div", { className: "ric-root" }, [ui.panel, ui.launcher, ui.announcer]));

    ui.launcher.addEventListener("click", function () { if (state.isOpen) closePanel(); else openPanel(false); });
    ui.close.addEventListener("click", closePanel);
    ui.panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); closePanel(); }
    });
    ui.form.addEventListener("submit", function (e) { e.preventDefault(); submitInput(); });
    ui.input.addEventListener("keydown", function (e) {
      // isComposing: Enter confirms an IME candidate (Chinese, Japanese...), not a send.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitInput(); }
    });
    ui.input.addEventListener("input", function () { autosize(); updateCounter(); readerTyping(); });
  }

  // The reader's typing, for the librarian's console: throttled frames, "off" when
  // the reader pauses, empties the box or sends. The PIN box never reports typing.
  function sendTyping(on) {
    if (!state.ws || !state.ready || state.ws.readyState !== WebSocket.OPEN) return;
    state.ws.send(JSON.stringify({ type: "typing", on: on }));
  }

  function readerTyping() {
    clearTimeout(state.timers.typing);
    if (!ui.input.value.trim()) { readerStopped(); return; }
    if (Date.now() - state.typingSentAt >= TYPING_REFRESH_MS) {
      state.typingSentAt = Date.now();
      sendTyping(true);
    }
    state.timers.typing = setTimeout(readerStopped, TYPING_IDLE_MS);
  }

  function readerStopped() {
    clearTimeout(state.timers.typing);
    if (!state.typingSentAt) return;
    state.typingSentAt = 0;
    sendTyping(false);
  }

  function autosize() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 140) + "px";
  }

  // Only shown near the limit so it doesn't nag every reader.
  function updateCounter() {
    var left = state.maxChars - charCount(ui.input.value.trim());
    var near = left <= Math.max(50, Math.floor(state.maxChars * 0.1));
    ui.counter.hidden = !near;
    ui.counter.classList.toggle("ric-over", left < 0);
    ui.counter.textContent = left >= 0 ? left + " characters left" : -left + " characters over the limit";
  }

  function openPanel(noFocus) {
    state.isOpen = true;
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    setUnread(0);
    scrollToEnd();
    if (noFocus !== true) ui.input.focus(); // data-open must not steal focus from the page
  }

  function closePanel() {
    state.isOpen = false;
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.focus();
  }

  function setUnread(n) {
    state.unread = n;
    ui.badge.hidden = n === 0;
    ui.badge.textContent = n > 9 ? "9+" : String(n);
  }

  function scrollToEnd() { ui.log.scrollTop = ui.log.scrollHeight; }

  // ---------------------------------------------------------------- rendering
  function bubble(kind, sender, ms, text) {
    var node = el("div", { className: "ric-msg ric-" + kind }, [
      el("div", { className: "ric-meta" }, [el("span", { className: "ric-sender", text: sender }), timeEl(ms)]),
    ]);
    if (text) node.appendChild(el("div", { className: "ric-text", text: text }));
    return node;
  }

  function append(node) { ui.log.appendChild(node); scrollToEnd(); }

  // Once the reader has answered, older choices are stale: quick replies go away,
  // buttons stay visible (context) but disabled.
  function retireChoices() {
    ui.log.querySelectorAll(".ric-quick").forEach(function (n) { n.remove(); });
    ui.log.querySelectorAll(".ric-choice,.ric-topic").forEach(function (b) { b.disabled = true; });
  }

  var STATE_TEXT = {
    sending: "Sending…", queued: "queued — will send when reconnected", delivered: "", failed: "Not sent",
  };
  function setState(node, s) {
    node.setAttribute("data-state", s);
    node.querySelector(".ric-state").textContent = STATE_TEXT[s];
  }

  function renderReader(id, text, ms, s) {
    var node = bubble("reader", "You", ms, text);
    node.appendChild(el("div", { className: "ric-state" }));
    if (id) { node.setAttribute("data-id", id); state.readerEls.set(id, node); }
    setState(node, s);
    retireChoices();
    append(node);
    return node;
  }

  function noteTs(ts) {
    if (typeof ts === "number" && ts > state.newestTs) {
      state.newestTs = ts;
      store.set(KEY_SINCE, String(ts));
    }
  }

  // One entry point for every message the server sends (live, echo, or history).
  // `live` is false only for the history replayed on page load: old news, no badge.
  function renderServerMessage(m, live) {
    if (!m || typeof m !== "object") return;
    var ms = typeof m.ts === "number" && m.ts > 0 ? m.ts * 1000 : Date.now();
    var text = typeof m.text === "string" ? m.text : "";
    noteTs(m.ts);
    if (m.type === "reader") {
      var existing = m.id ? state.readerEls.get(m.id) : null;
      if (existing) {
        // Our own unacknowledged message shows up in history: the server has it. Move
        // it to where the server placed it so the bot's answer follows it.
        if (state.pending.has(m.id)) { markDelivered(m.id); retireChoices(); append(existing); }
        return;
      }
      if (!m.id) {
        var rkey = "r|" + m.ts + "|" + text;
        if (state.botKeys.has(rkey)) return;
        state.botKeys.add(rkey);
      }
      var rnode = renderReader(m.id, text, ms, "delivered");
      if (typeof m.ts === "number") rnode.setAttribute("data-ts", String(m.ts));
      return;
    }
    if (m.type !== "bot") return;
    var key = m.ts + "|" + text;
    if (state.botKeys.has(key)) return;
    state.botKeys.add(key);
    var librarian = m.sender === "librarian";
    var sender = librarian ? (typeof m.name === "string" && m.name ? m.name : "Librarian") : BOT_NAME;
    var node = bubble(librarian ? "librarian" : "bot", sender, ms, text);
    // Only http(s) images: a javascript: or data: URL from a compromised backend stays out.
    if (typeof m.image === "string" && /^https?:\/\//i.test(m.image)) {
      node.appendChild(el("img", { className: "ric-img", src: m.image, alt: "Image from " + sender }));
    }
    if (typeof m.ts === "number") node.setAttribute("data-ts", String(m.ts));
    addChoices(node, m.buttons, false);
    addChoices(node, m.quick_replies, true);
    append(node);
    if (live && !state.isOpen) {
      setUnread(state.unread + 1);
      ui.announcer.textContent = "New message from " + sender + ": " + (text || "(choices)");
    }
  }

  function addChoices(node, list, quick) {
    if (!Array.isArray(list) || !list.length) return;
    var box = el("div", { className: "ric-choices" + (quick ? " ric-quick" : ""), role: "group", "aria-label": "Suggested replies" });
    list.forEach(function (b) {
      if (!b || typeof b.title !== "string") return;
      var btn = el("button", { type: "button", className: "ric-choice", text: b.title });
      btn.addEventListener("click", function () {
        sendEntry({ type: "button", id: uuid(), payload: String(b.payload || ""), title: b.title });
        // The clicked button just got disabled or removed; don't strand keyboard focus.
        ui.input.focus();
      });
      box.appendChild(btn);
    });
    node.appendChild(box);
  }

  function renderError(message, code) {
    var node = bubble("error", "Chat", Date.now(), message || "Something went wrong.");
    node.setAttribute("role", "alert");
    if (typeof code === "string") node.setAttribute("data-code", code);
    append(node);
  }

  // ---------------------------------------------------------------- handoff
  // A line that happened earlier than messages already shown (a reload, a slow poll)
  // goes where its time puts it, so "Sam has left" precedes the survey it led to.
  function insertByTs(node, ts) {
    var kids = ui.log.children;
    for (var i = 0; i < kids.length; i++) {
      var t = parseFloat(kids[i].getAttribute("data-ts"));
      if (!isNaN(t) && t > ts) { ui.log.insertBefore(node, kids[i]); scrollToEnd(); return; }
    }
    append(node);
  }

  var OFFLINE_TEXT = "Librarians offline — the assistant can help, and a librarian will reply later";

  function queueText(f) {
    var wait = typeof f.wait === "string" ? " (" + f.wait + ")" : "";
    if (f.position === 1) return "You're next in the queue" + wait;
    return "You are number " + f.position + " in the queue" + wait;
  }

  // The handoff frame: availability in the header, the queue or the librarian in the
  // strip under it, and each join or leave once as a line in the conversation.
  function applyHandoff(f, live) {
    if (!f || typeof f !== "object") return;
    if (state.ready || state.ws) {
      // Whoever is with the reader is there, whatever the presence of the others.
      var here = f.state === "with_librarian" || f.available === true;
      setStatus(here ? "Librarians available" : OFFLINE_TEXT);
    }
    (Array.isArray(f.lines) ? f.lines : []).forEach(function (l) {
      if (!l || typeof l.key !== "string" || typeof l.text !== "string" || state.lines.has(l.key)) return;
      state.lines.add(l.key);
      var node = el("div", { className: "ric-system", "data-key": l.key, text: l.text });
      var ts = typeof l.ts === "number" ? l.ts : Infinity;
      if (ts !== Infinity) { node.setAttribute("data-ts", String(ts)); noteTs(ts); }
      insertByTs(node, ts);
      if (live) ui.announcer.textContent = l.text;
    });
    var strip = "";
    if (f.state === "waiting" && typeof f.position === "number") strip = queueText(f);
    else if (f.state === "with_librarian" && typeof f.librarian === "string") {
      strip = "You're chatting with " + f.librarian + " (librarian)";
    }
    ui.queue.textContent = strip;
    ui.queue.hidden = !strip;
    state.staffTyping = f.state === "with_librarian" && typeof f.typing === "string" ? f.typing : "";
    renderTyping();
    ui.queue.setAttribute("data-state", typeof f.state === "string" ? f.state : "none");
  }

  // An empty conversation opens with a greeting and the library's suggested topics;
  // each topic is sent as if the reader had typed it.
  function showOpening() {
    var o = state.opening;
    if (!o || state.openingShown || ui.log.querySelector(".ric-msg") || state.pending.size) return;
    var text = GREETING || (typeof o.greeting === "string" ? o.greeting : "");
    if (!text) return;
    state.openingShown = true;
    // Not a .ric-msg: the greeting is the widget's, not part of the stored conversation.
    var node = el("div", { className: "ric-opening" }, [
      el("div", { className: "ric-meta" }, [el("span", { className: "ric-sender", text: BOT_NAME })]),
      el("div", { className: "ric-text", text: text }),
    ]);
    var topics = (Array.isArray(o.topics) ? o.topics : []).filter(function (t) { return typeof t === "string" && t; });
    if (topics.length) {
      var box = el("div", { className: "ric-choices", role: "group", "aria-label": "Suggested topics" });
      topics.forEach(function (topic) {
        var btn = el("button", { type: "button", className: "ric-topic", text: topic });
        btn.addEventListener("click", function () { sendText(topic); ui.input.focus(); });
        box.appendChild(btn);
      });
      node.appendChild(box);
    }
    append(node);
  }

  // While the bot asks for the PIN the password box replaces the textarea, so the
  // PIN is masked as it is typed; it never goes to localStorage or to the other tabs.
  function setSecret(on) {
    on = on === true;
    if (on === state.secret) return;
    var active = root.activeElement;
    var hadFocus = active === ui.input || active === ui.pin;
    state.secret = on;
    ui.input.hidden = on;
    ui.pin.hidden = !on;
    ui.label.setAttribute("for", on ? "ric-pin" : "ric-input");
    ui.label.textContent = on ? "Your PIN (hidden as you type)" : "Your message";
    if (!on) ui.pin.value = "";
    if (hadFocus) (on ? ui.pin : ui.input).focus();
  }

  // ---------------------------------------------------------------- outgoing
  // The server has settled a message ("delivered" or "failed"): it leaves the outbox,
  // and its bubble shows the outcome. Returns the bubble, if it is on the page.
  function settle(id, outcome) {
    state.entries.delete(id);
    state.pending.delete(id);
    outbox.remove(id);
    var node = state.readerEls.get(id);
    if (node && outcome) setState(node, outcome);
    return node;
  }

  function markDelivered(id) { settle(id, "delivered"); }

  function markFailed(id) { settle(id, "failed"); }

  // The server refused a message because the conversation already has as many as it
  // can hold waiting for the bot ("busy"). Nothing was processed: the bubble goes, and
  // the text goes back into the input box for the reader to send again, after any
  // text restored before it and before whatever the reader has typed since.
  function giveBack(id) {
    var entry = state.entries.get(id) || outbox.read().filter(function (e) { return e.id === id; })[0];
    var node = settle(id, null);
    if (node) { state.readerEls.delete(id); node.remove(); }
    if (entry && entry.secret) { ui.pin.value = entry.text; return; }
    var text = entry ? (entry.type === "button" ? entry.title : entry.text) : "";
    if (typeof text !== "string" || !text) return;
    var value = ui.input.value;
    var head = state.restored && value.indexOf(state.restored) === 0 ? state.restored : "";
    var draft = value.slice(head.length).replace(/^\n/, "");
    var restored = head ? head + "\n" + text : text;
    ui.input.value = draft.trim() ? restored + "\n" + draft : restored;
    state.restored = restored;
    autosize();
    updateCounter();
  }

  function frameFor(entry, resend) {
    if (entry.type === "button") return { type: "button", id: entry.id, payload: entry.payload, title: entry.title };
    return { type: "message", id: entry.id, text: entry.text, resend: !!resend, secret: !!entry.secret };
  }

  function transmit(entry, resend) {
    var node = state.readerEls.get(entry.id);
    if (state.ready && state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(frameFor(entry, resend)));
      if (node) setState(node, "sending");
    } else if (node) {
      setState(node, "queued");
    }
  }

  // Bubble first, then outbox, then socket: the reader sees it instantly and it
  // survives a reload or a dropped connection.
  function sendEntry(entry) {
    if (!entry.secret) outbox.add(entry);
    state.entries.set(entry.id, entry);
    state.pending.add(entry.id);
    var shown = entry.type === "button" ? entry.title : entry.secret ? "\u2022".repeat(charCount(entry.text)) : entry.text;
    renderReader(entry.id, shown, Date.now(), "sending");
    transmit(entry, false);
    return entry.id;
  }

  function sendText(raw) {
    var text = String(raw == null ? "" : raw).trim();
    if (!text) return null;
    var n = charCount(text);
    if (n > state.maxChars) {
      // Same wording as the server's too_long error; the text stays in the box to edit.
      renderError("Your message is " + n + " characters long. Please keep it under " + state.maxChars +
        " characters, or split it into several messages.");
      return null;
    }
    return sendEntry({ type: "message", id: uuid(), text: text });
  }

  function submitInput() {
    if (state.secret) {
      var pin = ui.pin.value.trim();
      if (!pin) return;
      sendEntry({ type: "message", id: uuid(), text: pin, secret: true });
      ui.pin.value = "";
      return;
    }
    if (sendText(ui.input.value) === null) return;
    readerStopped();
    state.restored = "";
    ui.input.value = "";
    autosize();
    updateCounter();
  }

  // Re-send everything this tab still owes the server, in order. Entries the server
  // already processed come back as duplicate acks, so resending is always safe.
  function flushOutbox() {
    var secrets = [];
    state.entries.forEach(function (entry) { if (entry.secret) secrets.push(entry); });
    outbox.read().concat(secrets).forEach(function (entry) {
      if (state.pending.has(entry.id)) transmit(entry, true);
    });
  }

  // ---------------------------------------------------------------- connection
  function setStatus(text) { ui.status.textContent = text; }
  // The header says whether librarians are there; whether the socket is, is an attribute.
  function setConnection(online) { ui.status.setAttribute("data-connection", online ? "online" : "offline"); }

  function clearTimers() {
    clearTimeout(state.timers.retry);
    clearInterval(state.timers.countdown);
    clearInterval(state.timers.ping);
    clearTimeout(state.timers.pong);
  }

  function connect() {
    clearTimers();
    setConnection(false);
    setStatus("Connecting…");
    var ws;
    try { ws = new WebSocket(WS_URL); } catch (e) { scheduleReconnect(); return; }
    state.ws = ws;
    // A proxy can accept the socket and then never forward it; without a welcome in
    // time, treat the attempt as failed rather than sitting on "Connecting…" forever.
    state.timers.pong = setTimeout(dropSocket, PONG_TIMEOUT_MS);
    ws.onopen = function () {
      // since=0 until a full history arrived, so a reload re-renders the whole conversation.
      ws.send(JSON.stringify({
        type: "hello", session_id: state.sessionId || null, since: state.historyLoaded ? state.newestTs : 0,
      }));
    };
    ws.onmessage = function (ev) {
      if (ws !== state.ws) return;
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (frame && typeof frame === "object") handleFrame(frame);
    };
    ws.onclose = function (ev) {
      if (ws !== state.ws) return;
      if (ev.code === ORIGIN_REFUSED) { refused(ev.reason); return; }
      if (ev.code === TOO_MANY_SOCKETS) { tooMany(ev.reason); return; }
      dropSocket();
    };
  }

  // Too many chats are open (from this network, or this conversation in other tabs):
  // say so once, and keep retrying with the usual backoff, since closing one frees a
  // place. Messages typed meanwhile wait in the outbox as they do offline.
  function tooMany(reason) {
    if (!state.capped) {
      state.capped = true;
      renderError(reason || "Too many chats are open. Close one, and this chat will connect.", "too_many_connections");
    }
    dropSocket();
  }

  // The chat server does not serve this website (its origin is not allowed): say so,
  // and do not retry, since retrying cannot help.
  function refused(reason) {
    state.ws = null;
    state.ready = false;
    clearTimers();
    setConnection(false);
    setStatus("Chat unavailable on this website");
    renderError(reason || "This website may not use the library's chat.", "origin_refused");
    // Nothing typed here could ever be sent: say so rather than queue it.
    ui.input.disabled = ui.pin.disabled = ui.send.disabled = true;
  }

  // Called for a clean close and for a dead connection alike; detaches the socket
  // first so a late close event from it cannot schedule a second reconnect.
  function dropSocket() {
    var ws = state.ws;
    state.ws = null;
    state.ready = false;
    setConnection(false);
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try { ws.close(); } catch (e) { /* already closed */ }
    }
    showTyping(false);
    state.pending.forEach(function (id) {
      var node = state.readerEls.get(id);
      if (node) setState(node, "queued");
    });
    scheduleReconnect();
  }

  // Exponential backoff with jitter, so a server restart is not met by every
  // library's readers reconnecting in the same second.
  function scheduleReconnect() {
    clearTimers();
    var base = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, state.attempt));
    var delay = Math.min(MAX_BACKOFF_MS, Math.round(base * (0.75 + Math.random() * 0.5)));
    state.attempt += 1;
    state.retryAt = Date.now() + delay;
    var tick = function () {
      var s = Math.max(1, Math.ceil((state.retryAt - Date.now()) / 1000));
      setStatus("Offline — reconnecting in " + s + "s");
    };
    tick();
    state.timers.countdown = setInterval(tick, 1000);
    state.timers.retry = setTimeout(connect, delay);
  }

  function startPing() {
    clearInterval(state.timers.ping);
    state.timers.ping = setInterval(function () {
      if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
      state.ws.send(JSON.stringify({ type: "ping" }));
      // A half-open TCP connection (laptop lid, mobile handover) never fires close;
      // a missing pong is the only sign.
      clearTimeout(state.timers.pong);
      state.timers.pong = setTimeout(dropSocket, PONG_TIMEOUT_MS);
    }, PING_MS);
  }

  function showTyping(on) {
    state.botTyping = on === true;
    renderTyping();
  }

  // One line under the messages: the assistant at work, or the librarian typing.
  function renderTyping() {
    var text = state.botTyping ? "Library assistant is typing…"
      : state.staffTyping ? state.staffTyping + " is typing…" : "";
    ui.typing.hidden = !text;
    ui.typing.textContent = text;
    ui.typing.setAttribute("data-who", state.botTyping ? "assistant" : state.staffTyping ? "librarian" : "");
  }

  function handleFrame(f) {
    switch (f.type) {
      case "welcome":
        if (typeof f.session_id === "string") { state.sessionId = f.session_id; store.set(KEY_SESSION, f.session_id); }
        if (typeof f.max_chars === "number" && f.max_chars > 0) { state.maxChars = f.max_chars; updateCounter(); }
        state.attempt = 0;
        state.capped = false;
        clearTimeout(state.timers.pong);
        setStatus("Connected");
        setConnection(true);
        if (typeof f.greeting === "string" || Array.isArray(f.topics)) state.opening = { greeting: f.greeting, topics: f.topics };
        startPing();
        break;
      case "history": {
        var live = state.historyLoaded; // replay after a reconnect is news; page-load history is not
        (Array.isArray(f.messages) ? f.messages : []).forEach(function (m) { renderServerMessage(m, live); });
        state.historyLoaded = true;
        // Still-undelivered messages belong after everything the server already has.
        state.pending.forEach(function (id) { var n = state.readerEls.get(id); if (n) append(n); });
        if (state.pending.size) retireChoices();
        applyHandoff(f.handoff, live);
        if (typeof f.secret === "boolean") setSecret(f.secret);
        showOpening();
        state.ready = true;
        flushOutbox();
        break;
      }
      case "ack":
        if (typeof f.id === "string") markDelivered(f.id);
        if (typeof f.secret === "boolean") setSecret(f.secret);
        break;
      case "handoff":
        applyHandoff(f, true);
        break;
      case "typing":
        showTyping(f.on === true);
        break;
      case "error":
        // "slow_down": over the reader's rate limit (issue 18); not processed either.
        if ((f.code === "busy" || f.code === "slow_down") && typeof f.id === "string") {
          giveBack(f.id);
          // A burst refused message by message needs one notice, not one per message.
          var last = ui.log.lastElementChild;
          if (last && last.getAttribute("data-code") === f.code) break;
        } else if (typeof f.id === "string") {
          markFailed(f.id);
        }
        renderError(typeof f.message === "string" ? f.message : "", f.code);
        break;
      case "pong":
        clearTimeout(state.timers.pong);
        break;
      case "bot":
      case "reader":
        renderServerMessage(f, true);
        if (f.type === "bot" && f.sender === "librarian") state.staffTyping = "";
        if (f.type === "bot") showTyping(false);
        break;
      default:
        break; // newer server, older widget: ignore what we don't understand
    }
  }

  // ---------------------------------------------------------------- boot
  function boot() {
    buildUi();
    document.body.appendChild(host);
    // Messages a previous page load could not deliver: show them now, send after history.
    outbox.read().forEach(function (entry) {
      state.pending.add(entry.id);
      state.entries.set(entry.id, entry);
      renderReader(entry.id, entry.type === "button" ? entry.title : entry.text, Date.now(), "queued");
    });
    // The browser knows before our backoff timer does that the network is back.
    window.addEventListener("online", function () { if (!state.ws) { state.attempt = 0; connect(); } });
    if (START_OPEN) openPanel(true);
    connect();
  }

  window.RicWebchat = {
    open: function () { if (ui.panel) openPanel(false); },
    close: function () { if (ui.panel) closePanel(); },
    send: function (text) { return ui.panel ? sendText(text) : null; },
    sessionId: function () { return state.sessionId; },
  };

  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot);
})();
