// Types of the sigma-edge package. Every entry point (node, workerd, browser)
// has this same API.

/** A Windows event: a JSON object, or its JSON text. */
export type SigmaEvent = object | string;

/**
 * A rule to load: YAML text, or YAML with the name that errors and
 * `RuleInfo.file` report for it.
 */
export type RuleSource = string | { name: string; yaml: string };

/** Options of `new Engine()`. Any other key throws a `TypeError`. */
export interface EngineOptions {
  /** Sigma rules to load. Default: none. */
  rules?: RuleSource[];
  /** Whether the bundled EDR-Freeze rules are loaded too. Default: `true`. */
  defaultRules?: boolean;
  /**
   * Whether a rule that fails to load throws a `SigmaRuleError`. Default:
   * `false`, which skips the rule and lists it in `Engine.warnings`.
   */
  strict?: boolean;
  /**
   * Values of the `%name%` placeholders of rules that use `|expand`, by name
   * without the `%`. Each value is a Sigma string (wildcards work). A rule
   * with a placeholder that has no values fails to load (code
   * `placeholder`). Default: none.
   */
  placeholders?: Record<string, string[]>;
  /** Bounds on what one record or rule may cost. Each is an integer from 1 to 2^32 - 1. */
  limits?: Limits;
}

/**
 * Bounds on records and rules. A record over a limit is skipped with a
 * warning that names the limit; a rule over one fails to load with code
 * `limit`.
 */
export interface Limits {
  /**
   * The largest record a scan buffers (one JSON value, XML event or CSV row),
   * and the largest event JSON text `evaluate` takes, in bytes. Default: 16 MiB.
   */
  maxRecordBytes?: number;
  /** The deepest nesting of a JSON event, of an XML event's elements and of rule YAML. Default: 64. */
  maxDepth?: number;
  /** The maximum number of rules of one engine, the bundled ones included. Default: 10,000. */
  maxRules?: number;
  /** The largest rule file, in bytes. Default: 1 MiB. */
  maxRuleFileBytes?: number;
  /** The largest compiled program of one `|re` regular expression, in bytes. Default: 10 MiB. */
  maxRegexBytes?: number;
}

/** One field test that made a rule match. */
export interface MatchReason {
  /** The name of the rule's search (selection) that the test belongs to. */
  selection: string;
  /** The Sigma field name, such as `CallTrace`. */
  field: string;
  /** The modifiers as the rule writes them, such as `contains|all`; empty for none. */
  modifiers: string;
  /** The value in the rule, as written. */
  needle: string;
  /** The event's value that matched, or `null` when the field is absent. */
  value: string | null;
  /** Start of the matched text within `value`, in UTF-8 bytes. */
  start: number | null;
  /** End (exclusive) of the matched text within `value`, in UTF-8 bytes. */
  end: number | null;
}

/** A rule that matched an event. */
export interface Match {
  /** The rule's `id`. */
  ruleId: string;
  /** The rule's `title`. */
  ruleTitle: string;
  /** The rule's `level`: `informational`, `low`, `medium`, `high` or `critical`. */
  level: string;
  /** The input's name. Set on matches from `Engine.scan` only. */
  file?: string;
  /** The 1-based position of the record in the input. Set on matches from `Engine.scan` only. */
  record?: number;
  /** The byte offset of the record in the input. Set on matches from `Engine.scan` only. */
  offset?: number;
  /** The event's `EventRecordID`. */
  recordId: number | null;
  /** The event's `EventID`. */
  eventId: number | null;
  /** The event's `Channel`, such as `Microsoft-Windows-Sysmon/Operational`. */
  channel: string | null;
  /** The event's `Computer`. */
  computer: string | null;
  /** The event's time as written in the event (`TimeCreated`, `@timestamp`, `UtcTime` and similar). */
  timestamp: string | null;
  /** The fields the rule tests, with the event's values. */
  fields: Record<string, string>;
  /** The field tests that made the rule match. */
  reasons: MatchReason[];
}

/** A rule's `logsource`, as written. */
export interface LogSource {
  product?: string;
  category?: string;
  service?: string;
}

