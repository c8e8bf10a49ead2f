//! The caller-settable limits (`sigma_edge::Limits`) on input records and
//! on rules: each one exceeded gives a warning or a rule error that names
//! it, with exact counts, and input within it still matches.

use std::path::Path;
use std::sync::Arc;

use sigma_edge::{Engine, Event, Limits, RuleErrorKind, Scanner, Summary, Warning};

const EDR_FREEZE: &str = "387df17d-3b04-448f-8669-9e7fd5e5fd8c";

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Returns the EDR-Freeze sample event as one NDJSON line.
fn sample_line() -> String {
    let path = format!("edr-freeze/proc_access_win_werfaultsecure_msmpeng_access/{EDR_FREEZE}.json");
    let value: serde_json::Value = serde_json::from_slice(&data(&path)).unwrap();
    value.to_string()
}

/// Scans `input` in pieces of `piece` bytes with every record parsed;
/// returns the rule ids matched, the warnings and the summary.
fn scan(limits: Limits, input: &[u8], piece: usize) -> (Vec<String>, Vec<Warning>, Summary) {
    let engine = Arc::new(Engine::with_default_rules());
    let mut scanner = Scanner::with_limits(engine, "input", limits);
    scanner.set_prefilter(false);
    let mut ids = Vec::new();
    for chunk in input.chunks(piece) {
        ids.extend(scanner.push(chunk).unwrap().into_iter().map(|m| m.rule_id));
    }
    let (rest, summary) = scanner.finish().unwrap();
    ids.extend(rest.into_iter().map(|m| m.rule_id));
    (ids, scanner.take_warnings(), summary)
}

fn warning(record: Option<u64>, offset: u64, message: &str) -> Warning {
    Warning { file: "input".to_string(), record, offset, message: message.to_string() }
}

#[test]
fn defaults_are_documented_values() {
    let limits = Limits::default();
    assert_eq!(limits.max_record_bytes, 16 * 1024 * 1024);
    assert_eq!(limits.max_depth, 64);
    assert_eq!(limits.max_rules, 10_000);
    assert_eq!(limits.max_rule_file_bytes, 1024 * 1024);
    assert_eq!(limits.max_regex_bytes, 10 * 1024 * 1024);
}

#[test]
fn json_line_over_record_limit() {
    let line = sample_line();
    let input = format!("{line}\n{line}\n");
    let limits = Limits { max_record_bytes: line.len() - 1, ..Limits::default() };
    for piece in [7, 1000, input.len()] {
        let (ids, warnings, summary) = scan(limits, input.as_bytes(), piece);
        assert_eq!(ids, Vec::<String>::new(), "piece {piece}");
        let message = format!("record larger than the maxRecordBytes limit of {} bytes; skipped", line.len() - 1);
        let expected = vec![warning(Some(1), 0, &message), warning(Some(2), line.len() as u64 + 1, &message)];
        assert_eq!(warnings, expected, "piece {piece}");
        assert_eq!(summary.records, 2, "piece {piece}");
    }
    let limits = Limits { max_record_bytes: line.len() + 1, ..Limits::default() };
    let (ids, warnings, _) = scan(limits, input.as_bytes(), 1000);
    assert_eq!(ids, vec![EDR_FREEZE, EDR_FREEZE]);
    assert_eq!(warnings, vec![]);
}

#[test]
fn json_event_over_depth_limit() {
    let line = sample_line();
    // The sample nests `Event.System.Provider.#attributes`: four levels.
    let (ids, warnings, _) = scan(Limits { max_depth: 4, ..Limits::default() }, line.as_bytes(), 100);
    assert_eq!(ids, vec![EDR_FREEZE]);
    assert_eq!(warnings, vec![]);
    let (ids, warnings, summary) = scan(Limits { max_depth: 3, ..Limits::default() }, line.as_bytes(), 100);
    assert_eq!(ids, Vec::<String>::new());
    assert_eq!(warnings, vec![warning(Some(1), 0, "nested deeper than the maxDepth limit of 3 levels")]);
    assert_eq!(summary.records, 1);
}

