//! Compiling a rule's `detection` searches into field tests.
//!
//! A search is a map (its keys AND-ed), a list of maps (OR-ed), or a list of
//! plain values (keywords, matched anywhere in any field of the event). A
//! map key is a field name with modifiers; its values are OR-ed unless
//! `|all`. A key with modifiers but no field name (`'|all'`) is a keyword
//! test too. Evaluation lives in [`super::view`].

use std::collections::HashMap;

use regex::{Regex, RegexBuilder};
use yaml_rust2::Yaml;

use super::compare::{Comparison, Network, Number, TimeMatch};
use super::modifier::{Modifier, ModifierError, Modifiers, RegexFlag, ValueKind};
use super::value::{self, Placeholders, ValueError};
use crate::matcher::{anchor_tokens, tokenize, Anchor, Pattern};

/// Index of a field name in a [`FieldTable`].
pub type FieldId = u32;

/// The slot of a field test that is not cached (compiled outside an engine).
pub const NO_SLOT: u32 = u32::MAX;

/// The field names the rules of one engine refer to, each with an index.
#[derive(Debug, Clone, Default)]
pub struct FieldTable {
    ids: HashMap<Box<str>, FieldId>,
    names: Vec<Box<str>>,
}

impl FieldTable {
    /// Returns the index of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as FieldId;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    pub fn get(&self, name: &str) -> Option<FieldId> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: FieldId) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The engine state that compiling a detection uses besides the YAML.
pub struct Context<'a> {
    pub fields: &'a mut FieldTable,
    pub placeholders: &'a Placeholders,
    /// The largest compiled program of one `|re` expression, in bytes
    /// (`Limits::max_regex_bytes`).
    pub max_regex_bytes: usize,
}

/// One named search of a rule's `detection`.
#[derive(Debug, Clone)]
pub struct Search {
    pub name: String,
    pub body: SearchBody,
}

#[derive(Debug, Clone)]
pub enum SearchBody {
    /// OR of maps, each an AND of field tests (a single map is one entry).
    Maps(Vec<Vec<FieldTest>>),
    /// A list of plain values, any of which may appear in any field.
    Keywords(FieldTest),
}

/// `Field|modifiers: values`, or keywords when `field` is `None`.
#[derive(Debug, Clone)]
pub struct FieldTest {
    /// The field tested; `None` tests every field of the event.
    pub field: Option<FieldId>,
    /// The key as written, such as `CallTrace|contains`.
    pub key: String,
    pub values: Vec<ValueTest>,
    /// `|all`: every value must match.
    pub all: bool,
    /// `|neq`: the test passes when the values do not match.
    pub negate: bool,
    /// The slot of this test's result in an event's cache
    /// ([`TestSlots`]); identical tests of different rules share one.
    pub slot: u32,
}

/// Assigns each distinct field test a cache slot, so that a test that
/// several rules share is evaluated once per event.
#[derive(Debug, Clone, Default)]
pub struct TestSlots {
    slots: HashMap<String, u32>,
}

impl TestSlots {
    /// Gives every field test of `searches` its slot.
    pub fn assign(&mut self, searches: &mut [Search]) {
        for search in searches {
            match &mut search.body {
                SearchBody::Maps(maps) => maps.iter_mut().flatten().for_each(|test| self.assign_test(test)),
                SearchBody::Keywords(test) => self.assign_test(test),
            }
        }
    }

    fn assign_test(&mut self, test: &mut FieldTest) {
        let next = self.slots.len() as u32;
        test.slot = *self.slots.entry(test.identity()).or_insert(next);
    }

