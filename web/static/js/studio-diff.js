/* Studio diff: the two versions of a file side by side in bpmn-js viewers, with the server's structural
 * diff drawn on them (removed and changed on the older one, added and changed on the newer one).
 * Loaded after bpmn-viewer.production.min.js (global BpmnJS). No inline script: CSP script-src 'self'. */
(function () {
  'use strict';
  if (typeof window.BpmnJS !== 'function') { return; }
  var panes = document.querySelectorAll('[data-diff-pane]');
  var marks = JSON.parse(document.getElementById('diff-marks').textContent || '{}');

  function draw(pane) {
    var url = pane.dataset.xmlUrl;
    if (!url) { pane.setAttribute('data-ready', 'missing'); return; }
    var viewer = new window.BpmnJS({ container: pane });
    var side = pane.dataset.diffPane; // "a" (older) or "b" (newer)
    fetch(url, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.text();
    }).then(function (xml) {
      return viewer.importXML(xml);
    }).then(function () {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      var kinds = side === 'a' ? ['removed', 'changed'] : ['added', 'changed'];
      kinds.forEach(function (kind) {
        (marks[kind] || []).forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, 'gt-' + kind); }
        });
      });
      try { canvas.zoom('fit-viewport', 'auto'); } catch (e) { /* empty diagram */ }
      pane.setAttribute('data-ready', '1');
    }).catch(function () {
      pane.setAttribute('data-ready', 'error');
    });
  }

  Array.prototype.forEach.call(panes, draw);
})();