#[test]
fn xml_event_over_limits() {
    let xml = data("formats/edr-freeze.wevtutil.xml");
    let first_end = xml.windows(8).position(|w| w == b"</Event>").unwrap() + 8;
    let first = &xml[..first_end];

    let (ids, warnings, _) = scan(Limits { max_depth: 3, ..Limits::default() }, first, 100);
    assert_eq!(ids, vec![EDR_FREEZE]);
    assert_eq!(warnings, vec![]);
    let (ids, warnings, _) = scan(Limits { max_depth: 2, ..Limits::default() }, first, 100);
    assert_eq!(ids, Vec::<String>::new());
    let message = "XML event nested deeper than the maxDepth limit of 2 elements (at byte 77); the event is skipped";
    assert_eq!(warnings, vec![warning(Some(1), 0, message)]);

    let (ids, warnings, _) = scan(Limits { max_record_bytes: 1000, ..Limits::default() }, first, 100);
    assert_eq!(ids, Vec::<String>::new());
    assert_eq!(warnings.len(), 1);
    assert_eq!((warnings[0].record, warnings[0].offset), (Some(1), 0));
    assert!(
        warnings[0].message.starts_with("XML event larger than the maxRecordBytes limit of 1000 bytes; skipped"),
        "{}",
        warnings[0].message
    );
}

/// The CSV fixture's rows take 1062, 1018, 661, 662, 696 and 891 bytes
/// without their line ends; the limit counts those bytes.
#[test]
fn csv_row_over_record_limit() {
    let csv = data("formats/edr-freeze.csv");
    let message = |max: usize| format!("row larger than the maxRecordBytes limit of {max} bytes; skipped");
    for piece in [100, 5000] {
        let (ids, warnings, summary) = scan(Limits { max_record_bytes: 696, ..Limits::default() }, &csv, piece);
        // Rows 3 to 5 are read: event 4 matches two rules.
        assert_eq!(ids.len(), 4, "piece {piece}");
        let expected = vec![
            warning(Some(1), 547, &message(696)),
            warning(Some(2), 1611, &message(696)),
            warning(Some(6), 4656, &message(696)),
        ];
        assert_eq!(warnings, expected, "piece {piece}");
        assert_eq!(summary.records, 6, "piece {piece}");
    }
    let (_, warnings, _) = scan(Limits { max_record_bytes: 695, ..Limits::default() }, &csv, 100);
    assert_eq!(warnings.len(), 4);
    assert_eq!(warnings[2], warning(Some(5), 3958, &message(695)));
}

#[test]
fn rule_count_limit_names_the_rule() {
    let engine = Engine::builder().limits(Limits { max_rules: 1, ..Limits::default() }).build();
    assert_eq!(engine.rules().len(), 1);
    assert_eq!(engine.errors().len(), 5);
    let first = &engine.errors()[0];
    assert_eq!(first.file, "proc_access_win_susp_dbgcore_dbghelp_load.yml");
    assert_eq!(first.kind, RuleErrorKind::Limit { limit: "the number of rules (maxRules)", value: 2, max: 1 });
    assert_eq!(first.code(), "limit");
    assert_eq!(
        first.to_string(),
        "proc_access_win_susp_dbgcore_dbghelp_load.yml: the number of rules (maxRules) is 2, over the maximum of 1"
    );
}

#[test]
fn rule_file_size_limit() {
    let rule = "title: t\nid: big-1\nlogsource: {product: windows}\ndetection:\n  sel: {Image: x}\n  condition: sel\n";
    let engine = Engine::builder()
        .default_rules(false)
        .limits(Limits { max_rule_file_bytes: rule.len() - 1, ..Limits::default() })
        .rule_text("big.yml", rule)
        .build();
    assert_eq!(engine.rules().len(), 0);
    assert_eq!(
        engine.errors()[0].to_string(),
        format!("big.yml: the rule file size in bytes (maxRuleFileBytes) is {}, over the maximum of {}", rule.len(), rule.len() - 1)
    );
}

/// A "billion laughs" rule file: nine levels of ten aliases each would
/// expand to 10^10 strings. It is rejected before the YAML loader copies
/// any alias, so the check returns at once.
#[test]
fn billion_laughs_rule_is_rejected() {
    let mut yaml = String::from("title: laughs\nid: lol-1\nlol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..=9 {
        let previous = format!("*a{}", level - 1);
        yaml.push_str(&format!("lol{level}: &a{level} [{}]\n", vec![previous.as_str(); 10].join(", ")));
    }
    yaml.push_str("logsource: {product: windows}\ndetection:\n  sel: {Image: *a9}\n  condition: sel\n");
    let engine = Engine::builder().default_rules(false).rule_text("laughs.yml", yaml).build();
    assert_eq!(engine.rules().len(), 0);
    assert_eq!(engine.errors().len(), 1);
    let RuleErrorKind::Limit { limit, value, max } = engine.errors()[0].kind.clone() else {
        panic!("{:?}", engine.errors()[0])
    };
    assert_eq!(limit, "the number of nodes that YAML aliases add");
    assert_eq!(max, 10_000);
    // Ten aliases at each level, of nodes (10^(level+1) - 1) / 9, plus the
    // alias in `detection`, which adds all of level 9.
    let levels: u64 = (1..=9u32).map(|level| 10 * (10u64.pow(level + 1) - 1) / 9).sum();
    assert_eq!(value, levels + (10u64.pow(11) - 1) / 9);
}

