// The hits table: rows of hits, sortable column headers, and keyboard
// selection (arrow keys, Home, End, Page Up/Down; Enter opens the detail).

import { baseName, processPair, processText } from './hits.js';

/** Maximum number of rows drawn at once; the filter narrows a longer list. */
export const MAX_ROWS = 1000;

const PAGE_STEP = 10;

export function levelBadge(level) {
  const badge = document.createElement('span');
  badge.className = `level level-${String(level).toLowerCase()}`;
  badge.textContent = level;
  return badge;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

/** Shortens a long file name in the middle, so its end (the extension) stays visible. */
export function shortName(name, maxLength = 28) {
  if (name.length <= maxLength) return name;
  const tail = Math.ceil((maxLength - 1) / 2);
  return `${name.slice(0, maxLength - 1 - tail)}…${name.slice(-tail)}`;
}

/** Fills a time cell, with a line break opportunity between date and time of day. */
function timeCell(row, timestamp) {
  const td = cell(row, '', 'mono time');
  const text = timestamp ?? '';
  const split = text.search(/[T ]/);
  if (split === -1) td.textContent = text;
  else td.append(text.slice(0, split + 1), document.createElement('wbr'), text.slice(split + 1));
}

function buildRow({ seq, match }) {
  const row = document.createElement('tr');
  row.dataset.seq = seq;
  row.tabIndex = -1;
  row.setAttribute('aria-selected', 'false');

  timeCell(row, match.timestamp);
  cell(row, match.computer);
  cell(row, match.ruleTitle, 'rule-title');
  row.insertCell().append(levelBadge(match.level));

  const { source, target } = processPair(match);
  const process = cell(row, processText(match), 'mono');
  process.title = [source, target].filter(Boolean).join('\n→ ');

  const file = cell(row, `${shortName(baseName(match.file ?? ''))} #${match.record ?? '?'}`, 'column-file nowrap');
  file.title = match.file ?? '';
  return row;
}

export class HitTable {
  /**
   * @param {HTMLTableElement} table
   * @param {{onSelect: (seq: number) => void, onOpen: () => void, onSort: (key: string) => void}} handlers
   */
  constructor(table, { onSelect, onOpen, onSort }) {
    this.table = table;
    this.body = table.tBodies[0];
    this.onSelect = onSelect;
    this.onOpen = onOpen;

    for (const header of table.tHead.rows[0].cells) {
      header.querySelector('button')?.addEventListener('click', () => onSort(header.dataset.sort));
    }
    this.body.addEventListener('click', (event) => {
      const row = event.target.closest('tr[data-seq]');
      if (row) this.#choose(row);
    });
    this.body.addEventListener('keydown', (event) => this.#onKey(event));
  }

  /** Draws the rows of `hits` (at most MAX_ROWS) and marks the selected one. */
  render(hits, selectedSeq, sort) {
    this.#renderSort(sort);
    const fragment = document.createDocumentFragment();
    for (const hit of hits.slice(0, MAX_ROWS)) fragment.append(buildRow(hit));
    this.body.replaceChildren(fragment);
    this.markSelected(selectedSeq, false);
  }

  /** Marks the row of `seq` as selected and makes it the row Tab reaches. */
  markSelected(seq, focus) {
    const rows = [...this.body.rows];
    let current = rows.find((row) => Number(row.dataset.seq) === seq) ?? null;
    for (const row of rows) {
      row.setAttribute('aria-selected', String(row === current));
      row.tabIndex = -1;
    }
    current ??= rows[0];
    if (!current) return;
    current.tabIndex = 0;
    if (focus) current.focus();
  }

  #renderSort({ key, descending }) {
    for (const header of this.table.tHead.rows[0].cells) {
      if (header.dataset.sort === key) header.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      else header.removeAttribute('aria-sort');
    }
  }

  #choose(row, focus = true) {
    const seq = Number(row.dataset.seq);
    this.markSelected(seq, focus);
    this.onSelect(seq);
  }

  #onKey(event) {
    const rows = [...this.body.rows];
    const index = rows.indexOf(event.target.closest('tr'));
    if (index === -1) return;

    const last = rows.length - 1;
    const moves = {
      ArrowDown: Math.min(last, index + 1),
      ArrowUp: Math.max(0, index - 1),
      Home: 0,
      End: last,
      PageDown: Math.min(last, index + PAGE_STEP),
      PageUp: Math.max(0, index - PAGE_STEP),
    };
    if (event.key in moves) {
      event.preventDefault();
      this.#choose(rows[moves[event.key]]);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.#choose(rows[index], false);
      this.onOpen();
    }
  }
}