    /// Returns the number of slots an event's cache needs.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

impl FieldTest {
    /// Builds a text that two field tests share exactly when they test the
    /// same: the key (field and modifiers) and each value with its kind.
    fn identity(&self) -> String {
        let mut identity = self.key.clone();
        for value in &self.values {
            let kind = match value {
                ValueTest::Null => 'n',
                ValueTest::Exists(_) => 'e',
                ValueTest::Text { .. } => 't',
                ValueTest::Regex { .. } => 'r',
                ValueTest::Compare { .. } => 'c',
                ValueTest::Cidr { .. } => 'i',
                ValueTest::Time { .. } => 'h',
                ValueTest::FieldRef { .. } => 'f',
            };
            identity.push('\0');
            identity.push(kind);
            identity.push_str(value.written());
        }
        identity
    }
}

/// One value of a field test.
#[derive(Debug, Clone)]
pub enum ValueTest {
    /// `null`: the field is absent or null.
    Null,
    /// `|exists: true` or `false`: whether the field is present.
    Exists(bool),
    /// A string pattern, or several when a modifier made variants (OR-ed).
    Text { patterns: Vec<Pattern>, written: String },
    /// `|re`, matched anywhere in the value unless anchored.
    Regex { regex: Regex, written: String },
    /// `|lt`, `|lte`, `|gt`, `|gte`.
    Compare { comparison: Comparison, written: String },
    /// `|cidr`.
    Cidr { network: Network, written: String },
    /// `|minute` to `|year`.
    Time { time: TimeMatch, written: String },
    /// `|fieldref`: the value of another field of the same event.
    FieldRef { field: FieldId, anchor: Anchor, cased: bool, written: String },
}

impl ValueTest {
    /// Returns the rule's value as written (`null` for null).
    pub fn written(&self) -> &str {
        match self {
            ValueTest::Null => "null",
            ValueTest::Exists(true) => "true",
            ValueTest::Exists(false) => "false",
            ValueTest::Text { written, .. }
            | ValueTest::Regex { written, .. }
            | ValueTest::Compare { written, .. }
            | ValueTest::Cidr { written, .. }
            | ValueTest::Time { written, .. }
            | ValueTest::FieldRef { written, .. } => written,
        }
    }
}

/// A detection that could not be compiled: where, and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectionError {
    /// Where: the search and key, as in `search 'sel': 'Image|re'`.
    pub context: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The YAML does not have the shape Sigma defines.
    Invalid(String),
    /// A value needs a placeholder that has no configured values.
    Placeholder(String),
    /// A value expands into more variants than
    /// [`value::MAX_VARIANTS`].
    TooManyVariants(usize),
    /// A `|re` expression (as written) compiles to more than `max` bytes.
    RegexTooLarge { regex: String, max: usize },
}

impl DetectionError {
    fn new(context: String, problem: Problem) -> DetectionError {
        DetectionError { context, problem }
    }
}

/// Compiles every search of `detection` (all keys but `condition` and
/// `timeframe`), in the order written.
pub fn compile_searches(detection: &Yaml, context: &mut Context) -> Result<Vec<Search>, DetectionError> {
    let Yaml::Hash(map) = detection else {
        return Err(DetectionError::new("detection".into(), Problem::Invalid("'detection' must be a map".into())));
    };
    let mut searches = Vec::new();
    for (key, body) in map {
        let Some(name) = scalar_text(key) else {
            let problem = Problem::Invalid(format!("search names must be strings, found {}", describe(key)));
            return Err(DetectionError::new("detection".into(), problem));
        };
        if name == "condition" || name == "timeframe" {
            continue;
        }
        let body = compile_body(body, context).map_err(|(key, problem)| {
            let context = match key {
                Some(key) => format!("search '{name}': '{key}'"),
                None => format!("search '{name}'"),
            };
            DetectionError::new(context, problem)
        })?;
        searches.push(Search { name, body });
    }
    Ok(searches)
}

/// A problem, with the key it concerns when there is one.
type KeyedProblem = (Option<String>, Problem);

fn compile_body(body: &Yaml, context: &mut Context) -> Result<SearchBody, KeyedProblem> {
    match body {
        Yaml::Hash(_) => Ok(SearchBody::Maps(vec![compile_map(body, context)?])),
        Yaml::Array(items) if items.is_empty() => Err((None, Problem::Invalid("the search is an empty list".into()))),
        Yaml::Array(items) if items.iter().all(|item| matches!(item, Yaml::Hash(_))) => {
            let maps = items.iter().map(|item| compile_map(item, context)).collect::<Result<_, _>>()?;
            Ok(SearchBody::Maps(maps))
        }
        Yaml::Array(items) if items.iter().any(|item| matches!(item, Yaml::Hash(_))) => Err((
            None,
            Problem::Invalid("a search list must hold either maps or plain values, not both".into()),
        )),
        _ => {
            let test = compile_field_test("", body, context).map_err(|problem| (None, problem))?;
            Ok(SearchBody::Keywords(test))
        }
    }
}

fn compile_map(map: &Yaml, context: &mut Context) -> Result<Vec<FieldTest>, KeyedProblem> {
    let Yaml::Hash(entries) = map else {
        return Err((None, Problem::Invalid(format!("expected a map, found {}", describe(map)))));
    };
    if entries.is_empty() {
        return Err((None, Problem::Invalid("the search is an empty map".into())));
    }
    let mut tests = Vec::with_capacity(entries.len());
    for (key, values) in entries {
        let Some(key) = scalar_text(key) else {
            let problem = Problem::Invalid(format!("field names must be strings, found {}", describe(key)));
            return Err((None, problem));
        };
        tests.push(compile_field_test(&key, values, context).map_err(|problem| (Some(key.clone()), problem))?);
    }
    Ok(tests)
}

