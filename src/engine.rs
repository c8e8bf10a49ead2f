//! The engine: a compiled rule set, and evaluation of events against it.
//!
//! Rules are compiled once, when the engine is built. Evaluating an event
//! indexes it once ([`View`]), then checks each rule's log-source gate and
//! condition. Only a rule that matches costs more: its [`Match`] records the
//! event's identity, the fields the rule tested and why it matched.

use std::collections::BTreeMap;

use crate::dispatch::Dispatch;
use crate::error::{RuleError, RuleErrorKind};
use crate::event::Event;
use crate::limits::{self, Limits};
use crate::logsource::{EventKey, Gate};
use crate::prefilter::{self, Prefilter};
use crate::sigma::detection::{Context, FieldId, FieldTable, FieldTest, Search, SearchBody, TestSlots, ValueTest};
use crate::sigma::filter::Filter;
use crate::sigma::value::Placeholders;
use crate::sigma::view::View;
use crate::sigma::{self, Document, Rule};

/// The bundled EDR-Freeze rule family: `(file name, YAML)`.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    (
        "proc_access_win_werfaultsecure_msmpeng_access.yml",
        include_str!("rules/proc_access_win_werfaultsecure_msmpeng_access.yml"),
    ),
    (
        "proc_access_win_susp_dbgcore_dbghelp_load.yml",
        include_str!("rules/proc_access_win_susp_dbgcore_dbghelp_load.yml"),
    ),
    (
        "image_load_win_werfaultsecure_dbgcore_dbghelp_load.yml",
        include_str!("rules/image_load_win_werfaultsecure_dbgcore_dbghelp_load.yml"),
    ),
    (
        "image_load_win_susp_dbgcore_dbghelp_load.yml",
        include_str!("rules/image_load_win_susp_dbgcore_dbghelp_load.yml"),
    ),
    ("proc_creation_win_hktl_edr_freeze.yml", include_str!("rules/proc_creation_win_hktl_edr_freeze.yml")),
    ("proc_creation_win_werfaultsecure_abuse.yml", include_str!("rules/proc_creation_win_werfaultsecure_abuse.yml")),
];

/// A set of compiled rules.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    rules: Vec<Rule>,
    filters: Vec<Filter>,
    fields: FieldTable,
    slots: TestSlots,
    placeholders: Placeholders,
    errors: Vec<RuleError>,
    notes: Vec<RuleNote>,
    prefilter: Option<Prefilter>,
    limits: Limits,
    dispatch: Dispatch,
}

/// A rule or filter that loaded but has no effect on Windows events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleNote {
    /// The name of the rule's source.
    pub file: String,
    /// The id of the rule or filter, when it has one.
    pub rule_id: Option<String>,
    /// `never-matches` for a rule whose log source is not a Windows one,
    /// `unused-filter` for a filter that names no loaded rule.
    pub code: &'static str,
    /// The note, with the file and id.
    pub message: String,
}

impl RuleNote {
    fn never_matches(file: &str, rule_id: &str, reason: &str) -> RuleNote {
        let message = format!("{}: never matches Windows events: {reason}", source_label(file, "rule", rule_id));
        RuleNote { file: file.to_string(), rule_id: non_empty(rule_id), code: "never-matches", message }
    }

    fn unused_filter(filter: &Filter) -> RuleNote {
        let message = format!(
            "{}: applies to no loaded rule of the same log source (rules: {})",
            source_label(&filter.file, "filter", filter.label()),
            filter.rules.join(", ")
        );
        RuleNote { file: filter.file.clone(), rule_id: non_empty(&filter.id), code: "unused-filter", message }
    }
}

