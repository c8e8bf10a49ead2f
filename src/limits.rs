//! Limits on what one input or one rule set may make the engine hold or do.
//!
//! Every limit has a default that keeps memory and time bounded on hostile
//! input, and a caller can set each one through
//! [`crate::EngineBuilder::limits`] (scanners take the engine's limits) or
//! [`crate::Scanner::with_limits`]. Going over a limit is never a panic. A
//! record over one becomes a [`crate::Warning`] and the scan goes on, and a
//! rule file over one fails to load with a [`crate::RuleErrorKind::Limit`]
//! error. Both name the limit as the JavaScript option spells it
//! (`maxRecordBytes`, `maxDepth`, `maxRules`, `maxRuleFileBytes`,
//! `maxRegexBytes`).
//!
//! Regular expressions need no time limit: the `regex` crate matches in
//! time linear in the size of the pattern and of the text, with no
//! backtracking, so `maxRegexBytes` bounds the pattern side.

use yaml_rust2::parser::{Event as YamlEvent, Parser};

/// Caller-settable bounds on input records and on rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest single text record a reader buffers (one JSON value,
    /// XML event or CSV row), and the largest event JSON text that
    /// `evaluate` takes, in bytes. A larger record is skipped with a
    /// warning. Default: 16 MiB.
    pub max_record_bytes: usize,
    /// The deepest nesting of a JSON event, of the elements of an XML
    /// event, and of the YAML of a rule file. Default: 64. JSON deeper than
    /// 128 levels is always rejected, because `serde_json` stops there.
    pub max_depth: usize,
    /// The maximum number of rules one engine loads, the bundled ones
    /// included. Rules past it fail to load. Default: 10,000.
    pub max_rules: usize,
    /// The largest rule file (all of its YAML documents), in bytes.
    /// Default: 1 MiB.
    pub max_rule_file_bytes: usize,
    /// The largest compiled program of one regular expression (the `|re`
    /// modifier), in bytes, as `regex::RegexBuilder::size_limit` counts
    /// it. A larger one fails to load. Default: 10 MiB, the `regex`
    /// crate's own default. One Unicode `.` or `\w` takes kilobytes, so
    /// SigmaHQ's `CommandLine|re: '.{1000,}'` needs more than 1 MiB.
    pub max_regex_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_record_bytes: 16 * 1024 * 1024,
            max_depth: 64,
            max_rules: 10_000,
            max_rule_file_bytes: 1024 * 1024,
            max_regex_bytes: 10 * 1024 * 1024,
        }
    }
}

/// The maximum number of YAML nodes that aliases (`*name`) may add to one
/// rule file when they are expanded. The YAML loader copies the anchored
/// node for each alias, so nested aliases ("billion laughs") would
/// otherwise grow exponentially.
pub const MAX_ALIAS_NODES: u64 = 10_000;

/// The limit on the size of a rule file, as [`crate::RuleErrorKind::Limit`] names it.
pub const RULE_FILE_BYTES: &str = "the rule file size in bytes (maxRuleFileBytes)";
/// The limit on the nesting of rule YAML.
pub const YAML_DEPTH: &str = "the YAML nesting depth (maxDepth)";
/// The limit on alias expansion in rule YAML.
pub const YAML_ALIAS_NODES: &str = "the number of nodes that YAML aliases add";
/// The limit on the rules of one engine.
pub const RULE_COUNT: &str = "the number of rules (maxRules)";

/// A limit that a rule file goes over, found before it is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFileLimit {
    /// The limited quantity, with the option that sets it.
    pub limit: &'static str,
    pub value: u64,
    pub max: u64,
}

/// Checks a rule file against the limits that must hold before its YAML
/// is turned into a tree: its size, its nesting depth, and the nodes its
/// aliases add. This must come first, because the YAML loader recurses
/// once per level of nesting and copies the anchored node for each alias.
/// The check reads the parser's events in a loop, which needs memory for
/// the open collections and one number per anchor only. Invalid YAML
/// passes, so that the loader reports the syntax error.
pub fn check_rule_file(text: &str, limits: &Limits) -> Result<(), RuleFileLimit> {
    if text.len() > limits.max_rule_file_bytes {
        return Err(RuleFileLimit { limit: RULE_FILE_BYTES, value: text.len() as u64, max: limits.max_rule_file_bytes as u64 });
    }
    let mut parser = Parser::new_from_str(text);
    let mut shape = YamlShape::default();
    // A syntax error ends the events early; the loader reports it.
    while let Ok((event, _)) = parser.next_token() {
        if event == YamlEvent::StreamEnd {
            break;
        }
        shape.add(event);
        if shape.max_depth > limits.max_depth {
            return Err(RuleFileLimit { limit: YAML_DEPTH, value: shape.max_depth as u64, max: limits.max_depth as u64 });
        }
    }
    if shape.alias_nodes > MAX_ALIAS_NODES {
        return Err(RuleFileLimit { limit: YAML_ALIAS_NODES, value: shape.alias_nodes, max: MAX_ALIAS_NODES });
    }
    Ok(())
}

