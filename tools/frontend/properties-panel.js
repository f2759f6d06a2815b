/* Entry of the properties-panel bundle (built by tools/vendor_assets.py with esbuild into
 * web/static/vendor/bpmn-js-properties-panel/properties-panel.js).
 *
 * Why a bundle of our own: bpmn-js-properties-panel's UMD file exposes the panel modules only, while
 * Guantong's provider (web/static/js/studio-properties.js) needs the entry components of
 * @bpmn-io/properties-panel and the very preact instance the panel renders with. Everything is put on
 * one global, GuantongPanel, beside the BpmnJS global of bpmn-js's own production bundle. */
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  useService
} from 'bpmn-js-properties-panel';
import {
  CheckboxEntry,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isCheckboxEntryEdited,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited
} from '@bpmn-io/properties-panel';
import { h } from '@bpmn-io/properties-panel/preact';

window.GuantongPanel = {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  useService,
  CheckboxEntry,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isCheckboxEntryEdited,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
  h
};