/** A loaded rule, as `Engine.rules()` lists it. */
export interface RuleInfo {
  id: string;
  title: string;
  level: string;
  status: string;
  author: string;
  description: string;
  tags: string[];
  logsource: LogSource;
  /** The rule's source: a bundled file name, a `RuleSource` name, or `rules[INDEX]`. */
  file: string;
}

/**
 * A rule that failed to load, a loaded rule that can never match a Windows
 * event (`never-matches`), or a filter that names no loaded rule
 * (`unused-filter`). The last two are notes: the rest of the rules work.
 */
export interface RuleWarning {
  /** The rule's source name. */
  file: string;
  ruleId: string | null;
  /** `yaml`, `missing`, `invalid`, `unsupported`, `condition`, `placeholder`, `limit`, `never-matches`, or `unused-filter`. */
  code: string;
  message: string;
}

/** A record of a scanned input that could not be read; the scan skipped it and went on. */
export interface ScanWarning {
  file: string;
  /** The 1-based position of the record in the input, when known. */
  record: number | null;
  /** The byte offset where the bad record or part starts. */
  offset: number;
  message: string;
}

/** Counts for one scanned input. */
export interface ScanSummary {
  file: string;
  /**
   * The outermost format the content was read as (`evtx`, `json`, `xml`,
   * `csv`, `utf-16le`, `utf-16be`, `gzip` or `zip`), or `null` before it is known.
   */
  format: string | null;
  /** Bytes read. */
  bytes: number;
  /** Records read, including those that could not be parsed. */
  records: number;
  /** Records the prefilter ruled out without parsing them, because they contain no literal the rules need. */
  recordsSkipped: number;
  matches: number;
  /** All warnings, including those past `ScanOptions.maxWarnings`. */
  warnings: number;
}

/**
 * The input of `Engine.scan`: bytes (a Node `Buffer` is a `Uint8Array`), a
 * `Blob` or `File`, a `ReadableStream`, or an iterable or async iterable of
 * chunks, such as a Node `Readable` stream. A chunk is a `Uint8Array`, another
 * `ArrayBuffer` view, an `ArrayBuffer`, or a string (encoded as UTF-8).
 */
export type ScanInput =
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | ArrayBufferView | ArrayBuffer | string>
  | Iterable<Uint8Array | ArrayBufferView | ArrayBuffer | string>;

/** Options of `Engine.scan`. */
export interface ScanOptions {
  /**
   * The input's name, reported in matches, warnings and errors. Default: a
   * `File`'s `name`, a Node file stream's `path`, or `input`.
   */
  file?: string;
  /**
   * How many warnings `Scan.warnings` keeps. Default: 1000. The summary
   * counts every warning, and `onWarning` receives every one.
   */
  maxWarnings?: number;
  /** Called with each warning as the scan finds it. */
  onWarning?: (warning: ScanWarning) => void;
  /**
   * Whether records that contain none of the literals the rules need are
   * skipped without being parsed. The matches are the same either way.
   * Default: `true`.
   */
  prefilter?: boolean;
}

/**
 * A scan of one input, started by `Engine.scan`. Iterate it with
 * `for await` to receive the matches as the input is read; the input is
 * read only while the scan is iterated. When iteration ends, `summary` contains
 * the final counts and `next()` resolves to `{ done: true, value: summary }`.
 * Leaving the loop early (`break`, `return` or a thrown error) cancels the
 * input and frees the wasm scanner. An input in no supported format
 * rejects with `UnsupportedFormatError`.
 */
