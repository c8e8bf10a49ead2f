//! Sigma rules: YAML text in, compiled rules out.
//!
//! [`load`] parses a file that may hold several YAML documents, and compiles
//! each rule: its metadata, its `logsource` into a [`Gate`], its searches
//! into field tests and its `condition` into a tree over them. A document
//! that cannot be compiled becomes a [`RuleError`] naming the file, the rule
//! id and the construct; the other documents of the file still load.

pub mod compare;
pub mod condition;
pub mod detection;
pub mod filter;
pub mod modifier;
pub mod value;
pub mod view;
pub mod yaml;

use yaml_rust2::Yaml;

use crate::error::{RuleError, RuleErrorKind};
use crate::logsource::{Gate, LogSource};
use condition::Condition;
use detection::{Context, DetectionError, Problem, Search};
use filter::Filter;
use view::View;

/// A compiled Sigma rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    /// The optional unique `name` that filters and correlations may use
    /// instead of the id.
    pub name: Option<String>,
    pub title: String,
    /// `informational`, `low`, `medium`, `high` or `critical`; empty if unset.
    pub level: String,
    pub status: String,
    pub author: String,
    pub description: String,
    pub tags: Vec<String>,
    pub logsource: LogSource,
    /// The file the rule was loaded from.
    pub file: String,
    pub gate: Gate,
    pub searches: Vec<Search>,
    pub condition: Condition,
    /// Labels of the filters applied to the rule ([`Filter::label`]).
    pub filters: Vec<String>,
}

/// A compiled Sigma document: a detection rule or a filter.
#[derive(Debug, Clone)]
pub enum Document {
    Rule(Rule),
    Filter(Filter),
}

/// Top-level keys that change what a rule matches and that this engine
/// does not evaluate.
const UNSUPPORTED_KEYS: &[(&str, &str)] = &[
    ("action", "rule collections ('action: global' and friends)"),
    ("correlation", "correlation rules"),
];

/// Parses and compiles every document in `text`, read from `file`: rules,
/// and filters (documents with a `filter` key).
pub fn load(file: &str, text: &str, context: &mut Context) -> Vec<Result<Document, RuleError>> {
    let documents = match yaml::load_documents(text) {
        Ok(documents) => documents,
        Err(message) => return vec![Err(RuleError::new(file, None, RuleErrorKind::Yaml(message)))],
    };
    documents
        .iter()
        .filter(|document| !document.is_null() && !document.is_badvalue())
        .map(|document| {
            if document["filter"].is_badvalue() {
                compile(file, document, context).map(Document::Rule)
            } else {
                filter::compile(file, document, context).map(Document::Filter)
            }
        })
        .collect()
}

/// Compiles one rule document.
pub fn compile(file: &str, document: &Yaml, context: &mut Context) -> Result<Rule, RuleError> {
    let id = text(&document["id"]);
    let error = |kind| RuleError::new(file, id.as_deref(), kind);

    if !matches!(document, Yaml::Hash(_)) {
        return Err(error(RuleErrorKind::Invalid { key: "rule".into(), message: "a rule must be a YAML map".into() }));
    }
    for (key, construct) in UNSUPPORTED_KEYS {
        if !document[*key].is_badvalue() {
            return Err(error(RuleErrorKind::Unsupported { construct: construct.to_string() }));
        }
    }
    let title = text(&document["title"]).ok_or_else(|| error(RuleErrorKind::Missing("title")))?;
    let detection = &document["detection"];
    if detection.is_badvalue() {
        return Err(error(RuleErrorKind::Missing("detection")));
    }

    let logsource = LogSource::of(&document["logsource"]);
    let searches = detection::compile_searches(detection, context).map_err(|e| error(detection_error(e)))?;
    let condition = compile_condition(&detection["condition"], &searches).map_err(error)?;

    Ok(Rule {
        id: id.clone().unwrap_or_default(),
        name: text(&document["name"]),
        title,
        level: text(&document["level"]).unwrap_or_default(),
        status: text(&document["status"]).unwrap_or_default(),
        author: text(&document["author"]).unwrap_or_default(),
        description: text(&document["description"]).unwrap_or_default(),
        tags: document["tags"].as_vec().map(|tags| tags.iter().filter_map(text).collect()).unwrap_or_default(),
        gate: Gate::resolve(&logsource),
        logsource,
        file: file.to_string(),
        searches,
        condition,
        filters: Vec::new(),
    })
}

