/* The instance on its diagram: draws the deployed BPMN with bpmn-js (global BpmnJS), puts the markers of
 * engine/instances/diagram.py on it as CSS classes (gt-completed, gt-active, gt-waiting, gt-overdue,
 * gt-failed; gt-path on the flows taken) and shows an element's visits in the side panel when it is
 * clicked (or chosen in the list under the panel, for keyboards and screen readers).
 * Reads its data from <script type="application/json"> blocks: no inline script (CSP script-src 'self'). */
(function () {
  'use strict';
  var canvasEl = document.getElementById('instance-diagram');
  var dataEl = document.getElementById('diagram-data');
  if (!canvasEl || !dataEl || typeof window.BpmnJS !== 'function') { return; }
  var data = JSON.parse(dataEl.textContent);
  var labels = JSON.parse((document.getElementById('diagram-labels') || {}).textContent || '{}');
  var panel = document.getElementById('diagram-panel');
  var status = document.getElementById('diagram-status');
  var viewer = new window.BpmnJS({ container: canvasEl });
  var lang = document.documentElement.lang || 'zh-CN';
  var selected = null;

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    el.textContent = value;
    return el;
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString(lang, { timeZone: 'Asia/Shanghai' }) : '—'; }
  function took(v) {
    if (v.seconds === null || v.seconds === undefined) { return '—' || '—'; }
    var hours = Math.round(v.seconds / 360) / 10;
    return v.workdays + ' ' + labels.workdays + '（' + hours + ' ' + labels.hours + '）';
  }

  function mark() {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    Object.keys(data.elements).forEach(function (id) {
      if (!registry.get(id)) { return; }
      data.elements[id].markers.forEach(function (m) { canvas.addMarker(id, 'gt-' + m); });
    });
    data.path.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, 'gt-path'); } });
  }

  // An element without a name (start and end events, gateways) is called by its kind.
  var KINDS = { 'bpmn:StartEvent': 'start_event', 'bpmn:EndEvent': 'end_event', 'bpmn:ExclusiveGateway': 'gateway',
    'bpmn:ParallelGateway': 'gateway', 'bpmn:InclusiveGateway': 'gateway', 'bpmn:EventBasedGateway': 'gateway',
    'bpmn:IntermediateCatchEvent': 'event', 'bpmn:IntermediateThrowEvent': 'event', 'bpmn:BoundaryEvent': 'event' };
  function nameOf(id) {
    var element = viewer.get('elementRegistry').get(id);
    var bo = element && element.businessObject;
    if (bo && bo.name) { return bo.name; }
    var kind = element && labels[KINDS[element.type]];
    return kind ? kind + '（' + id + '）' : id;
  }

  function show(id) {
    var canvas = viewer.get('canvas');
    if (selected && viewer.get('elementRegistry').get(selected)) { canvas.removeMarker(selected, 'gt-selected'); }
    selected = id;
    if (viewer.get('elementRegistry').get(id)) { canvas.addMarker(id, 'gt-selected'); }
    var info = data.elements[id];
    panel.textContent = '';
    panel.setAttribute('data-element-id', id);
    panel.appendChild(text('h3', nameOf(id), 'h6 mb-1'));
    if (!info) { panel.appendChild(text('p', labels.none, 'text-body-secondary mb-0')); return; }
    var badges = document.createElement('p');
    badges.className = 'mb-2';
    info.markers.forEach(function (m) {
      var b = text('span', labels[m] || m, 'gt-marker-badge me-1 ' + m);
      b.setAttribute('data-marker', m);
      badges.appendChild(b);
    });
    panel.appendChild(badges);
    if (info.waiting_until) { panel.appendChild(text('p', labels.until + '：' + when(info.waiting_until), 'mb-1')); }
    if (info.error) { panel.appendChild(text('p', labels.error + '：' + info.error, 'text-danger mb-1')); }
    info.visits.forEach(function (v) {
      var dl = document.createElement('dl');
      dl.className = 'row mb-2 border-top pt-1';
      dl.setAttribute('data-task-id', String(v.task_id));
      var rows = [
        [labels.holder, v.holder_name || v.holder || (v.status === 'ready' && data.level === 'full' ? labels.unassigned : '—')],
        [labels.started, when(v.started_at)],
        [labels.finished, v.finished_at ? when(v.finished_at) : (labels[v.status] || v.status)],
        [labels.took, took(v)],
        [labels.due, v.due_at ? when(v.due_at) + (v.due_estimated ? '（' + labels.estimated + '）' : '') +
          (v.late ? ' · ' + labels.late : '') : '—']
      ];
      rows.forEach(function (r) {
        dl.appendChild(text('dt', r[0], 'col-4 fw-normal text-body-secondary'));
        dl.appendChild(text('dd', r[1], 'col-8 mb-0'));
      });
      panel.appendChild(dl);
    });
  }

  function elementList() {
    var ids = Object.keys(data.elements);
    if (!ids.length) { return; }
    var ul = document.createElement('ul');
    ul.className = 'list-unstyled small mt-2 mb-0';
    ul.setAttribute('data-testid', 'diagram-elements');
    ids.forEach(function (id) {
      var li = document.createElement('li');
      var button = text('button', nameOf(id), 'btn btn-link btn-sm p-0');
      button.type = 'button';
      button.setAttribute('data-element-id', id);
      button.addEventListener('click', function () { show(id); });
      li.appendChild(button);
      data.elements[id].markers.forEach(function (m) {
        li.appendChild(document.createTextNode(' '));
        li.appendChild(text('span', labels[m] || m, 'gt-marker-badge ' + m));
      });
      ul.appendChild(li);
    });
    panel.parentNode.appendChild(ul);
  }

  window.GuantongDiagram.show(viewer, data.xml, data.process_key).then(function () {
    mark();
    elementList();
    viewer.on('element.click', function (event) {
      var el = event.element;
      if (el && el.type !== 'bpmn:Process' && el.type !== 'bpmn:Collaboration' && el.type !== 'label') { show(el.id); }
    });
    canvasEl.setAttribute('data-ready', '1');
  }).catch(function (err) {
    canvasEl.setAttribute('data-ready', 'error');
    if (status) { status.textContent = String((err && err.message) || err); }
  });
})();
