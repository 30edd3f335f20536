/*
 * Admin studio, responses (/studio/responses): a response's variations (text, buttons,
 * channel), saved with the version they started from, and a preview of the variation
 * being edited as the web widget, Telegram (inline keyboard) and Slack (Block Kit
 * section and buttons) show it. Text is set with textContent only; placeholders such
 * as {faq.wifi.network} are marked, since the library profile fills them when sent.
 */
window.RicConsole.page({
  list: "response-list", filter: "response-filter", count: "response-count",
  panel: "response-panel", heading: "response-heading", file: "response-file",
  form: "response-form", variations: "variation-list", addVariation: "variation-add", status: "response-status",
  which: "preview-which", webchat: "preview-webchat", telegram: "preview-telegram", slack: "preview-slack",
  createForm: "response-create", createStatus: "response-create-status",
}, function (C, ui) {
  "use strict";
  var el = C.el;
  var API = "/api/studio/training-data";
  var items = [];
  var current = null;
  var previewed = 0;
  var CHANNELS = ["", "webchat", "telegram", "slack", "email"];

  function q(name) { return encodeURIComponent(name); }

  var say = window.RicStudio.say;
  var refusal = window.RicStudio.refusal;

  // ------------------------------------------------------------------ previews
  // Text with {placeholders} marked; Slack's *bold* and Telegram's plain text both
  // keep the words, so the preview shows the words and where the facts go.
  function richText(text) {
    var parts = String(text).split(/(\{[^{}]+\})/);
    return parts.filter(Boolean).map(function (part) {
      return /^\{[^{}]+\}$/.test(part) ? el("span", { className: "studio-placeholder", title: "Filled in from the library profile", text: part }) : part;
    });
  }

  function preview(variation) {
    var text = variation ? variation.text : "";
    var buttons = variation ? variation.buttons : [];
    var channel = variation ? variation.channel : "";
    function body(box) { return box.querySelector(".body"); }
    function only(name, box, build) {
      if (channel && channel !== name) {
        body(box).replaceChildren(el("p", { className: "preview-none", text: "This variation is only sent on " + channel + "." }));
      } else {
        body(box).replaceChildren.apply(body(box), build());
      }
    }
    only("webchat", ui.webchat, function () {
      return [el("div", { className: "bubble" }, richText(text)),
        buttons.length ? el("div", { className: "chips" }, buttons.map(function (b) { return el("span", { text: b.title }); })) : null];
    });
    only("telegram", ui.telegram, function () {
      return [el("div", { className: "bubble" }, richText(text)),
        buttons.length ? el("div", { className: "keyboard" }, buttons.map(function (b) { return el("span", { text: b.title }); })) : null];
    });
    only("slack", ui.slack, function () {
      return [el("div", { className: "app" }, ["Library assistant", el("small", { text: "APP" })]),
        el("div", { className: "text" }, richText(text)),
        buttons.length ? el("div", { className: "actions" }, buttons.map(function (b) { return el("span", { text: b.title }); })) : null];
    });
  }

  // ------------------------------------------------------------------ editor
  function buttonRow(button) {
    var title = el("input", { type: "text", value: button.title, "aria-label": "Button title", maxlength: "64", placeholder: "Title" });
    var payload = el("input", { type: "text", value: button.payload, "aria-label": "Button payload", maxlength: "200", placeholder: "/intent or text" });
    var remove = el("button", { type: "button", className: "button-secondary", text: "Remove", "aria-label": "Remove this button" });
    var li = el("li", { className: "studio-button" }, [title, payload, remove]);
    remove.addEventListener("click", function () { li.remove(); refresh(); });
    return li;
  }

  function variationBox(variation, index) {
    var text = el("textarea", { rows: "3", "aria-label": "Text of variation " + (index + 1), maxlength: "2000" });
    text.value = variation.text;
    var channel = el("select", { "aria-label": "Channel of variation " + (index + 1) },
      CHANNELS.map(function (c) { return el("option", { value: c, text: c || "every channel" }); }));
    channel.value = variation.channel || "";
    var list = el("ul", { className: "studio-buttons" }, variation.buttons.map(buttonRow));
    var addButton = el("button", { type: "button", className: "button-secondary", text: "Add a button" });
    var remove = el("button", { type: "button", className: "button-secondary", text: "Remove variation" });
    var show = el("button", { type: "button", className: "button-secondary", text: "Preview" });
    var box = el("fieldset", { className: "studio-variation" }, [
      el("legend", { text: "Variation " + (index + 1) }),
      text,
      el("div", { className: "studio-inline" }, [el("label", { text: "Channel" }), channel, show, remove]),
      el("h4", { text: "Buttons" }), list, addButton,
      variation.other_keys && variation.other_keys.length
        ? el("p", { className: "muted small", text: "Also has " + variation.other_keys.join(", ") + " (kept as it is)." }) : null,
    ]);
    addButton.addEventListener("click", function () { list.appendChild(buttonRow({ title: "", payload: "" })); });
    remove.addEventListener("click", function () { box.remove(); previewed = 0; refresh(); });
    show.addEventListener("click", function () { previewed = boxes().indexOf(box); refresh(); });
    box.addEventListener("input", function () { previewed = boxes().indexOf(box); refresh(); });
    return box;
  }

  function boxes() { return Array.prototype.slice.call(ui.variations.querySelectorAll("fieldset.studio-variation")); }

  function collect() {
    return boxes().map(function (box) {
      var buttons = Array.prototype.map.call(box.querySelectorAll(".studio-button"), function (li) {
        var inputs = li.querySelectorAll("input");
        return { title: inputs[0].value.trim(), payload: inputs[1].value.trim() };
      }).filter(function (b) { return b.title || b.payload; });
      return { text: box.querySelector("textarea").value.trim(), buttons: buttons, channel: box.querySelector("select").value || null };
    });
  }

  function refresh() {
    var all = collect();
    if (previewed >= all.length) previewed = 0;
    ui.which.textContent = all.length ? "(variation " + (previewed + 1) + " of " + all.length + ")" : "";
    preview(all[previewed]);
  }

  function show(data) {
    current = data;
    ui.panel.hidden = false;
    ui.heading.textContent = data.name;
    ui.file.textContent = "In " + data.file;
    previewed = 0;
    ui.variations.replaceChildren.apply(ui.variations, data.variations.map(variationBox));
    refresh();
    renderList();
  }

  function open(name) {
    return C.api("GET", API + "/response?name=" + q(name)).then(function (data) {
      ui.status.replaceChildren();
      show(data);
      history.replaceState(null, "", "/studio/responses?name=" + q(name));
    }).catch(C.showError);
  }

  ui.addVariation.addEventListener("click", function () {
    ui.variations.appendChild(variationBox({ text: "", buttons: [], channel: null, other_keys: [] }, boxes().length));
    previewed = boxes().length - 1;
    refresh();
  });

  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    C.api("PUT", API + "/response?name=" + q(current.name), { version: current.version, variations: collect() })
      .then(function (reply) {
        show(reply);
        say(ui.status, "ok", "Saved (" + (reply.files.join(", ") || "nothing changed") + ").", reply.warnings);
        loadList();
      })
      .catch(function (error) { refusal(ui.status, error); });
  });

  // ------------------------------------------------------------------ list and create
  function renderList() {
    var needle = ui.filter.value.trim().toLowerCase();
    var shown = items.filter(function (r) { return !needle || r.name.toLowerCase().indexOf(needle) >= 0 || r.text.toLowerCase().indexOf(needle) >= 0; });
    ui.list.replaceChildren.apply(ui.list, shown.map(function (r) {
      var button = el("button", { type: "button", title: r.text, "aria-current": current && current.name === r.name ? "true" : "false" },
        [el("span", { text: r.name }), el("span", { className: "studio-count", text: r.variations > 1 ? r.variations + " variations" : "" })]);
      button.addEventListener("click", function () { open(r.name); });
      return el("li", {}, [button]);
    }));
    ui.count.textContent = shown.length + " of " + items.length + " responses";
  }

  function loadList() {
    return C.api("GET", API + "/responses").then(function (data) { items = data.items; renderList(); }).catch(C.showError);
  }

  ui.filter.addEventListener("input", renderList);

  ui.createForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = ui.createForm.elements;
    C.api("POST", API + "/responses", { name: f.name.value.trim(), variations: [{ text: f.text.value.trim(), buttons: [] }] })
      .then(function (reply) {
        ui.createForm.reset();
        say(ui.createStatus, "ok", "Created " + reply.name + " in " + reply.file + ".", reply.warnings);
        show(reply);
        return loadList();
      }).catch(function (error) { refusal(ui.createStatus, error); });
  });

  loadList().then(function () {
    var wanted = new URLSearchParams(location.search).get("name");
    if (wanted) open(wanted);
  });
});
