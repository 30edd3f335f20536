/*
 * The manager dashboard's shared script (issue 17): the filters in the URL, the export
 * links, number formats, drill-down links and the Apache ECharts helper. Every
 * dashboard page (overview, charts, drill-down) loads it after console.js; the filters
 * form is a plain GET form (_dashboard_filters.html), so a view is always a URL.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var KEYS = ["channel", "branch", "language", "intent"];
  var PERIOD = ["preset", "from", "to"];

  function current() { return new URLSearchParams(location.search); }

  // The page's filters (and ``extra``) as a query string for the API or a link.
  function query(extra) {
    var now = current();
    var out = new URLSearchParams();
    PERIOD.concat(KEYS).forEach(function (key) {
      var value = now.get(key);
      if (!value || (key === "preset" && value === "custom")) return;
      out.set(key, value);
    });
    Object.keys(extra || {}).forEach(function (key) {
      var value = extra[key];
      if (value !== null && value !== undefined && value !== "") out.set(key, String(value));
    });
    return out.toString();
  }

  function syncDates(form) {
    var custom = form.elements.preset.value === "custom";
    form.elements.from.disabled = !custom;
    form.elements.to.disabled = !custom;
  }

  // Fill the form from the URL and the options the API found; leave empty fields out
  // of the submitted URL so that it stays short and shareable.
  function initForm(options) {
    var form = document.getElementById("dashboard-filters");
    if (!form) return;
    var now = current();
    var custom = now.get("from") && now.get("to");
    form.elements.preset.value = custom ? "custom" : now.get("preset") || "30d";
    form.elements.from.value = now.get("from") || "";
    form.elements.to.value = now.get("to") || "";
    KEYS.forEach(function (key) {
      var select = form.elements[key];
      var chosen = now.get(key) || "";
      var values = (options && options[key]) || [];
      select.replaceChildren(C.el("option", { value: "", text: "All" }));
      values.forEach(function (value) {
        select.appendChild(C.el("option", { value: value, text: value }));
      });
      select.value = chosen;
    });
    syncDates(form);
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    form.elements.preset.addEventListener("change", function () { syncDates(form); });
    form.addEventListener("submit", function () {
      var custom = form.elements.preset.value === "custom";
      form.elements.preset.disabled = custom;
      KEYS.forEach(function (key) { form.elements[key].disabled = !form.elements[key].value; });
    });
  }

  function exportLinks() {
    document.querySelectorAll("a[data-export]").forEach(function (link) {
      var extra = { format: link.dataset.format };
      if (link.dataset.export === "/api/dashboard/drill") {
        current().forEach(function (value, key) { if (KEYS.indexOf(key) < 0 && PERIOD.indexOf(key) < 0) extra[key] = value; });
      }
      link.href = link.dataset.export + "?" + query(extra);
    });
  }

  function percent(value) { return (value * 100).toFixed(1) + "%"; }

  function format(value, unit) {
    if (value === null || value === undefined) return "–";
    if (unit === "rate") return percent(value);
    if (unit === "seconds") return C.duration(value);
    return Number(value).toLocaleString("en-GB");
  }

  function change(figure) {
    if (figure.change === null || figure.change === undefined) return "no comparison";
    var sign = figure.change > 0 ? "+" : figure.change < 0 ? "−" : "±";
    var size = Math.abs(figure.change);
    var text;
    if (figure.unit === "rate") text = sign + (size * 100).toFixed(1) + " pp";
    else if (figure.change_ratio !== null && figure.change_ratio !== undefined) text = sign + Math.abs(figure.change_ratio * 100).toFixed(0) + "%";
    else text = sign + format(size, figure.unit);
    return text + " vs previous period";
  }

  function period(body) {
    var line = document.getElementById("dashboard-period");
    if (!line) return;
    var f = body.filters;
    var parts = [f.from + " to " + f.to];
    if (body.previous_period) parts.push("compared with " + body.previous_period.from + " to " + body.previous_period.to);
    KEYS.forEach(function (key) { if (f[key]) parts.push(key + ": " + f[key]); });
    line.textContent = parts.join(" · ");
  }

  function drillUrl(extra) { return "/dashboard/drill?" + query(extra); }

  // Draw an ECharts option into ``node`` as SVG; returns the chart. The tooltip is drawn
  // in the SVG too (richText): ECharts' HTML tooltip carries inline style attributes, which
  // the console's Content-Security-Policy (no 'unsafe-inline' for styles) blocks.
  function draw(node, option) {
    var chart = window.echarts.getInstanceByDom(node) || window.echarts.init(node, null, { renderer: "svg" });
    if (option.tooltip) option.tooltip.renderMode = "richText";
    chart.setOption(option, true);
    if (!node.dataset.resizes) {
      node.dataset.resizes = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    }
    return chart;
  }

  function get(url) { return C.api("GET", url); }

  window.RicDashboard = {
    KEYS: KEYS,
    query: query,
    initForm: initForm,
    exportLinks: exportLinks,
    format: format,
    percent: percent,
    change: change,
    period: period,
    drillUrl: drillUrl,
    draw: draw,
    get: get,
  };
})();
