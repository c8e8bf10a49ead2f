//! The damaged files of `tests/data/damaged/` (see its README for how
//! each was made): for each one the exact records read, the matches with
//! their rule ids, and the warnings with their record and offset. Each
//! file is pushed whole and in small pieces, and the prefilter changes no
//! match. With the prefilter on, a damaged record that it skips unparsed
//! is not reported.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sigma_edge::{Engine, Match, Scanner, Summary, Warning};

mod rule_ids;
use rule_ids::{EDR_FREEZE, LSASS_DUMP, TOOL_CREATION, USER_FOLDER_LOAD, WERFAULTSECURE_ARGS, WERFAULTSECURE_LOAD};

/// What scanning one damaged file must give.
struct Case {
    file: &'static str,
    /// The outermost format, as the summary names it.
    format: &'static str,
    /// Records read, the damaged ones included.
    records: u64,
    /// `(zip member or "", record, offset, rule ids sorted)` of each
    /// record that matched.
    matches: &'static [(&'static str, u64, u64, &'static [&'static str])],
    warnings: &'static [Expected],
}

/// One expected warning.
struct Expected {
    /// The zip member it is about, or "" for the file itself.
    member: &'static str,
    record: Option<u64>,
    offset: u64,
    message: &'static str,
    /// Whether the warning comes with the prefilter on too.
    with_prefilter: bool,
}

/// Expects a warning with the prefilter on or off.
const fn reported(member: &'static str, record: Option<u64>, offset: u64, message: &'static str) -> Expected {
    Expected { member, record, offset, message, with_prefilter: true }
}

/// Expects a warning about a record that the prefilter skips unparsed,
/// so the warning comes only with the prefilter off.
const fn parsed_only(member: &'static str, record: Option<u64>, offset: u64, message: &'static str) -> Expected {
    Expected { member, record, offset, message, with_prefilter: false }
}

