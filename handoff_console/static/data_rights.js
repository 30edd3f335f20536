/*
 * The reader page's "The reader's data" panel (issue 18): export everything held about
 * the reader as a JSON file (GET /api/readers/<id>/export, librarians and admins) and,
 * for admins, erase the reader everywhere (POST /api/readers/<id>/erase with
 * {"confirm": "erase"}). Both are audited by the server.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var panel = document.getElementById("data-rights");
  if (!C || !panel) return;
  var id = panel.getAttribute("data-reader-id");
  var base = "/api/readers/" + encodeURIComponent(id);

  function say(element, text) {
    if (element) element.textContent = text;
  }

  var exportButton = document.getElementById("export-reader");
  var exportStatus = document.getElementById("export-status");
  exportButton.addEventListener("click", function () {
    exportButton.disabled = true;
    say(exportStatus, "Preparing the export…");
    C.api("GET", base + "/export").then(function (document_) {
      var blob = new Blob([JSON.stringify(document_, null, 2)], { type: "application/json" });
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "reader-" + id + ".json";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
      say(exportStatus, "Exported " + document_.conversations.length + " conversation(s) as reader-" + id + ".json.");
    }).catch(function (error) {
      say(exportStatus, "The export failed: " + error.message);
    }).then(function () { exportButton.disabled = false; });
  });

  var eraseForm = document.getElementById("erase-form");
  if (!eraseForm) return;
  var eraseStatus = document.getElementById("erase-status");
  eraseForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var confirmText = document.getElementById("erase-confirm").value.trim().toLowerCase();
    if (confirmText !== "erase") {
      say(eraseStatus, "Type erase to confirm; nothing was changed.");
      return;
    }
    document.getElementById("erase-reader").disabled = true;
    C.api("POST", base + "/erase", { confirm: confirmText }).then(function (reply) {
      var total = 0;
      Object.keys(reply.counts).forEach(function (kind) { total += reply.counts[kind]; });
      say(eraseStatus, "Erased: " + total + " record(s) removed or anonymised, the conversation store included.");
    }).catch(function (error) {
      say(eraseStatus, "The erasure failed: " + error.message);
      document.getElementById("erase-reader").disabled = false;
    });
  });
})();