impl std::fmt::Display for RuleNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Names a rule or filter for a message: `file (rule ID)`, or `file` alone
/// when the id is empty.
fn source_label(file: &str, kind: &str, id: &str) -> String {
    if id.is_empty() {
        file.to_string()
    } else {
        format!("{file} ({kind} {id})")
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// Builds an [`Engine`] from rule texts.
#[derive(Debug, Clone, Default)]
pub struct EngineBuilder {
    default_rules: bool,
    sources: Vec<(String, String)>,
    limits: Limits,
    placeholders: Placeholders,
    /// Rule files or folders that could not be read.
    read_errors: Vec<RuleError>,
}

impl EngineBuilder {
    /// Includes (or leaves out) the bundled EDR-Freeze rules.
    pub fn default_rules(mut self, include: bool) -> Self {
        self.default_rules = include;
        self
    }

    /// Adds the YAML text of a rule file; `name` is how errors refer to it.
    pub fn rule_text(mut self, name: impl Into<String>, yaml: impl Into<String>) -> Self {
        self.sources.push((name.into(), yaml.into()));
        self
    }

    /// Sets the limits on rules (applied while building) and on the
    /// records of inputs that the engine's scanners read.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Adds every rule file (`.yml` or `.yaml`) under `path`, searched
    /// recursively in name order; `path` may also be a single file. A file
    /// that cannot be read is listed in [`Engine::errors`] and the others
    /// still load.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn rule_dir(mut self, path: impl AsRef<std::path::Path>) -> Self {
        let mut files = Vec::new();
        let mut unreadable = Vec::new();
        collect_rule_files(path.as_ref(), &mut files, &mut unreadable);
        for (file, message) in unreadable {
            self.read_errors.push(RuleError::new(&file, None, crate::error::RuleErrorKind::Read(message)));
        }
        for file in files {
            let name = file.display().to_string();
            match std::fs::read_to_string(&file) {
                Ok(text) => self.sources.push((name, text)),
                Err(error) => {
                    let kind = crate::error::RuleErrorKind::Read(error.to_string());
                    self.read_errors.push(RuleError::new(&name, None, kind));
                }
            }
        }
        self
    }

    /// Sets the values of the placeholder `%name%` for rules that use
    /// `|expand`. Each value is a Sigma string (wildcards work), and a
    /// field test matches when any of them does. A rule that uses a
    /// placeholder without values fails to load.
    pub fn placeholder<I, S>(mut self, name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.placeholders.insert(name.into(), values.into_iter().map(Into::into).collect());
        self
    }

    /// Compiles every rule. A rule that fails is listed in
    /// [`Engine::errors`]; the others load.
    pub fn build(self) -> Engine {
        let mut engine =
            Engine { limits: self.limits, placeholders: self.placeholders, errors: self.read_errors, ..Engine::default() };
        if self.default_rules {
            for (name, yaml) in DEFAULT_RULES {
                engine.add(name, yaml);
            }
        }
        for (name, yaml) in &self.sources {
            engine.add(name, yaml);
        }
        engine.apply_filters();
        engine.prefilter = prefilter::required_literals(&engine.rules).map(|literals| Prefilter::new(&literals));
        engine.dispatch = Dispatch::new(&engine.rules);
        engine
    }
}

impl Engine {
    /// Starts a builder with the bundled rules included.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default().default_rules(true)
    }

    /// Creates an engine with the bundled EDR-Freeze rules only.
    pub fn with_default_rules() -> Engine {
        Engine::builder().build()
    }

    fn add(&mut self, name: &str, yaml: &str) {
        if let Err(over) = self.check_rule_file(yaml) {
            self.errors.push(RuleError::new(name, None, over));
            return;
        }
        let max_regex_bytes = self.limits.max_regex_bytes;
        let mut context = Context { fields: &mut self.fields, placeholders: &self.placeholders, max_regex_bytes };
        for result in sigma::load(name, yaml, &mut context) {
            match result {
                Ok(Document::Rule(rule)) if self.rules.len() >= self.limits.max_rules => {
                    self.errors.push(RuleError::new(name, Some(&rule.id), self.rule_count_over()));
                }
                Ok(Document::Rule(mut rule)) => {
                    if let Gate::Never(reason) = &rule.gate {
                        self.notes.push(RuleNote::never_matches(name, &rule.id, reason));
                    }
                    self.slots.assign(&mut rule.searches);
                    self.rules.push(rule);
                }
                Ok(Document::Filter(mut filter)) => {
                    self.slots.assign(&mut filter.searches);
                    self.filters.push(filter);
                }
                Err(error) => self.errors.push(error),
            }
        }
    }

    /// Checks a rule file, before it is parsed, against the limits on
    /// its size and shape and on the number of rules.
    fn check_rule_file(&self, yaml: &str) -> Result<(), RuleErrorKind> {
        if self.rules.len() >= self.limits.max_rules {
            return Err(self.rule_count_over());
        }
        limits::check_rule_file(yaml, &self.limits)
            .map_err(|over| RuleErrorKind::Limit { limit: over.limit, value: over.value, max: over.max })
    }

    fn rule_count_over(&self) -> RuleErrorKind {
        let (value, max) = (self.rules.len() as u64 + 1, self.limits.max_rules as u64);
        RuleErrorKind::Limit { limit: limits::RULE_COUNT, value, max }
    }

    /// Returns the limits the engine was built with, which its scanners apply.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Applies every filter to the rules it names, once all documents are
    /// loaded, so that the order of files does not matter.
    fn apply_filters(&mut self) {
        for filter in &self.filters {
            let mut applied = 0;
            for rule in self.rules.iter_mut().filter(|rule| filter.applies_to(rule)) {
                filter.apply(rule);
                applied += 1;
            }
            if applied == 0 {
                self.notes.push(RuleNote::unused_filter(filter));
            }
        }
    }

    /// Returns the loaded filters, each already applied to the rules it names.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// Returns the loaded rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Rules that failed to load, with the reason.
    pub fn errors(&self) -> &[RuleError] {
        &self.errors
    }

    /// Loaded rules that can never match a Windows event, and filters that
    /// apply to no loaded rule, with the reason.
    pub fn notes(&self) -> &[RuleNote] {
        &self.notes
    }

    /// The raw-byte prefilter of this rule set, or `None` when some rule
    /// has no required literal and every record must be parsed.
    pub fn prefilter(&self) -> Option<&Prefilter> {
        self.prefilter.as_ref()
    }

    /// Evaluates one event against every rule whose gate admits it, and
    /// returns the matches in rule order.
    pub fn evaluate(&self, event: &Event) -> Vec<Match> {
        let view = View::new(event, &self.fields, self.slots.len());
        let key = EventKey::of(event);
        let mut candidates = Vec::new();
        self.dispatch.candidates(event, &key, &mut candidates);
        candidates
            .iter()
            .map(|&index| &self.rules[index as usize])
            .filter(|rule| rule.condition_matches(&view))
            .map(|rule| self.describe(rule, &view, &key))
            .collect()
    }

    fn describe(&self, rule: &Rule, view: &View, key: &EventKey) -> Match {
        let event = view.event;
        let mut fields = BTreeMap::new();
        let mut reasons = Vec::new();

        for search in &rule.searches {
            if let SearchBody::Maps(maps) = &search.body {
                for test in maps.iter().flatten() {
                    let Some(field) = test.field else { continue };
                    if let Some(value) = view.first_text(field) {
                        fields.entry(self.fields.name(field).to_string()).or_insert_with(|| value.to_string());
                    }
                }
            }
        }
        for index in rule.contributing_searches(view) {
            reasons.extend(self.reasons(&rule.searches[index], view));
        }

        Match {
            rule_id: rule.id.clone(),
            rule_title: rule.title.clone(),
            level: rule.level.clone(),
            record_id: event.get("EventRecordID").and_then(|v| v.trim().parse().ok()),
            event_id: key.event_id,
            channel: event.get("Channel").map(str::to_string),
            computer: event.get("Computer").or_else(|| event.get("Hostname")).map(str::to_string),
            timestamp: timestamp(event).map(str::to_string),
            fields,
            reasons,
            file: None,
            record: None,
            offset: None,
            event: None,
        }
    }

    /// Explains a matching search: for each field test of the first map that
    /// matched (or the keyword test), the value that matched and where.
    fn reasons(&self, search: &Search, view: &View) -> Vec<Reason> {
        let tests: &[FieldTest] = match &search.body {
            SearchBody::Keywords(test) => std::slice::from_ref(test),
            SearchBody::Maps(maps) => {
                match maps.iter().find(|tests| tests.iter().all(|test| test.matches(view))) {
                    Some(tests) => tests,
                    None => return Vec::new(),
                }
            }
        };
        let mut reasons = Vec::new();
        for test in tests {
            let (field, modifiers) = test.key.split_once('|').unwrap_or((&test.key, ""));
            if test.negate {
                // A negated test matched because no value did: no span to show.
                reasons.push(self.reason(&search.name, field, modifiers, test.values.first(), view, test.field));
                continue;
            }
            for value in &test.values {
                if !test.value_matches(view, value) {
                    continue;
                }
                reasons.push(self.reason(&search.name, field, modifiers, Some(value), view, test.field));
                if !test.all {
                    break;
                }
            }
        }
        reasons
    }

    fn reason(
        &self,
        selection: &str,
        field: &str,
        modifiers: &str,
        value: Option<&ValueTest>,
        view: &View,
        id: Option<FieldId>,
    ) -> Reason {
        let candidates: Vec<&str> = match id {
            Some(id) => view.values_of(id).filter_map(|index| view.event.fields()[index].value.as_deref()).collect(),
            None => view.event.fields().iter().filter_map(|field| field.value.as_deref()).collect(),
        };
        let span = match value {
            Some(ValueTest::Text { patterns, .. }) => candidates
                .iter()
                .find_map(|raw| patterns.iter().find_map(|pattern| pattern.find_span(raw)).map(|span| (*raw, span))),
            Some(ValueTest::Regex { regex, .. }) => {
                candidates.iter().find_map(|raw| regex.find(raw).map(|found| (*raw, (found.start(), found.end()))))
            }
            _ => None,
        };
        let fallback = id.and_then(|id| view.first_text(id));
        Reason {
            selection: selection.to_string(),
            field: field.to_string(),
            modifiers: if id.is_none() && modifiers.is_empty() { "keywords".to_string() } else { modifiers.to_string() },
            needle: value.map(|value| value.written().to_string()).unwrap_or_default(),
            value: span.map(|(raw, _)| raw).or(fallback).map(str::to_string),
            start: span.map(|(_, (start, _))| start),
            end: span.map(|(_, (_, end))| end),
        }
    }
}

