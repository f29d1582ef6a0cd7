/* The dashboard's charts (Apache ECharts, served from node_modules) and its period picker.
 *
 * The numbers come from the page itself: a json_script block (#dashboard-data) built from the
 * same tables that are listed under each chart, so a chart never shows other figures than its
 * table. No text is written here: every label arrives translated in that data.
 */
(function () {
  "use strict";

  // The period picker: a preset applies at once; "custom" waits for the two dates.
  var picker = document.getElementById("dashboard-picker");
  if (picker) {
    var period = picker.querySelector("select[name=period]");
    period.addEventListener("change", function () {
      if (period.value === "custom") {
        picker.querySelector("input[name=from]").focus();
      } else {
        picker.querySelector("input[name=from]").value = "";
        picker.querySelector("input[name=to]").value = "";
        picker.requestSubmit();
      }
    });
    picker.querySelectorAll("input[type=date]").forEach(function (input) {
      input.addEventListener("change", function () {
        period.value = "custom";
      });
    });
  }

  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#dc3545"];

  function cartesian(chart) {
    var percent = chart.unit === "%";
    return {
      color: palette,
      animation: false,
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { show: chart.series.length > 1, top: 0, type: "scroll" },
      xAxis: { type: "category", data: chart.labels, axisLabel: { hideOverlap: true } },
      yAxis: {
        type: "value",
        axisLabel: percent ? { formatter: "{value} %" } : {},
      },
      series: chart.series.map(function (series) {
        return Object.assign({ connectNulls: false, showSymbol: series.data.length < 40 }, series);
      }),
    };
  }

  function funnel(chart) {
    return {
      color: palette,
      animation: false,
      tooltip: { trigger: "item" },
      series: chart.series.map(function (series) {
        // ECharts sizes slices on a 0–100 scale unless told the largest value.
        var largest = Math.max.apply(null, series.data.map(function (item) { return item.value || 0; }).concat([1]));
        return Object.assign(
          { sort: "none", min: 0, max: largest, left: "10%", width: "80%", top: 8, bottom: 8, minSize: "8%",
            label: { position: "inside" } },
          series
        );
      }),
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var chart = data[element.dataset.chart];
    if (!chart) return;
    var instance = window.echarts.init(element, null, { renderer: "svg" });
    instance.setOption(element.dataset.chart === "funnel" ? funnel(chart) : cartesian(chart));
    element.dataset.rendered = "true";
    charts.push(instance);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (instance) {
      instance.resize();
    });
  });
})();
