//! Sigma filters: documents that tune other rules.
//!
//! A filter names the rules it applies to (by `id` or `name`) and has its
//! own searches and condition under `filter`. Applied to a rule, the rule
//! matches only when its condition is true and the filter's is not:
//! `rule_condition and not filter_condition`. A filter applies to a rule
//! only when each of the filter's `category`, `product` and `service`, where
//! set, equals the rule's.

use yaml_rust2::Yaml;

use super::condition::Condition;
use super::detection::{self, Context, Search};
use super::{compile_condition, detection_error, text, Rule};
use crate::error::{RuleError, RuleErrorKind};
use crate::logsource::LogSource;

/// A compiled filter document.
#[derive(Debug, Clone)]
pub struct Filter {
    /// The filter's `id`, or empty.
    pub id: String,
    pub title: String,
    /// The file the filter was loaded from.
    pub file: String,
    pub logsource: LogSource,
    /// The ids or names of the rules it applies to.
    pub rules: Vec<String>,
    pub searches: Vec<Search>,
    pub condition: Condition,
}

/// Compiles a document with a `filter` key.
pub fn compile(file: &str, document: &Yaml, context: &mut Context) -> Result<Filter, RuleError> {
    let id = text(&document["id"]);
    let error = |kind| RuleError::new(file, id.as_deref(), kind);

    let title = text(&document["title"]).ok_or_else(|| error(RuleErrorKind::Missing("title")))?;
    let body = &document["filter"];
    if !matches!(body, Yaml::Hash(_)) {
        let message = "'filter' must be a map with 'rules', searches and 'condition'".to_string();
        return Err(error(RuleErrorKind::Invalid { key: "filter".into(), message }));
    }
    let rules = referenced_rules(&body["rules"]).map_err(error)?;

    // The searches are every key of `filter` but `rules` and `condition`.
    let mut searches_only = body.clone();
    if let Yaml::Hash(map) = &mut searches_only {
        map.remove(&Yaml::String("rules".into()));
    }
    let searches = detection::compile_searches(&searches_only, context).map_err(|e| error(detection_error(e)))?;
    let condition = compile_condition(&body["condition"], &searches).map_err(error)?;

    Ok(Filter {
        id: id.unwrap_or_default(),
        title,
        file: file.to_string(),
        logsource: LogSource::of(&document["logsource"]),
        rules,
        searches,
        condition,
    })
}

/// Reads `filter.rules`: a list of rule ids or names (one string is
/// accepted as a list of one).
fn referenced_rules(yaml: &Yaml) -> Result<Vec<String>, RuleErrorKind> {
    let items: Vec<&Yaml> = match yaml {
        Yaml::Array(items) => items.iter().collect(),
        Yaml::BadValue => return Err(RuleErrorKind::Missing("filter.rules")),
        single => vec![single],
    };
    let rules: Option<Vec<String>> = items.into_iter().map(text).collect();
    match rules {
        Some(rules) if !rules.is_empty() => Ok(rules),
        _ => Err(RuleErrorKind::Invalid {
            key: "filter.rules".into(),
            message: "expected a list of rule ids or names".into(),
        }),
    }
}

impl Filter {
    /// Returns a label for the filter in messages: its id, or its title.
    pub fn label(&self) -> &str {
        if self.id.is_empty() {
            &self.title
        } else {
            &self.id
        }
    }

    /// Tests whether the filter names `rule` and their log sources agree.
    pub fn applies_to(&self, rule: &Rule) -> bool {
        let named = self.rules.iter().any(|reference| {
            *reference == rule.id || rule.name.as_deref().is_some_and(|name| name == reference)
        });
        let agrees = |filter: &Option<String>, rule: &Option<String>| {
            filter.as_deref().is_none_or(|value| rule.as_deref().is_some_and(|own| own.eq_ignore_ascii_case(value)))
        };
        named
            && agrees(&self.logsource.category, &rule.logsource.category)
            && agrees(&self.logsource.product, &rule.logsource.product)
            && agrees(&self.logsource.service, &rule.logsource.service)
    }

    /// Adds the filter to `rule`: its searches (named `filter <label>:
    /// <search>` so reasons can tell them apart) and `and not` its
    /// condition.
    pub fn apply(&self, rule: &mut Rule) {
        let offset = rule.searches.len();
        for search in &self.searches {
            let name = format!("filter {}: {}", self.label(), search.name);
            rule.searches.push(Search { name, body: search.body.clone() });
        }
        let filtered = Condition::Not(Box::new(shifted(&self.condition, offset)));
        let original = std::mem::replace(&mut rule.condition, Condition::Or(Vec::new()));
        rule.condition = Condition::And(vec![original, filtered]);
        rule.filters.push(self.label().to_string());
    }
}

/// Renumbers the searches of a condition by `offset`.
fn shifted(condition: &Condition, offset: usize) -> Condition {
    match condition {
        Condition::Search(index) => Condition::Search(index + offset),
        Condition::And(terms) => Condition::And(terms.iter().map(|term| shifted(term, offset)).collect()),
        Condition::Or(terms) => Condition::Or(terms.iter().map(|term| shifted(term, offset)).collect()),
        Condition::Not(term) => Condition::Not(Box::new(shifted(term, offset))),
    }
}
