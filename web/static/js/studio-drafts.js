/* The forms edited in this studio session, waiting to be deployed with a diagram (issue 17): kept in
 * the tab's sessionStorage as {key: {key, schema, base_sha}} by the form editor (studio-forms.js) and
 * sent by the modeler (studio-modeler.js) with its validation and deploy requests. sessionStorage, so a
 * draft lives as long as the tab and is never shared with another person or browser. */
(function () {
  'use strict';
  var NAME = 'gt-studio-form-drafts';
  function all() {
    try { return JSON.parse(window.sessionStorage.getItem(NAME) || '{}') || {}; } catch (e) { return {}; }
  }
  function save(drafts) {
    if (Object.keys(drafts).length) { window.sessionStorage.setItem(NAME, JSON.stringify(drafts)); }
    else { window.sessionStorage.removeItem(NAME); }
  }
  window.gtFormDrafts = {
    list: function () { var d = all(); return Object.keys(d).sort().map(function (k) { return d[k]; }); },
    get: function (key) { return all()[key] || null; },
    put: function (draft) { var d = all(); d[draft.key] = draft; save(d); },
    drop: function (key) { var d = all(); delete d[key]; save(d); },
    clear: function () { save({}); }
  };
})();