/// Compiles `key: values`. An empty field name (a keyword list, or a key
/// such as `'|all'`) tests every field of the event.
fn compile_field_test(key: &str, values: &Yaml, context: &mut Context) -> Result<FieldTest, Problem> {
    let mut parts = key.split('|');
    let field_name = parts.next().unwrap_or_default();
    let modifier_names: Vec<&str> = parts.collect();
    let modifiers = Modifiers::parse(&modifier_names).map_err(|error| match error {
        ModifierError::Unknown(_) | ModifierError::Invalid(_) => Problem::Invalid(error.to_string()),
    })?;
    let keyword = field_name.is_empty();
    if keyword && !matches!(modifiers.kind, ValueKind::Text | ValueKind::Regex) {
        let name = modifiers.list.iter().find(|m| !matches!(m, Modifier::All | Modifier::Neq));
        let name = name.map_or("", |m| m.name());
        return Err(Problem::Invalid(format!("modifier '{name}' needs a field name before it")));
    }

    let items: Vec<&Yaml> = match values {
        Yaml::Array(items) if items.is_empty() => return Err(Problem::Invalid("empty value list".into())),
        Yaml::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut compiled = Vec::with_capacity(items.len());
    for item in items {
        compiled.push(compile_value(item, &modifiers, keyword, context)?);
    }

    Ok(FieldTest {
        field: (!keyword).then(|| context.fields.intern(field_name)),
        key: key.to_string(),
        values: compiled,
        all: modifiers.has(Modifier::All),
        negate: modifiers.has(Modifier::Neq),
        slot: NO_SLOT,
    })
}

fn compile_value(value: &Yaml, modifiers: &Modifiers, keyword: bool, context: &mut Context) -> Result<ValueTest, Problem> {
    if matches!(value, Yaml::Null) {
        return compile_null(modifiers);
    }
    if matches!(value, Yaml::Array(_) | Yaml::Hash(_)) {
        return Err(Problem::Invalid(format!(
            "values must be strings, numbers, booleans or null, found {}",
            describe(value)
        )));
    }
    // Every other YAML node is a scalar with text (or a bad value).
    let written = scalar_text(value)
        .ok_or_else(|| Problem::Invalid(format!("unreadable value {}", describe(value))))?;
    let cased = modifiers.has(Modifier::Cased);

    match modifiers.kind {
        ValueKind::Text => compile_text(&written, modifiers, keyword, cased, context.placeholders),
        ValueKind::Regex => {
            let regex = compile_regex(&written, modifiers, keyword, context.max_regex_bytes)?;
            Ok(ValueTest::Regex { regex, written })
        }
        ValueKind::Cidr => {
            let network = Network::parse(&written).map_err(Problem::Invalid)?;
            Ok(ValueTest::Cidr { network, written })
        }
        ValueKind::Compare(op) => {
            let number = number(value, &written, "lt, lte, gt and gte")?;
            Ok(ValueTest::Compare { comparison: Comparison { op, number }, written })
        }
        ValueKind::TimePart(part) => match number(value, &written, "the time-part modifiers")? {
            Number::Integer(number) => Ok(ValueTest::Time { time: TimeMatch { part, number }, written }),
            Number::Float(_) => Err(Problem::Invalid(format!("time parts are whole numbers, found '{written}'"))),
        },
        ValueKind::Exists => match value {
            Yaml::Boolean(present) => Ok(ValueTest::Exists(*present)),
            _ => Err(Problem::Invalid(format!("'exists' takes true or false, found '{written}'"))),
        },
        ValueKind::FieldRef => {
            let anchor = anchor_of(modifiers);
            if tokenize(&written).iter().any(|token| !matches!(token, crate::matcher::Token::Literal(_))) {
                return Err(Problem::Invalid(format!("'fieldref' takes a field name without wildcards, found '{written}'")));
            }
            let field = context.fields.intern(&written);
            Ok(ValueTest::FieldRef { field, anchor, cased, written })
        }
    }
}

fn compile_null(modifiers: &Modifiers) -> Result<ValueTest, Problem> {
    let other = modifiers.list.iter().find(|m| !matches!(m, Modifier::All | Modifier::Neq));
    match other {
        None => Ok(ValueTest::Null),
        Some(modifier) => Err(Problem::Invalid(format!("'null' cannot take modifier '{}'", modifier.name()))),
    }
}

/// Compiles a string value: the transformations in order, then one
/// pattern per variant. Keywords match anywhere in a field.
fn compile_text(
    written: &str,
    modifiers: &Modifiers,
    keyword: bool,
    cased: bool,
    placeholders: &Placeholders,
) -> Result<ValueTest, Problem> {
    let variants = value::transform(written, &modifiers.list, placeholders).map_err(|error| match error {
        ValueError::Invalid(message) => Problem::Invalid(message),
        ValueError::Placeholder(name) => Problem::Placeholder(name),
        ValueError::TooManyVariants(count) => Problem::TooManyVariants(count),
    })?;
    let patterns = variants
        .into_iter()
        .map(|mut tokens| {
            if keyword {
                anchor_tokens(&mut tokens, Anchor::Anywhere);
            }
            Pattern::from_tokens(tokens, cased)
        })
        .collect();
    Ok(ValueTest::Text { patterns, written: written.to_string() })
}

/// Compiles `|re` with its flags. `startswith` and `endswith` anchor the
/// expression at the start or end of the value; without them it may match
/// anywhere, which is what `contains` requests explicitly. The `regex`
/// crate matches in time linear in the text, so only the size of the
/// compiled program needs a bound: `max_bytes`.
fn compile_regex(written: &str, modifiers: &Modifiers, keyword: bool, max_bytes: usize) -> Result<Regex, Problem> {
    if has_unicode_property(written) {
        // The property tables are left out of the build to keep the wasm
        // module small (see Cargo.toml). Rejecting here keeps every build
        // alike, since test builds get the tables through dev-dependencies.
        return Err(Problem::Invalid(format!(
            "regular expression '{written}' cannot be compiled: Unicode property classes (\\p{{..}}, \\P{{..}}) \
             are not supported"
        )));
    }
    let source = match (keyword, modifiers.anchor()) {
        (false, Some(Modifier::StartsWith)) => format!(r"\A(?:{written})"),
        (false, Some(Modifier::EndsWith)) => format!(r"(?:{written})\z"),
        _ => written.to_string(),
    };
    let flag = |flag| modifiers.has(Modifier::RegexFlag(flag));
    RegexBuilder::new(&source)
        .case_insensitive(flag(RegexFlag::IgnoreCase))
        .multi_line(flag(RegexFlag::MultiLine))
        .dot_matches_new_line(flag(RegexFlag::DotAll))
        .size_limit(max_bytes)
        .build()
        .map_err(|error| match error {
            regex::Error::CompiledTooBig(_) => Problem::RegexTooLarge { regex: written.to_string(), max: max_bytes },
            _ => Problem::Invalid(format!("regular expression '{written}' cannot be compiled: {}", regex_reason(&error))),
        })
}

/// Tests whether a regular expression uses `\p` or `\P` (a Unicode property
/// class). An escaped backslash does not start one.
fn has_unicode_property(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.next(), Some('p' | 'P')) {
            return true;
        }
    }
    false
}