fn detection_error(error: DetectionError) -> RuleErrorKind {
    let DetectionError { context, problem } = error;
    match problem {
        Problem::Invalid(message) => RuleErrorKind::Invalid { key: "detection".into(), message: format!("{context}: {message}") },
        Problem::Placeholder(name) => RuleErrorKind::Placeholder { name, context },
        Problem::TooManyVariants(value) => RuleErrorKind::Limit {
            limit: "the number of value variants of one field test",
            value: value as u64,
            max: value::MAX_VARIANTS as u64,
        },
        Problem::RegexTooLarge { regex, max } => RuleErrorKind::RegexTooLarge { context, regex, max: max as u64 },
    }
}

/// Parses `condition`, which may be one expression or a list of them
/// (OR-ed, an older Sigma form).
fn compile_condition(yaml: &Yaml, searches: &[Search]) -> Result<Condition, RuleErrorKind> {
    let names: Vec<String> = searches.iter().map(|s| s.name.clone()).collect();
    let parse = |text: &str| {
        condition::parse(text, &names).map_err(|message| {
            let kind = if message.contains("not supported") {
                RuleErrorKind::Unsupported { construct: message }
            } else {
                RuleErrorKind::Condition { condition: shortened(text), message }
            };
            kind
        })
    };
    match yaml {
        Yaml::String(text) => parse(text),
        Yaml::Array(items) if !items.is_empty() => {
            let parsed = items
                .iter()
                .map(|item| item.as_str().ok_or(RuleErrorKind::Missing("condition")).and_then(parse))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Condition::Or(parsed))
        }
        _ => Err(RuleErrorKind::Missing("condition")),
    }
}

/// Shortens a condition for an error message to its first 120 characters.
fn shortened(condition: &str) -> String {
    const MAX_CHARS: usize = 120;
    match condition.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", &condition[..end]),
        None => condition.to_string(),
    }
}

