//! The streaming scanner on arbitrary bytes split at arbitrary points:
//! every format reader behind the sniffer, with records cut across pushes.
#![no_main]

use std::sync::Arc;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sigma_edge::{Engine, Scanner};

fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE.get_or_init(|| Arc::new(Engine::with_default_rules())).clone()
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the push size, the second the prefilter.
    let (piece, prefilter, input) = match data {
        [a, b, rest @ ..] => (usize::from(*a).max(1) * 7, b & 1 == 0, rest),
        _ => return,
    };
    let mut scanner = Scanner::new(engine(), "fuzz");
    scanner.set_prefilter(prefilter);
    for chunk in input.chunks(piece) {
        if scanner.push(chunk).is_err() {
            return;
        }
    }
    let _ = scanner.finish();
});
