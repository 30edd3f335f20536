/*
 * The conversation page's email delivery notice (issue 18): the reader's email replies
 * that the mail server has not accepted yet, from
 * GET /api/conversations/<id>/mail-delivery, refreshed every 30 seconds.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var box = document.getElementById("mail-delivery");
  if (!C || !box) return;
  var url = "/api/conversations/" + encodeURIComponent(box.getAttribute("data-conversation-id")) + "/mail-delivery";

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : "";
  }

  function line(item) {
    var li = document.createElement("li");
    var text;
    if (item.retrying) {
      text = "Email reply not delivered, retrying (tried " + item.attempts + " time" +
        (item.attempts === 1 ? "" : "s") + "; next try " + when(item.next_attempt_at) + ").";
    } else {
      text = "Email reply not delivered: given up after " + item.attempts + " tries.";
    }
    li.textContent = text + (item.last_error ? " Last error: " + item.last_error : "");
    li.dataset.status = item.status;
    return li;
  }

  function refresh() {
    C.api("GET", url).then(function (data) {
      var items = data.items || [];
      var list = box.querySelector("ul");
      list.replaceChildren.apply(list, items.map(line));
      box.hidden = items.length === 0;
    }).catch(function () { /* the page's own live status reports a lost console */ });
  }

  refresh();
  setInterval(refresh, 30000);
})();
