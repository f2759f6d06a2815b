/* The spiffworkflow extension elements Guantong's library uses, as a moddle package for bpmn-js.
 * Without it bpmn-js keeps them as untyped elements the properties panel cannot edit; with it every
 * one of them must be declared here, or the modeler would drop it on save (tools test the round trip
 * of every library file: tests/web/test_studio_properties.py). Names follow processes/CONVENTIONS.md. */
(function (root) {
  'use strict';
  function text(name) {
    return { name: name, superClass: ['Element'], properties: [{ name: 'value', type: 'String', isBody: true }] };
  }
  var descriptor = {
    name: 'SpiffWorkflow',
    prefix: 'spiffworkflow',
    uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core',
    xml: { tagAlias: 'lowerCase' },
    associations: [],
    types: [
      { name: 'Properties', superClass: ['Element'],
        properties: [{ name: 'properties', type: 'Property', isMany: true }] },
      { name: 'Property', superClass: ['Element'],
        properties: [{ name: 'name', type: 'String', isAttr: true }, { name: 'value', type: 'String', isAttr: true }] },
      text('InstructionsForEndUser'),
      text('PreScript'),
      text('PostScript'),
      text('MessagePayload'),
      text('MessageVariable')
    ]
  };
  if (typeof module === 'object' && module.exports) { module.exports = descriptor; } else { root.gtSpiffModdle = descriptor; }
})(this);
