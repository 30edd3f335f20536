/*
 * The dashboard's Readers tab (issue 17): fetches each section from
 * /api/dashboard/readers/…, draws its chart with Apache ECharts (vendored; SVG
 * renderer) and its table (the same figures, for screen readers and for print), and
 * points the CSV/XLSX links at the same endpoint with ?format=. "Show names" reloads
 * the two reader lists with names=true, which the server audits. Reader-provided
 * text only ever reaches the page through textContent (RicConsole.el).
 */
(function () {
  "use strict";

  var BASE = "/api/dashboard/readers/";
  var SEGMENT_LABELS = { key: "Key", loyal: "Loyal", "new": "New", at_risk: "At risk", occasional: "Occasional" };

  RicConsole.page({ months: "readers-months", names: "readers-names", rules: "key-rules", asOf: "readers-as-of" }, function (rc, ui) {
    var charts = {};
    var segment = "key";

    function params(key) {
      var query = new URLSearchParams();
      if (["acquisition", "first-intents", "cohorts"].indexOf(key) >= 0) query.set("months", ui.months.value);
      if (key === "churn" || key === "key") {
        if (ui.names.checked) query.set("names", "true");
      }
      if (key === "key") query.set("segment", segment);
      return query;
    }

    function url(key, format) {
      var query = params(key);
      if (format) query.set("format", format);
      var text = query.toString();
      return BASE + key + (text ? "?" + text : "");
    }

    function pct(value) {
      return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + " %";
    }

    function cell(value, numeric) {
      return rc.el("td", { className: numeric ? "num" : null, text: value === null || value === undefined ? "–" : value });
    }

    function table(key, caption, head, rows) {
      var wrap = document.getElementById("table-" + key);
      wrap.textContent = "";
      var body = rows.map(function (row) {
        return rc.el("tr", {}, row.map(function (value) {
          if (value && value.nodeType) return rc.el("td", {}, [value]);
          return cell(value, typeof value === "number");
        }));
      });
      if (!rows.length) body = [rc.el("tr", {}, [rc.el("td", { colspan: head.length, text: "No data for this period." })])];
      wrap.appendChild(rc.el("table", { "data-table": key }, [
        rc.el("caption", { className: "visually-hidden", text: caption }),
        rc.el("thead", {}, [rc.el("tr", {}, head.map(function (h) { return rc.el("th", { scope: "col", text: h }); }))]),
        rc.el("tbody", {}, body),
      ]));
    }

    function chart(key, option) {
      var node = document.getElementById("chart-" + key);
      if (!node || !window.echarts) return;
      if (!charts[key]) charts[key] = window.echarts.init(node, null, { renderer: "svg" });
      option.animation = false;
      // Tooltips drawn in the SVG: the HTML ones carry inline style attributes, which the CSP blocks.
      if (option.tooltip) option.tooltip.renderMode = "richText";
      charts[key].setOption(option, true);
    }

    function links() {
      document.querySelectorAll("section[data-section]").forEach(function (section) {
        var key = section.dataset.section;
        section.querySelectorAll("a.export").forEach(function (a) {
          a.href = url(key, a.dataset.format);
          a.setAttribute("download", "");
        });
      });
    }

    function shown(key, data) {
      var wrap = document.getElementById("table-" + key);
      if (data.total > data.items.length) {
        wrap.appendChild(rc.el("p", { className: "muted", text: "Showing the first " + data.items.length + " of " +
          data.total + "; the CSV and XLSX files hold all of them." }));
      }
    }

    function profileLink(item) {
      return rc.el("a", { href: item.profile, text: item.name ? item.pseudonym + " · " + item.name : item.pseudonym });
    }

    var draw = {
      acquisition: function (data) {
        table("acquisition", "New readers by month and channel",
          ["Month"].concat(data.channels, ["New readers", "Came back", "Share who came back"]),
          data.items.map(function (i) {
            return [i.month].concat(data.channels.map(function (c) { return i.by_channel[c]; }),
              [i.new_readers, i.returned, pct(i.returning_share)]);
          }));
        chart("acquisition", {
          tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { top: 40, left: 40, right: 20, bottom: 30 },
          xAxis: { type: "category", data: data.items.map(function (i) { return i.month; }) },
          yAxis: { type: "value", minInterval: 1 },
          series: data.channels.map(function (c) {
            return { name: c, type: "bar", stack: "new", data: data.items.map(function (i) { return i.by_channel[c]; }) };
          }),
        });
      },
      "first-intents": function (data) {
        table("first-intents", "First-contact intents", ["Intent", "New readers"],
          data.items.map(function (i) { return [i.intent, i.readers]; }));
        var top = data.items.slice(0, 12).reverse();
        chart("first-intents", {
          tooltip: {}, grid: { left: 140, right: 20 },
          xAxis: { type: "value", minInterval: 1 },
          yAxis: { type: "category", data: top.map(function (i) { return i.intent; }) },
          series: [{ type: "bar", name: "New readers", data: top.map(function (i) { return i.readers; }) }],
        });
      },
      cohorts: function (data) {
        var width = data.items.reduce(function (n, i) { return Math.max(n, i.retention.length); }, 0);
        var head = ["Cohort", "Readers"];
        for (var k = 0; k < width; k += 1) head.push("+" + k);
        table("cohorts", "Cohort retention", head, data.items.map(function (i) {
          var row = [i.month, i.readers];
          for (var k = 0; k < width; k += 1) row.push(k < i.retention.length ? pct(i.retention[k]) : "");
          return row;
        }));
      },
      loyalty: function (data) {
        table("loyalty", "Loyalty segments and CSAT", ["Segment", "Readers", "Ratings", "CSAT", "Mean rating"],
          data.items.map(function (i) { return [i.segment, i.readers, i.ratings, pct(i.csat), i.mean_rating]; }));
        chart("loyalty", {
          tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { top: 50, left: 40, right: 50, bottom: 30 },
          xAxis: { type: "category", data: data.items.map(function (i) { return i.segment; }) },
          yAxis: [{ type: "value", name: "Readers", minInterval: 1 }, { type: "value", name: "CSAT %", max: 100 }],
          series: [
            { name: "Readers", type: "bar", data: data.items.map(function (i) { return i.readers; }) },
            { name: "CSAT %", type: "line", yAxisIndex: 1, data: data.items.map(function (i) { return i.csat === null ? null : Math.round(i.csat * 1000) / 10; }) },
          ],
        });
        chart("scatter", {
          tooltip: { formatter: function (p) { return p.data[2] + " readers: " + p.data[0] + " conversations, mean rating " + p.data[1]; } },
          grid: { left: 40, right: 20, bottom: 40 },
          xAxis: { type: "value", name: "Conversations", minInterval: 1 },
          yAxis: { type: "value", name: "Mean rating", min: 1, max: 5 },
          series: [{
            type: "scatter",
            symbolSize: function (value) { return 6 + 4 * Math.sqrt(value[2]); },
            data: data.points.map(function (p) { return [p.conversations, p.mean_rating, p.readers]; }),
          }],
        });
      },
      churn: function (data) {
        var head = ["Reader", "Risk score", "Last active", "Conversations", "Factors"];
        table("churn", "Readers at risk", head, data.items.map(function (i) {
          var factors = rc.el("ul", {}, i.factors.map(function (f) { return rc.el("li", { text: f.detail + " (+" + f.points + ")" }); }));
          return [profileLink(i), i.score, i.last_active_at.slice(0, 10), i.conversations, factors];
        }));
        shown("churn", data);
      },
      key: function (data) {
        var head = ["Reader", "Segment", "Score", "R", "F", "B", "Days since contact", "Conversations", "Loans", "Services"];
        table("key", "Readers of the segment", head, data.items.map(function (i) {
          return [profileLink(i), SEGMENT_LABELS[i.segment] || i.segment, i.score, i.recency, i.frequency, i.breadth,
            i.recency_days, i.conversations, i.loans, i.services.join(", ")];
        }));
        shown("key", data);
        var names = Object.keys(data.segments);
        chart("key", {
          tooltip: { trigger: "item" }, legend: { bottom: 0 },
          series: [{ type: "pie", radius: ["35%", "65%"], name: "Readers",
            data: names.map(function (s) { return { name: SEGMENT_LABELS[s] || s, value: data.segments[s] }; }) }],
        });
        var r = data.rules;
        ui.rules.textContent = "Rules: recency 3 points within " + r.recent_days + " days, 1 point after " + r.lapsed_days +
          " days; frequency 3 points from " + r.frequent + ", 2 from " + r.occasional + "; breadth 3 points from " + r.broad +
          " services, 2 from " + r.some + "; key readers have at least " + r.key_score + " of 9 points with 3 on frequency; window " +
          r.window_days + " days.";
      },
    };

    function load(key) {
      var section = document.getElementById("section-" + key);
      section.setAttribute("aria-busy", "true");
      return rc.api("GET", url(key)).then(function (data) {
        draw[key](data);
        if (data.as_of) {
          ui.asOf.textContent = "Reader figures as of " + new Date(data.as_of).toLocaleString() +
            " (refreshed nightly by the worker).";
        }
        section.dataset.loaded = "true";
      }).catch(rc.showError).then(function () { section.removeAttribute("aria-busy"); });
    }

    function segmentPicker() {
      var tools = document.querySelector("#section-key .chart-tools");
      var select = rc.el("select", { id: "key-segment", "aria-label": "Segment to list" },
        ["key", "loyal", "new", "at_risk", "occasional", "all"].map(function (s) {
          return rc.el("option", { value: s, text: SEGMENT_LABELS[s] || "All readers" });
        }));
      select.addEventListener("change", function () { segment = select.value; links(); load("key"); });
      tools.appendChild(rc.el("label", {}, ["List ", select]));
    }

    segmentPicker();
    links();
    Object.keys(draw).forEach(load);
    ui.months.addEventListener("change", function () {
      links();
      ["acquisition", "first-intents", "cohorts"].forEach(load);
    });
    ui.names.addEventListener("change", function () {
      links();
      ["churn", "key"].forEach(load);
    });
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    });
  });
})();