const CASES: &[Case] = &[
    Case {
        file: "csv-field-counts.csv",
        format: "csv",
        records: 5,
        matches: &[
            ("", 1, 547, &[EDR_FREEZE]),
            ("", 3, 2637, &[WERFAULTSECURE_LOAD]),
            ("", 5, 3963, &[TOOL_CREATION]),
        ],
        warnings: &[
            reported("", Some(2), 1611, "row has 45 fields but the header has 44; skipped"),
            reported("", Some(4), 3300, "row has 43 fields but the header has 44; skipped"),
        ],
    },
    Case {
        file: "csv-unclosed-quote.csv",
        format: "csv",
        records: 4,
        matches: &[
            ("", 1, 547, &[EDR_FREEZE]),
            ("", 3, 2632, &[WERFAULTSECURE_LOAD]),
            ("", 4, 3293, &[USER_FOLDER_LOAD, WERFAULTSECURE_LOAD]),
        ],
        warnings: &[
            reported("", Some(2), 1611, "row has a quote that is never closed; skipped, and the lines after its first line are read as rows"),
        ],
    },
    Case {
        file: "evtx-bad-data-checksum.evtx",
        format: "evtx",
        records: 2,
        matches: &[
            ("", 1, 4608, &[EDR_FREEZE]),
            ("", 2, 70144, &[LSASS_DUMP]),
        ],
        warnings: &[
            reported("", None, 4096, "chunk 1: the record data does not match its CRC-32; its records may be damaged"),
        ],
    },
    Case {
        file: "evtx-bad-header-checksum.evtx",
        format: "evtx",
        records: 2,
        matches: &[
            ("", 1, 4608, &[EDR_FREEZE]),
            ("", 2, 70144, &[LSASS_DUMP]),
        ],
        warnings: &[
            reported("", None, 4096, "chunk 1: the chunk header does not match its CRC-32; its records may be damaged"),
        ],
    },
    Case {
        file: "evtx-chunk-boundary-cut.evtx",
        format: "evtx",
        records: 1,
        matches: &[
            ("", 1, 4608, &[EDR_FREEZE]),
        ],
        warnings: &[
            reported("", None, 69632, "truncated EVTX file: the file header declares 2 chunks, the input has 1; the records of the others are lost"),
        ],
    },
    Case {
        file: "evtx-garbage-chunk.evtx",
        format: "evtx",
        records: 1,
        matches: &[
            ("", 1, 70144, &[LSASS_DUMP]),
        ],
        warnings: &[
            reported("", None, 4096, "chunk 1: not an EVTX chunk (bad magic); its records are lost"),
        ],
    },
    Case {
        file: "evtx-header-cut.evtx",
        format: "evtx",
        records: 0,
        matches: &[
        ],
        warnings: &[
            reported("", None, 0, "truncated EVTX file: the file header needs 4096 bytes, the input has 2000"),
        ],
    },
    Case {
        file: "evtx-overlong-record.evtx",
        format: "evtx",
        records: 2,
        matches: &[
            ("", 2, 70144, &[LSASS_DUMP]),
        ],
        warnings: &[
            reported("", Some(1), 4608, "chunk 1: cannot read the record: Failed to parse record number 1: Failed to create record model, reason: record BinXML slice is out of bounds"),
        ],
    },
    Case {
        file: "evtx-record-cut.evtx",
        format: "evtx",
        records: 2,
        matches: &[
            ("", 1, 4608, &[EDR_FREEZE]),
        ],
        warnings: &[
            reported("", None, 69632, "truncated EVTX file: the last chunk has 2496 of 65536 bytes; its complete records are read"),
            parsed_only("", Some(2), 69632, "chunk 2: Failed to parse record number 2: Failed to create record model, reason: unfinished element start"),
        ],
    },
    Case {
        file: "evtx-zeroed-chunk.evtx",
        format: "evtx",
        records: 1,
        matches: &[
            ("", 1, 70144, &[LSASS_DUMP]),
        ],
        warnings: &[
            reported("", None, 4096, "chunk 1: all bytes are zero, but the file header declares 2 chunks; its records are lost"),
        ],
    },
    Case {
        file: "gzip-corrupt-deflate.ndjson.gz",
        format: "gzip",
        records: 6,
        matches: &[
            ("", 1, 0, &[EDR_FREEZE]),
            ("", 2, 1818, &[LSASS_DUMP]),
        ],
        warnings: &[
            reported("", Some(3), 3595, "invalid JSON: invalid number at line 1 column 394"),
            reported("", Some(4), 4965, "invalid JSON: invalid number at line 1 column 588"),
            reported("", Some(5), 6337, "invalid JSON: expected `:` at line 1 column 168"),
            reported("", None, 0, "gzip member 1: the decompressed data does not match the stored CRC-32 and size; it may be damaged"),
            reported("", Some(6), 7890, "invalid JSON: expected `:` at line 1 column 168"),
        ],
    },
    Case {
        file: "gzip-header-cut.ndjson.gz",
        format: "gzip",
        records: 0,
        matches: &[
        ],
        warnings: &[
            reported("", None, 0, "truncated gzip data: the input ends inside the header of member 1, before its content"),
        ],
    },
    Case {
        file: "gzip-trailing-garbage.ndjson.gz",
        format: "gzip",
        records: 6,
        matches: &[
            ("", 1, 0, &[EDR_FREEZE]),
            ("", 2, 1818, &[LSASS_DUMP]),
            ("", 3, 3595, &[WERFAULTSECURE_LOAD]),
            ("", 4, 4965, &[USER_FOLDER_LOAD, WERFAULTSECURE_LOAD]),
            ("", 5, 6337, &[TOOL_CREATION]),
            ("", 6, 7890, &[WERFAULTSECURE_ARGS]),
        ],
        warnings: &[
            reported("", None, 1983, "29 bytes after the gzip data are not gzip members; they were not read"),
        ],
    },
    Case {
        file: "json-array-cut.json",
        format: "json",
        records: 4,
        matches: &[
            ("", 1, 4, &[EDR_FREEZE]),
            ("", 2, 2376, &[LSASS_DUMP]),
            ("", 3, 4707, &[WERFAULTSECURE_LOAD]),
        ],
        warnings: &[
            reported("", Some(4), 6661, "truncated JSON value: the input ends inside it"),
        ],
    },
    Case {
        file: "mixed-json-in-xml.xml",
        format: "xml",
        records: 3,
        matches: &[
            ("", 1, 0, &[EDR_FREEZE]),
            ("", 2, 1945, &[LSASS_DUMP]),
            ("", 3, 5218, &[WERFAULTSECURE_LOAD]),
        ],
        warnings: &[
            reported("", None, 3844, "text outside <Event> elements ignored: \"{\\\"Event\\\":{\\\"#attributes\\\":{\\\"xmlns\\\":\\\"http:/\""),
        ],
    },
    Case {
        file: "mixed-ndjson-after-evtx.evtx",
        format: "evtx",
        records: 1,
        matches: &[
            ("", 1, 4608, &[EDR_FREEZE]),
        ],
        warnings: &[
            reported("", None, 69632, "1777 bytes after chunk 1 are not an EVTX chunk; they were not read"),
        ],
    },
    Case {
        file: "mixed-xml-in-ndjson.ndjson",
        format: "json",
        records: 4,
        matches: &[
            ("", 1, 0, &[EDR_FREEZE]),
            ("", 2, 1818, &[LSASS_DUMP]),
            ("", 4, 5185, &[USER_FOLDER_LOAD, WERFAULTSECURE_LOAD]),
        ],
        warnings: &[
            reported("", Some(3), 3595, "invalid JSON: expected value at line 1 column 1"),
        ],
    },
    Case {
        file: "ndjson-bad-line-cut-end.ndjson",
        format: "json",
        records: 4,
        matches: &[
            ("", 1, 0, &[EDR_FREEZE]),
            ("", 3, 3594, &[WERFAULTSECURE_LOAD]),
        ],
        warnings: &[
            reported("", Some(2), 1818, "invalid JSON: expected `,` or `}` at line 1 column 889"),
            parsed_only("", Some(4), 4964, "invalid JSON: EOF while parsing a string at line 1 column 686"),
        ],
    },
    Case {
        file: "utf16be-lone-surrogate-odd.xml",
        format: "utf-16be",
        records: 2,
        matches: &[
            ("", 1, 2, &[EDR_FREEZE]),
            ("", 2, 3892, &[LSASS_DUMP]),
        ],
        warnings: &[
            reported("", None, 7694, "the UTF-16 input has an odd number of bytes; its last byte became U+FFFD"),
            reported("", None, 7690, "text outside <Event> elements ignored: \"�\""),
        ],
    },
    Case {
        file: "utf16le-ends-in-high-surrogate.xml",
        format: "utf-16le",
        records: 1,
        matches: &[
            ("", 1, 2, &[EDR_FREEZE]),
        ],
        warnings: &[
            reported("", None, 3888, "text outside <Event> elements ignored: \"�\""),
        ],
    },
    Case {
        file: "xml-bad-references.xml",
        format: "xml",
        records: 3,
        matches: &[
            ("", 1, 0, &[EDR_FREEZE]),
            ("", 2, 1950, &[LSASS_DUMP]),
            ("", 3, 3858, &[WERFAULTSECURE_LOAD]),
        ],
        warnings: &[
            reported("", Some(1), 0, "&#xZZ; kept as written: invalid character reference: invalid digit found in string"),
            reported("", Some(2), 1950, "&#xD800; kept as written: invalid character reference: `55296` is not a valid codepoint"),
        ],
    },
    Case {
        file: "xml-cut-in-tag.xml",
        format: "xml",
        records: 3,
        matches: &[
            ("", 1, 67, &[EDR_FREEZE]),
            ("", 2, 3435, &[LSASS_DUMP]),
        ],
        warnings: &[
            reported("", Some(3), 6715, "truncated XML event: the input ends inside it"),
        ],
    },
    Case {
        file: "zip-bad-crc.zip",
        format: "zip",
        records: 2,
        matches: &[
            ("bad-crc.ndjson", 1, 0, &[EDR_FREEZE]),
            ("good.ndjson", 1, 0, &[LSASS_DUMP]),
        ],
        warnings: &[
            reported("", None, 0, "member bad-crc.ndjson: the decompressed data does not match the stored CRC-32 and size; it may be damaged"),
        ],
    },
    Case {
        file: "zip-damaged-member.zip",
        format: "zip",
        records: 5,
        matches: &[
            ("first.ndjson", 1, 0, &[EDR_FREEZE]),
            ("last.xml", 1, 0, &[USER_FOLDER_LOAD, WERFAULTSECURE_LOAD]),
            ("last.xml", 2, 1591, &[TOOL_CREATION]),
            ("last.xml", 3, 3472, &[WERFAULTSECURE_ARGS]),
        ],
        warnings: &[
            reported("damaged.ndjson", Some(1), 0, "invalid JSON: control character (\\u0000-\\u001F) found while parsing a string at line 1 column 977"),
            parsed_only("damaged.ndjson", Some(2), 1788, "invalid JSON: key must be a string at line 1 column 2"),
            reported("", None, 776, "member damaged.ndjson: the decompressed data does not match the stored CRC-32 and size; it may be damaged"),
        ],
    },
    Case {
        file: "zip-header-cut.zip",
        format: "zip",
        records: 0,
        matches: &[
        ],
        warnings: &[
            reported("", None, 20, "truncated zip archive: the input ends inside a local file header"),
        ],
    },
];