/// Lists the rule files under `path` (or `path` itself when it is a file),
/// sorted so that loading order does not depend on the file system. A
/// folder or file that cannot be read is added to `errors` with the reason,
/// and the walk goes on.
#[cfg(not(target_arch = "wasm32"))]
fn collect_rule_files(path: &std::path::Path, files: &mut Vec<std::path::PathBuf>, errors: &mut Vec<(String, String)>) {
    let failed = |error: std::io::Error| (path.display().to_string(), error.to_string());
    if !path.is_dir() {
        match std::fs::metadata(path) {
            Ok(_) => files.push(path.to_path_buf()),
            Err(error) => errors.push(failed(error)),
        }
        return;
    }
    let mut entries: Vec<std::path::PathBuf> = match std::fs::read_dir(path) {
        Ok(listing) => listing.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect(),
        Err(error) => return errors.push(failed(error)),
    };
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_rule_files(&entry, files, errors);
        } else if entry.extension().is_some_and(|extension| extension == "yml" || extension == "yaml") {
            files.push(entry);
        }
    }
}

fn timestamp(event: &Event) -> Option<&str> {
    ["TimeCreated_SystemTime", "@timestamp", "TimeCreated", "UtcTime", "EventTime", "TimeGenerated"]
        .iter()
        .find_map(|name| event.get(name))
}

