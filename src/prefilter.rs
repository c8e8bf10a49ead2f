//! The raw-byte prefilter: literals that every match must contain, searched
//! in a chunk or line before it is parsed.
//!
//! For each rule, [`required_literals`] derives a set of literals one of
//! which every event the rule matches must contain. A rule set's prefilter
//! is the union over its rules. One rule without such a set (a top-level
//! `not`, a `null` or `|neq` test, a search of only regular expressions or
//! numbers) turns the prefilter off for the whole set. Input
//! that contains none of the literals cannot match and is skipped unparsed.
//!
//! The literals are chosen so that no export can hide them:
//! - only ASCII letters, digits and punctuation that JSON, XML and CSV
//!   write unescaped are used (a value `\dbgcore.dll` is searched as
//!   `dbgcore.dll`, since JSON writes the backslash as `\\` or `\u005c`);
//! - a literal must not be something a binary EVTX value renders to (a
//!   number, hex, GUID, SID, time or boolean), because such values are
//!   stored as binary in an EVTX chunk and never appear there as text.
//!
//! Matching is ASCII case-insensitive without a lower-cased copy of the
//! input: memchr finds a rare byte of the needle in both cases, and the
//! bytes around it are compared.
//!
//! NOTE: EVTX chunks are searched as UTF-16LE. A provider that stores a
//! value as an 8-bit `AnsiString` (Sysmon and the Security log do not) would
//! hide it from the prefilter. JSON `\uXXXX` escapes of plain ASCII letters
//! and XML character references for them would too; no common exporter
//! writes those.

use crate::sigma::condition::Condition;
use crate::sigma::detection::{FieldTest, SearchBody, ValueTest};
use crate::sigma::Rule;

/// Shortest literal worth searching for; a rule whose best literal is
/// shorter has no requirement.
const MIN_LITERAL: usize = 4;

/// Character sets of rendered binary EVTX values: numbers and hex (with
/// GUIDs and sizes), SIDs, and times. A literal made only of one set's
/// characters may come from a binary value.
const BINARY_RENDERINGS: &[&str] = &["0123456789abcdefx-{}:. ", "0123456789s-", "0123456789tz:.- "];

/// Byte ranks by how often each (case-folded) byte appears in Windows
/// event exports, rarest first; bytes not listed rank as rarest. Measured
/// on an OTRF Sysmon capture of 8 MB.
const COMMON_BYTES: &[u8] = b"'#<>&;q$%=/[]z()_j@{}|+xkhb76 g.9fv58y1p4wu3-lm,2adnci\\0:rotse\"";

/// The literal sets the rules of a set require, or `None` if any rule has
/// none (then every record must be parsed).
pub fn required_literals(rules: &[Rule]) -> Option<Vec<String>> {
    let mut union = Vec::new();
    for rule in rules {
        if matches!(rule.gate, crate::logsource::Gate::Never(_)) {
            continue;
        }
        union.extend(rule_literals(rule)?);
    }
    union.sort();
    union.dedup();
    Some(union)
}

/// Derives a set of literals, one of which every event `rule` matches contains.
pub fn rule_literals(rule: &Rule) -> Option<Vec<String>> {
    condition_literals(rule, &rule.condition)
}

fn condition_literals(rule: &Rule, condition: &Condition) -> Option<Vec<String>> {
    match condition {
        Condition::Search(index) => search_literals(&rule.searches[*index].body),
        Condition::And(terms) => best(terms.iter().filter_map(|term| condition_literals(rule, term))),
        Condition::Or(terms) => union(terms.iter().map(|term| condition_literals(rule, term))),
        Condition::Not(_) => None,
    }
}

fn search_literals(body: &SearchBody) -> Option<Vec<String>> {
    match body {
        SearchBody::Maps(maps) => union(maps.iter().map(|tests| best(tests.iter().filter_map(field_literals)))),
        SearchBody::Keywords(test) => field_literals(test),
    }
}

fn field_literals(test: &FieldTest) -> Option<Vec<String>> {
    if test.negate {
        // `|neq` matches when no value does, even with the field absent.
        return None;
    }
    if test.all {
        // Every value must match, so any single value's literals will do.
        return best(test.values.iter().filter_map(value_literals));
    }
    union(test.values.iter().map(value_literals))
}

/// Derives the literals of one value: one per variant of a string pattern
/// (`windash`, `base64offset` and `expand` make several). Other value
/// kinds (regular expressions, numbers, networks, `null`) require none.
fn value_literals(value: &ValueTest) -> Option<Vec<String>> {
    match value {
        ValueTest::Text { patterns, .. } => {
            union(patterns.iter().map(|pattern| safe_piece(pattern.longest_literal()?).map(|literal| vec![literal])))
        }
        _ => None,
    }
}

/// Returns the longest part of `literal` that every export writes unescaped,
/// lower-cased, if it is long enough and cannot come from a binary value.
fn safe_piece(literal: &str) -> Option<String> {
    let piece = literal
        .split(|c: char| !is_unescaped(c))
        .max_by_key(|piece| piece.len())?
        .to_ascii_lowercase();
    let qualifies = piece.len() >= MIN_LITERAL && !may_be_binary_rendering(&piece);
    qualifies.then_some(piece)
}

