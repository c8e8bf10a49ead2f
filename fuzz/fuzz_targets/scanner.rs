//! The streaming scanner on arbitrary bytes split at arbitrary points:
//! every format reader behind the sniffer, with records cut across pushes.
//!
//! The first byte sets the push size (times 7). In the second, bit 0 turns
//! the prefilter off, bit 1 adds the whole event to matches, and bits 2-7,
//! when not all zero, seed a generator that varies each push between 1
//! byte and twice the push size. `tests/fuzz_regressions.rs` replays saved
//! inputs the same way.
#![no_main]

use std::sync::Arc;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sigma_edge::{Engine, Scanner};

fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE.get_or_init(|| Arc::new(Engine::with_default_rules())).clone()
}

/// Push sizes: fixed, or varied by a xorshift generator.
struct Pieces {
    size: usize,
    state: u32,
}

impl Pieces {
    fn next(&mut self) -> usize {
        if self.state == 0 {
            return self.size;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        1 + self.state as usize % (2 * self.size)
    }
}

fuzz_target!(|data: &[u8]| {
    let [size, flags, input @ ..] = data else { return };
    let mut pieces = Pieces { size: usize::from(*size).max(1) * 7, state: u32::from(flags >> 2).wrapping_mul(0x9E37_79B9) };
    let mut scanner = Scanner::new(engine(), "fuzz");
    scanner.set_prefilter(flags & 1 == 0);
    scanner.set_include_event(flags & 2 != 0);

    let mut rest = input;
    while !rest.is_empty() {
        let (piece, after) = rest.split_at(pieces.next().min(rest.len()));
        rest = after;
        if scanner.push(piece).is_err() {
            return;
        }
    }
    if let Ok((_, summary)) = scanner.finish() {
        assert_eq!(summary.bytes, input.len() as u64);
        assert_eq!(summary.warnings as usize, scanner.take_warnings().len());
    }
});
