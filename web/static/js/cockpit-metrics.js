/* The cockpit's metrics page: draws its four charts with ECharts (vendored, global `echarts`) from the
 * JSON the page embeds in <script type="application/json" id="metrics-data">. No inline script: CSP
 * script-src 'self'. Each container gets data-drawn="1" once its chart is drawn (the browser test waits
 * for it). */
(function () {
  'use strict';
  var source = document.getElementById('metrics-data');
  if (!source || typeof window.echarts === 'undefined') { return; }
  var data = JSON.parse(source.textContent);
  var L = data.labels;
  var palette = ['#b02a37', '#0d6efd', '#198754', '#fd7e14', '#6f42c1'];

  function base(extra) {
    var option = {
      animation: false,
      color: palette,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 48, right: 24, top: 72, bottom: 32, containLabel: true }
    };
    Object.keys(extra).forEach(function (k) { option[k] = extra[k]; });
    return option;
  }

  var builders = {
    trend: function (d) {
      return base({
        xAxis: { type: 'category', data: d.months },
        yAxis: [{ type: 'value', name: L.count, minInterval: 1 }, { type: 'value', name: L.workdays }],
        series: [
          { name: L.registered, type: 'bar', data: d.registered },
          { name: L.disposed, type: 'bar', data: d.disposed },
          { name: L.closed, type: 'bar', data: d.closed },
          { name: L.median, type: 'line', yAxisIndex: 1, data: d.median, connectNulls: true }
        ]
      });
    },
    units: function (d) {
      return base({
        xAxis: { type: 'category', data: d.units },
        yAxis: { type: 'value', name: L.workdays },
        series: d.series.map(function (s) { return { name: s.name, type: 'bar', data: s.data }; })
      });
    },
    funnel: function (d) {
      return base({
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'value', minInterval: 1 },
        yAxis: { type: 'category', data: d.steps.slice().reverse() },
        series: [
          { name: L.current, type: 'bar', data: d.current.slice().reverse(), label: { show: true, position: 'right' } },
          { name: L.baseline, type: 'bar', data: d.baseline.slice().reverse() }
        ]
      });
    },
    stages: function (d) { return builders.funnel(d); },
    slices: function (d) {
      return base({
        xAxis: { type: 'category', data: d.values },
        yAxis: { type: 'value', name: L.workdays },
        series: d.series.map(function (s) { return { name: s.name, type: 'bar', data: s.data }; })
      });
    }
  };

  var charts = [];
  Array.prototype.forEach.call(document.querySelectorAll('[data-chart]'), function (el) {
    var key = el.getAttribute('data-chart');
    var build = builders[key];
    if (!build || !data[key]) { return; }
    var chart = window.echarts.init(el, null, { renderer: 'canvas' });
    var option = build(data[key]);
    if (key === 'units' && !data.units.units.length || key === 'slices' && !data.slices.values.length) {
      option.title = { text: L.empty, left: 'center', top: 'middle', textStyle: { fontSize: 13, color: '#6c757d' } };
    }
    chart.setOption(option);
    el.setAttribute('data-drawn', '1');
    charts.push(chart);
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
}());
