//! Runs SigmaHQ's regression tests against sigma-edge, and loads every rule
//! of a SigmaHQ checkout.
//!
//! Usage: `sigmahq-regression [--exact] DIR`, where DIR contains SigmaHQ's
//! `rules*` folders and `regression_data/`.
//!
//! A rule names its test with `regression_tests_path` (an `info.yml`
//! relative to DIR). Each `evtx` entry of that file is scanned with an
//! engine with only that rule, and the matches of the rule id are
//! counted, with the raw-byte prefilter on and off (the counts must agree).
//! As in SigmaHQ's own CI, a test passes when the count is at
//! least `match_count` (at least one when unset); a count above
//! `match_count` is printed as a warning, and is a failure with `--exact`.
//! Each failure is printed with its reason, then `N passed, M failed`. Then
//! every rule of every `rules*` folder is loaded into one engine, and the
//! output says how many loaded and, grouped by reason, why the others did
//! not.
//!
//! Exit status: 0 when every regression test passed, 1 when any failed,
//! 2 for a usage error or when DIR cannot be read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use sigma_edge::{Engine, RuleError, RuleErrorKind, Scanner};
use yaml_rust2::{Yaml, YamlLoader};

fn main() -> ExitCode {
    let mut arguments: Vec<String> = std::env::args().skip(1).collect();
    let exact = arguments.iter().any(|argument| argument == "--exact");
    arguments.retain(|argument| argument != "--exact");
    let [root] = arguments.as_slice() else {
        eprintln!("usage: sigmahq-regression [--exact] DIR   (DIR: a SigmaHQ checkout with rules*/ and regression_data/)");
        eprintln!("  --exact  fail a test whose match count is above its match_count, not only below");
        return ExitCode::from(2);
    };
    let root = PathBuf::from(root);
    let folders = match rule_folders(&root) {
        Ok(folders) if !folders.is_empty() => folders,
        Ok(_) => {
            eprintln!("{}: no rules* folder found; is this a SigmaHQ checkout?", root.display());
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("{}: cannot be read: {error}", root.display());
            return ExitCode::from(2);
        }
    };

    let (passed, failed) = run_regression_tests(&root, &folders, exact);
    println!("{passed} passed, {failed} failed");
    report_loading(&root, &folders);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Lists the `rules*` folders directly under `root`, in name order.
fn rule_folders(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_dir())
        .filter(|path| path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with("rules")))
        .collect();
    folders.sort();
    Ok(folders)
}

/// Lists every `.yml` file under `folder`, in name order.
fn rule_files(folder: &Path, files: &mut Vec<PathBuf>) {
    let Ok(listing) = std::fs::read_dir(folder) else { return };
    let mut entries: Vec<PathBuf> = listing.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            rule_files(&entry, files);
        } else if entry.extension().is_some_and(|extension| extension == "yml") {
            files.push(entry);
        }
    }
}

/// A rule that names a regression test.
struct TestedRule {
    file: PathBuf,
    text: String,
    id: String,
    info: PathBuf,
}

/// One `regression_tests_info` entry of an `info.yml`.
struct TestCase {
    name: String,
    evtx: PathBuf,
    match_count: Option<usize>,
}

/// The result of a test case that passed.
enum Outcome {
    Passed,
    /// More matches than `match_count`: the reason, printed as a warning.
    PassedWithMore(String),
}

fn run_regression_tests(root: &Path, folders: &[PathBuf], exact: bool) -> (usize, usize) {
    let mut passed = 0;
    let mut failed = 0;
    for rule in tested_rules(folders) {
        let result = read_test_cases(&root.join(&rule.info)).and_then(|cases| {
            cases.iter().map(|case| run_case(root, &rule, case, exact)).collect::<Result<Vec<Outcome>, String>>()
        });
        match result {
            Ok(outcomes) => {
                passed += 1;
                for outcome in outcomes {
                    if let Outcome::PassedWithMore(reason) = outcome {
                        println!("WARN {} {}: {reason}", rule.id, rule.file.display());
                    }
                }
            }
            Err(reason) => {
                failed += 1;
                println!("FAIL {} {}: {reason}", rule.id, rule.file.display());
            }
        }
    }
    (passed, failed)
}

