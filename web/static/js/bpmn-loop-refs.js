/* Keep a multi-instance's loop variables through an edit in bpmn-js.
 *
 * SpiffWorkflow names a task-data variable in <bpmn:loopDataInputRef> / <bpmn:loopDataOutputRef> (its own
 * modeler writes them so), not a declared BPMN data element. bpmn-js cannot resolve such a name: it warns
 * "unresolved reference <name>", leaves the property empty, and a save would drop the element, so the
 * saved file no longer parses in SpiffWorkflow ("A multiinstance task must specify a cardinality or a loop
 * input data reference"). gtKeepLoopRefs(modeler, warnings) puts a stand-in back for exactly those
 * warnings (a bpmn:DataInput / bpmn:DataOutput carrying the name as its id, held by no container), so a
 * save writes the same name where it was. Called with the warnings of importXML; returns how many it kept.
 */
(function () {
  'use strict';
  var STAND_IN = { 'bpmn:loopDataInputRef': 'bpmn:DataInput', 'bpmn:loopDataOutputRef': 'bpmn:DataOutput' };
  window.gtKeepLoopRefs = function (modeler, warnings) {
    var moddle = modeler.get('moddle');
    var kept = 0;
    (warnings || []).forEach(function (w) {
      var type = w && w.element && STAND_IN[w.property];
      if (!type || typeof w.value !== 'string' || !/^unresolved reference </.test(w.message || '')) { return; }
      w.element.set(w.property, moddle.create(type, { id: w.value }));
      kept += 1;
    });
    return kept;
  };
})();