/// The matches, warnings and summary of one scan.
#[derive(Debug, PartialEq)]
struct Scanned {
    matches: Vec<Match>,
    warnings: Vec<Warning>,
    summary: Summary,
}

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/damaged").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Scans `input` named `file` in pieces of `piece` bytes, with every event
/// field in the matches.
fn scan(file: &str, input: &[u8], piece: usize, prefilter: bool) -> Scanned {
    let mut scanner = Scanner::new(Arc::new(Engine::with_default_rules()), file);
    scanner.set_prefilter(prefilter);
    scanner.set_include_event(true);
    let mut matches = Vec::new();
    for chunk in input.chunks(piece) {
        matches.extend(scanner.push(chunk).unwrap_or_else(|e| panic!("{file}: {e}")));
    }
    let (rest, summary) = scanner.finish().unwrap_or_else(|e| panic!("{file}: {e}"));
    matches.extend(rest);
    Scanned { matches, warnings: scanner.take_warnings(), summary }
}

/// Returns the name a match or warning gives for `member` of `file`.
fn file_name(file: &str, member: &str) -> String {
    if member.is_empty() {
        file.to_string()
    } else {
        format!("{file}:{member}")
    }
}

/// Groups the rule ids of the matches by file, record and offset, sorted.
fn ids_by_record(matches: &[Match]) -> BTreeMap<(String, u64, u64), Vec<String>> {
    let mut records: BTreeMap<(String, u64, u64), Vec<String>> = BTreeMap::new();
    for found in matches {
        let key = (found.file.clone().unwrap_or_default(), found.record.unwrap_or(0), found.offset.unwrap_or(0));
        records.entry(key).or_default().push(found.rule_id.clone());
    }
    records.values_mut().for_each(|ids| ids.sort());
    records
}

