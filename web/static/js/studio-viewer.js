/* Studio viewer: a read-only BPMN diagram with the number of ready tasks drawn on each element.
 * Loaded after bpmn-viewer.production.min.js (global BpmnJS). No inline script: CSP script-src 'self'. */
(function () {
  'use strict';
  var canvasEl = document.getElementById('canvas');
  if (!canvasEl || typeof window.BpmnJS !== 'function') { return; }
  var status = document.getElementById('viewer-status');
  var list = document.getElementById('overlay-list');
  var viewer = new window.BpmnJS({ container: canvasEl });
  var counts = {};

  function say(text) { if (status) { status.textContent = text; } }

  function drawOverlays() {
    var overlays = viewer.get('overlays');
    var registry = viewer.get('elementRegistry');
    overlays.remove({ type: 'gt-count' });
    if (list) { list.textContent = ''; }
    Object.keys(counts).forEach(function (id) {
      var element = registry.get(id);
      var n = counts[id].ready;
      if (list) {
        var li = document.createElement('li');
        var name = element && element.businessObject && element.businessObject.name;
        li.textContent = (name || id) + '：' + n;
        li.setAttribute('data-element-id', id);
        list.appendChild(li);
      }
      if (!element) { return; }
      var badge = document.createElement('span');
      badge.className = 'gt-count-badge';
      badge.textContent = String(n);
      badge.setAttribute('data-testid', 'count-' + id);
      overlays.add(id, 'gt-count', { position: { top: -12, right: 12 }, html: badge });
    });
  }

  function fit() {
    try { viewer.get('canvas').zoom('fit-viewport', 'auto'); } catch (e) { /* empty diagram */ }
  }

  function setUpSwitch() {
    var defs = viewer.getDefinitions();
    var diagrams = (defs && defs.diagrams) || [];
    var box = document.getElementById('diagram-switch');
    var select = document.getElementById('diagram-select');
    if (!box || !select || diagrams.length < 2) { return; }
    diagrams.forEach(function (d) {
      var option = document.createElement('option');
      option.value = d.id;
      option.textContent = (d.plane && d.plane.bpmnElement && (d.plane.bpmnElement.name || d.plane.bpmnElement.id)) || d.id;
      select.appendChild(option);
    });
    box.hidden = false;
    select.addEventListener('change', function () {
      viewer.open(select.value).then(function () { fit(); drawOverlays(); });
    });
  }

  Promise.all([
    fetch(canvasEl.dataset.xmlUrl, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.text();
    }),
    fetch(canvasEl.dataset.overlayUrl, { credentials: 'same-origin' }).then(function (r) {
      return r.ok ? r.json() : { elements: {} };
    })
  ]).then(function (results) {
    counts = results[1].elements || {};
    return viewer.importXML(results[0]);
  }).then(function () {
    fit();
    setUpSwitch();
    drawOverlays();
    canvasEl.setAttribute('data-ready', '1');
    say('');
  }).catch(function (err) {
    canvasEl.setAttribute('data-ready', 'error');
    say(String(err && err.message || err));
  });
})();
