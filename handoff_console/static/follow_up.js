/*
 * The conversation page's follow-up panel: plan "follow up on <date>" for a resolved
 * conversation and see the reader's answer. Reader text is set with textContent only.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var root = document.getElementById("conversation");
  var panel = document.getElementById("follow-up-panel");
  if (!C || !root || !panel) return;
  var conversationId = root.dataset.conversationId;
  var list = document.getElementById("follow-up-list");
  var form = document.getElementById("follow-up-form");
  var due = document.getElementById("follow-up-due");
  var note = document.getElementById("follow-up-note");

  function answerText(item) {
    if (item.answer === "yes") return "Reader: yes, sorted";
    if (item.answer === "no") return "Reader: no, not sorted";
    return "";
  }

  function render(items) {
    list.replaceChildren();
    if (!items.length) {
      list.appendChild(C.el("li", { className: "muted", text: "No follow-ups planned." }));
      return;
    }
    items.forEach(function (item) {
      var children = [
        C.el("strong", { text: item.due }),
        " · ",
        C.el("span", { className: "follow-up-status", text: item.status }),
      ];
      if (item.note) children.push(C.el("div", { className: "muted small", text: item.note }));
      var answer = answerText(item);
      if (answer) {
        children.push(C.el("div", { className: "follow-up-answer", text: answer }));
        if (item.answer_text) children.push(C.el("q", { className: "small", text: item.answer_text }));
      }
      list.appendChild(C.el("li", { dataset: { followUpId: String(item.id) } }, children));
    });
  }

  function load() {
    return C.api("GET", "/api/conversations/" + conversationId + "/follow-ups").then(function (data) {
      render(data.items || []);
    }, C.showError);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    C.clearError();
    C.api("POST", "/api/conversations/" + conversationId + "/follow-up", {
      due: due.value,
      note: note.value,
    }).then(function () {
      note.value = "";
      return load();
    }, C.showError);
  });

  var tomorrow = new Date(Date.now() + 86400000);
  due.min = new Date().toISOString().slice(0, 10);
  if (!due.value) due.value = tomorrow.toISOString().slice(0, 10);
  load();
})();