/// A rule that matched an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    pub rule_id: String,
    pub rule_title: String,
    pub level: String,
    /// The input's name, for matches found by a scanner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based position of the record in the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// Byte offset of the record in the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The event's `EventRecordID`.
    pub record_id: Option<u64>,
    pub event_id: Option<u32>,
    pub channel: Option<String>,
    pub computer: Option<String>,
    pub timestamp: Option<String>,
    /// The fields the rule tests, with the event's values.
    pub fields: BTreeMap<String, String>,
    /// Why the rule matched.
    pub reasons: Vec<Reason>,
    /// Every field of the event, when the scanner was asked for it: a
    /// name maps to its value, or to an array when the name repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<BTreeMap<String, serde_json::Value>>,
}

/// One field test that made a rule match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reason {
    /// The search (selection) name.
    pub selection: String,
    pub field: String,
    /// The modifiers as written, such as `contains|all`.
    pub modifiers: String,
    /// The rule's value as written.
    pub needle: String,
    /// The event value it matched.
    pub value: Option<String>,
    /// Byte range of the match within `value`.
    pub start: Option<usize>,
    pub end: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edr_freeze_event() -> Event {
        Event::from_json(&json!({
            "EventID": 10,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "SourceImage": "C:\\Windows\\System32\\WerFaultSecure.exe",
            "TargetImage": "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18\\MsMpEng.exe",
            "CallTrace": "C:\\WINDOWS\\SYSTEM32\\ntdll.dll+1284|C:\\Windows\\System32\\dbgcore.DLL+164cc",
            "EventRecordID": 445923,
            "Computer": "host1"
        }))
        .unwrap()
    }

    #[test]
    fn default_rules_all_load() {
        let engine = Engine::with_default_rules();
        assert_eq!(engine.errors(), &[]);
        assert_eq!(engine.rules().len(), 6);
    }

    #[test]
    fn edr_freeze_event_matches_with_reasons() {
        let engine = Engine::with_default_rules();
        let matches = engine.evaluate(&edr_freeze_event());
        assert_eq!(matches.len(), 1);
        let found = &matches[0];
        assert_eq!(found.rule_id, "387df17d-3b04-448f-8669-9e7fd5e5fd8c");
        assert_eq!(found.record_id, Some(445923));
        assert_eq!(found.computer.as_deref(), Some("host1"));
        assert_eq!(found.fields.len(), 3);
        let call_trace = found.reasons.iter().find(|r| r.field == "CallTrace").unwrap();
        let value = call_trace.value.as_deref().unwrap();
        assert_eq!(&value[call_trace.start.unwrap()..call_trace.end.unwrap()], "\\dbgcore.DLL");
        assert_eq!(call_trace.modifiers, "contains");
    }

    #[test]
    fn event_id_10_from_another_channel_is_gated_out() {
        let engine = Engine::with_default_rules();
        let mut value = serde_json::to_value(json!({
            "EventID": 10, "Channel": "Security",
            "SourceImage": "C:\\WerFaultSecure.exe", "TargetImage": "C:\\MsMpEng.exe", "CallTrace": "\\dbgcore.dll"
        }))
        .unwrap();
        assert!(engine.evaluate(&Event::from_json(&value).unwrap()).is_empty());
        value["Channel"] = json!("Microsoft-Windows-Sysmon/Operational");
        assert_eq!(engine.evaluate(&Event::from_json(&value).unwrap()).len(), 1);
    }
}