/// Returns the one-line reason of a regex error (its message draws the
/// pattern with a caret over several lines).
fn regex_reason(error: &regex::Error) -> String {
    let message = error.to_string();
    message
        .lines()
        .find_map(|line| line.strip_prefix("error: "))
        .map(str::to_string)
        .unwrap_or(message)
}

fn anchor_of(modifiers: &Modifiers) -> Anchor {
    match modifiers.anchor() {
        Some(Modifier::Contains) => Anchor::Anywhere,
        Some(Modifier::StartsWith) => Anchor::Start,
        Some(Modifier::EndsWith) => Anchor::End,
        _ => Anchor::Whole,
    }
}

/// Reads a rule value as a decimal number.
fn number(value: &Yaml, written: &str, modifiers: &str) -> Result<Number, Problem> {
    let parsed = match value {
        Yaml::Integer(integer) => Some(Number::Integer(*integer)),
        _ => Number::parse(written),
    };
    parsed.ok_or_else(|| Problem::Invalid(format!("{modifiers} take a decimal number, found '{written}'")))
}

/// Returns the text of a scalar: strings as written, numbers and booleans
/// as text.
fn scalar_text(yaml: &Yaml) -> Option<String> {
    match yaml {
        Yaml::String(text) | Yaml::Real(text) => Some(text.clone()),
        Yaml::Integer(number) => Some(number.to_string()),
        Yaml::Boolean(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn describe(yaml: &Yaml) -> &'static str {
    match yaml {
        Yaml::Array(_) => "a list",
        Yaml::Hash(_) => "a map",
        Yaml::Null => "null",
        Yaml::Boolean(_) => "a boolean",
        Yaml::Integer(_) | Yaml::Real(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Alias(_) | Yaml::BadValue => "an unreadable value",
    }
}
