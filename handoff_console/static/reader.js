/*
 * One reader: identities on every channel (as people read them), masked card, feedback,
 * and the reader panel (static/reader_panel.js: library account, earlier conversations
 * and tickets with their ratings); split (tick identities), merge (search, confirm), message on the latest
 * reachable channel, and the audit history. Every reader-provided string is set with
 * textContent (RicConsole.el); nothing here assigns innerHTML.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var el = C.el;

  var root = document.getElementById("reader");
  var readerId = root.dataset.readerId;
  var canEdit = root.dataset.canEdit === "true";
  var base = "/api/readers/" + encodeURIComponent(readerId);
  var $ = function (id) { return document.getElementById(id); };
  var state = { reader: null, mergeTarget: null };

  function nameOf(r) { return r && r.name ? r.name : "Anonymous reader"; }

  function empty(list, text) {
    if (!list.children.length) list.appendChild(el("li", { className: "empty", text: text }));
  }

  // ---------------------------------------------------------------- profile
  function renderProfile(r) {
    state.reader = r;
    $("reader-name").textContent = nameOf(r);
    document.title = "Reader " + r.id + ": " + nameOf(r) + " · Reader Interaction Center";
    var meta = [];
    meta.push(r.verified ? "Verified" : "Not verified");
    if (r.card) meta.push("card " + r.card);
    if (r.email) meta.push(r.email);
    $("reader-meta").replaceChildren(el("span", { id: "reader-card-line", text: meta.join(" · ") }));

    var rows = $("identities-rows");
    rows.replaceChildren.apply(rows, r.identities.map(function (i) {
      var box = canEdit ? el("td", {}, [el("input", {
        type: "checkbox", name: "identity", value: String(i.id), id: "identity-" + i.id,
        "aria-label": "Split off " + i.channel + " " + i.external_id,
      })]) : null;
      return el("tr", { dataset: { identityId: String(i.id), channel: i.channel } }, [
        box,
        el("td", {}, [el("span", { className: "channel-badge", text: i.channel })]),
        el("td", { className: "identity-label", text: i.label }),
        el("td", { className: "address", text: i.external_id }),
        el("td", { className: "reachable", text: i.reachable ? "yes" : "no (blocked or unreachable)" }),
        el("td", {}, [i.last_seen_at ? C.timeEl(i.last_seen_at) : el("span", { className: "muted", text: "never" })]),
      ]);
    }));
    if (!r.identities.length) rows.appendChild(el("tr", {}, [el("td", { colspan: "6", className: "empty", text: "No identities." })]));

    var target = r.reachable_conversation;
    $("reach-target").textContent = target
      ? "Messages go to their most recent reachable channel: " + target.channel + " (conversation #" + target.id + ")."
      : "No channel can reach this reader now; a message would be recorded, not sent.";

    var feedback = $("feedback-list");
    feedback.replaceChildren.apply(feedback, r.feedback.map(function (f) {
      return el("li", {}, [
        el("strong", { text: f.rating + "/5" }), " ",
        f.comment ? el("span", { className: "feedback-comment", text: f.comment }) : el("span", { className: "muted", text: "no comment" }),
        " ", C.timeEl(f.created_at),
      ]);
    }));
    empty(feedback, "No feedback.");
  }

  // A merge into this reader that has not been undone gets an "Undo" form.
  function undoForm(a) {
    var reasonId = "undo-reason-" + a.id;
    var reason = el("input", { id: reasonId, autocomplete: "off", maxlength: "500" });
    var status = el("span", { className: "muted", role: "status" });
    var form = el("form", { className: "undo-merge", hidden: true }, [
      el("label", { for: reasonId, text: "Why undo this merge?" }), reason,
      el("button", { type: "submit", text: "Confirm undo" }), " ", status,
    ]);
    var open = el("button", { type: "button", className: "link-button", text: "Undo this merge",
      onclick: function () { form.hidden = false; open.hidden = true; reason.focus(); } });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!reason.value.trim()) { status.textContent = "Give a reason."; return; }
      C.api("POST", base + "/undo-merge", { audit_id: a.id, reason: reason.value.trim() }).then(function (data) {
        $("merge-status").textContent = "Merge undone: reader #" + data.restored_reader.id + " is back.";
        return load();
      }).catch(function (error) { status.textContent = "Not undone: " + error.message; });
    });
    return el("div", {}, [open, form]);
  }

  function renderAudit(items) {
    var list = $("audit-list");
    var undone = {};
    items.forEach(function (a) {
      if (a.action === "reader.unmerge" && a.detail) undone[a.detail.merge_audit_id] = true;
    });
    list.replaceChildren.apply(list, items.map(function (a) {
      var undoable = canEdit && a.action === "reader.merge" && !undone[a.id] &&
        a.detail && String(a.detail.keep_id) === String(readerId);
      return el("li", { dataset: { action: a.action, auditId: String(a.id) } }, [
        C.timeEl(a.created_at), " ",
        el("strong", { text: a.staff && a.staff.name ? a.staff.name : "System" }), ": ",
        el("span", { className: "audit-summary", text: a.summary }),
        undoable ? undoForm(a) : null,
      ]);
    }));
    empty(list, "Nothing recorded yet.");
  }

  function load() {
    window.RicReaderPanel.render($("reader-panel"), readerId, {
      sections: ["library", "history"], canEdit: canEdit,
      onChange: function () { C.api("GET", base + "/audit").then(function (d) { renderAudit(d.items || []); }); },
    });
    return Promise.all([C.api("GET", base), C.api("GET", base + "/audit")]).then(function (results) {
      renderProfile(results[0]);
      renderAudit(results[1].items || []);
    }).catch(function (error) {
      if (error && error.status === 404) $("reader-name").textContent = "not found";
      C.showError(error);
    });
  }

  // ---------------------------------------------------------------- split
  function setupSplit() {
    $("split-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var status = $("split-status");
      var ids = Array.prototype.map.call(
        document.querySelectorAll('#identities-rows input[name="identity"]:checked'),
        function (box) { return Number(box.value); });
      if (!ids.length) { status.textContent = "Tick at least one identity first."; return; }
      var reason = $("split-reason").value.trim();
      if (!reason) { status.textContent = "Give a reason for the audit history."; return; }
      $("split-submit").disabled = true;
      C.api("POST", base + "/split", { identity_ids: ids, reason: reason }).then(function (data) {
        var fresh = data.new_reader;
        status.replaceChildren(
          "Split off into ",
          el("a", { href: "/readers/" + encodeURIComponent(fresh.id), id: "split-new-reader", text: "reader #" + fresh.id }),
          "."
        );
        $("split-reason").value = "";
        return load();
      }).catch(function (error) { status.textContent = "Not split: " + error.message; })
        .then(function () { $("split-submit").disabled = false; });
    });
  }

  // ---------------------------------------------------------------- merge
  function setupMerge() {
    var results = $("merge-results");
    var confirmBox = $("merge-confirm");
    var status = $("merge-status");

    function choose(r) {
      state.mergeTarget = r;
      $("merge-question").textContent = "Merge reader #" + r.id + " (" + nameOf(r) + ") into reader #" +
        readerId + " (" + nameOf(state.reader) + ")? Reader #" + r.id + " will no longer exist on its own.";
      $("merge-force").checked = false;
      $("merge-force-label").hidden = true;
      confirmBox.hidden = false;
      $("merge-reason").focus();
    }

    $("merge-search-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var query = $("merge-q").value.trim();
      C.api("GET", "/api/readers?q=" + encodeURIComponent(query)).then(function (data) {
        var items = (data.items || []).filter(function (r) { return String(r.id) !== String(readerId); });
        results.replaceChildren.apply(results, items.map(function (r) {
          return el("li", { dataset: { readerId: String(r.id) } }, [
            el("span", { className: "merge-candidate", text: "#" + r.id + " " + nameOf(r) + (r.card ? " · card " + r.card : "") + (r.channels && r.channels.length ? " · " + r.channels.join(", ") : "") }),
            " ",
            el("button", { type: "button", className: "button-secondary", text: "Choose", "aria-label": "Choose reader #" + r.id, onclick: function () { choose(r); } }),
          ]);
        }));
        empty(results, "No other reader matches.");
      }).catch(function (error) { C.showError(error); });
    });

    $("merge-cancel").addEventListener("click", function () {
      confirmBox.hidden = true;
      state.mergeTarget = null;
    });

    $("merge-submit").addEventListener("click", function () {
      var target = state.mergeTarget;
      if (!target) return;
      var reason = $("merge-reason").value.trim();
      if (!reason) { status.textContent = "Give a reason for the audit history."; return; }
      var body = { other_id: target.id, reason: reason, force: $("merge-force").checked };
      $("merge-submit").disabled = true;
      C.api("POST", base + "/merge", body).then(function () {
        status.textContent = "Reader #" + target.id + " was merged into this reader.";
        confirmBox.hidden = true;
        results.replaceChildren();
        $("merge-reason").value = "";
        state.mergeTarget = null;
        return load();
      }).catch(function (error) {
        if (error.error === "card_conflict") $("merge-force-label").hidden = false;
        status.textContent = "Not merged: " + error.message;
      }).then(function () { $("merge-submit").disabled = false; });
    });
  }

  // ---------------------------------------------------------------- message
  function setupMessage() {
    $("message-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var text = $("message-text").value;
      var status = $("message-status");
      if (!text.trim()) { status.textContent = "Write a message first."; return; }
      $("message-send").disabled = true;
      C.api("POST", base + "/messages", { text: text }).then(function (data) {
        status.textContent = "Sent on " + data.channel + ".";
        $("message-text").value = "";
      }).catch(function (error) {
        status.textContent = "Not sent: " + error.message;
        return load();
      }).then(function () { $("message-send").disabled = false; });
    });
  }

  if (canEdit) { setupSplit(); setupMerge(); setupMessage(); }
  load();
})();
