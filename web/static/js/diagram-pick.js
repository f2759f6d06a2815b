/* Drawing one process of a BPMN file with bpmn-js (its own plane, or the collaboration whose participant
 * it is), for the pages that draw a process: the instance page and the duration heatmap. */
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
    },
    // Import the file, open the process's own diagram when the file shows another first, fit it.
    show: function (viewer, xml, processKey) {
      var self = this;
      return viewer.importXML(xml).then(function () {
        var wanted = self.pick(viewer, processKey);
        var current = viewer.get('canvas').getRootElement();
        var currentId = current && current.businessObject && current.businessObject.id;
        if (wanted && currentId !== processKey) { return viewer.open(wanted); }
        return null;
      }).then(function () {
        try { viewer.get('canvas').zoom('fit-viewport', 'auto'); } catch (e) { /* empty diagram */ }
      });
    }
  };
}());
