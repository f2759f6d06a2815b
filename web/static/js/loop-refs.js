/* SpiffWorkflow writes a process variable's name in <bpmn:loopDataInputRef> / <bpmn:loopDataOutputRef>
 * of a multi-instance task (processes/CONVENTIONS.md: the collection to loop over, the list to fill).
 * bpmn-js reads both as references to an element of that id, finds none, warns "unresolved reference"
 * and writes nothing back: a library file with a multi-instance over a variable (gt_p5_verify,
 * gt_m3_eco, …) would lose its collection on save and be refused at deploy. After import, each such
 * reference is put back as a detached data input/output named by the variable, which bpmn-js writes
 * out as the same text. */
(function (root) {
  'use strict';
  var KINDS = { 'bpmn:loopDataInputRef': 'bpmn:DataInput', 'bpmn:loopDataOutputRef': 'bpmn:DataOutput' };

  function restoreLoopRefs(moddle, warnings) {
    var restored = 0;
    (warnings || []).forEach(function (w) {
      var type = w && KINDS[w.property];
      if (!type || !w.element || !w.value || !/^unresolved reference/.test(w.message || '')) { return; }
      w.element.set(w.property, moddle.create(type, { id: w.value }));
      restored += 1;
    });
    return restored;
  }

  if (typeof module === 'object' && module.exports) { module.exports = restoreLoopRefs; } else { root.gtRestoreLoopRefs = restoreLoopRefs; }
})(this);
