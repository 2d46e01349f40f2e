// Draws the dashboard's charts from the figures the page carries (no request of its own).
(function () {
  "use strict";
  function start() {
    var node = document.getElementById("insights-data");
    if (!node || !window.echarts) return;
    var data = JSON.parse(node.textContent);
    var L = data.labels;
    var font = getComputedStyle(document.body).fontFamily;
    var base = { textStyle: { fontFamily: font }, animation: false };
    var colors = ["#1f5f8b", "#22704a", "#b5432c", "#8a5a00", "#6b2f8a"];
    var charts = [];

    function make(id, option) {
      var el = document.getElementById(id);
      if (!el) return;
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(Object.assign({ color: colors }, base, option));
      charts.push(chart);
    }

    var t = data.trend;
    make("chart-trend", {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [L.received, L.closed] },
      grid: { left: 36, right: 12, top: 36, bottom: 28 },
      xAxis: { type: "category", data: t.labels, axisTick: { alignWithLabel: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.received, type: "bar", data: t.received, barMaxWidth: 18 },
        { name: L.closed, type: "line", data: t.closed, symbolSize: 6 },
      ],
    });

    var kinds = data.kinds.filter(function (k) { return k.value > 0; });
    make("chart-kinds", kinds.length ? {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0, type: "scroll" },
      series: [{ type: "pie", radius: ["38%", "66%"], center: ["50%", "45%"], data: kinds, label: { formatter: "{b}\n{c}" } }],
    } : { title: { text: L.empty, left: "center", top: "middle", textStyle: { fontSize: 15, color: "#5f6b78", fontWeight: "normal" } } });

    var st = data.stages;
    make("chart-stages", {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v.toFixed(1) + " " + L.hours; } },
      grid: { left: 64, right: 24, top: 8, bottom: 24 },
      xAxis: { type: "value", name: L.hours, nameGap: 4 },
      yAxis: { type: "category", inverse: true, data: st.map(function (s) { return s.name; }) },
      series: [{ type: "bar", barMaxWidth: 22, data: st.map(function (s) { return s.hours == null ? null : Math.round(s.hours * 10) / 10; }), label: { show: true, position: "right" } }],
    });

    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  // The chart library is deferred too; run once everything has loaded.
  if (document.readyState === "complete") start(); else window.addEventListener("load", start);
})();
