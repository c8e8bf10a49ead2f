// The hit model: how a match is shown in the table, sorted and filtered.
// A hit is {seq, fileId, match}: `match` is the scanner's match object as
// it came from the wasm module, `seq` the order in which it was found.

export const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'];

/** Sort rank of a Sigma level; unknown levels sort last. */
export function levelRank(level) {
  const rank = LEVELS.indexOf(String(level).toLowerCase());
  return rank === -1 ? LEVELS.length : rank;
}

/** Returns the last component of a Windows or POSIX path. */
export function baseName(path) {
  return path.split(/[\\/]/).pop() || path;
}

/**
 * Returns the processes a hit is about, as {source, target} full paths: the process
 * access pair (SourceImage → TargetImage), else the parent and child of a
 * process creation (ParentImage → Image), else a module load
 * (Image → ImageLoaded), else the Image alone. Only the fields the rule tests
 * are in `match.fields`, so either side may be missing.
 */
export function processPair(match) {
  const fields = match.fields ?? {};
  if (fields.SourceImage || fields.TargetImage) {
    return { source: fields.SourceImage ?? '', target: fields.TargetImage ?? '' };
  }
  if (fields.ParentImage) return { source: fields.ParentImage, target: fields.Image ?? '' };
  if (fields.ImageLoaded) return { source: fields.Image ?? '', target: fields.ImageLoaded };
  return { source: fields.Image ?? '', target: '' };
}

/** Returns the process pair as one line of text, with base names; "→ target" when only the target is known. */
export function processText(match) {
  const { source, target } = processPair(match);
  if (source && target) return `${baseName(source)} → ${baseName(target)}`;
  if (target) return `→ ${baseName(target)}`;
  return baseName(source);
}

const SORT_KEYS = {
  time: (match) => match.timestamp ?? '',
  computer: (match) => (match.computer ?? '').toLowerCase(),
  rule: (match) => match.ruleTitle.toLowerCase(),
  level: (match) => levelRank(match.level),
  process: (match) => processText(match).toLowerCase(),
  file: (match) => match.file ?? '',
};

function compare(a, b) {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/**
 * Returns the hits that pass the filter, in sort order. Ties keep the order
 * in which the hits were found, so the order is stable.
 */
export function selectHits(hits, { text, level, rule }, { key, descending }) {
  const needle = text.trim().toLowerCase();
  const passes = ({ match }) =>
    (!level || match.level === level) &&
    (!rule || match.ruleId === rule) &&
    (!needle || searchText(match).includes(needle));
  const sortKey = SORT_KEYS[key] ?? SORT_KEYS.time;
  const direction = descending ? -1 : 1;
  return hits
    .filter(passes)
    .sort((a, b) => direction * compare(sortKey(a.match), sortKey(b.match)) || a.seq - b.seq);
}

const searchTexts = new WeakMap();

/** Returns the lower-cased text the filter box searches, built once per match. */
function searchText(match) {
  let text = searchTexts.get(match);
  if (text === undefined) {
    text = [
      match.timestamp, match.computer, match.ruleTitle, match.ruleId, match.level, match.file, match.channel,
      match.eventId, match.recordId, ...Object.values(match.fields ?? {}),
    ].filter((part) => part !== null && part !== undefined).join('\n').toLowerCase();
    searchTexts.set(match, text);
  }
  return text;
}
