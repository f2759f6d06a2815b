/* The duration heatmap: draws the process's BPMN with bpmn-js (global BpmnJS) and colours each user task
 * by the band of its median duration (classes gt-heat-0 … gt-heat-4, web/cockpit/heatmap.py), with its
 * figures on hover (an SVG <title> and the status line under the diagram).
 * Reads its data from <script type="application/json"> blocks: no inline script (CSP script-src 'self'). */
(function () {
  'use strict';
  var canvasEl = document.getElementById('heatmap-diagram');
  var dataEl = document.getElementById('heatmap-data');
  if (!canvasEl || !dataEl || typeof window.BpmnJS !== 'function') { return; }
  var data = JSON.parse(dataEl.textContent);
  var labels = JSON.parse((document.getElementById('heatmap-labels') || {}).textContent || '{}');
  var status = document.getElementById('heatmap-status');
  var viewer = new window.BpmnJS({ container: canvasEl });

  function describe(id, cell, name) {
    if (!cell) { return name + '：' + labels.none; }
    return name + '：' + labels.median + ' ' + cell.median_workdays + ' ' + labels.workdays +
      '（' + cell.median_hours + ' ' + labels.hours + '），' + labels.p90 + ' ' + cell.p90_workdays + ' ' +
      labels.workdays + '，' + labels.count + ' ' + cell.count;
  }

  function colour() {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    var coloured = 0;
    registry.filter(function (e) { return e.type === 'bpmn:UserTask'; }).forEach(function (e) {
      var cell = data.cells[e.id];
      var name = (e.businessObject && e.businessObject.name) || e.id;
      var gfx = registry.getGraphics(e.id);
      var title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      title.textContent = describe(e.id, cell, name);
      gfx.appendChild(title);
      if (cell) { canvas.addMarker(e.id, 'gt-heat-' + cell.band); coloured += 1; }
    });
    canvasEl.setAttribute('data-coloured', String(coloured));
    viewer.get('eventBus').on('element.hover', function (event) {
      var e = event.element;
      if (e.type !== 'bpmn:UserTask') { return; }
      status.textContent = describe(e.id, data.cells[e.id], (e.businessObject && e.businessObject.name) || e.id);
    });
  }

  window.GuantongDiagram.show(viewer, data.xml, data.process_key).then(function () {
    colour();
    canvasEl.setAttribute('data-drawn', 'true');
  }).catch(function (err) {
    status.textContent = String(err && err.message || err);
    canvasEl.setAttribute('data-drawn', 'error');
  });
}());