export declare class Scan implements AsyncIterator<Match, ScanSummary> {
  private constructor();
  /** The counts so far; final once `done` is true. */
  readonly summary: ScanSummary;
  /** Warnings for records that could not be read, up to `maxWarnings`. */
  readonly warnings: ScanWarning[];
  /** Whether the input was read to its end or the scan was stopped. */
  readonly done: boolean;
  next(): Promise<IteratorResult<Match, ScanSummary>>;
  /** Stops the scan: cancels the input and frees the wasm scanner. */
  return(): Promise<IteratorResult<Match, ScanSummary>>;
  [Symbol.asyncIterator](): Scan;
  /** Reads the whole input and returns all its matches, warnings and the summary. */
  collect(): Promise<{ matches: Match[]; warnings: ScanWarning[]; summary: ScanSummary }>;
  /** Same as `return()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A compiled rule set. Its wasm memory is released by `free()` (or `using`),
 * or by the garbage collector at some point after the `Engine` becomes
 * unreachable.
 */
export declare class Engine {
  /**
   * Compiles the rules.
   * @throws {SigmaRuleError} with `strict: true`, for the first rule that fails to load
   * @throws {TypeError} for an unknown option or an option of the wrong type
   */
  constructor(options?: EngineOptions);
  /**
   * Evaluates one event and returns its matches.
   * @throws {InvalidInputError} for JSON text that is not valid, or JSON that is not an object
   * @throws {TypeError} for a value that is neither an object nor a string
   */
  evaluate(event: SigmaEvent): Match[];
  /** Evaluates events in one call and returns one array of matches per event. */
  evaluateBatch(events: SigmaEvent[]): Match[][];
  /** The loaded rules. */
  rules(): RuleInfo[];
  /** Rules that failed to load, and loaded rules that can never match a Windows event. */
  readonly warnings: RuleWarning[];
  /** Starts a streaming scan of one input in any supported format (EVTX, XML, JSON, NDJSON, CSV, also UTF-16, gzip or zip), which is read only while the scan is iterated. */
  scan(input: ScanInput, options?: ScanOptions): Scan;
  /**
   * Releases the rule set's wasm memory. Later calls on this `Engine` throw a
   * `SigmaEdgeError` with code `freed`; scans already started keep working.
   */
  free(): void;
  /** Same as `free()`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * Evaluates one event against the bundled EDR-Freeze rules and returns its matches.
 * @throws {InvalidInputError} for JSON text that is not valid, or JSON that is not an object
 * @throws {TypeError} for a value that is neither an object nor a string
 */
export declare function evaluate(event: SigmaEvent): Match[];

/** The version of the sigma-edge crate inside the wasm module. */
export declare function version(): string;

/** Where `init()` gets the WebAssembly module: a URL to fetch, a response, bytes, or a compiled module. */
export type InitInput = string | URL | Request | Response | BufferSource | WebAssembly.Module;

/**
 * Instantiates the WebAssembly module. The browser entry, which bundlers and
 * runtimes without a specific entry also use, needs it before any other call.
 * It fetches `sigma_edge_bg.wasm` beside the package's JS unless given
 * `input`. The Node and workerd entries are ready when imported, so their
 * `init()` resolves at once.
 */
export declare function init(input?: InitInput | Promise<InitInput>): Promise<void>;

/** The base class of every error that sigma-edge throws on purpose. */
export declare class SigmaEdgeError extends Error {
  /**
   * A short machine-readable name of the problem: for `SigmaRuleError` the
   * rule error's code (`yaml`, `missing`, `invalid`, `unsupported`,
   * `condition`, `placeholder`, `limit`), for input errors `invalid-event`
   * or `unknown-format`, and `not-initialized` or `freed` for misuse.
   * A `TypeError` for an argument of the wrong type has a `code` too:
   * `invalid-event`, `invalid-input`, `invalid-options` or
   * `invalid-argument`.
   */
  readonly code: string;
  constructor(message: string, options?: { code?: string; cause?: unknown });
}

/** A Sigma rule that cannot be loaded (thrown by `new Engine` with `strict: true`). */
export declare class SigmaRuleError extends SigmaEdgeError {}

/** An event or input that cannot be read: not valid JSON, or not an object. */
export declare class InvalidInputError extends SigmaEdgeError {}

/** An input whose content matches no supported log format (code `unknown-format`). */
export declare class UnsupportedFormatError extends InvalidInputError {}

// `Symbol.dispose` and `Symbol.asyncDispose` are declared here for projects
// whose TypeScript `lib` predates them; the declarations merge with the
// built-in ones where `lib` has them.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
    readonly asyncDispose: unique symbol;
  }
}