fn may_be_binary_rendering(piece: &str) -> bool {
    BINARY_RENDERINGS.iter().any(|set| piece.chars().all(|c| set.contains(c)))
        || "true".contains(piece)
        || "false".contains(piece)
}

fn is_unescaped(c: char) -> bool {
    c.is_ascii_alphanumeric() || " .-_:,;=+()[]{}|@#$%!?~^`*".contains(c)
}

/// Picks, of several literal sets (alternatives of an AND), the one most
/// likely to rule input out: the longest shortest literal, then the fewest.
fn best(sets: impl Iterator<Item = Vec<String>>) -> Option<Vec<String>> {
    sets.max_by_key(|set| {
        let shortest = set.iter().map(String::len).min().unwrap_or(0);
        (shortest, std::cmp::Reverse(set.len()))
    })
}

/// Merges the literal sets of an OR, or returns `None` if a branch has none.
fn union(sets: impl Iterator<Item = Option<Vec<String>>>) -> Option<Vec<String>> {
    let mut all = Vec::new();
    for set in sets {
        all.extend(set?);
    }
    (!all.is_empty()).then_some(all)
}

/// Compiled literals, searched in raw input bytes.
#[derive(Debug, Clone)]
pub struct Prefilter {
    needles: Vec<Needle>,
}

#[derive(Debug, Clone)]
struct Needle {
    /// Lower-case ASCII.
    text: Box<[u8]>,
    /// Index in `text` of its rarest byte.
    rare: usize,
}

impl Prefilter {
    /// Compiles literals (ASCII, any case). Literals that contain another
    /// literal add nothing and are dropped.
    pub fn new(literals: &[String]) -> Prefilter {
        let mut lowered: Vec<String> = literals.iter().map(|l| l.to_ascii_lowercase()).collect();
        lowered.sort_by_key(String::len);
        lowered.dedup();
        let mut minimal: Vec<String> = Vec::new();
        for literal in lowered {
            if !literal.is_empty() && !minimal.iter().any(|shorter| literal.contains(shorter.as_str())) {
                minimal.push(literal);
            }
        }
        let needles = minimal.into_iter().map(|text| Needle::new(text.into_bytes())).collect();
        Prefilter { needles }
    }

    /// Lists the literals searched for.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.needles.iter().map(|n| std::str::from_utf8(&n.text).unwrap_or_default())
    }

    /// Byte offset of the first literal in UTF-8 (or ASCII) text.
    pub fn find(&self, haystack: &[u8]) -> Option<usize> {
        self.first(haystack, 1)
    }

    /// Byte offset of the first literal in UTF-16LE text.
    pub fn find_utf16le(&self, haystack: &[u8]) -> Option<usize> {
        self.first(haystack, 2)
    }

    fn first(&self, haystack: &[u8], stride: usize) -> Option<usize> {
        let mut best: Option<usize> = None;
        for needle in &self.needles {
            // Only a hit that starts before the best so far can improve it.
            let limit = best.map_or(haystack.len(), |b| (b + needle.text.len() * stride).min(haystack.len()));
            if let Some(found) = needle.find(&haystack[..limit], stride) {
                best = Some(best.map_or(found, |b| b.min(found)));
            }
        }
        best
    }
}

impl Needle {
    fn new(text: Vec<u8>) -> Needle {
        let rare = (0..text.len()).min_by_key(|&i| frequency_rank(text[i])).unwrap_or(0);
        Needle { text: text.into_boxed_slice(), rare }
    }

    /// First occurrence, ASCII case-insensitive, with each needle byte
    /// `stride` bytes apart (2 for UTF-16LE, whose high bytes must be 0).
    fn find(&self, haystack: &[u8], stride: usize) -> Option<usize> {
        let rare_byte = self.text[self.rare];
        let before = self.rare * stride;
        let span = self.text.len() * stride;
        let upper = rare_byte.to_ascii_uppercase();
        let mut candidates: Box<dyn Iterator<Item = usize>> = if upper == rare_byte {
            Box::new(memchr::memchr_iter(rare_byte, haystack))
        } else {
            Box::new(memchr::memchr2_iter(rare_byte, upper, haystack))
        };
        candidates.find_map(|position| {
            let start = position.checked_sub(before)?;
            let window = haystack.get(start..start + span)?;
            self.matches_at(window, stride).then_some(start)
        })
    }

    fn matches_at(&self, window: &[u8], stride: usize) -> bool {
        if stride == 1 {
            return window.eq_ignore_ascii_case(&self.text);
        }
        window
            .chunks_exact(2)
            .zip(self.text.iter())
            .all(|(unit, &expected)| unit[1] == 0 && unit[0].to_ascii_lowercase() == expected)
    }
}