/// The nesting depth of a YAML stream, and the nodes its aliases expand to.
#[derive(Default)]
struct YamlShape {
    /// Node counts of the open collections, with their anchor ids.
    open: Vec<(usize, u64)>,
    /// The node count of each anchored node, by anchor id.
    anchors: std::collections::HashMap<usize, u64>,
    max_depth: usize,
    alias_nodes: u64,
}

impl YamlShape {
    /// Adds a finished node of `nodes` nodes to its parent.
    fn add_node(&mut self, anchor: usize, nodes: u64) {
        // Anchor id 0 means no anchor.
        if anchor != 0 {
            self.anchors.insert(anchor, nodes);
        }
        if let Some((_, parent)) = self.open.last_mut() {
            *parent = parent.saturating_add(nodes);
        }
    }

    /// Counts one parser event.
    fn add(&mut self, event: YamlEvent) {
        match event {
            YamlEvent::SequenceStart(anchor, _) | YamlEvent::MappingStart(anchor, _) => {
                self.open.push((anchor, 1));
                self.max_depth = self.max_depth.max(self.open.len());
            }
            YamlEvent::SequenceEnd | YamlEvent::MappingEnd => {
                if let Some((anchor, nodes)) = self.open.pop() {
                    self.add_node(anchor, nodes);
                }
            }
            YamlEvent::Scalar(_, _, anchor, _) => self.add_node(anchor, 1),
            YamlEvent::Alias(anchor) => {
                let nodes = self.anchors.get(&anchor).copied().unwrap_or(1);
                self.alias_nodes = self.alias_nodes.saturating_add(nodes);
                self.add_node(0, nodes);
            }
            YamlEvent::DocumentEnd => {
                // Anchors do not reach across documents.
                self.anchors.clear();
            }
            YamlEvent::Nothing | YamlEvent::StreamStart | YamlEvent::StreamEnd | YamlEvent::DocumentStart => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule file in which each level has ten aliases of the one before:
    /// expanded, its last key holds 10^depth strings.
    fn billion_laughs(depth: usize) -> String {
        let mut yaml = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..=depth {
            let previous = format!("*a{}", level - 1);
            let items = vec![previous.as_str(); 10].join(", ");
            yaml.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        yaml
    }

    #[test]
    fn billion_laughs_is_rejected() {
        let error = check_rule_file(&billion_laughs(9), &Limits::default()).unwrap_err();
        assert_eq!(error.limit, YAML_ALIAS_NODES);
        assert_eq!(error.max, 10_000);
        // Levels 1 to 9 add 10 aliases each, of 11, 111, ... nodes.
        let expected: u64 = (1..=9u32).map(|level| 10 * (10u64.pow(level + 1) - 1) / 9).sum();
        assert_eq!(error.value, expected);
    }

    #[test]
    fn few_aliases_pass() {
        assert_eq!(check_rule_file(&billion_laughs(2), &Limits::default()), Ok(()));
        let yaml = "title: t\nvalues: &v [a, b]\ndetection:\n  sel: {Image: *v}\n  condition: sel\n";
        assert_eq!(check_rule_file(yaml, &Limits::default()), Ok(()));
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let compact = format!("{}x\n", "- ".repeat(100_000));
        let error = check_rule_file(&compact, &Limits::default()).unwrap_err();
        assert_eq!((error.limit, error.value, error.max), (YAML_DEPTH, 65, 64));
        let flow = format!("a: {}{}\n", "[".repeat(65), "]".repeat(65));
        let error = check_rule_file(&flow, &Limits::default()).unwrap_err();
        assert_eq!((error.limit, error.value, error.max), (YAML_DEPTH, 65, 64));
    }

    #[test]
    fn rule_file_size_is_limited() {
        let limits = Limits { max_rule_file_bytes: 10, ..Limits::default() };
        let error = check_rule_file("title: too long\n", &limits).unwrap_err();
        assert_eq!((error.limit, error.value, error.max), (RULE_FILE_BYTES, 16, 10));
    }

    #[test]
    fn bundled_rules_pass() {
        for (name, yaml) in crate::engine::DEFAULT_RULES {
            assert_eq!(check_rule_file(yaml, &Limits::default()), Ok(()), "{name}");
        }
    }
}
