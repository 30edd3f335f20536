/*
 * The "/" picker for canned replies in a conversation's reply box.
 *
 * Typing "/" at the start of the box or after a space opens a list of the canned
 * replies (shared and the librarian's own) filtered by what follows the slash:
 * title, shortcut or tag. Arrow keys move, Enter or Tab inserts, Escape closes. The
 * chosen reply is filled in by the server (GET /api/canned-responses/<id>/render),
 * so {first_name}, {reader_name}, {librarian_name} and {library_name} become the real
 * values, or "there" / "your librarian" when one is unknown; no raw placeholder is
 * ever put in the box. It attaches to #reply-text, or any textarea with
 * data-canned-picker, inside an element carrying data-conversation-id. Text is set
 * with textContent only. Its look is in conversation.css (no injected <style>: the
 * console's Content-Security-Policy has no 'unsafe-inline' for styles).
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  if (!C) return;
  var el = C.el;
  var TRIGGER = /(^|\s)\/([\w-]*)$/;
  var LIMIT = 8;

  function attach(box) {
    if (box.dataset.cannedPickerAttached) return;
    box.dataset.cannedPickerAttached = "1";
    var holder = box.closest("[data-conversation-id]");
    var conversationId = holder ? holder.dataset.conversationId : "";
    var listId = box.id ? box.id + "-canned-picker" : "canned-picker-list";
    var list = el("ul", { id: listId, className: "canned-picker-list", role: "listbox", "aria-label": "Canned replies", hidden: true });
    var hint = el("p", { id: listId + "-hint", className: "visually-hidden", text: "Type / for canned replies." });
    box.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", hint);
    var describedBy = (box.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    describedBy.push(hint.id);
    box.setAttribute("aria-describedby", describedBy.join(" "));
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", listId);

    var replies = null; // cached on first use; refreshed each time the picker opens
    var shown = [];
    var active = -1;
    var query = null; // the text after "/", or null when closed

    function load() {
      return C.api("GET", "/api/canned-responses").then(function (data) {
        replies = data && Array.isArray(data.items) ? data.items : [];
      });
    }

    function matches(q) {
      var needle = q.toLowerCase();
      var scored = [];
      (replies || []).forEach(function (c) {
        var shortcut = (c.shortcut || "").toLowerCase();
        var title = (c.title || "").toLowerCase();
        var tag = (c.tag || "").toLowerCase();
        var score = !needle ? 2 : shortcut.indexOf(needle) === 0 ? 0 : title.indexOf(needle) === 0 ? 1
          : shortcut.indexOf(needle) >= 0 || title.indexOf(needle) >= 0 || tag.indexOf(needle) >= 0 ? 2 : -1;
        if (score >= 0) scored.push({ score: score, reply: c });
      });
      scored.sort(function (a, b) { return a.score - b.score || String(a.reply.title).localeCompare(String(b.reply.title)); });
      return scored.slice(0, LIMIT).map(function (s) { return s.reply; });
    }

    function close() {
      query = null;
      shown = [];
      active = -1;
      list.hidden = true;
      list.replaceChildren();
      box.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
        if (i === index) li.scrollIntoView({ block: "nearest" });
      });
      if (index >= 0 && list.children[index]) box.setAttribute("aria-activedescendant", list.children[index].id);
      else box.removeAttribute("aria-activedescendant");
    }

    function render() {
      // A late answer of load() renders again: the reply the librarian moved to stays chosen.
      var was = active >= 0 && shown[active] ? shown[active].id : null;
      shown = matches(query || "");
      list.replaceChildren.apply(list, shown.map(function (c, i) {
        var option = el("li", { id: listId + "-" + c.id, className: "canned-picker-option", role: "option", "aria-selected": "false", dataset: { cannedId: String(c.id) } }, [
          el("span", { className: "canned-picker-title", text: (c.shortcut ? "/" + c.shortcut + "  " : "") + (c.title || "") }),
          el("span", { className: "canned-picker-meta", text: (c.tag ? "#" + c.tag + " · " : "") + (c.body || "") }),
        ]);
        option.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        return option;
      }));
      if (!shown.length) list.appendChild(el("li", { className: "canned-picker-empty", role: "presentation", text: "No canned reply matches “" + query + "”." }));
      list.hidden = false;
      var keep = shown.findIndex(function (c) { return c.id === was; });
      highlight(keep >= 0 ? keep : shown.length ? 0 : -1);
    }

    function choose(index) {
      var c = shown[index];
      if (!c) return;
      var caret = box.selectionStart;
      var before = box.value.slice(0, caret);
      var after = box.value.slice(caret);
      var m = TRIGGER.exec(before);
      var start = m ? caret - m[0].length + m[1].length : caret;
      close();
      var url = "/api/canned-responses/" + encodeURIComponent(c.id) + "/render" +
        (conversationId ? "?conversation_id=" + encodeURIComponent(conversationId) : "");
      C.api("GET", url).then(function (filled) {
        var text = filled && typeof filled.text === "string" ? filled.text : "";
        box.value = box.value.slice(0, start) + text + after;
        var at = start + text.length;
        box.focus();
        box.setSelectionRange(at, at);
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }).catch(C.showError);
    }

    function update() {
      var caret = box.selectionStart;
      if (caret !== box.selectionEnd) { close(); return; }
      var m = TRIGGER.exec(box.value.slice(0, caret));
      if (!m) { close(); return; }
      var opening = query === null;
      query = m[2];
      if (replies && !opening) { render(); return; }
      load().then(function () { if (query !== null) render(); }).catch(C.showError);
    }

    box.addEventListener("input", update);
    box.addEventListener("click", update);
    box.addEventListener("blur", function () { setTimeout(close, 150); });
    // Capture phase on the document: the picker's keys must win over the reply box's
    // own Enter-sends handler, which is attached to the box itself.
    document.addEventListener("keydown", function (e) {
      if (e.target !== box || query === null || list.hidden) return;
      var handled = true;
      if (e.key === "ArrowDown") highlight(shown.length ? (active + 1) % shown.length : -1);
      else if (e.key === "ArrowUp") highlight(shown.length ? (active - 1 + shown.length) % shown.length : -1);
      else if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && active >= 0) choose(active);
      else if (e.key === "Escape") close();
      else handled = false;
      if (handled) { e.preventDefault(); e.stopPropagation(); }
    }, true);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("#reply-text, textarea[data-canned-picker]"), attach);
  }

  C.cannedPicker = { attach: attach, start: start };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
