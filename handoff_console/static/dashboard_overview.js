/*
 * The dashboard's overview (issue 17): one card per figure with its value, the change
 * against the previous period, a sparkline (Apache ECharts) and a link to the
 * conversations behind it; the same figures in a table and as CSV/XLSX.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var D = window.RicDashboard;
  // The drill-down of each figure: the sessions that make it up.
  var DRILL = {
    conversations: {},
    containment: { figure: "contained" },
    handoff_rate: { figure: "handoff" },
    first_response_median: { figure: "handoff" },
    first_response_p90: { figure: "handoff" },
    resolution_median: { figure: "handoff" },
    csat: { figure: "rated" },
    fallback_rate: { figure: "fallback" },
  };

  function tone(figure) {
    if (!figure.change || figure.better === "none") return "";
    var up = figure.change > 0;
    return (up === (figure.better === "up")) ? "up" : "down";
  }

  function card(figure, days) {
    var spark = C.el("div", {
      className: "spark",
      role: "img",
      "aria-label": "Daily values of " + figure.label + " over the period",
    });
    var link = DRILL[figure.key]
      ? C.el("a", { href: D.drillUrl(DRILL[figure.key]), text: "Conversations behind it" })
      : C.el("a", { href: "/tickets", text: "Open the tickets" });
    var box = C.el("dl", { className: "dashboard-card", dataset: { figure: figure.key } }, [
      C.el("dt", { text: figure.label }),
      C.el("dd", { className: "value", text: D.format(figure.value, figure.unit) }),
      C.el("dd", { className: "change " + tone(figure), text: D.change(figure) }),
      C.el("dd", {}, [spark]),
      C.el("dd", {}, [link]),
    ]);
    return { box: box, spark: spark, figure: figure, days: days };
  }

  function sparkline(item) {
    D.draw(item.spark, {
      animation: false,
      grid: { left: 2, right: 2, top: 4, bottom: 4 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return D.format(v, item.figure.unit); } },
      xAxis: { type: "category", show: false, data: item.days },
      yAxis: { type: "value", show: false, scale: true },
      series: [{ type: "line", data: item.figure.spark, showSymbol: false, lineStyle: { width: 1.5 } }],
    });
  }

  function table(figures) {
    var body = document.querySelector("#overview-table tbody");
    body.replaceChildren.apply(body, figures.map(function (f) {
      return C.el("tr", {}, [
        C.el("th", { scope: "row", text: f.label }),
        C.el("td", { className: "num", text: D.format(f.value, f.unit) }),
        C.el("td", { className: "num", text: D.format(f.previous, f.unit) }),
        C.el("td", { text: D.change(f) }),
      ]);
    }));
  }

  function load() {
    D.get("/api/dashboard/overview?" + D.query()).then(function (body) {
      D.initForm(body.options);
      D.exportLinks();
      D.period(body);
      var cards = document.getElementById("dashboard-cards");
      var items = body.figures.map(function (f) { return card(f, body.days); });
      cards.replaceChildren.apply(cards, items.map(function (i) { return i.box; }));
      cards.setAttribute("aria-busy", "false");
      items.forEach(sparkline);
      table(body.figures);
    }).catch(C.showError);
  }

  load();
})();
