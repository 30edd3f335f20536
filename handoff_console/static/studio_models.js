/*
 * The studio's Models page: versions, a training run's live progress (polled every
 * second), the comparison with the live model, activate (with an audited override
 * when a regression blocks it) and roll back. All text goes in through textContent.
 */
window.RicConsole.page({
  live: "models-live", rollback: "models-rollback", train: "models-train",
  evaluate: "models-evaluate", run: "models-run", progress: "models-progress",
  runStatus: "models-run-status", steps: "models-run-steps", versions: "models-versions",
  comparison: "models-comparison", comparisonBody: "models-comparison-body",
}, function (C, ui) {
  "use strict";
  var el = C.el;
  var POLL_MS = 1000;
  var shown = null;

  function f1(value) { return value === null || value === undefined ? "–" : value.toFixed(3); }

  function delta(value) {
    if (value === null || value === undefined) return "";
    return (value > 0 ? "+" : "") + value.toFixed(3);
  }

  function state(v) {
    var words = [];
    if (v.live) words.push("live");
    if (v.active && !v.live) words.push("active (not loaded)");
    if (!v.evaluated) words.push("not evaluated");
    return words.join(", ");
  }

  function versionRow(v) {
    var actions = [el("button", { type: "button", className: "models-compare", onclick: function () { showComparison(v.id); } }, ["Compare"])];
    if (!v.live) {
      actions.push(" ", el("button", { type: "button", className: "models-activate", onclick: function () { activate(v.id, false); } }, ["Activate " + v.version]));
    }
    return el("tr", { dataset: { version: v.version } }, [
      el("th", { scope: "row", text: v.version }),
      el("td", {}, [C.timeEl(v.created_at)]),
      el("td", { text: (v.created_by || "–") + " (" + v.source + ")" }),
      el("td", { text: f1(v.macro_f1) }),
      el("td", { className: "models-state", text: state(v) }),
      el("td", {}, actions),
    ]);
  }

  function load() {
    return C.api("GET", "/api/studio/models").then(function (data) {
      ui.versions.replaceChildren.apply(ui.versions, data.items.map(versionRow));
      var live = data.items.filter(function (v) { return v.live; })[0];
      ui.live.textContent = !data.rasa_reachable ? "The Rasa server cannot be reached."
        : live ? live.version + " (" + (data.live_model_file || "") + ")"
          : (data.live_model_file || "no model") + " (not in the registry)";
      var back = data.active && data.active.previous;
      ui.rollback.hidden = !back;
      ui.rollback.textContent = back ? "Roll back to " + back : "Roll back";
      ui.train.disabled = data.running_run !== null;
      if (data.running_run !== null) follow(data.running_run);
      return data;
    }).catch(C.showError);
  }

  function table(head, rows) {
    return el("table", { className: "models-table" }, [
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      el("tbody", {}, rows),
    ]);
  }

  function intentsTable(c) {
    var rows = c.intents.filter(function (r) { return r.regressed || r.added || r.removed || (r.delta !== null && Math.abs(r.delta) >= 0.001); });
    var body = rows.map(function (r) {
      var note = r.regressed ? "regression" : r.added ? "new" : r.removed ? "removed" : "";
      return el("tr", { className: r.regressed ? "models-regressed" : "" }, [
        el("th", { scope: "row", text: r.label }), el("td", { text: String(r.support) }),
        el("td", { text: f1(r.live_f1) }), el("td", { text: f1(r.new_f1) }),
        el("td", { text: delta(r.delta) }), el("td", { text: note }),
      ]);
    });
    var caption = rows.length + " of " + c.intents.length + " intents and topics changed";
    return [el("h3", { text: "Per-intent F1 (cross-validated): " + caption }),
      table(["Intent or topic", "Examples", "Live " + (c.live_version || ""), "New " + c.version, "Change", ""], body)];
  }

  function confusionList(title, items) {
    return el("div", { className: "models-confusions" }, [
      el("h4", { text: title }),
      items.length ? el("ul", {}, items.map(function (x) {
        return el("li", { text: x.truth + " → " + x.predicted + " (" + x.count + ")" });
      })) : el("p", { className: "muted", text: "none" }),
    ]);
  }

  function heldOut(h) {
    var head = "Held-out inbox messages: " + h.count;
    if (h.count) head += " (new " + f1(h.new_accuracy) + ", live " + f1(h.live_accuracy) + "; " + h.now_pass + " now pass, " + h.now_fail + " now fail)";
    var rows = h.messages.map(function (m) {
      return el("tr", {}, [
        el("td", { text: m.text }), el("td", { text: m.label }),
        el("td", { text: m.live_predicted === null ? "–" : m.live_predicted + (m.live_passed ? " ✓" : " ✗") }),
        el("td", { text: m.new_predicted + (m.new_passed ? " ✓" : " ✗") }),
      ]);
    });
    return [el("h3", { text: head }), h.count ? table(["Message", "Label", "Live", "New"], rows) : null];
  }

  function renderComparison(c) {
    var parts = [
      el("p", { className: "models-macro" }, [
        "Macro F1: live " + (c.live_version || "–") + " " + f1(c.macro_f1.live) + ", new " + c.version + " " + f1(c.macro_f1.new),
      ]),
    ];
    if (c.regressions.length) {
      parts.push(el("div", { className: "models-blocked", role: "alert" }, [
        el("strong", { text: "Activation blocked: regression beyond " + c.tolerance }),
        el("ul", {}, c.regressions.map(function (r) { return el("li", { text: r }); })),
      ]));
    } else {
      parts.push(el("p", { className: "models-ok", text: "No regression beyond " + c.tolerance + "." }));
    }
    c.notes.forEach(function (n) { parts.push(el("p", { className: "muted small", text: n })); });
    parts = parts.concat(intentsTable(c));
    parts.push(el("div", { className: "models-confusion-pair" }, [
      confusionList("Commonest confusions, live", c.confusions.live || []),
      confusionList("Commonest confusions, new", c.confusions["new"] || []),
    ]));
    parts = parts.concat(heldOut(c.held_out));
    var id = Number(c.version.slice(1));
    if (c.live_version !== c.version) {
      parts.push(el("p", {}, [el("button", { type: "button", className: "models-activate-main", onclick: function () { activate(id, false); } }, ["Activate " + c.version])]));
      if (c.blocked) {
        var reason = el("input", { type: "text", id: "models-override-reason", maxlength: "500", "aria-label": "Why the regressions are acceptable" });
        parts.push(el("p", { className: "models-override" }, [
          el("label", { "for": "models-override-reason", text: "Reason for going live anyway: " }), reason, " ",
          el("button", { type: "button", id: "models-override", onclick: function () { activate(id, true, reason.value); } }, ["Override and activate"]),
        ]));
      }
    }
    ui.comparisonBody.replaceChildren.apply(ui.comparisonBody, parts.filter(Boolean));
    ui.comparison.hidden = false;
  }

  function showComparison(id) {
    shown = id;
    return C.api("GET", "/api/studio/models/" + id + "/comparison").then(renderComparison).catch(C.showError);
  }

  function activate(id, override, reason) {
    C.clearError();
    var body = { override: !!override, reason: reason || "" };
    ui.runStatus.textContent = "";
    return C.api("POST", "/api/studio/models/" + id + "/activate", body).then(function (active) {
      ui.live.textContent = active.version + " is live.";
      return load().then(function () { return showComparison(id); });
    }).catch(function (error) {
      C.showError(error);
      if (error.error === "regression") showComparison(id);
    });
  }

  function showRun(run) {
    ui.run.hidden = false;
    ui.progress.value = run.fraction;
    var text = run.status === "running" ? "Training (" + Math.round(run.fraction * 100) + "%): " + run.message
      : run.status === "succeeded" ? "Trained " + run.version + "."
        : run.status === "interrupted" ? "Training interrupted: " + (run.error || "")
          : "Training failed: " + (run.error || "");
    ui.runStatus.textContent = text;
    ui.steps.replaceChildren.apply(ui.steps, run.steps.slice(-8).map(function (s) { return el("li", { text: s }); }));
  }

  var following = null;
  function follow(runId) {
    if (following === runId) return;
    following = runId;
    ui.train.disabled = true;
    (function poll() {
      C.api("GET", "/api/studio/training-runs/" + runId).then(function (run) {
        showRun(run);
        if (run.status === "running") { setTimeout(poll, POLL_MS); return; }
        following = null;
        ui.train.disabled = false;
        load().then(function () { if (run.version) showComparison(Number(run.version.slice(1))); });
      }).catch(function (error) { following = null; ui.train.disabled = false; C.showError(error); });
    })();
  }

  ui.train.addEventListener("click", function () {
    C.clearError();
    C.api("POST", "/api/studio/training-runs", { evaluate: ui.evaluate.checked }).then(function (run) {
      showRun(run);
      follow(run.id);
    }).catch(C.showError);
  });

  ui.rollback.addEventListener("click", function () {
    C.clearError();
    C.api("POST", "/api/studio/models/rollback").then(function (active) {
      ui.live.textContent = active.version + " is live again.";
      return load().then(function () { if (shown) showComparison(shown); });
    }).catch(C.showError);
  });

  load();
});
