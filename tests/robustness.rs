//! No input may make the scanner panic: in WebAssembly a panic kills the
//! module. Random bytes behind each format's magic, and the format
//! fixtures with bytes changed or cut off, go through the scanner in pieces
//! of random sizes.
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