/// Finds the rules whose YAML sets `regression_tests_path`, in file order.
fn tested_rules(folders: &[PathBuf]) -> Vec<TestedRule> {
    let mut files = Vec::new();
    for folder in folders {
        rule_files(folder, &mut files);
    }
    let mut rules = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        if !text.contains("regression_tests_path") {
            continue;
        }
        let Ok(documents) = YamlLoader::load_from_str(&text) else { continue };
        for document in &documents {
            if let (Some(info), Some(id)) = (document["regression_tests_path"].as_str(), document["id"].as_str()) {
                rules.push(TestedRule { file: file.clone(), text: text.clone(), id: id.to_string(), info: info.into() });
            }
        }
    }
    rules
}

fn read_test_cases(info: &Path) -> Result<Vec<TestCase>, String> {
    let text = std::fs::read_to_string(info).map_err(|error| format!("{}: cannot be read: {error}", info.display()))?;
    let documents =
        YamlLoader::load_from_str(&text).map_err(|error| format!("{}: invalid YAML: {error}", info.display()))?;
    let entries = documents.first().and_then(|document| document["regression_tests_info"].as_vec());
    let entries = entries.ok_or_else(|| format!("{}: no regression_tests_info list", info.display()))?;

    let mut cases = Vec::new();
    for entry in entries {
        if entry["type"].as_str() != Some("evtx") {
            continue;
        }
        let path = entry["path"].as_str().ok_or_else(|| format!("{}: a test has no path", info.display()))?;
        let match_count = match &entry["match_count"] {
            Yaml::Integer(count) => Some(usize::try_from(*count).unwrap_or(0)),
            _ => None,
        };
        let name = entry["name"].as_str().unwrap_or("unnamed test").to_string();
        cases.push(TestCase { name, evtx: path.into(), match_count });
    }
    if cases.is_empty() {
        return Err(format!("{}: no evtx test", info.display()));
    }
    Ok(cases)
}

/// Scans one test's `.evtx` with an engine holding only the rule, with the
/// prefilter on and off: the counts must agree, since the prefilter only
/// skips records that cannot match.
fn run_case(root: &Path, rule: &TestedRule, case: &TestCase, exact: bool) -> Result<Outcome, String> {
    let engine = Engine::builder().default_rules(false).rule_text(rule.file.display().to_string(), &*rule.text).build();
    if let Some(error) = engine.errors().iter().find(|error| error.rule_id.as_deref() == Some(rule.id.as_str())) {
        return Err(format!("the rule does not load: {error}"));
    }

    let path = root.join(&case.evtx);
    let bytes = std::fs::read(&path).map_err(|error| format!("{}: cannot be read: {error}", path.display()))?;
    let engine = Arc::new(engine);
    let (count, records) = count_matches(&engine, &path, &bytes, &rule.id, true).map_err(|e| format!("'{}': {e}", case.name))?;
    let (unfiltered, _) = count_matches(&engine, &path, &bytes, &rule.id, false).map_err(|e| format!("'{}': {e}", case.name))?;
    if count != unfiltered {
        return Err(format!("'{}': {count} match(es) with the prefilter, {unfiltered} without", case.name));
    }

    let expected = case.match_count.unwrap_or(1);
    let found = format!("'{}': {count} match(es) in {records} record(s)", case.name);
    if count < expected {
        return Err(format!("{found}, expected {}{expected}", if case.match_count.is_some() { "" } else { "at least " }));
    }
    match case.match_count {
        Some(expected) if count > expected && exact => Err(format!("{found}, expected {expected}")),
        Some(expected) if count > expected => Ok(Outcome::PassedWithMore(format!("{found}, match_count is {expected}"))),
        _ => Ok(Outcome::Passed),
    }
}

