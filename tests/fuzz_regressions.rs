//! Inputs the fuzz targets (under fuzz/) once crashed or hung on, replayed
//! the way each target reads them. Each must now finish without a panic.

use std::path::Path;
use std::sync::Arc;

use sigma_edge::{Engine, Scanner};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz").join(target);
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()))
        .collect();
    found.sort();
    found
}

/// Replays the `scanner` target: the first byte sets the push size, the
/// second turns the prefilter off when odd, the rest is the input.
fn replay_scanner(data: &[u8]) -> Option<u64> {
    let [piece, flags, input @ ..] = data else { return None };
    let mut scanner = Scanner::new(Arc::new(Engine::with_default_rules()), "fuzz");
    scanner.set_prefilter(flags & 1 == 0);
    for chunk in input.chunks(usize::from(*piece).max(1) * 7) {
        scanner.push(chunk).ok()?;
    }
    scanner.finish().ok().map(|(_, summary)| summary.warnings)
}

#[test]
fn scanner_regressions_finish() {
    let cases = inputs("scanner");
    assert!(!cases.is_empty());
    for (name, data) in cases {
        let warnings = replay_scanner(&data);
        assert!(warnings.is_some_and(|count| count < 10_000), "{name}: {warnings:?}");
    }
}
