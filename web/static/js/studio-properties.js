/* Guantong's properties provider for the studio modeler (issue 17).
 *
 * It edits exactly what the engine's compiler reads (engine/definitions/compiler.py,
 * processes/CONVENTIONS.md): the <spiffworkflow:properties> of a user task and of a process, the task's
 * <spiffworkflow:instructionsForEndUser>, a lane's name (its role), a timer's expression and a message's
 * payload, variable and correlation. Choices (forms, deadlines, roles, unit variables) come from the
 * version being edited, embedded by the page as JSON (#panel-choices); labels and the rules quoted in
 * the help texts come translated (#panel-texts). Every change is one command on bpmn-js's command
 * stack, so Ctrl+Z undoes it like a move on the diagram.
 *
 * Loaded after bpmn-modeler.production.min.js (BpmnJS), properties-panel.js (GuantongPanel) and
 * spiffworkflow-moddle.js (gtSpiffModdle); exposes window.gtPropertiesModule for studio-modeler.js. */
(function () {
  'use strict';
  var P = window.GuantongPanel;
  var choicesEl = document.getElementById('panel-choices');
  var textsEl = document.getElementById('panel-texts');
  if (!P || !choicesEl || !textsEl) { return; }
  var C = JSON.parse(choicesEl.textContent);
  var T = JSON.parse(textsEl.textContent);
  var h = P.h;
  var SPIFF = 'spiffworkflow:';
  var TASKS = ['bpmn:UserTask', 'bpmn:ManualTask'];
  var INLINE = /^[1-9][0-9]{0,2} (workdays|months|days)$/;

  function t(key, params) {
    var s = T[key] || key;
    Object.keys(params || {}).forEach(function (k) { s = s.replace('{' + k + '}', params[k]); });
    return s;
  }

  function isAny(bo, types) { return types.some(function (type) { return bo && bo.$instanceOf && bo.$instanceOf(type); }); }

  /* The business object whose properties a selected shape edits: a participant edits its process. */
  function target(element) {
    var bo = element.businessObject;
    if (bo && bo.$instanceOf('bpmn:Participant')) { return bo.processRef; }
    return bo;
  }

  function extensions(bo, type) {
    var ext = bo && bo.extensionElements;
    return ((ext && ext.values) || []).filter(function (v) { return v.$instanceOf(SPIFF + type); });
  }

  function getProp(bo, name) {
    var found = null;
    extensions(bo, 'Properties').forEach(function (props) {
      (props.properties || []).forEach(function (p) { if (p.name === name) { found = p.value; } });
    });
    return found || '';
  }

  /* Commands that give ``bo`` an <extensionElements> with one <spiffworkflow:TYPE>, created when missing. */
  function ensureExtension(injector, element, bo, type, attrs, commands) {
    var factory = injector.get('bpmnFactory');
    var ext = bo.extensionElements;
    if (!ext) {
      ext = factory.create('bpmn:ExtensionElements', { values: [] });
      ext.$parent = bo;
      commands.push({ cmd: 'element.updateModdleProperties',
        context: { element: element, moddleElement: bo, properties: { extensionElements: ext } } });
    }
    var existing = extensions(bo, type)[0];
    if (existing) { return existing; }
    var created = factory.create(SPIFF + type, attrs || {});
    created.$parent = ext;
    commands.push({ cmd: 'element.updateModdleProperties',
      context: { element: element, moddleElement: ext, properties: { values: (ext.values || []).concat([created]) } } });
    return created;
  }

  function run(injector, commands) {
    if (commands.length) { injector.get('commandStack').execute('properties-panel.multi-command-executor', commands); }
  }

  /* Set (or with an empty value remove) one <spiffworkflow:property>. */
  function setProp(injector, element, bo, name, value) {
    value = (value || '').trim();
    var commands = [];
    var existing = extensions(bo, 'Properties')[0];
    var prop = existing && (existing.properties || []).filter(function (p) { return p.name === name; })[0];
    if (!value) {
      if (prop) {
        commands.push({ cmd: 'element.updateModdleProperties', context: { element: element, moddleElement: existing,
          properties: { properties: existing.properties.filter(function (p) { return p !== prop; }) } } });
      }
    } else if (prop) {
      commands.push({ cmd: 'element.updateModdleProperties',
        context: { element: element, moddleElement: prop, properties: { value: value } } });
    } else {
      var props = ensureExtension(injector, element, bo, 'Properties', { properties: [] }, commands);
      var created = injector.get('bpmnFactory').create(SPIFF + 'Property', { name: name, value: value });
      created.$parent = props;
      commands.push({ cmd: 'element.updateModdleProperties', context: { element: element, moddleElement: props,
        properties: { properties: (props.properties || []).concat([created]) } } });
    }
    run(injector, commands);
  }

  function getBody(bo, type) { var el = extensions(bo, type)[0]; return (el && el.value) || ''; }

  function setBody(injector, element, bo, type, value) {
    var commands = [];
    var el = extensions(bo, type)[0];
    if (!value && el) {
      commands.push({ cmd: 'element.updateModdleProperties', context: { element: element, moddleElement: bo.extensionElements,
        properties: { values: bo.extensionElements.values.filter(function (v) { return v !== el; }) } } });
    } else if (value && el) {
      commands.push({ cmd: 'element.updateModdleProperties', context: { element: element, moddleElement: el, properties: { value: value } } });
    } else if (value) {
      ensureExtension(injector, element, bo, type, { value: value }, commands);
    }
    run(injector, commands);
  }

  // ------------------------------------------------------------------ entry components
  /* Each entry is rendered as a component so it may use the panel's hooks (useService). */
  function Text(props) {
    var injector = P.useService('injector');
    return h(P.TextFieldEntry, {
      element: props.element, id: props.id, label: props.label, description: props.description,
      debounce: P.useService('debounceInput'), getValue: props.getValue,
      setValue: function (value) { props.setValue(injector, value); }, validate: props.validate
    });
  }

  function Area(props) {
    var injector = P.useService('injector');
    return h(P.TextAreaEntry, {
      element: props.element, id: props.id, label: props.label, description: props.description, rows: 4,
      debounce: P.useService('debounceInput'), getValue: props.getValue,
      setValue: function (value) { props.setValue(injector, value); }
    });
  }

  function Select(props) {
    var injector = P.useService('injector');
    return h(P.SelectEntry, {
      element: props.element, id: props.id, label: props.label,
      description: props.describe ? props.describe(props.getValue(props.element)) : props.description,
      getValue: props.getValue, setValue: function (value) { props.setValue(injector, value); },
      getOptions: function (element) {
        var options = props.options();
        var current = props.getValue(element);
        if (current && !options.some(function (o) { return o.value === current; })) {
          options.push({ value: current, label: t('notInVersion', { value: current }) });
        }
        return options;
      }
    });
  }

  /* A link to the form editor for the chosen form (a new form is created there, then chosen here). */
  function FormLink(props) {
    var key = props.getValue(props.element);
    var base = (document.getElementById('properties') || {}).dataset || {};
    if (!base.formUrl) { return null; }
    return h('div', { class: 'bio-properties-panel-entry' },
      h('a', { href: base.formUrl + '?key=' + encodeURIComponent(key || ''), target: '_blank', rel: 'noopener',
        'data-testid': 'open-form' }, key ? t('openForm', { key: key }) : t('newForm')));
  }

  function entry(kind, id, spec) {
    var component = { text: Text, area: Area, select: Select }[kind];
    var edited = { text: P.isTextFieldEntryEdited, area: P.isTextAreaEntryEdited, select: P.isSelectEntryEdited }[kind];
    return Object.assign({ id: id, component: component, isEdited: edited }, spec);
  }

  /* An entry bound to one <spiffworkflow:property>. */
  function propEntry(kind, element, name, spec) {
    var bo = target(element);
    return entry(kind, 'gt-' + name, Object.assign({
      label: t('label.' + name), description: t('help.' + name),
      getValue: function () { return getProp(bo, name); },
      setValue: function (injector, value) { setProp(injector, element, bo, name, value); }
    }, spec || {}));
  }

  function none() { return [{ value: '', label: t('none') }]; }
  function fixed(values, prefix) {
    return function () { return none().concat(values.map(function (v) { return { value: v, label: v + ' · ' + t(prefix + v) }; })); };
  }

  function formOf(key) { return C.forms.filter(function (f) { return f.key === key; })[0]; }
  function deadlineOf(key) { return C.deadlines.filter(function (d) { return d.key === key; })[0]; }
  function length(d) { return d && d.length ? t('unit.' + d.length.unit, { n: d.length.n }) : ''; }

  function formOptions() {
    return none().concat(C.forms.map(function (f) { return { value: f.key, label: f.key + (f.title ? ' · ' + f.title : '') }; }));
  }
  function describeForm(key) {
    var f = formOf(key);
    if (!f) { return t('help.formKey'); }
    var read = f.fields.filter(function (x) { return x.process; }).map(function (x) { return x.name + '（' + x.title + '）'; });
    return t('help.formKey') + ' ' + t('formFields', { fields: read.length ? read.join('、') : t('noneRead') });
  }
  function deadlineOptions() {
    return none().concat(C.deadlines.map(function (d) { return { value: d.key, label: d.key + ' · ' + length(d) }; }));
  }
  function describeDeadline(key) {
    if (INLINE.test(key || '')) {
      var parts = key.split(' ');
      return t('help.dueIn') + ' ' + t('inlineSaid', { length: t('unit.' + parts[1], { n: parts[0] }) });
    }
    var d = deadlineOf(key);
    return t('help.dueIn') + (d ? ' ' + t('deadlineSaid', { length: length(d), basis: d.basis || '' }) : '');
  }
  function unitOptions() {
    return none().concat(C.unitVars.map(function (v) { return { value: v, label: v }; }));
  }

  function laneOf(element) {
    var bo = element.businessObject;
    var lanes = (bo && bo.lanes) || [];
    if (lanes.length) { return lanes[0]; }
    var found = null;
    (function walk(node) {
      if (!node || found) { return; }
      if (node.$instanceOf && node.$instanceOf('bpmn:Lane') && (node.flowNodeRef || []).indexOf(bo) >= 0) { found = node; }
      (node.laneSets || (node.childLaneSet ? [node.childLaneSet] : [])).forEach(function (ls) { (ls.lanes || []).forEach(walk); });
    })(bo && bo.$parent);
    return found;
  }
  function roleOf(name) {
    return C.roles.filter(function (r) { return r.name === (name || '').trim() || r.code === (name || '').trim(); })[0];
  }

  // ------------------------------------------------------------------ groups
  function taskGroups(element) {
    var bo = target(element);
    var lane = laneOf(element);
    var role = lane && roleOf(lane.name);
    var laneSaid = lane ? (role ? t('laneRole', { lane: lane.name, code: role.code, reads: role.reads || '' }) : t('laneUnknown', { lane: lane.name })) : t('laneNone');
    return [
      { id: 'gt-form', label: t('group.form'), entries: [
        propEntry('select', element, 'formKey', { options: formOptions, describe: describeForm }),
        { id: 'gt-form-link', component: FormLink, isEdited: function () { return false; },
          getValue: function () { return getProp(target(element), 'formKey'); } }
      ] },
      { id: 'gt-due', label: t('group.due'), entries: [
        propEntry('select', element, 'dueIn', { options: deadlineOptions, describe: describeDeadline }),
        // or a duration written on the task itself (engine/scheduling/deadlines.py INLINE)
        entry('text', 'gt-dueIn-duration', { label: t('label.dueDuration'), description: t('help.dueDuration'),
          getValue: function () { var v = getProp(target(element), 'dueIn'); return INLINE.test(v) ? v : ''; },
          setValue: function (injector, value) {
            value = (value || '').trim().replace(/\s+/g, ' ');
            if (!value || INLINE.test(value)) { setProp(injector, element, target(element), 'dueIn', value); }
          },
          validate: function (value) { return !value || INLINE.test(value.trim().replace(/\s+/g, ' ')) ? null : t('help.dueDuration'); } }),
        propEntry('text', element, 'dueFrom'),
        propEntry('text', element, 'noDueReason')
      ] },
      { id: 'gt-who', label: t('group.who'), entries: [
        entry('text', 'gt-lane', { label: t('label.lane'), description: laneSaid + ' ' + t('help.lane'),
          getValue: function () { return lane ? lane.name : ''; },
          setValue: function () { /* read-only here: select the lane to change its role */ },
          validate: function () { return lane && !role ? t('laneUnknown', { lane: lane.name }) : null; } }),
        propEntry('select', element, 'unitVar', { options: unitOptions }),
        propEntry('text', element, 'assigneeVar')
      ] },
      { id: 'gt-tags', label: t('group.tags'), entries: [
        propEntry('select', element, 'stage', { options: fixed(C.stages, 'stage.') }),
        propEntry('select', element, 'mechanism', { options: fixed(C.mechanisms, 'mechanism.') }),
        propEntry('select', element, 'platform', { options: fixed(C.platforms, 'platform.') })
      ] },
      { id: 'gt-separation', label: t('group.separation'), entries: [
        propEntry('text', element, 'separateFromSteps'),
        propEntry('text', element, 'separateFrom')
      ] },
      { id: 'gt-reads', label: t('group.reads'), entries: [
        propEntry('text', element, 'reads'),
        propEntry('text', element, 'readsFiles')
      ] },
      { id: 'gt-instructions', label: t('group.instructions'), entries: [
        entry('area', 'gt-instructions-text', { label: t('label.instructions'), description: t('help.instructions'),
          getValue: function () { return getBody(bo, 'InstructionsForEndUser'); },
          setValue: function (injector, value) { setBody(injector, element, bo, 'InstructionsForEndUser', value); } })
      ] }
    ];
  }

  function processGroups(element) {
    var bo = target(element);
    return [{ id: 'gt-process', label: t('group.process'), entries: [
      entry('text', 'gt-process-id', { label: t('label.processId'), description: t('help.processId'),
        getValue: function () { return bo.id; },
        setValue: function (injector, value) {
          value = (value || '').trim();
          if (value && value !== bo.id) {
            injector.get('commandStack').execute('element.updateModdleProperties',
              { element: element, moddleElement: bo, properties: { id: value } });
          }
        },
        validate: function (value) { return /^gt_[A-Za-z0-9_]+$/.test(value || '') ? null : t('help.processId'); } }),
      propEntry('select', element, 'stage', { options: fixed(C.stages, 'stage.'), label: t('label.processStage'), description: t('help.processStage') }),
      propEntry('select', element, 'mechanism', { options: fixed(C.mechanisms, 'mechanism.'), label: t('label.processMechanism'), description: t('help.processMechanism') }),
      propEntry('select', element, 'platform', { options: fixed(C.platforms, 'platform.'), label: t('label.processPlatform'), description: t('help.processPlatform') }),
      propEntry('text', element, 'businessKey'),
      propEntry('select', element, 'entry', { options: function () {
        return none().concat([{ value: 'true', label: t('entry.true') }, { value: 'false', label: t('entry.false') }]);
      } })
    ] }];
  }

  function laneGroups(element) {
    return [{ id: 'gt-lane-role', label: t('group.laneRole'), entries: [
      entry('select', 'gt-lane-name', { label: t('label.laneRole'), description: t('help.laneRole'),
        getValue: function () { return (element.businessObject.name || '').trim(); },
        setValue: function (injector, value) { injector.get('modeling').updateProperties(element, { name: value }); },
        options: function () {
          return none().concat(C.roles.map(function (r) {
            return { value: r.name, label: r.name + ' · ' + r.code + (r.owner_var ? ' · ' + r.owner_var : '') };
          }));
        } })
    ] }];
  }

  function timerGroups(element, definition) {
    var kinds = ['timeDate', 'timeDuration', 'timeCycle'];
    function kindOf() { return kinds.filter(function (k) { return definition[k]; })[0] || 'timeDate'; }
    function setTimer(injector, kind, body) {
      var properties = {};
      kinds.forEach(function (k) { properties[k] = undefined; });
      if (body) {
        var expr = injector.get('bpmnFactory').create('bpmn:FormalExpression', { body: body });
        expr.$parent = definition;
        properties[kind] = expr;
      }
      injector.get('commandStack').execute('element.updateModdleProperties',
        { element: element, moddleElement: definition, properties: properties });
    }
    function body() { var k = kindOf(); return (definition[k] && definition[k].body) || ''; }
    return [{ id: 'gt-timer', label: t('group.timer'), entries: [
      entry('select', 'gt-timer-kind', { label: t('label.timerKind'), description: t('help.timerKind'),
        getValue: kindOf, setValue: function (injector, value) { setTimer(injector, value, body()); },
        options: function () { return kinds.map(function (k) { return { value: k, label: t('timer.' + k) }; }); } }),
      entry('text', 'gt-timer-expr', { label: t('label.timerExpr'), description: t('help.timerExpr', {
          deadlines: C.deadlines.slice(0, 3).map(function (d) { return d.key; }).join('、'),
          schedules: C.schedules.slice(0, 3).map(function (d) { return d.key; }).join('、') }),
        getValue: body, setValue: function (injector, value) { setTimer(injector, kindOf(), (value || '').trim()); },
        validate: function (value) {
          return /^\s*(deadline|deadline_from|schedule)\(\s*'[A-Za-z0-9_]+'/.test(value || '') ? null : t('help.timerExpr', { deadlines: '…', schedules: '…' });
        } })
    ] }];
  }

  function messageGroups(element, definition) {
    var holder = definition || element.businessObject; // payload/variable sit on the definition, or on a send/receive task
    var throwing = isAny(element.businessObject, ['bpmn:IntermediateThrowEvent', 'bpmn:EndEvent', 'bpmn:SendTask']);
    var bo = element.businessObject;
    var entries = [
      entry('text', 'gt-message-name', { label: t('label.messageName'), description: t('help.messageName', { known: C.messages.join('、') }),
        getValue: function () { var m = holder.messageRef; return (m && m.name) || ''; },
        setValue: function (injector, value) {
          var m = holder.messageRef;
          if (m) { injector.get('commandStack').execute('element.updateModdleProperties', { element: element, moddleElement: m, properties: { name: (value || '').trim() } }); }
        } }),
      propEntry('text', element, 'correlationVar', { getValue: function () { return getProp(bo, 'correlationVar'); },
        setValue: function (injector, value) { setProp(injector, element, bo, 'correlationVar', value); } })
    ];
    if (throwing) {
      entries.push(entry('area', 'gt-message-payload', { label: t('label.messagePayload'), description: t('help.messagePayload'),
        getValue: function () { return getBody(holder, 'MessagePayload'); },
        setValue: function (injector, value) { setBody(injector, element, holder, 'MessagePayload', (value || '').trim()); } }));
    } else {
      entries.push(entry('text', 'gt-message-variable', { label: t('label.messageVariable'), description: t('help.messageVariable'),
        getValue: function () { return getBody(holder, 'MessageVariable'); },
        setValue: function (injector, value) { setBody(injector, element, holder, 'MessageVariable', (value || '').trim()); } }));
    }
    return [{ id: 'gt-message', label: t('group.message'), entries: entries }];
  }

  function eventDefinition(bo, type) {
    return ((bo && bo.eventDefinitions) || []).filter(function (d) { return d.$instanceOf(type); })[0];
  }

  function GuantongPropertiesProvider(propertiesPanel) {
    propertiesPanel.registerProvider(400, this);
  }
  GuantongPropertiesProvider.$inject = ['propertiesPanel'];
  GuantongPropertiesProvider.prototype.getGroups = function (element) {
    return function (groups) {
      var bo = element.businessObject;
      var mine = [];
      if (isAny(bo, TASKS)) { mine = taskGroups(element); }
      else if (isAny(bo, ['bpmn:Process']) || (isAny(bo, ['bpmn:Participant']) && bo.processRef)) { mine = processGroups(element); }
      else if (isAny(bo, ['bpmn:Lane'])) { mine = laneGroups(element); }
      var timer = eventDefinition(bo, 'bpmn:TimerEventDefinition');
      if (timer) { mine = mine.concat(timerGroups(element, timer)); }
      var message = eventDefinition(bo, 'bpmn:MessageEventDefinition');
      if (message || isAny(bo, ['bpmn:SendTask', 'bpmn:ReceiveTask'])) { mine = mine.concat(messageGroups(element, message)); }
      // Guantong's groups first: they are what a designer changes; the generic ones follow
      return mine.concat(groups);
    };
  };

  /* bpmn-js's own words (palette, context pad, the generic panel groups) in the reader's language. */
  var words = T.bpmn || {};
  window.gtTranslateModule = {
    translate: ['value', function (template, replacements) {
      var said = words[template] || template;
      return said.replace(/{([^}]+)}/g, function (_, key) { return (replacements || {})[key] !== undefined ? replacements[key] : '{' + key + '}'; });
    }]
  };

  window.gtPropertiesModule = {
    __init__: ['gtPropertiesProvider'],
    gtPropertiesProvider: ['type', GuantongPropertiesProvider]
  };
})();
