/*
 * The dashboard's charts (issue 17), drawn with the vendored Apache ECharts as SVG.
 * Each section fetches /api/dashboard/charts/<chart>: one table of columns and rows,
 * with each row's drill-down. The same rows fill the chart, the accessible table
 * (with a link to the conversations behind each row) and the CSV/XLSX downloads.
 * Clicking a bar, a slice or a cell opens the drill-down.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var D = window.RicDashboard;
  var HOURS = [];
  for (var h = 0; h < 24; h += 1) HOURS.push(String(h));
  var WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

  function column(body, index) { return body.rows.map(function (row) { return row[index]; }); }
  function pct(values) { return values.map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; }); }
  var PCT = { valueFormatter: function (v) { return v === null || v === undefined ? "–" : v + "%"; } };

  function bars(body, horizontal) {
    var names = column(body, 0);
    var category = { type: "category", data: names, inverse: horizontal, axisLabel: { width: 160, overflow: "truncate" } };
    var value = { type: "value", minInterval: 1 };
    return {
      tooltip: { trigger: "axis" },
      grid: { left: horizontal ? 170 : 50, right: 20, top: 20, bottom: 40 },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: [{ type: "bar", name: body.columns[1], data: column(body, 1) }],
    };
  }

  var OPTIONS = {
    heatmap: function (body) {
      var max = 0;
      var data = body.rows.map(function (row) {
        max = Math.max(max, row[2]);
        return [row[1], WEEKDAYS.indexOf(row[0]), row[2]];
      });
      return {
        tooltip: { position: "top" },
        grid: { left: 90, right: 20, top: 10, bottom: 70 },
        xAxis: { type: "category", data: HOURS, name: "Hour", nameLocation: "middle", nameGap: 25 },
        yAxis: { type: "category", data: WEEKDAYS, inverse: true },
        visualMap: { min: 0, max: Math.max(1, max), orient: "horizontal", left: "center", bottom: 0, calculable: false },
        series: [{ type: "heatmap", name: "Conversations", data: data, label: { show: false } }],
      };
    },
    volume: function (body) {
      return {
        tooltip: { trigger: "axis" },
        legend: { bottom: 0 },
        grid: { left: 50, right: 20, top: 20, bottom: 60 },
        xAxis: { type: "category", data: column(body, 0) },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { type: "bar", name: "Conversations", data: column(body, 1) },
          { type: "line", name: "Handed off", data: column(body, 2) },
          { type: "line", name: "Contained", data: column(body, 3) },
        ],
      };
    },
    channels: function (body) {
      return {
        tooltip: { trigger: "item" },
        legend: { bottom: 0 },
        series: [{
          type: "pie",
          radius: ["35%", "65%"],
          name: "Conversations",
          data: body.rows.map(function (row) { return { name: row[0], value: row[1] }; }),
        }],
      };
    },
    intents: function (body) { return bars(body, true); },
    faq: function (body) { return bars(body, true); },
    "handoff-reasons": function (body) { return bars(body, true); },
    trends: function (body) {
      return {
        tooltip: Object.assign({ trigger: "axis" }, PCT),
        legend: { bottom: 0 },
        grid: { left: 50, right: 20, top: 20, bottom: 60 },
        xAxis: { type: "category", data: column(body, 0) },
        yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        series: [
          { type: "line", name: "Containment", data: pct(column(body, 1)), connectNulls: true },
          { type: "line", name: "CSAT", data: pct(column(body, 2)), connectNulls: true },
        ],
      };
    },
    workload: function (body) {
      var option = bars(body, true);
      option.series[0].name = "Conversations";
      return option;
    },
  };

  function cellText(value, heading) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "number" && /Share|Containment|CSAT/.test(heading)) return D.percent(value);
    return String(value);
  }

  function fillTable(section, body) {
    var head = section.querySelector("thead");
    var rows = section.querySelector("tbody");
    var links = body.drill.some(function (d) { return d; });
    var headings = body.columns.map(function (c) { return C.el("th", { scope: "col", text: c }); });
    if (links) headings.push(C.el("th", { scope: "col", text: "Conversations" }));
    head.replaceChildren(C.el("tr", {}, headings));
    var shown = body.rows.map(function (row, index) {
      if (section.dataset.chart === "heatmap" && !row[2]) return null;  // the table lists busy cells only
      var cells = row.map(function (value, i) {
        return C.el("td", { className: typeof value === "number" ? "num" : "", text: cellText(value, body.columns[i]) });
      });
      var drill = body.drill[index];
      if (links && drill && drill.inbox) {
        cells.push(C.el("td", {}, [C.el("a", { href: drill.inbox, text: "Open in the studio inbox" })]));
      } else if (links) {
        cells.push(C.el("td", {}, drill ? [C.el("a", { href: D.drillUrl(drill), text: "List" })] : []));
      }
      return C.el("tr", {}, cells);
    }).filter(Boolean);
    if (!shown.length) shown = [C.el("tr", {}, [C.el("td", { colspan: String(headings.length), text: "No data for this period." })])];
    rows.replaceChildren.apply(rows, shown);
  }

  function render(section, body) {
    section.querySelector(".chart-note").textContent = body.note || "";
    fillTable(section, body);
    var node = section.querySelector(".chart");
    var build = OPTIONS[body.chart];
    if (!node || !build) return;
    var option = build(body);
    option.animation = false;
    var chart = D.draw(node, option);
    chart.off("click");
    chart.on("click", function (params) {
      var drill = body.drill[params.dataIndex];
      if (drill) location.assign(D.drillUrl(drill));
    });
    section.dataset.rendered = "1";
  }

  function load() {
    // The filter options come with the overview; the charts then load in parallel.
    D.get("/api/dashboard/overview?" + D.query()).then(function (body) {
      D.initForm(body.options);
      D.period(body);
    }).catch(C.showError);
    D.exportLinks();
    document.querySelectorAll("section[data-chart]").forEach(function (section) {
      D.get("/api/dashboard/charts/" + section.dataset.chart + "?" + D.query()).then(function (body) {
        render(section, body);
      }).catch(C.showError);
    });
  }

  load();
})();
