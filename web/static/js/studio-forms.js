/* Studio form editor: every pause in typing sends the schema to /studio/forms/check; the answer's
 * preview is rendered on the server by the officers' own form macros, so what is shown is what an
 * officer will get. Problems are listed with where they are (line and column, or schema path). */
(function () {
  'use strict';
  var area = document.getElementById('schema');
  if (!area) { return; }
  var result = document.getElementById('form-result');
  var preview = document.getElementById('form-preview');
  var reads = document.querySelector('[data-testid="process-fields"]');
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var timer = null;
  var seq = 0;

  function post(url, extra) {
    var body = new URLSearchParams();
    body.set('key', area.dataset.key);
    body.set('schema', area.value);
    Object.keys(extra || {}).forEach(function (k) { body.set(k, extra[k]); });
    return fetch(url, { method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'X-CSRFToken': token, 'Accept': 'application/json' } })
      .then(function (r) { return r.json(); });
  }

  function say(kind, heading, problems, link) {
    result.textContent = '';
    var box = document.createElement('div');
    box.className = 'alert alert-' + kind + ' py-2';
    box.setAttribute('role', kind === 'danger' ? 'alert' : 'status');
    var p = document.createElement('p');
    p.className = 'mb-1';
    p.textContent = heading;
    box.appendChild(p);
    if (problems && problems.length) {
      var ul = document.createElement('ul');
      ul.className = 'mb-0 small';
      ul.setAttribute('data-testid', 'form-problems');
      problems.forEach(function (pr) {
        var li = document.createElement('li');
        li.textContent = (pr.file || '') + (pr.element ? ' · ' + pr.element + (pr.name ? '「' + pr.name + '」' : '') : '') + '：' + pr.reason;
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (link) {
      var a = document.createElement('a');
      a.href = link; a.className = 'alert-link'; a.textContent = result.dataset.textView;
      box.appendChild(a);
    }
    result.appendChild(box);
  }

  function check() {
    var mine = ++seq;
    post(area.dataset.checkUrl).then(function (data) {
      if (mine !== seq) { return; } // a newer edit is on its way
      say(data.ok ? 'success' : 'danger', data.message, data.problems);
      area.classList.toggle('is-invalid', !data.ok);
      if (data.preview) { preview.innerHTML = data.preview; } // rendered by the server's escaping templates
      reads.textContent = (data.process_fields || []).length ? data.process_fields.join('、') : reads.dataset.textNone;
      preview.setAttribute('data-ready', String(mine));
    }).catch(function () { say('danger', result.dataset.textError); });
  }

  /* A draft: the edit kept in this tab's sessionStorage (studio-drafts.js) and sent with the diagram's
   * deploy request, so the diagram and its forms are approved once and deployed as one version. Only
   * a schema that passed the check is kept. */
  var drafts = window.gtFormDrafts;
  var kept = drafts && drafts.get(area.dataset.key);
  if (kept && kept.base_sha === (area.dataset.baseSha || '')) { area.value = kept.schema; }
  var draftButton = document.getElementById('btn-form-draft');
  if (draftButton && drafts) {
    draftButton.addEventListener('click', function () {
      post(area.dataset.checkUrl).then(function (data) {
        if (!data.ok) { say('danger', data.message, data.problems); return; }
        drafts.put({ key: area.dataset.key, schema: area.value, base_sha: area.dataset.baseSha || '' });
        say('success', result.dataset.textDraft);
      }).catch(function () { say('danger', result.dataset.textError); });
    });
  }

  area.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  document.getElementById('btn-form-deploy').addEventListener('click', function () {
    post(area.dataset.deployUrl, { base_sha: area.dataset.baseSha, comment: document.getElementById('form-comment').value })
      .then(function (data) {
        if (data.ok) { if (drafts) { drafts.drop(area.dataset.key); } say('success', data.text, null, data.url); } else { say(data.problems && data.problems.length ? 'danger' : 'warning', data.message || '', data.problems); }
      }).catch(function () { say('danger', result.dataset.textError); });
  });
  check();
})();
