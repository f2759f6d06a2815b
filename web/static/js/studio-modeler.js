/* Studio modeler: edit a BPMN file with bpmn-js, validate and deploy it through the engine's compiler.
 * Loaded after bpmn-modeler.production.min.js (global BpmnJS). Problems come back as
 * {file, element, reason}; their elements are marked in red on the diagram and listed below it. */
(function () {
  'use strict';
  var canvasEl = document.getElementById('canvas');
  if (!canvasEl || typeof window.BpmnJS !== 'function') { return; }
  var result = document.getElementById('studio-result');
  var texts = result.dataset;
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var panelEl = document.getElementById('properties');
  var withPanel = !!(panelEl && window.GuantongPanel && window.gtPropertiesModule && window.gtSpiffModdle);
  // The properties panel edits Guantong's spiffworkflow properties (studio-properties.js); without its
  // scripts the diagram still opens, as before.
  var modeler = new window.BpmnJS(withPanel ? {
    container: canvasEl,
    propertiesPanel: { parent: panelEl },
    additionalModules: [
      window.GuantongPanel.BpmnPropertiesPanelModule,
      window.GuantongPanel.BpmnPropertiesProviderModule,
      window.gtPropertiesModule
    ].concat(window.gtTranslateModule ? [window.gtTranslateModule] : []),
    moddleExtensions: { spiffworkflow: window.gtSpiffModdle }
  } : { container: canvasEl });
  var marked = [];
  var dirty = false;
  var busy = false;
  window.gtModeler = modeler; // for people debugging in the console, and for browser tests

  function clearMarks() {
    var canvas = modeler.get('canvas');
    marked.forEach(function (m) { try { canvas.removeMarker(m[0], m[1]); } catch (e) { /* gone */ } });
    marked = [];
    modeler.get('overlays').remove({ type: 'gt-problem' });
    modeler.get('overlays').remove({ type: 'gt-warning' });
  }

  function describe(pr) {
    var where = pr.element ? ' · ' + texts.textElement + ' ' + pr.element + (pr.name ? '「' + pr.name + '」' : '') : '';
    return (pr.file || '') + where + '：' + pr.reason;
  }

  function list(problems, testid) {
    var ul = document.createElement('ul');
    ul.className = 'mb-0 small';
    ul.setAttribute('data-testid', testid);
    problems.forEach(function (pr) {
      var li = document.createElement('li');
      li.textContent = describe(pr);
      if (pr.element) { li.setAttribute('data-element-id', pr.element); }
      ul.appendChild(li);
    });
    return ul;
  }

  function show(kind, heading, problems, link, warnings) {
    result.textContent = '';
    var box = document.createElement('div');
    box.className = 'alert alert-' + kind;
    box.setAttribute('role', kind === 'danger' ? 'alert' : 'status');
    var p = document.createElement('p');
    p.className = 'mb-1';
    p.textContent = heading;
    box.appendChild(p);
    if (problems && problems.length) { box.appendChild(list(problems, 'problems')); }
    if (warnings && warnings.length) {
      var w = document.createElement('p');
      w.className = 'mb-1 mt-2';
      w.textContent = texts.textWarnings;
      box.appendChild(w);
      box.appendChild(list(warnings, 'warnings'));
    }
    if (link) {
      var a = document.createElement('a');
      a.href = link;
      a.className = 'alert-link';
      a.textContent = texts.textView;
      box.appendChild(a);
    }
    result.appendChild(box);
  }

  function mark(problems, kind) {
    kind = kind || 'gt-problem';
    var registry = modeler.get('elementRegistry');
    var canvas = modeler.get('canvas');
    var overlays = modeler.get('overlays');
    function targets(id) {
      if (registry.get(id)) { return [id]; }
      // Not drawn (a lane without its own shape, say): mark the elements that belong to it.
      return registry.filter(function (el) {
        var lanes = el.businessObject && el.businessObject.lanes;
        return !el.labelTarget && lanes && lanes.some(function (lane) { return lane.id === id; });
      }).map(function (el) { return el.id; });
    }
    problems.forEach(function (pr) {
      if (!pr.element) { return; }
      targets(pr.element).forEach(function (id) {
        if (marked.some(function (m) { return m[0] === id; })) { return; }
        canvas.addMarker(id, kind);
        marked.push([id, kind]);
        var note = document.createElement('span');
        note.className = kind + '-note';
        note.textContent = kind === 'gt-problem' ? '!' : '?';
        note.title = pr.reason;
        note.setAttribute('data-element-id', id);
        overlays.add(id, kind, { position: { top: -10, left: -10 }, html: note });
      });
    });
  }

  var confirmBox = document.getElementById('deploy-confirm');
  var drafts = window.gtFormDrafts;
  var draftsBox = document.getElementById('form-drafts');

  /* The forms edited in this session (studio-drafts.js): listed above the buttons, each with a link back
   * to its editor, validated with the diagram and sent with its deploy request. */
  function showDrafts() {
    if (!draftsBox || !drafts) { return; }
    var items = drafts.list();
    var ul = draftsBox.querySelector('ul');
    ul.textContent = '';
    items.forEach(function (d) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = draftsBox.dataset.formUrl + '?key=' + encodeURIComponent(d.key);
      a.textContent = 'forms/' + d.key + '.json';
      li.appendChild(a);
      ul.appendChild(li);
    });
    draftsBox.hidden = !items.length;
  }

  function draftsJSON() { return drafts ? JSON.stringify(drafts.list()) : ''; }

  function hideConfirm() { confirmBox.hidden = true; }

  /* Deploying asks first: the edit is validated, and what it changes against the current version is
   * listed with the note the approver will read; only then is the deploy request filed. */
  function askToConfirm(data) {
    var changes = data.changes || { summary: {}, elements: [] };
    var sum = changes.summary || {};
    document.getElementById('confirm-summary').textContent = confirmBox.dataset.textSummary
      .replace('{added}', sum.added || 0).replace('{removed}', sum.removed || 0)
      .replace('{changed}', sum.changed || 0);
    var ul = document.getElementById('confirm-list');
    ul.textContent = '';
    (changes.elements || []).forEach(function (e) {
      var li = document.createElement('li');
      li.textContent = e.said + '：' + (e.name ? e.name + ' ' : '') + '(' + e.id + ')' +
        (e.properties && e.properties.length ? ' · ' + e.properties.join('、') : '');
      li.setAttribute('data-element-id', e.id);
      ul.appendChild(li);
    });
    (drafts ? drafts.list() : []).forEach(function (d) {
      var li = document.createElement('li');
      li.textContent = confirmBox.dataset.textForm.replace('{file}', 'forms/' + d.key + '.json');
      li.setAttribute('data-form-key', d.key);
      ul.appendChild(li);
    });
    if (!(changes.elements || []).length && !(drafts && drafts.list().length)) {
      var none = document.createElement('li');
      none.textContent = confirmBox.dataset.textNone;
      ul.appendChild(none);
    }
    document.getElementById('confirm-note').value = document.getElementById('deploy-comment').value;
    confirmBox.hidden = false;
    document.getElementById('confirm-note').focus();
  }

  function send(url, confirming) {
    if (busy) { return; }
    busy = true;
    clearMarks();
    show('secondary', texts.textWorking);
    modeler.saveXML({ format: true }).then(function (saved) {
      var body = new URLSearchParams();
      body.set('filename', canvasEl.dataset.filename);
      body.set('xml', saved.xml);
      body.set('comment', url === canvasEl.dataset.deployUrl
        ? document.getElementById('confirm-note').value : document.getElementById('deploy-comment').value);
      body.set('base_sha', canvasEl.dataset.baseSha || '');
      body.set('forms', draftsJSON());
      return fetch(url, {
        method: 'POST', credentials: 'same-origin', body: body,
        headers: { 'X-CSRFToken': token, 'Accept': 'application/json' }
      });
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (res) {
      var data = res.data;
      if (data.ok && confirming) {
        show('success', data.message || texts.textOk, null, null, data.warnings);
        mark(data.warnings || [], 'gt-warning');
        askToConfirm(data);
      } else if (data.ok && url === canvasEl.dataset.deployUrl) {
        hideConfirm();
        dirty = false;
        if (drafts) { drafts.clear(); showDrafts(); } // they are in the request now
        // data.text is in the reader's language; data.message is the English line for scripts, never shown
        show('success', data.text || data.message, null, data.url);
      } else if (data.ok) {
        show('success', data.message || texts.textOk, null, null, data.warnings);
        mark(data.warnings || [], 'gt-warning');
      } else {
        var problems = data.problems || [];
        show(res.status === 409 ? 'warning' : 'danger', data.message && !problems.length ? data.message : texts.textProblems, problems, null, data.warnings);
        mark(problems);
        mark(data.warnings || [], 'gt-warning');
      }
    }).catch(function () {
      show('danger', texts.textError);
    }).then(function () { busy = false; });
  }

  fetch(canvasEl.dataset.xmlUrl, { credentials: 'same-origin' }).then(function (r) {
    if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.text();
  }).then(function (xml) {
    return modeler.importXML(xml);
  }).then(function (imported) {
    if (window.gtRestoreLoopRefs) { window.gtRestoreLoopRefs(modeler.get('moddle'), imported && imported.warnings); }
    try { modeler.get('canvas').zoom('fit-viewport', 'auto'); } catch (e) { /* empty */ }
    modeler.on('commandStack.changed', function () { dirty = true; });
    canvasEl.setAttribute('data-ready', '1');
  }).catch(function (err) {
    canvasEl.setAttribute('data-ready', 'error');
    show('danger', String(err && err.message || err));
  });

  showDrafts();
  if (draftsBox) {
    draftsBox.querySelector('button').addEventListener('click', function () { drafts.clear(); showDrafts(); });
  }

  document.getElementById('btn-validate').addEventListener('click', function () {
    hideConfirm();
    send(canvasEl.dataset.validateUrl);
  });
  document.getElementById('btn-deploy').addEventListener('click', function () { send(canvasEl.dataset.validateUrl, true); });
  document.getElementById('btn-confirm').addEventListener('click', function () { send(canvasEl.dataset.deployUrl); });
  document.getElementById('btn-cancel').addEventListener('click', hideConfirm);
  window.addEventListener('beforeunload', function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ''; }
  });
})();