fn frequency_rank(byte: u8) -> usize {
    let folded = byte.to_ascii_lowercase();
    COMMON_BYTES.iter().position(|&b| b == folded).map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    fn utf16(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn edr_freeze_rule_requires_werfaultsecure() {
        let engine = Engine::with_default_rules();
        let rule = engine.rules().iter().find(|r| r.id == "387df17d-3b04-448f-8669-9e7fd5e5fd8c").unwrap();
        assert_eq!(rule_literals(rule), Some(vec!["werfaultsecure.exe".to_string()]));
    }

    #[test]
    fn default_family_literals() {
        let engine = Engine::with_default_rules();
        let literals = required_literals(engine.rules()).unwrap();
        assert!(literals.contains(&"werfaultsecure.exe".to_string()));
        assert!(literals.contains(&"dbgcore.dll".to_string()));
        assert!(literals.contains(&"edrfreeze".to_string()));
        assert!(literals.contains(&"imphash=1195f7935954a2cd09157390c33f8e8c".to_string()));
    }

    #[test]
    fn not_and_null_have_no_literal() {
        let yaml = "title: t\nid: n\nlogsource: {product: windows}\ndetection:\n  a: {Image: 'x'}\n  condition: not a\n";
        let engine = Engine::builder().default_rules(false).rule_text("n.yml", yaml).build();
        assert_eq!(required_literals(engine.rules()), None);
        let yaml = "title: t\nid: n\nlogsource: {product: windows}\ndetection:\n  a: {Image: null}\n  condition: a\n";
        let engine = Engine::builder().default_rules(false).rule_text("n.yml", yaml).build();
        assert_eq!(required_literals(engine.rules()), None);
    }

    fn literals_of(detection: &str) -> Option<Vec<String>> {
        let yaml = format!("title: t\nid: n\nlogsource: {{product: windows}}\ndetection:\n{detection}");
        let engine = Engine::builder().default_rules(false).rule_text("n.yml", yaml).build();
        assert_eq!(engine.errors(), &[]);
        required_literals(engine.rules())
    }

    #[test]
    fn neq_and_non_text_values_have_no_literal() {
        assert_eq!(literals_of("  a: {Image|neq: 'werfault.exe'}\n  condition: a\n"), None);
        assert_eq!(literals_of("  a: {Image|re: 'werfault\\.exe'}\n  condition: a\n"), None);
        assert_eq!(literals_of("  a: {DestinationIp|cidr: '10.0.0.0/8'}\n  condition: a\n"), None);
        // Another test of the same map still provides one.
        assert_eq!(
            literals_of("  a: {Image|neq: 'werfault.exe', CommandLine|contains: 'procdump'}\n  condition: a\n"),
            Some(vec!["procdump".to_string()])
        );
    }

    #[test]
    fn every_variant_contributes_a_literal() {
        let literals = literals_of("  a: {CommandLine|windash|contains: ' -dumpmode '}\n  condition: a\n").unwrap();
        assert!(literals.contains(&" -dumpmode ".to_string()));
        // JSON may escape `/`, and the other dashes are not ASCII, so those
        // spellings keep the part after the dash.
        assert!(literals.contains(&"dumpmode ".to_string()));
        assert_eq!(literals.len(), 2);
        let keywords = literals_of("  k:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: k\n").unwrap();
        assert_eq!(keywords, vec!["mimikatz".to_string(), "sekurlsa".to_string()]);
    }

    #[test]
    fn numeric_values_do_not_qualify() {
        assert_eq!(safe_piece("0x1fffff"), None);
        assert_eq!(safe_piece("4688"), None);
        assert_eq!(safe_piece("{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"), None);
        assert_eq!(safe_piece("S-1-5-18"), None);
        assert_eq!(safe_piece("2025-11-27T07:22:22Z"), None);
        assert_eq!(safe_piece(r"\EDR-Freeze"), Some("edr-freeze".into()));
        assert_eq!(safe_piece(r"\dbgcore.dll"), Some("dbgcore.dll".into()));
        assert_eq!(safe_piece(r"C:\Users\Public\"), Some("public".into()));
    }

    #[test]
    fn finds_case_insensitively_in_utf8_and_utf16() {
        let prefilter = Prefilter::new(&["werfaultsecure.exe".into(), "dbgcore.dll".into()]);
        let text = r#"{"CallTrace":"C:\\Windows\\System32\\DBGCORE.dll+1","SourceImage":"C:\\WerFaultSecure.EXE"}"#;
        let expected = text.find("DBGCORE").unwrap();
        assert_eq!(prefilter.find(text.as_bytes()), Some(expected));
        assert_eq!(prefilter.find_utf16le(&utf16(text)), Some(expected * 2));
        assert_eq!(prefilter.find(b"WerFault.exe and dbgcore-dll"), None);
        assert_eq!(prefilter.find_utf16le(text.as_bytes()), None);
    }

    #[test]
    fn contained_literals_are_dropped() {
        let prefilter = Prefilter::new(&["dbgcore.dll".into(), "dbgcore".into(), "DBGCORE".into()]);
        assert_eq!(prefilter.literals().collect::<Vec<_>>(), vec!["dbgcore"]);
    }
}
