//! No input may make the scanner panic: in WebAssembly a panic kills the
//! module. Random bytes behind each format's magic, and the format
//! fixtures with bytes changed or cut off, go through the scanner in pieces
//! of random sizes. Long records pushed one byte at a time must be read in
//! time linear in their size. A reader that searched the whole unfinished
//! record again on every push would read about 34 GB for each 256 KiB
//! record below (262,144 pushes of 128 KiB on average).
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use sigma_edge::{Engine, Scanner};

/// Starts of each supported format, so random bytes reach every reader.
const PREFIXES: &[&[u8]] = &[
    b"ElfFile\0",
    b"\x1f\x8b\x08\x00",
    b"PK\x03\x04",
    b"\xFF\xFE<\0E\0",
    b"\xFE\xFF\0<\0E",
    b"<Events><Event>",
    b"{\"EventID\":",
    b"[{",
    b"EventID,Channel,Image\n",
];

const FIXTURES: &[&str] = &[
    "edr-freeze.events.xml",
    "edr-freeze.wevtutil.xml",
    "edr-freeze.ndjson",
    "edr-freeze.csv",
    "edr-freeze.utf16le.xml",
    "edr-freeze.events.xml.gz",
    "edr-freeze.zip",
];

fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE.get_or_init(|| Arc::new(Engine::with_default_rules())).clone()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Scans `input` pushed in pieces of the given sizes (cycled); an
/// `InputError` is a valid outcome, a panic is not.
fn scan_in_pieces(input: &[u8], sizes: &[usize]) {
    let mut scanner = Scanner::new(engine(), "input");
    let mut rest = input;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, after) = rest.split_at((*size).clamp(1, rest.len()));
        rest = after;
        if scanner.push(piece).is_err() {
            return;
        }
    }
    if let Ok((_, summary)) = scanner.finish() {
        assert_eq!(summary.bytes, input.len() as u64);
        assert_eq!(summary.warnings as usize, scanner.take_warnings().len());
    }
}

/// Scans `input` pushed one byte at a time with every record parsed;
/// returns the rule ids matched and the summary's records and warnings.
fn scan_bytewise(input: &[u8]) -> (Vec<String>, u64, u64) {
    let mut scanner = Scanner::new(engine(), "input");
    scanner.set_prefilter(false);
    let mut ids = Vec::new();
    for byte in input.chunks(1) {
        ids.extend(scanner.push(byte).unwrap().into_iter().map(|m| m.rule_id));
    }
    let (rest, summary) = scanner.finish().unwrap();
    ids.extend(rest.into_iter().map(|m| m.rule_id));
    (ids, summary.records, summary.warnings)
}

const EDR_FREEZE: &str = "387df17d-3b04-448f-8669-9e7fd5e5fd8c";
/// The size of the long value in each record below.
const LONG: usize = 256 * 1024;

#[test]
fn long_json_line_in_one_byte_pieces() {
    let ndjson = String::from_utf8(fixture("edr-freeze.ndjson")).unwrap();
    let first = ndjson.lines().next().unwrap();
    let long = first.replacen("{", &format!("{{\"Padding\":\"{}\",", "x".repeat(LONG)), 1);
    assert_eq!(scan_bytewise(format!("{long}\n").as_bytes()), (vec![EDR_FREEZE.to_string()], 1, 0));
    // Without a line end, the reader picks lines or values only at the end.
    assert_eq!(scan_bytewise(long.as_bytes()), (vec![EDR_FREEZE.to_string()], 1, 0));
}

#[test]
fn long_xml_text_in_one_byte_pieces() {
    let xml = String::from_utf8(fixture("edr-freeze.wevtutil.xml")).unwrap();
    let first = xml.lines().next().unwrap();
    let data = format!("<EventData><Data Name='Padding'>{}</Data>", "x".repeat(LONG));
    let long = first.replacen("<EventData>", &data, 1);
    assert_eq!(scan_bytewise(long.as_bytes()), (vec![EDR_FREEZE.to_string()], 1, 0));
    let comment = format!("<Events><!-- {} -->{first}</Events>", "x".repeat(LONG));
    assert_eq!(scan_bytewise(comment.as_bytes()), (vec![EDR_FREEZE.to_string()], 1, 0));
}

#[test]
fn long_csv_header_in_one_byte_pieces() {
    let csv = format!("EventID,{}\n10,x\n", "x".repeat(LONG));
    assert_eq!(scan_bytewise(csv.as_bytes()), (vec![], 1, 0));
}

#[test]
fn long_whitespace_before_json_in_one_byte_pieces() {
    let ndjson = String::from_utf8(fixture("edr-freeze.ndjson")).unwrap();
    let first = ndjson.lines().next().unwrap();
    let padded = format!("{}{first}\n", " ".repeat(60 * 1024));
    assert_eq!(scan_bytewise(padded.as_bytes()), (vec![EDR_FREEZE.to_string()], 1, 0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes_after_each_magic(
        prefix in 0..PREFIXES.len(),
        body in proptest::collection::vec(any::<u8>(), 0..3000),
        sizes in proptest::collection::vec(1usize..700, 1..8),
    ) {
        let mut input = PREFIXES[prefix].to_vec();
        input.extend(body);
        scan_in_pieces(&input, &sizes);
    }

    #[test]
    fn damaged_fixtures(
        file in 0..FIXTURES.len(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        cut in any::<prop::sample::Index>(),
        sizes in proptest::collection::vec(1usize..5000, 1..8),
    ) {
        let mut input = fixture(FIXTURES[file]);
        for (at, byte) in flips {
            let at = at.index(input.len());
            input[at] ^= byte;
        }
        input.truncate(cut.index(input.len() + 1));
        scan_in_pieces(&input, &sizes);
    }
}