fn expected_ids(case: &Case) -> BTreeMap<(String, u64, u64), Vec<String>> {
    let records = case.matches.iter().map(|(member, record, offset, ids)| {
        let mut ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        ids.sort();
        ((file_name(case.file, member), *record, *offset), ids)
    });
    records.collect()
}

fn expected_warnings(case: &Case, prefilter: bool) -> Vec<Warning> {
    let given = case.warnings.iter().filter(|warning| warning.with_prefilter || !prefilter);
    let warnings = given.map(|warning| Warning {
        file: file_name(case.file, warning.member),
        record: warning.record,
        offset: warning.offset,
        message: warning.message.to_string(),
    });
    warnings.collect()
}

#[test]
fn every_damaged_file_is_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/damaged");
    let mut files: Vec<String> = std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    files.retain(|name| !name.ends_with(".md") && !name.ends_with(".py"));
    files.sort();
    let listed: Vec<&str> = CASES.iter().map(|case| case.file).collect();
    assert_eq!(files, listed);
}

#[test]
fn damaged_files_read_whole() {
    for case in CASES {
        let scanned = scan(case.file, &data(case.file), usize::MAX, false);
        assert_eq!(scanned.summary.format, Some(case.format), "{}", case.file);
        assert_eq!(scanned.summary.records, case.records, "{}", case.file);
        assert_eq!(scanned.summary.records_skipped, 0, "{}", case.file);
        assert_eq!(scanned.summary.matches, case.matches.iter().map(|m| m.3.len() as u64).sum::<u64>(), "{}", case.file);
        assert_eq!(ids_by_record(&scanned.matches), expected_ids(case), "{}", case.file);
        assert_eq!(scanned.warnings, expected_warnings(case, false), "{}", case.file);
        assert_eq!(scanned.summary.warnings, case.warnings.len() as u64, "{}", case.file);
    }
}