/// The text of a scalar YAML value, trimmed; `None` for anything else.
fn text(yaml: &Yaml) -> Option<String> {
    match yaml {
        Yaml::String(s) | Yaml::Real(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Rule {
    /// Evaluates the rule's condition (the gate is checked by the engine).
    pub fn condition_matches(&self, view: &View) -> bool {
        self.evaluate(&self.condition, view)
    }

    fn evaluate(&self, condition: &Condition, view: &View) -> bool {
        match condition {
            Condition::Search(index) => self.searches[*index].matches(view),
            Condition::And(terms) => terms.iter().all(|term| self.evaluate(term, view)),
            Condition::Or(terms) => terms.iter().any(|term| self.evaluate(term, view)),
            Condition::Not(term) => !self.evaluate(term, view),
        }
    }

    /// The searches that made the condition true: those under no `not`
    /// that matched, in condition order without repeats.
    pub fn contributing_searches(&self, view: &View) -> Vec<usize> {
        let mut found = Vec::new();
        self.collect_contributing(&self.condition, view, &mut found);
        found
    }

    fn collect_contributing(&self, condition: &Condition, view: &View, found: &mut Vec<usize>) {
        match condition {
            Condition::Search(index) => {
                if !found.contains(index) && self.searches[*index].matches(view) {
                    found.push(*index);
                }
            }
            Condition::And(terms) | Condition::Or(terms) => {
                for term in terms {
                    if self.evaluate(term, view) {
                        self.collect_contributing(term, view, found);
                    }
                }
            }
            Condition::Not(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use detection::FieldTable;

    fn load_one(text: &str) -> Result<Rule, RuleError> {
        let mut fields = FieldTable::default();
        let placeholders = value::Placeholders::new();
        let max_regex_bytes = crate::limits::Limits::default().max_regex_bytes;
        let mut context = Context { fields: &mut fields, placeholders: &placeholders, max_regex_bytes };
        match load("test.yml", text, &mut context).remove(0)? {
            Document::Rule(rule) => Ok(rule),
            Document::Filter(filter) => panic!("expected a rule, found filter {}", filter.title),
        }
    }

    #[test]
    fn bundled_rule_compiles() {
        let rule = load_one(include_str!("../rules/proc_access_win_werfaultsecure_msmpeng_access.yml")).unwrap();
        assert_eq!(rule.id, "387df17d-3b04-448f-8669-9e7fd5e5fd8c");
        assert_eq!(rule.level, "high");
        assert_eq!(rule.searches.len(), 1);
        assert_eq!(rule.condition, Condition::Search(0));
    }

    #[test]
    fn invalid_modifier_names_rule_and_modifier() {
        let error = load_one(
            "title: t\nid: abc\nlogsource: {product: windows}\ndetection:\n  sel:\n    CommandLine|bogus: 'x'\n  condition: sel\n",
        )
        .unwrap_err();
        assert_eq!(error.rule_id.as_deref(), Some("abc"));
        assert_eq!(
            error.to_string(),
            "test.yml (rule abc): invalid 'detection': search 'sel': 'CommandLine|bogus': unknown modifier 'bogus'"
        );
    }

    #[test]
    fn look_around_fails_with_the_reason() {
        let error = load_one(
            "title: t\nid: abc\nlogsource: {product: windows}\ndetection:\n  sel:\n    CommandLine|re: 'a(?=b)'\n  condition: sel\n",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "test.yml (rule abc): invalid 'detection': search 'sel': 'CommandLine|re': regular expression 'a(?=b)' \
             cannot be compiled: look-around, including look-ahead and look-behind, is not supported"
        );
    }

    #[test]
    fn placeholder_without_values_is_reported() {
        let error = load_one(
            "title: t\nid: abc\nlogsource: {product: windows}\ndetection:\n  sel:\n    User|expand: '%Admins%'\n  condition: sel\n",
        )
        .unwrap_err();
        assert_eq!(error.code(), "placeholder");
        assert_eq!(
            error.kind,
            RuleErrorKind::Placeholder { name: "Admins".into(), context: "search 'sel': 'User|expand'".into() }
        );
    }

    #[test]
    fn missing_detection_and_bad_yaml() {
        assert_eq!(load_one("title: t\nid: x\n").unwrap_err().kind, RuleErrorKind::Missing("detection"));
        assert_eq!(load_one("title: [unclosed\n").unwrap_err().code(), "yaml");
    }

    #[test]
    fn long_condition_is_shortened_in_errors() {
        let condition = format!("{}a", "(".repeat(200));
        let text = format!("title: t\nid: x\nlogsource: {{product: windows}}\ndetection:\n  a: {{X: y}}\n  condition: '{condition}'\n");
        let RuleErrorKind::Condition { condition: shown, message } = load_one(&text).unwrap_err().kind else {
            panic!("not a condition error")
        };
        assert_eq!(shown, format!("{}…", "(".repeat(120)));
        assert!(message.contains("deeper than 64 levels"), "{message}");
    }

    #[test]
    fn aggregation_is_unsupported() {
        let error = load_one(
            "title: t\nid: x\nlogsource: {product: windows}\ndetection:\n  sel: {a: b}\n  condition: sel | count() > 3\n",
        )
        .unwrap_err();
        assert_eq!(error.code(), "unsupported");
    }
}
