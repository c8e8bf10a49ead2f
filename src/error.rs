//! Typed errors and warnings, each naming the place it comes from: the rule
//! file and id for rules, the input file, record and byte offset for events.

use std::fmt;

/// A rule that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The file (or other source name) the rule came from.
    pub file: String,
    /// The rule's `id`, when the YAML got far enough to have one.
    pub rule_id: Option<String>,
    /// What is wrong.
    pub kind: RuleErrorKind,
}

/// The reasons a rule can fail to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleErrorKind {
    /// The file could not be read.
    Read(String),
    /// The text is not valid YAML.
    Yaml(String),
    /// A required key is missing or empty.
    Missing(&'static str),
    /// A key has a value of the wrong shape.
    Invalid { key: String, message: String },
    /// A Sigma construct this engine does not evaluate.
    Unsupported { construct: String },
    /// The `condition` cannot be parsed or names an unknown search.
    Condition { condition: String, message: String },
    /// A value uses a `%name%` placeholder (with `|expand`) that has no
    /// configured values, so the rule cannot be evaluated.
    Placeholder { name: String, context: String },
    /// A limit on rules was exceeded. The numbers are `u64` because a
    /// count can pass `usize::MAX` on wasm32 (aliases in YAML).
    Limit { limit: &'static str, value: u64, max: u64 },
    /// A `|re` regular expression whose compiled program would be larger
    /// than the `maxRegexBytes` limit of `max` bytes.
    RegexTooLarge { context: String, regex: String, max: u64 },
}

impl RuleError {
    pub(crate) fn new(file: &str, rule_id: Option<&str>, kind: RuleErrorKind) -> RuleError {
        RuleError { file: file.to_string(), rule_id: rule_id.map(str::to_string), kind }
    }

    /// A short machine-readable name of the error kind.
    pub fn code(&self) -> &'static str {
        match self.kind {
            RuleErrorKind::Read(_) => "read",
            RuleErrorKind::Yaml(_) => "yaml",
            RuleErrorKind::Missing(_) => "missing",
            RuleErrorKind::Invalid { .. } => "invalid",
            RuleErrorKind::Unsupported { .. } => "unsupported",
            RuleErrorKind::Condition { .. } => "condition",
            RuleErrorKind::Placeholder { .. } => "placeholder",
            RuleErrorKind::Limit { .. } | RuleErrorKind::RegexTooLarge { .. } => "limit",
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(id) = &self.rule_id {
            write!(f, " (rule {id})")?;
        }
        write!(f, ": ")?;
        match &self.kind {
            RuleErrorKind::Read(message) => write!(f, "cannot be read: {message}"),
            RuleErrorKind::Yaml(message) => write!(f, "invalid YAML: {message}"),
            RuleErrorKind::Missing(key) => write!(f, "missing required key '{key}'"),
            RuleErrorKind::Invalid { key, message } => write!(f, "invalid '{key}': {message}"),
            RuleErrorKind::Unsupported { construct } => write!(f, "unsupported Sigma construct: {construct}"),
            RuleErrorKind::Condition { condition, message } => {
                write!(f, "invalid condition '{condition}': {message}")
            }
            RuleErrorKind::Placeholder { name, context } => write!(
                f,
                "{context}: placeholder %{name}% has no values configured; \
                 set them with the 'placeholders' engine option (EngineBuilder::placeholder in Rust)"
            ),
            RuleErrorKind::Limit { limit, value, max } => {
                write!(f, "{limit} is {value}, over the maximum of {max}")
            }
            RuleErrorKind::RegexTooLarge { context, regex, max } => write!(
                f,
                "{context}: regular expression '{regex}' compiles to more than the maxRegexBytes limit of {max} bytes"
            ),
        }
    }
}

impl std::error::Error for RuleError {}

/// A problem with one record or part of an input file. The scan goes on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// The input's name as the caller gave it.
    pub file: String,
    /// The 1-based position of the record in the file, when known.
    pub record: Option<u64>,
    /// Byte offset in the file where the bad record or part starts.
    pub offset: u64,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            Some(record) => write!(f, "{}: record {} at byte {}: {}", self.file, record, self.offset, self.message),
            None => write!(f, "{}: at byte {}: {}", self.file, self.offset, self.message),
        }
    }
}

/// An input that cannot be scanned at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// The content matches no supported format.
    UnknownFormat { file: String, seen: String },
    /// A single event given to `evaluate` is not a JSON object.
    InvalidEvent { message: String },
    /// The scanner was used after `finish`.
    Finished { file: String },
}

impl InputError {
    /// A short machine-readable name of the error kind.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::UnknownFormat { .. } => "unknown-format",
            InputError::InvalidEvent { .. } => "invalid-event",
            InputError::Finished { .. } => "finished",
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::UnknownFormat { file, seen } => write!(
                f,
                "{file}: unknown format: expected EVTX, JSON, NDJSON, XML or CSV (plain, UTF-16, gzip or zip), but the file starts with {seen}"
            ),
            InputError::InvalidEvent { message } => write!(f, "invalid event: {message}"),
            InputError::Finished { file } => write!(f, "{file}: the scanner is finished and takes no more input"),
        }
    }
}

impl std::error::Error for InputError {}
