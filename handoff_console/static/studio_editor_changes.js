/*
 * Admin studio, pending changes (/studio/changes): each changed file's diff against
 * git HEAD (or the baseline snapshot), discard per file or all (after a confirmation),
 * the patch download, and who changed what (the audit log). textContent only.
 */
window.RicConsole.page({
  baseline: "baseline", list: "change-list", status: "changes-status",
  discardAll: "discard-all", history: "history-rows",
}, function (C, ui) {
  "use strict";
  var el = C.el;
  var ACTIONS = {
    "studio.examples.set": "edited the examples of",
    "studio.examples.move": "moved examples of",
    "studio.intent.create": "created",
    "studio.intent.rename": "renamed",
    "studio.response.set": "edited",
    "studio.response.create": "created",
    "studio.file.set": "edited the YAML of",
    "studio.changes.discard": "discarded changes:",
  };

  function say(kind, message, reasons) { window.RicStudio.say(ui.status, kind, message, reasons); }

  function diffBlock(diff, path) {
    // Focusable: a long line scrolls sideways, and the keyboard must reach it.
    return el("pre", { className: "studio-diff", tabindex: "0", "aria-label": "Changes to " + path }, diff.split("\n").filter(function (line, i, all) {
      return i < all.length - 1 || line;
    }).map(function (line) {
      var kind = line.indexOf("@@") === 0 ? "hunk" : line[0] === "+" && line.indexOf("+++") !== 0 ? "add"
        : line[0] === "-" && line.indexOf("---") !== 0 ? "del" : "";
      return el("span", { className: kind, text: line || " " });
    }));
  }

  function discard(paths, label) {
    C.api("POST", "/api/studio/changes/discard", paths ? { paths: paths } : {})
      .then(function (reply) { say("ok", "Discarded " + label + "."); load(); })
      .catch(function (error) { window.RicStudio.refusal(ui.status, error, "discarded"); });
  }

  function confirmThen(anchor, question, action) {
    var yes = el("button", { type: "button", className: "button-danger", text: "Yes, discard" });
    var no = el("button", { type: "button", className: "button-secondary", text: "Keep them" });
    var box = el("span", { className: "studio-inline", role: "group" }, [el("span", { text: question }), yes, no]);
    anchor.replaceWith(box);
    yes.focus();
    no.addEventListener("click", function () { box.replaceWith(anchor); anchor.focus(); });
    yes.addEventListener("click", function () { box.replaceWith(anchor); action(); });
  }

  function fileBox(change) {
    var discardOne = el("button", { type: "button", className: "button-secondary", text: "Discard" , "aria-label": "Discard the changes to " + change.path });
    discardOne.addEventListener("click", function () {
      confirmThen(discardOne, "Discard the changes to " + change.path + "?", function () { discard([change.path], change.path); });
    });
    return el("article", { className: "studio-change", dataset: { path: change.path } }, [
      el("div", { className: "studio-file-head" }, [
        el("h3", { text: change.path }),
        el("span", { className: "studio-inline" }, [
          el("span", { className: "muted small", text: change.status + ", +" + change.added_lines + " −" + change.removed_lines }),
          discardOne,
        ]),
      ]),
      diffBlock(change.diff, change.path),
    ]);
  }

  function load() {
    C.api("GET", "/api/studio/changes").then(function (data) {
      ui.baseline.textContent = data.baseline;
      ui.discardAll.disabled = !data.files.length;
      if (!data.files.length) {
        ui.list.replaceChildren(el("p", { className: "muted", text: "No pending changes: the training data is as in the baseline." }));
      } else {
        ui.list.replaceChildren.apply(ui.list, data.files.map(fileBox));
      }
    }).catch(C.showError);
    C.api("GET", "/api/studio/changes/history?limit=50").then(function (data) {
      ui.history.replaceChildren.apply(ui.history, data.items.map(function (item) {
        var subject = item.subject.replace(/^[a-z-]+:/, "");
        return el("tr", {}, [
          el("td", {}, [C.timeEl(item.at)]),
          el("td", { text: item.by || "system" }),
          el("td", { text: (ACTIONS[item.action] || item.action) + " " + subject }),
          el("td", { text: item.files.join(", ") }),
        ]);
      }));
    }).catch(C.showError);
  }

  ui.discardAll.addEventListener("click", function () {
    confirmThen(ui.discardAll, "Discard every pending change?", function () { discard(null, "every change"); });
  });

  load();
});