/// Scans `bytes` and returns the number of matches of `rule_id` and of
/// records. A warning (an unreadable record) is an error.
fn count_matches(
    engine: &Arc<Engine>,
    path: &Path,
    bytes: &[u8],
    rule_id: &str,
    prefilter: bool,
) -> Result<(usize, u64), String> {
    let mut scanner = Scanner::new(engine.clone(), path.display().to_string());
    scanner.set_prefilter(prefilter);
    let mut matches = scanner.push(bytes).map_err(|error| error.to_string())?;
    let (rest, summary) = scanner.finish().map_err(|error| error.to_string())?;
    matches.extend(rest);
    let warnings = scanner.take_warnings();
    if let Some(warning) = warnings.first() {
        return Err(format!("{} warning(s), the first: {warning}", warnings.len()));
    }
    Ok((matches.iter().filter(|found| found.rule_id == rule_id).count(), summary.records))
}

/// Loads every rule of every folder into one engine and prints the counts
/// and the grouped reasons of the rules that did not load.
fn report_loading(root: &Path, folders: &[PathBuf]) {
    // The files are read here rather than with `EngineBuilder::rule_dir`,
    // which is native-only, because test builds compile this binary for
    // wasm32 too.
    let mut files = Vec::new();
    for folder in folders {
        rule_files(folder, &mut files);
    }
    let mut builder = Engine::builder().default_rules(false);
    let mut unreadable = Vec::new();
    for file in &files {
        match std::fs::read_to_string(file) {
            Ok(text) => builder = builder.rule_text(file.display().to_string(), text),
            Err(error) => unreadable.push(format!("{}: cannot be read: {error}", file.display())),
        }
    }
    let engine = builder.build();
    let loaded = engine.rules().len();
    let total = loaded + engine.errors().len() + unreadable.len();
    let names: Vec<String> = folders
        .iter()
        .map(|folder| folder.strip_prefix(root).unwrap_or(folder).display().to_string())
        .collect();
    println!("{loaded} of {total} rules loaded from {}", names.join(", "));
    if !unreadable.is_empty() {
        println!("  {} not loaded: the file cannot be read", unreadable.len());
        unreadable.iter().for_each(|line| println!("    {line}"));
    }

    let mut groups: BTreeMap<String, Vec<&RuleError>> = BTreeMap::new();
    for error in engine.errors() {
        groups.entry(reason_group(error)).or_default().push(error);
    }
    let mut groups: Vec<(String, Vec<&RuleError>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    for (reason, errors) in groups {
        println!("  {} not loaded: {reason}", errors.len());
        for error in errors {
            println!("    {error}");
        }
    }
}

/// Reduces an error to a reason without the details that differ from rule
/// to rule (search names, keys, values in quotes), to group errors by.
fn reason_group(error: &RuleError) -> String {
    match &error.kind {
        RuleErrorKind::Read(_) => "the file cannot be read".to_string(),
        RuleErrorKind::Yaml(_) => "invalid YAML".to_string(),
        RuleErrorKind::Missing(key) => format!("missing key '{key}'"),
        RuleErrorKind::Invalid { key, message } => format!("invalid '{key}': {}", without_quoted(last_clause(message))),
        RuleErrorKind::Unsupported { construct } => format!("unsupported: {}", without_quoted(construct)),
        RuleErrorKind::Condition { message, .. } => format!("invalid condition: {}", without_quoted(message)),
        RuleErrorKind::Placeholder { .. } => "a placeholder has no values configured".to_string(),
        RuleErrorKind::Limit { limit, .. } => format!("over the limit on {limit}"),
        RuleErrorKind::RegexTooLarge { .. } => "over the limit on the compiled size of a regular expression".to_string(),
    }
}

/// Returns the message after its `search '…': '…': ` context.
fn last_clause(message: &str) -> &str {
    message.rsplit("': ").next().unwrap_or(message)
}

/// Replaces each quoted part by `'…'`.
fn without_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        if c == '\'' {
            if !quoted {
                out.push_str("'…'");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}
