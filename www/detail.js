// The detail view of one hit: why the rule matched (each field test, with
// the matched text marked in the event's value), the event's identity, the
// fields the rule tests, and the whole record.

import { levelBadge } from './table.js';
import { formatCount, utf8RangeToIndexes } from './text.js';

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/**
 * Returns a <pre> with `value`, the UTF-8 byte range [start, end) marked.
 * The range is converted to string indexes first, so text before it may hold
 * any characters.
 */
export function markedValue(value, start, end) {
  const pre = element('pre', 'value');
  const range = value === null || value === undefined ? null : utf8RangeToIndexes(value, start, end);
  if (!range) {
    pre.textContent = value ?? '(absent or null)';
    return pre;
  }
  pre.append(
    value.slice(0, range.from),
    element('mark', null, value.slice(range.from, range.to)),
    value.slice(range.to),
  );
  return pre;
}

function describeTest(reason) {
  if (reason.modifiers === 'keywords') return `keywords in ${reason.selection}`;
  const key = reason.modifiers ? `${reason.field}|${reason.modifiers}` : reason.field;
  return `${reason.selection}: ${key}`;
}

function renderReason(reason) {
  const item = element('li', 'reason');
  const test = element('p', 'reason-test');
  test.append(element('code', null, describeTest(reason)));
  if (reason.needle) {
    test.append(' ', element('span', 'reason-needle-label', 'value'), ' ', element('code', 'needle', reason.needle));
  }
  item.append(test);
  if (reason.value !== null && reason.value !== undefined) {
    item.append(markedValue(reason.value, reason.start, reason.end));
  }
  return item;
}

function definitionList(entries) {
  const list = element('dl', 'meta');
  for (const [term, value] of entries) {
    if (value === null || value === undefined || value === '') continue;
    list.append(element('dt', null, term), element('dd', 'mono', String(value)));
  }
  return list;
}

function fieldsTable(fields) {
  const table = element('table', 'fields');
  const body = table.createTBody();
  for (const [name, value] of Object.entries(fields ?? {})) {
    const row = body.insertRow();
    row.append(element('th', 'mono', name));
    // A repeated field (unnamed `Data` elements) has an array of values.
    const text = Array.isArray(value) ? value.join('\n') : value === null ? 'null' : String(value);
    row.insertCell().append(element('pre', 'value', text));
  }
  return table;
}

export class DetailView {
  constructor(container) {
    this.container = container;
    this.current = null;
  }

  clear() {
    this.current = null;
    this.container.hidden = true;
    this.container.replaceChildren();
  }

  /** Shows a hit; `source` is the scanned file entry ({file, format}). */
  show({ seq, match }, source) {
    this.current = seq;
    const heading = element('h3', null, match.ruleTitle);
    heading.id = 'detail-heading';
    const head = element('div', 'detail-head');
    head.append(heading, levelBadge(match.level));

    const whyList = element('ul', 'reasons');
    whyList.append(...(match.reasons ?? []).map(renderReason));

    const meta = definitionList([
      ['Time', match.timestamp],
      ['Computer', match.computer],
      ['Channel', match.channel],
      ['Event ID', match.eventId],
      ['EventRecordID', match.recordId],
      ['File', match.file],
      ['Record', match.record === undefined ? null : `${formatCount(match.record)} (position in the file)`],
      ['Byte offset', match.offset === undefined ? null : formatCount(match.offset)],
      ['Rule ID', match.ruleId],
    ]);

    const record = element('section', 'record');
    record.append(element('h4', null, 'Whole record'));

    this.container.replaceChildren(
      head,
      element('h4', null, 'Why it matched'),
      whyList,
      element('h4', null, 'Event'),
      meta,
      element('h4', null, 'Fields the rule tests'),
      fieldsTable(match.fields),
      record,
    );
    this.container.hidden = false;
    this.#showRecord(record, match);
  }

  focus() {
    this.container.focus();
  }

  #showRecord(section, match) {
    if (match.event) {
      // Every field of the event, under the names the rules use.
      section.append(fieldsTable(match.event));
    } else {
      section.append(element('p', 'note', 'The whole record is not available for this hit.'));
    }
  }
}
