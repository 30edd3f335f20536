/*
 * What the training-data editor's pages share: RicStudio.say() writes a status line
 * (a message and, for a refusal, every reason the API gave), RicStudio.refusal() turns
 * an API error into one (409: "Conflict: …", else "Not saved: …"). textContent only.
 */
window.RicStudio = (function () {
  "use strict";
  var el = window.RicConsole.el;

  function say(box, kind, message, reasons) {
    box.dataset.kind = kind;
    var children = [el("span", { text: message })];
    if (reasons && reasons.length) {
      children.push(el("ul", {}, reasons.map(function (r) { return el("li", { text: r }); })));
    }
    box.replaceChildren.apply(box, children);
  }

  function refusal(box, error, verb) {
    var reasons = error.body && Array.isArray(error.body.problems) ? error.body.problems : [];
    if (reasons.length === 1 && error.message.indexOf(reasons[0]) >= 0) reasons = [];
    var conflict = error.status === 409;
    say(box, conflict ? "conflict" : "error", (conflict ? "Conflict: " : "Not " + (verb || "saved") + ": ") + error.message, reasons);
  }

  return { say: say, refusal: refusal };
})();
