/* The diagram of one process in a BPMN file (its own plane, or the collaboration whose participant it
 * is), for the pages that draw a process with bpmn-js: the instance page and the duration heatmap. */
(function () {
  'use strict';
  window.GuantongDiagram = {
    pick: function (viewer, processKey) {
      var diagrams = ((viewer.getDefinitions() || {}).diagrams) || [];
      for (var i = 0; i < diagrams.length; i++) {
        var el = diagrams[i].plane && diagrams[i].plane.bpmnElement;
        if (!el) { continue; }
        if (el.id === processKey) { return diagrams[i].id; }
        var parts = el.participants || [];
        for (var j = 0; j < parts.length; j++) {
          if (parts[j].processRef && parts[j].processRef.id === processKey) { return diagrams[i].id; }
        }
      }
      return null;
    }
  };
}());
