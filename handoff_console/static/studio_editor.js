/*
 * Admin studio, training data (/studio/intents): the intents and FAQ topics, one
 * intent's examples (edit, add, delete, move, mark entities), create and rename, and a
 * raw YAML editor. Every save sends the version it started from; the API answers a
 * stale one with 409 (someone saved first), a refused change with 400 and its reasons.
 * Text is set with textContent only.
 */
window.RicConsole.page({
  list: "intent-list", filter: "intent-filter", count: "intent-count",
  panel: "intent-panel", heading: "intent-heading", kind: "intent-kind", files: "intent-files",
  renameForm: "intent-rename", renameTo: "rename-to", renameNote: "rename-note",
  entityPick: "entity-pick", entityMark: "entity-mark",
  examplesForm: "examples-form", examples: "example-list", add: "example-add", addButton: "example-add-button",
  moveTo: "move-to", moveButton: "move-button", status: "intent-status",
  answer: "intent-answer", answerText: "intent-answer-text", answerLink: "intent-answer-link",
  createForm: "intent-create", newFile: "new-file", newAnswerLabel: "new-answer-label", newStatus: "new-status",
  rawFile: "raw-file", rawForm: "raw-form", rawText: "raw-text", rawStatus: "raw-status",
  checksNote: "checks-note",
}, function (C, ui) {
  "use strict";
  var el = C.el;
  var API = "/api/studio/training-data";
  var intents = [];
  var current = null; // the open intent, as the API answered it
  var rawVersion = null;
  var lastInput = null; // the example field the entity marker works on

  function q(name) { return encodeURIComponent(name); }

  var say = window.RicStudio.say;
  var refusal = window.RicStudio.refusal;

  function saved(box, reply, what) {
    var files = reply.files && reply.files.length ? " (" + reply.files.join(", ") + ")" : " (nothing changed)";
    say(box, "ok", what + files + ".", reply.warnings || []);
  }

  // ------------------------------------------------------------------ the list
  function renderList() {
    var needle = ui.filter.value.trim().toLowerCase();
    var shown = intents.filter(function (i) { return !needle || i.name.toLowerCase().indexOf(needle) >= 0; });
    ui.list.replaceChildren.apply(ui.list, shown.map(function (item) {
      var button = el("button", {
        type: "button", dataset: { name: item.name },
        "aria-current": current && current.name === item.name ? "true" : "false",
      }, [el("span", { text: item.name }), el("span", { className: "studio-count", text: String(item.examples) })]);
      button.addEventListener("click", function () { open(item.name); });
      return el("li", {}, [button]);
    }));
    ui.count.textContent = shown.length + " of " + intents.length + " intents and FAQ topics";
  }

  function loadList() {
    return C.api("GET", API).then(function (data) {
      intents = data.intents;
      ui.checksNote.hidden = data.checks_ready;
      renderList();
      var options = data.nlu_files.map(function (f) { return el("option", { value: f, text: f }); });
      var keep = ui.newFile.value;
      ui.newFile.replaceChildren.apply(ui.newFile, [el("option", { value: "", text: "the usual file for its kind" })].concat(options));
      ui.newFile.value = keep;
      ui.entityPick.replaceChildren.apply(ui.entityPick, data.entities.map(function (e) { return el("option", { value: e, text: e }); }));
      ui.moveTo.replaceChildren.apply(ui.moveTo, [el("option", { value: "", text: "Move to…" })].concat(
        intents.map(function (i) { return el("option", { value: i.name, text: i.name }); })));
      if (!ui.rawFile.options.length) {
        ui.rawFile.replaceChildren.apply(ui.rawFile, [el("option", { value: "", text: "Choose a file…" })].concat(
          data.files.map(function (f) { return el("option", { value: f, text: f }); })));
      }
    }).catch(C.showError);
  }

  // ------------------------------------------------------------------ one intent
  function exampleRow(example) {
    var input = el("input", { type: "text", value: example.text, "aria-label": "Example", maxlength: "300" });
    input.addEventListener("focus", function () { lastInput = input; });
    var pick = el("input", { type: "checkbox", "aria-label": "Select to move" });
    var remove = el("button", { type: "button", className: "button-secondary", text: "Delete", "aria-label": "Delete this example" });
    var li = el("li", { dataset: { file: example.file || "" } }, [
      el("div", { className: "studio-example" }, [pick, input, el("span", { className: "studio-file", title: example.file || "added, not saved yet", text: (example.file || "new").replace(/^.*\//, "").replace(/\.ya?ml$/, "") }), remove]),
    ]);
    remove.addEventListener("click", function () { li.remove(); });
    return li;
  }

  function rows() {
    return Array.prototype.map.call(ui.examples.children, function (li) {
      return {
        text: li.querySelector("input[type=text]").value,
        file: li.dataset.file || null,
        picked: li.querySelector("input[type=checkbox]").checked,
      };
    });
  }

  function show(data) {
    current = data;
    ui.panel.hidden = false;
    ui.heading.textContent = data.name;
    ui.kind.textContent = data.kind === "faq" ? "FAQ topic" : "Intent";
    ui.files.textContent = data.examples.length + " examples in " + (
      Array.from(new Set(data.examples.map(function (e) { return e.file; }))).join(", ") || "no file yet");
    ui.renameTo.value = data.name;
    ui.renameForm.hidden = !data.renamable;
    ui.renameNote.hidden = data.renamable;
    ui.examples.replaceChildren.apply(ui.examples, data.examples.map(exampleRow));
    ui.answer.hidden = !data.answer;
    if (data.answer) {
      ui.answerText.textContent = data.answer.variations.length ? data.answer.variations[0].text : "";
      ui.answerLink.href = "/studio/responses?name=" + q(data.answer.name);
    }
    renderList();
  }

  function open(name) {
    return C.api("GET", API + "/intent?name=" + q(name)).then(function (data) {
      ui.status.replaceChildren();
      show(data);
      history.replaceState(null, "", "/studio/intents?name=" + q(name));
    }).catch(C.showError);
  }

  function addExample() {
    var text = ui.add.value.trim();
    if (!text) { ui.add.focus(); return; }
    ui.examples.appendChild(exampleRow({ text: text, file: null }));
    ui.add.value = "";
    ui.add.focus();
  }

  ui.add.addEventListener("focus", function () { lastInput = ui.add; });
  ui.add.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); addExample(); }
  });
  ui.addButton.addEventListener("click", addExample);

  // Wrap the selected words of the last example field in [words](entity).
  ui.entityMark.addEventListener("mousedown", function (event) { event.preventDefault(); });
  ui.entityMark.addEventListener("click", function () {
    var input = lastInput;
    var entity = ui.entityPick.value;
    if (!input || input.selectionStart === input.selectionEnd || !entity) {
      say(ui.status, "error", "Select the words in an example first, then pick an entity.");
      return;
    }
    var start = input.selectionStart, end = input.selectionEnd, value = input.value;
    var words = value.slice(start, end);
    var trimmed = words.trim();
    start += words.indexOf(trimmed);
    end = start + trimmed.length;
    input.value = value.slice(0, start) + "[" + trimmed + "](" + entity + ")" + value.slice(end);
    input.focus();
    ui.status.replaceChildren();
  });

  ui.examplesForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    var examples = rows().filter(function (r) { return r.text.trim(); }).map(function (r) { return { text: r.text.trim(), file: r.file }; });
    C.api("PUT", API + "/intent?name=" + q(current.name), { version: current.version, examples: examples })
      .then(function (reply) { show(reply); saved(ui.status, reply, "Saved"); loadList(); })
      .catch(function (error) { refusal(ui.status, error); });
  });

  ui.moveButton.addEventListener("click", function () {
    if (!current) return;
    var picked = rows().filter(function (r) { return r.picked && r.file; }).map(function (r) { return r.text; });
    var target = ui.moveTo.value;
    if (!picked.length || !target) {
      say(ui.status, "error", "Tick the saved examples to move and pick where they go.");
      return;
    }
    C.api("GET", API + "/intent?name=" + q(target)).then(function (to) {
      return C.api("POST", API + "/intent/move?name=" + q(current.name), {
        version: current.version, examples: picked, to: target, to_version: to.version,
      });
    }).then(function (reply) { show(reply); saved(ui.status, reply, "Moved " + picked.length + " to " + target); loadList(); })
      .catch(function (error) { refusal(ui.status, error); });
  });

  ui.renameForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    var to = ui.renameTo.value.trim();
    C.api("POST", API + "/intent/rename?name=" + q(current.name), { version: current.version, new_name: to })
      .then(function (reply) {
        show(reply);
        history.replaceState(null, "", "/studio/intents?name=" + q(reply.name));
        saved(ui.status, reply, "Renamed to " + reply.name);
        loadList();
      })
      .catch(function (error) { refusal(ui.status, error); });
  });

  // ------------------------------------------------------------------ create
  function toggleAnswer() {
    var faq = ui.createForm.elements.name.value.trim().indexOf("faq/") === 0;
    ui.newAnswerLabel.textContent = faq ? "Answer" : "Answer (optional: the assistant replies with it)";
  }
  ui.createForm.elements.name.addEventListener("input", toggleAnswer);
  toggleAnswer();

  ui.createForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = ui.createForm.elements;
    var body = {
      name: f.name.value.trim(),
      examples: f.examples.value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean),
      file: f.file.value || null,
      answer: f.answer.value.trim() || null,
    };
    C.api("POST", API + "/intents", body).then(function (reply) {
      ui.createForm.reset();
      toggleAnswer();
      saved(ui.newStatus, reply, "Created " + reply.name);
      show(reply);
      return loadList();
    }).catch(function (error) { refusal(ui.newStatus, error); });
  });

  // ------------------------------------------------------------------ raw YAML
  ui.rawFile.addEventListener("change", function () {
    if (!ui.rawFile.value) return;
    C.api("GET", API + "/file?path=" + q(ui.rawFile.value)).then(function (file) {
      rawVersion = file.version;
      ui.rawText.value = file.content;
      ui.rawStatus.replaceChildren();
    }).catch(C.showError);
  });

  ui.rawForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!ui.rawFile.value || rawVersion === null) {
      say(ui.rawStatus, "error", "Choose a file first.");
      return;
    }
    C.api("PUT", API + "/file?path=" + q(ui.rawFile.value), { version: rawVersion, content: ui.rawText.value })
      .then(function (reply) { rawVersion = reply.version; saved(ui.rawStatus, reply, "Saved " + reply.path); loadList(); })
      .catch(function (error) { refusal(ui.rawStatus, error); });
  });

  ui.filter.addEventListener("input", renderList);

  loadList().then(function () {
    var wanted = new URLSearchParams(location.search).get("name");
    if (wanted) open(wanted);
  });
});
