// The rules panel: the loaded rules (from Engine.rules()), the switch for the
// bundled EDR-Freeze family, rules the user adds as YAML, and the rules that
// failed to load (from Engine.warnings).

import { levelBadge } from './table.js';
import { plural } from './text.js';

export class RulesPanel {
  /**
   * @param {object} elements the panel's controls, by name
   * @param {(config: {rules: {name: string, yaml: string}[], defaultRules: boolean}) => void} onChange
   */
  constructor(elements, onChange) {
    this.el = elements;
    this.onChange = onChange;
    this.userRules = [];
    this.bundledFiles = new Set();
    this.pasted = 0;

    elements.bundled.addEventListener('change', () => this.#changed());
    elements.addButton.addEventListener('click', () => this.#addPasted());
    elements.fileButton.addEventListener('click', () => elements.fileInput.click());
    elements.fileInput.addEventListener('change', async () => {
      await this.#addFiles([...elements.fileInput.files]);
      elements.fileInput.value = '';
    });
    this.#acceptDrops(elements.addPanel);
  }

  get config() {
    return { rules: this.userRules.map(({ name, yaml }) => ({ name, yaml })), defaultRules: this.el.bundled.checked };
  }

  /** Disables rule changes while a scan runs, so every file is checked against the same rules. */
  setLocked(locked) {
    for (const control of [this.el.bundled, this.el.addButton, this.el.fileButton, this.el.yaml]) control.disabled = locked;
    for (const button of this.el.panel.querySelectorAll('.remove-rule')) button.disabled = locked;
  }

  /** Draws the rules an engine loaded and the warnings it gave. */
  render({ rules, warnings, bundledIds }) {
    const bundled = new Set(bundledIds);
    const userNames = new Set(this.userRules.map((source) => source.name));
    for (const rule of rules) {
      if (bundled.has(rule.id) && !userNames.has(rule.file)) this.bundledFiles.add(rule.file);
    }
    this.el.count.textContent = `${plural(rules.length, 'rule')} loaded`;
    const rows = rules.map((rule) => {
      const row = document.createElement('tr');
      const title = row.insertCell();
      title.textContent = rule.title;
      title.title = `${rule.id}\n${rule.description ?? ''}`.trim();
      row.insertCell().append(levelBadge(rule.level));
      const own = userNames.has(rule.file);
      Object.assign(row.insertCell(), { className: 'mono', textContent: own ? rule.file : 'bundled' });
      const actions = row.insertCell();
      if (own) actions.append(this.#removeButton(rule.file));
      return row;
    });
    this.el.list.tBodies[0].replaceChildren(...rows);

    const items = warnings.map((warning) => {
      const item = document.createElement('li');
      item.className = warning.code === 'never-matches' || warning.code === 'unused-filter' ? 'rule-note' : 'rule-error';
      const text = document.createElement('span');
      text.textContent = warning.message;
      item.append(text);
      if (userNames.has(warning.file)) item.append(' ', this.#removeButton(warning.file));
      return item;
    });
    this.el.errors.replaceChildren(...items);
  }

  #removeButton(name) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button small remove-rule';
    button.textContent = 'Remove';
    button.setAttribute('aria-label', `Remove ${name}`);
    button.addEventListener('click', () => {
      this.userRules = this.userRules.filter((source) => source.name !== name);
      this.#changed();
    });
    return button;
  }

  /** Returns `name`, or `name (2)` and so on when a rule source already has it. */
  #uniqueName(name) {
    const usedNames = new Set([...this.bundledFiles, ...this.userRules.map((source) => source.name)]);
    if (!usedNames.has(name)) return name;
    let n = 2;
    while (usedNames.has(`${name} (${n})`)) n += 1;
    return `${name} (${n})`;
  }

  #addPasted() {
    const yaml = this.el.yaml.value;
    if (!yaml.trim()) {
      this.el.yaml.focus();
      return;
    }
    this.pasted += 1;
    this.userRules.push({ name: this.#uniqueName(`pasted rule ${this.pasted}`), yaml });
    this.el.yaml.value = '';
    this.#changed();
  }

  async #addFiles(files) {
    if (files.length === 0) return;
    for (const file of files) {
      this.userRules.push({ name: this.#uniqueName(file.name), yaml: await file.text() });
    }
    this.#changed();
  }

  #acceptDrops(zone) {
    zone.addEventListener('dragover', (event) => {
      event.preventDefault();
      zone.classList.add('rule-drop');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('rule-drop'));
    zone.addEventListener('drop', async (event) => {
      event.preventDefault();
      zone.classList.remove('rule-drop');
      if (this.el.yaml.disabled) return;
      await this.#addFiles([...event.dataTransfer.files]);
    });
  }

  #changed() {
    this.onChange(this.config);
  }
}