#[test]
fn deeply_nested_rule_is_rejected() {
    let yaml = format!("{}x\n", "- ".repeat(200_000));
    let engine = Engine::builder().default_rules(false).rule_text("deep.yml", yaml).build();
    assert_eq!(engine.rules().len(), 0);
    assert_eq!(
        engine.errors()[0].to_string(),
        "deep.yml: the YAML nesting depth (maxDepth) is 65, over the maximum of 64"
    );
}

/// Returns a rule file whose rule `id` tests `CommandLine|re: 'pattern'`.
fn regex_rule(id: &str, pattern: &str) -> String {
    format!(
        "title: {id}\nid: {id}\nlogsource: {{product: windows}}\n\
         detection:\n  sel:\n    CommandLine|re: '{pattern}'\n  condition: sel\n"
    )
}

/// Returns the ids of the rules that match an event with `command_line`.
fn regex_matches(engine: &Engine, command_line: &str) -> Vec<String> {
    let event = Event::from_json(&serde_json::json!({ "EventID": 1, "CommandLine": command_line })).unwrap();
    engine.evaluate(&event).into_iter().map(|found| found.rule_id).collect()
}

/// Each pattern takes time exponential in the length of the text in a
/// backtracking engine when the text almost matches. The `regex` crate
/// matches in time linear in the text, so each evaluation of a
/// 100,000-character value below finishes; a backtracking engine would not.
#[test]
fn catastrophic_regex_runs_in_linear_time() {
    let patterns = [("nested-plus", "^(a+)+$"), ("alternation", "^(a|aa)+$"), ("optional", "^(a|a?)+$"), ("doubled", "(x+x+)+y")];
    let mut builder = Engine::builder().default_rules(false);
    for (id, pattern) in patterns {
        builder = builder.rule_text(format!("{id}.yml"), regex_rule(id, pattern));
    }
    let engine = builder.build();
    assert_eq!(engine.errors(), &[]);
    assert_eq!(engine.rules().len(), 4);

    let long_a = "a".repeat(100_000);
    let long_x = "x".repeat(100_000);
    assert_eq!(regex_matches(&engine, &format!("{long_a}!")), Vec::<String>::new());
    assert_eq!(regex_matches(&engine, &long_a), ["nested-plus", "alternation", "optional"]);
    assert_eq!(regex_matches(&engine, &long_x), Vec::<String>::new());
    assert_eq!(regex_matches(&engine, &format!("{long_x}y")), ["doubled"]);
}

#[test]
fn regex_over_size_limit_fails_to_load() {
    let limits = Limits { max_regex_bytes: 10_000, ..Limits::default() };
    let engine = Engine::builder()
        .default_rules(false)
        .limits(limits)
        .rule_text("small.yml", regex_rule("small", "a{100}"))
        .rule_text("large.yml", regex_rule("large", "a{1000}"))
        .build();
    let loaded: Vec<&str> = engine.rules().iter().map(|rule| rule.id.as_str()).collect();
    assert_eq!(loaded, ["small"]);
    assert_eq!(engine.errors().len(), 1);
    let error = &engine.errors()[0];
    assert_eq!(error.code(), "limit");
    assert_eq!(
        error.to_string(),
        "large.yml (rule large): search 'sel': 'CommandLine|re': regular expression 'a{1000}' compiles to more \
         than the maxRegexBytes limit of 10000 bytes"
    );
    assert_eq!(regex_matches(&engine, &"a".repeat(100)), ["small"]);
}

/// The default limit takes SigmaHQ's longest pattern, `.{1000,}`, but not
/// a hundred times as many characters.
#[test]
fn regex_default_size_limit() {
    let engine = Engine::builder()
        .default_rules(false)
        .rule_text("long.yml", regex_rule("long", ".{1000,}"))
        .rule_text("longer.yml", regex_rule("longer", ".{100000}"))
        .build();
    let loaded: Vec<&str> = engine.rules().iter().map(|rule| rule.id.as_str()).collect();
    assert_eq!(loaded, ["long"]);
    assert_eq!(
        engine.errors()[0].to_string(),
        "longer.yml (rule longer): search 'sel': 'CommandLine|re': regular expression '.{100000}' compiles to more \
         than the maxRegexBytes limit of 10485760 bytes"
    );
    assert_eq!(regex_matches(&engine, &"é".repeat(1000)), ["long"]);
    assert_eq!(regex_matches(&engine, &"é".repeat(999)), Vec::<String>::new());
}