#[test]
fn damaged_files_read_in_pieces() {
    for case in CASES {
        let input = data(case.file);
        let whole = scan(case.file, &input, usize::MAX, false);
        for piece in [1, 7, 4099] {
            let pieces = scan(case.file, &input, piece, false);
            assert_eq!(pieces, whole, "{} in pieces of {piece} bytes", case.file);
        }
    }
}

#[test]
fn prefilter_changes_no_match_in_damaged_files() {
    for case in CASES {
        let input = data(case.file);
        let all = scan(case.file, &input, usize::MAX, false);
        for piece in [usize::MAX, 7] {
            let filtered = scan(case.file, &input, piece, true);
            assert_eq!(filtered.matches, all.matches, "{} in pieces of {piece} bytes", case.file);
            assert_eq!(filtered.summary.records, case.records, "{} in pieces of {piece} bytes", case.file);
            assert_eq!(filtered.warnings, expected_warnings(case, true), "{} in pieces of {piece} bytes", case.file);
        }
    }
}

/// Returns the value of `field` in the event of the first match of
/// `record` in `file`.
fn event_value(scanned: &Scanned, file: &str, record: u64, field: &str) -> Option<String> {
    let found = scanned.matches.iter().find(|m| m.file.as_deref() == Some(file) && m.record == Some(record))?;
    found.event.as_ref()?.get(field)?.as_str().map(str::to_string)
}

#[test]
fn damaged_values_are_kept_as_read() {
    let cases: &[(&str, &str, u64, &str, &str)] = &[
        // (file, match file, record, field, value)
        ("evtx-bad-data-checksum.evtx", "evtx-bad-data-checksum.evtx", 1, "Computer", "swachchhandb"),
        ("zip-bad-crc.zip", "zip-bad-crc.zip:bad-crc.ndjson", 1, "Computer", "swachchhandb"),
        ("xml-bad-references.xml", "xml-bad-references.xml", 1, "TargetUser", "NT AUTHORITY&#xZZ;SYSTEM"),
        ("xml-bad-references.xml", "xml-bad-references.xml", 2, "RuleName", "&#xD800;"),
        ("xml-bad-references.xml", "xml-bad-references.xml", 3, "RuleName", "AT&T"),
        ("utf16be-lone-surrogate-odd.xml", "utf16be-lone-surrogate-odd.xml", 2, "RuleName", "\u{FFFD}"),
    ];
    for (file, match_file, record, field, value) in cases {
        let scanned = scan(file, &data(file), usize::MAX, false);
        assert_eq!(event_value(&scanned, match_file, *record, field).as_deref(), Some(*value), "{match_file} record {record}");
    }
}
