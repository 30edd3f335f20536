/*
 * Shared helpers for the librarian console pages (queue, conversation, tickets, canned).
 *
 * - RicConsole.api(): fetch wrapper that sends the CSRF token from
 *   <meta name="csrf-token"> on unsafe requests and turns JSON errors into ApiError.
 * - RicConsole.subscribe(): Server-Sent Events from /api/events with reconnect.
 * - RicConsole.el(): DOM builder. Every reader- or staff-provided string goes through
 *   textContent / createTextNode; nothing here ever assigns innerHTML.
 * - RicConsole.sound: an audible cue made with the Web Audio API (no binary file).
 * - RicConsole.page(): how each page's script starts, with its elements looked up by id.
 */
(function () {
  "use strict";

  var UNSAFE = { POST: true, PUT: true, PATCH: true, DELETE: true };

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  function ApiError(status, body) {
    this.name = "ApiError";
    this.status = status;
    this.body = body && typeof body === "object" ? body : {};
    this.error = typeof this.body.error === "string" ? this.body.error : "http_" + status;
    this.message = typeof this.body.message === "string" && this.body.message
      ? this.body.message
      : "The console API answered " + status + ".";
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.className = value;
      else if (key === "dataset") Object.keys(value).forEach(function (d) { node.dataset[d] = value[d]; });
      else if (key.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // Keep the rows of a live conversation list (``rows``: conversation id -> {li, ...})
  // in step with ``items``: build the missing rows, update each, drop the gone ones,
  // and reorder only when needed (moving a node that holds focus would drop the focus).
  function syncRows(list, rows, items, build, update) {
    var ids = new Set();
    items.forEach(function (item) {
      var id = String(item.conversation_id);
      ids.add(id);
      var row = rows.get(id);
      if (!row) { row = build(item); rows.set(id, row); }
      update(row, item);
    });
    rows.forEach(function (row, id) { if (!ids.has(id)) { row.li.remove(); rows.delete(id); } });
    var wanted = items.map(function (item) { return rows.get(String(item.conversation_id)).li; });
    var current = Array.prototype.slice.call(list.children);
    if (wanted.length !== current.length || wanted.some(function (li, i) { return current[i] !== li; })) {
      wanted.forEach(function (li) { list.appendChild(li); });
    }
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function parseTime(value) {
    if (typeof value === "number") return new Date(value * 1000);
    var d = new Date(String(value || ""));
    return isNaN(d.getTime()) ? null : d;
  }

  // A <time> with the machine-readable instant and a short local rendering.
  function timeEl(value) {
    var d = parseTime(value);
    if (!d) return el("time", { text: "" });
    var today = new Date();
    var sameDay = d.toDateString() === today.toDateString();
    var label = pad(d.getHours()) + ":" + pad(d.getMinutes());
    if (!sameDay) label = d.toLocaleDateString() + " " + label;
    return el("time", { datetime: d.toISOString(), title: d.toLocaleString(), text: label });
  }

  function duration(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var r = s % 60;
    if (h > 0) return h + "h " + pad(m) + "m";
    if (m > 0) return m + "m " + pad(r) + "s";
    return r + "s";
  }

  // ---------------------------------------------------------------- alerts
  function alertBox() {
    var box = document.getElementById("console-alert");
    if (!box) {
      box = el("div", { id: "console-alert", className: "console-alert", role: "alert", hidden: true });
      var main = document.getElementById("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    return box;
  }

  function showError(error) {
    var box = alertBox();
    var message = error && error.message ? error.message : String(error || "Something went wrong.");
    var dismiss = el("button", { type: "button", className: "link-button", text: "Dismiss" });
    dismiss.addEventListener("click", function () { box.hidden = true; box.replaceChildren(); });
    box.replaceChildren(el("span", { text: message }), " ", dismiss);
    box.hidden = false;
  }

  function clearError() {
    var box = document.getElementById("console-alert");
    if (box) { box.hidden = true; box.replaceChildren(); }
  }

  // ---------------------------------------------------------------- API
  function api(method, url, body) {
    var headers = { Accept: "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (UNSAFE[method]) headers["X-CSRF-Token"] = csrfToken();
    return fetch(url, init).then(function (reply) {
      return reply.text().then(function (raw) {
        var data = null;
        if (raw) { try { data = JSON.parse(raw); } catch (e) { data = null; } }
        if (reply.status === 401) {
          // The session expired: log in again and come back here.
          location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
        }
        if (!reply.ok) throw new ApiError(reply.status, data);
        return data;
      });
    });
  }

  // ---------------------------------------------------------------- live events
  /*
   * subscribe({queue: fn, message: fn}, {onreconnect: fn}) listens to /api/events.
   * EventSource retries dropped connections itself, but gives up for good when the
   * server answers with an error status; then we retry with backoff. onreconnect
   * runs after every reconnection so pages can fetch what they may have missed.
   */
  function subscribe(handlers, options) {
    options = options || {};
    var status = document.getElementById("live-status");
    var source = null;
    var attempt = 0;
    var hadError = false;
    var timer = 0;

    function setStatus(text, state) {
      if (!status) return;
      status.textContent = text;
      status.dataset.state = state;
    }

    function dispatch(name, handler) {
      source.addEventListener(name, function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        try { handler(data); } catch (e) { window.console.error(e); }
      });
    }

    function connect() {
      clearTimeout(timer);
      setStatus("Connecting…", "connecting");
      source = new EventSource("/api/events", { withCredentials: true });
      Object.keys(handlers).forEach(function (name) { dispatch(name, handlers[name]); });
      source.addEventListener("open", function () {
        attempt = 0;
        setStatus("Live", "live");
        if (hadError && typeof options.onreconnect === "function") options.onreconnect();
        hadError = false;
      });
      source.addEventListener("error", function () {
        hadError = true;
        if (source.readyState === EventSource.CLOSED) {
          source.close();
          var delay = Math.min(30000, 1000 * Math.pow(2, attempt));
          attempt += 1;
          setStatus("Offline — reconnecting in " + Math.round(delay / 1000) + "s", "offline");
          timer = setTimeout(connect, delay);
        } else {
          setStatus("Reconnecting…", "connecting");
        }
      });
    }

    connect();
    window.addEventListener("beforeunload", function () { if (source) source.close(); });
    return { close: function () { clearTimeout(timer); if (source) source.close(); } };
  }

  // ---------------------------------------------------------------- sound
  /*
   * Browsers refuse to start audio before the user has interacted with the page, so
   * the cue is opt-in through a toggle button (a user gesture). The preference is
   * remembered; after a reload we resume the audio context on the first click or key.
   */
  var sound = (function () {
    var KEY = "ric.console.sound";
    var ctx = null;
    var enabled = false;
    var toggle = null;
    var hint = null;

    try { enabled = window.localStorage.getItem(KEY) === "on"; } catch (e) { enabled = false; }

    function context() {
      var Ctor = window.AudioContext || window.webkitAudioContext;
      if (!Ctor) return null;
      if (!ctx) { try { ctx = new Ctor(); } catch (e) { ctx = null; } }
      return ctx;
    }

    function blocked() { return !ctx || ctx.state !== "running"; }

    function render() {
      if (!toggle) return;
      toggle.setAttribute("aria-pressed", enabled ? "true" : "false");
      toggle.textContent = enabled ? "Sound on" : "Enable sound";
      if (hint) {
        var showHint = enabled && blocked();
        hint.hidden = !showHint;
        hint.textContent = showHint ? "The browser is holding back sound until you click or press a key on this page." : "";
      }
    }

    function unlock() {
      var c = context();
      if (!c) return Promise.resolve(false);
      if (c.state === "running") return Promise.resolve(true);
      return c.resume().then(function () { render(); return c.state === "running"; }, function () { render(); return false; });
    }

    function save() {
      try { window.localStorage.setItem(KEY, enabled ? "on" : "off"); } catch (e) { /* memory only */ }
    }

    function tone(c, frequency, start, length) {
      var osc = c.createOscillator();
      var gain = c.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
      osc.connect(gain);
      gain.connect(c.destination);
      osc.start(start);
      osc.stop(start + length + 0.05);
    }

    // Returns true when the cue was actually played (for tests and the status line).
    function play() {
      if (!enabled) return false;
      var c = context();
      if (!c || c.state !== "running") { render(); return false; }
      var now = c.currentTime;
      tone(c, 880, now, 0.18);
      tone(c, 660, now + 0.2, 0.25);
      return true;
    }

    var armed = false;
    // After a reload, resume the audio on the page's first click or key (a user gesture).
    function arm() {
      if (armed) return;
      armed = true;
      var firstGesture = function () {
        if (enabled) unlock();
        document.removeEventListener("pointerdown", firstGesture, true);
        document.removeEventListener("keydown", firstGesture, true);
      };
      document.addEventListener("pointerdown", firstGesture, true);
      document.addEventListener("keydown", firstGesture, true);
    }

    function attach(button, hintEl) {
      toggle = button;
      hint = hintEl || null;
      if (!toggle) return;
      toggle.addEventListener("click", function () {
        enabled = !enabled;
        save();
        if (enabled) unlock().then(function (ok) { if (ok) play(); render(); });
        render();
      });
      arm();
      render();
    }

    return {
      attach: attach,
      arm: arm,
      play: play,
      enabled: function () { return enabled; },
    };
  })();

  // ---------------------------------------------------------------- misc
  function debounce(fn, ms) {
    var t = 0;
    return function () {
      var args = arguments;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function me() {
    return api("GET", "/api/me");
  }

  // ---------------------------------------------------------------- pages
  /*
   * page({name: "element-id", ...}, init) starts a page's script: it looks up the
   * page's elements once and calls init(RicConsole, ui), where ui.name is the element
   * with that id. Page scripts load after this file (both deferred, in order).
   */
  function page(ids, init) {
    var ui = {};
    Object.keys(ids).forEach(function (name) { ui[name] = document.getElementById(ids[name]); });
    init(window.RicConsole, ui);
  }

  // ---------------------------------------------------------------- alerts on every page
  /*
   * Every console page (not one shown inside the inbox's frame) counts the readers
   * waiting in its tab title, "(2) Tickets · …", and plays the cue when a new one
   * arrives, from the SSE `queue` events. Pages that want the queue too call
   * alerts.listen(fn) instead of opening a second event stream. The old /queue page
   * (it has #queue-list) keeps its own count and cue.
   */
  var alerts = (function () {
    var listeners = [];
    var seen = null;
    var started = false;
    var waiting = 0;

    function title() {
      var bare = document.title.replace(/^\(\d+\) /, "");
      document.title = waiting > 0 ? "(" + waiting + ") " + bare : bare;
    }

    function onQueue(data) {
      var items = data && Array.isArray(data.items) ? data.items : [];
      var ids = new Set();
      var fresh = [];
      items.forEach(function (item) {
        if (item.status !== "waiting") return;
        ids.add(item.handoff_id);
        if (seen && !seen.has(item.handoff_id)) fresh.push(item);
      });
      seen = ids;
      waiting = ids.size;
      title();
      if (fresh.length) sound.play();
      listeners.forEach(function (fn) {
        try { fn(items, fresh); } catch (e) { window.console.error(e); }
      });
    }

    function start(handlers, options) {
      if (started) return;
      started = true;
      sound.arm();
      var all = Object.assign({}, handlers || {}, { queue: onQueue });
      subscribe(all, options || {});
    }

    return {
      start: start,
      listen: function (fn) { listeners.push(fn); },
      waiting: function () { return waiting; },
    };
  })();

  // ---------------------------------------------------------------- keyboard shortcuts
  /*
   * shortcuts.add(["j", "ArrowDown"], "Next conversation in the list", fn) binds keys
   * on this page; `?` opens a dialog listing them. Nothing fires while the focus is in
   * a text field, a select or an editable element, or with Ctrl, Alt or Meta held.
   * shortcuts.watch(document) listens on another same-origin document too (a frame).
   */
  var shortcuts = (function () {
    var bindings = [];
    var dialog = null;

    function typing(target) {
      if (!target || !target.closest) return false;
      return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
    }

    function find(key) {
      for (var i = 0; i < bindings.length; i += 1) {
        if (bindings[i].keys.indexOf(key) !== -1) return bindings[i];
      }
      return null;
    }

    function help() {
      if (!dialog) {
        dialog = el("dialog", { id: "shortcut-help", className: "shortcut-help", "aria-labelledby": "shortcut-help-title" });
        document.body.appendChild(dialog);
      }
      var rows = bindings.map(function (b) {
        var keys = [];
        b.keys.forEach(function (k, i) {
          if (i) keys.push(" or ");
          keys.push(el("kbd", { text: k === " " ? "Space" : k }));
        });
        return el("tr", {}, [el("td", {}, keys), el("td", { text: b.description })]);
      });
      rows.push(el("tr", {}, [el("td", {}, [el("kbd", { text: "?" })]), el("td", { text: "Show this help" })]));
      var close = el("button", { type: "button", text: "Close" });
      close.addEventListener("click", function () { dialog.close(); });
      dialog.replaceChildren(
        el("h2", { id: "shortcut-help-title", text: "Keyboard shortcuts" }),
        el("table", {}, [
          el("thead", {}, [el("tr", {}, [el("th", { text: "Key" }), el("th", { text: "Does" })])]),
          el("tbody", {}, rows),
        ]),
        el("p", { className: "muted small", text: "Shortcuts never fire while you type in a field." }),
        close
      );
      if (!dialog.open) dialog.showModal();
      close.focus();
    }

    function onKey(event) {
      if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
      if (typing(event.target)) return;
      // Enter on a link or button keeps its own meaning.
      if (event.key === "Enter" && event.target.closest && event.target.closest("a, button, summary")) return;
      if (dialog && dialog.open) return;
      if (event.key === "?") { event.preventDefault(); help(); return; }
      var binding = find(event.key);
      if (!binding) return;
      event.preventDefault();
      binding.handler(event);
    }

    function watch(doc) { doc.addEventListener("keydown", onKey); }
    watch(document);

    return {
      add: function (keys, description, handler) {
        bindings.push({ keys: keys, description: description, handler: handler });
      },
      help: help,
      watch: watch,
      list: function () { return bindings.map(function (b) { return { keys: b.keys.slice(), description: b.description }; }); },
    };
  })();

  var inFrame = window.top !== window;
  document.addEventListener("DOMContentLoaded", function () {
    if (inFrame || !document.querySelector('meta[name="csrf-token"]')) return;
    if (document.getElementById("queue-list")) return;
    if (document.body.dataset.alerts === "manual") return;
    alerts.start();
  });

  window.RicConsole = {
    api: api,
    ApiError: ApiError,
    csrfToken: csrfToken,
    el: el,
    syncRows: syncRows,
    timeEl: timeEl,
    parseTime: parseTime,
    duration: duration,
    showError: showError,
    clearError: clearError,
    subscribe: subscribe,
    sound: sound,
    debounce: debounce,
    me: me,
    page: page,
    alerts: alerts,
    shortcuts: shortcuts,
    inFrame: inFrame,
  };
})();
