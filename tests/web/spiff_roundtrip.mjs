// Reads every BPMN file given on the command line with bpmn-js's moddle and the spiffworkflow package
// of web/static/js/spiffworkflow-moddle.js, writes it back, and prints one JSON line per file: the
// spiffworkflow elements and properties before and after, and the warnings other than the known
// loopDataInputRef ones (put back by web/static/js/loop-refs.js, as the modeler does). tests/web/test_studio_properties.py compares them.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { BpmnModdle } = await import(path.join(root, 'node_modules', 'bpmn-moddle', 'dist', 'index.js'));
const spiff = require(path.join(root, 'web', 'static', 'js', 'spiffworkflow-moddle.js'));
const restoreLoopRefs = require(path.join(root, 'web', 'static', 'js', 'loop-refs.js'));
const moddle = new BpmnModdle({ spiffworkflow: spiff });
const elements = (s) => (s.match(/<spiffworkflow:[a-zA-Z]+/g) || []).sort();
const props = (s) => s.match(/<spiffworkflow:property name="[^"]*" value="[^"]*"/g) || [];
const loops = (s) => (s.match(/<bpmn:loopData(Input|Output)Ref>[^<]*</g) || []).map((m) => m.replace(/\s+/g, ''));
for (const file of process.argv.slice(2)) {
  const xml = fs.readFileSync(file, 'utf8');
  const { rootElement, warnings } = await moddle.fromXML(xml);
  const restored = restoreLoopRefs(moddle, warnings);
  const { xml: out } = await moddle.toXML(rootElement, { format: true });
  console.log(JSON.stringify({
    file: path.basename(file),
    same_elements: JSON.stringify(elements(xml)) === JSON.stringify(elements(out)),
    same_properties: JSON.stringify(props(xml)) === JSON.stringify(props(out)),
    same_loops: JSON.stringify(loops(xml)) === JSON.stringify(loops(out)),
    loops: loops(xml).length,
    restored,
    elements: elements(xml).length,
    warnings: warnings.map((w) => w.message).filter((m) => !/unresolved reference/.test(m))
  }));
}
