// Draws the compliance dashboard's charts from the figures the page carries (no request of its own).
(function () {
  "use strict";
  function start() {
    var node = document.getElementById("compliance-data");
    if (!node || !window.echarts) return;
    var data = JSON.parse(node.textContent);
    var L = data.labels;
    var font = getComputedStyle(document.body).fontFamily;
    var base = { textStyle: { fontFamily: font }, animation: false, color: ["#1f5f8b", "#22704a", "#b5432c"] };
    var charts = [];
    var empty = { title: { text: L.empty, left: "center", top: "middle", textStyle: { fontSize: 15, color: "#5f6b78", fontWeight: "normal" } } };
    var pct = function (v) { return v == null ? "—" : v + "%"; };

    function make(id, option) {
      var el = document.getElementById(id);
      if (!el) return;
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(Object.assign({}, base, option));
      charts.push(chart);
    }

    var kids = data.children || [];
    var anyKid = kids.some(function (k) { return k.value != null; });
    make("chart-children", anyKid ? {
      tooltip: { trigger: "axis", valueFormatter: pct },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: kids.map(function (k) { return k.name; }) },
      series: [{ name: L.coverage, type: "bar", barMaxWidth: 20, data: kids.map(function (k) { return k.value; }), label: { show: true, position: "right", formatter: function (p) { return pct(p.value); } } }],
    } : empty);

    var t = data.trend;
    var anyTrend = t.coverage.concat(t.patrol).some(function (v) { return v != null; });
    make("chart-trend", anyTrend ? {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll", data: [L.coverage, L.patrol, L.visits] },
      grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: t.labels, axisTick: { alignWithLabel: true } },
      yAxis: [{ type: "value", max: 100, axisLabel: { formatter: "{value}%" } }, { type: "value", minInterval: 1, splitLine: { show: false } }],
      series: [
        { name: L.visits, type: "bar", yAxisIndex: 1, data: t.visits, barMaxWidth: 14, itemStyle: { opacity: 0.35 } },
        { name: L.coverage, type: "line", data: t.coverage, symbolSize: 6, connectNulls: true },
        { name: L.patrol, type: "line", data: t.patrol, symbolSize: 6, connectNulls: false },
      ],
    } : empty);

    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "complete") start(); else window.addEventListener("load", start);
})();
