/*
 * The Report tab (issue 17): the Print button, and the weekly-report email toggle
 * (PUT /api/dashboard/report-subscriptions/me). Everything else is server-rendered.
 */
(function () {
  "use strict";

  RicConsole.page({ print: "report-print", subscribe: "report-subscribe", status: "report-subscribe-status" }, function (rc, ui) {
    ui.print.addEventListener("click", function () { window.print(); });
    ui.subscribe.addEventListener("change", function () {
      var wanted = ui.subscribe.checked;
      ui.subscribe.disabled = true;
      rc.api("PUT", "/api/dashboard/report-subscriptions/me", { subscribed: wanted }).then(function (reply) {
        ui.subscribe.checked = reply.subscribed;
        ui.status.textContent = reply.subscribed ? "Subscribed." : "Unsubscribed.";
      }).catch(function (error) {
        ui.subscribe.checked = !wanted;
        rc.showError(error);
      }).then(function () { ui.subscribe.disabled = false; });
    });
  });
})();
