//! A sink that counts what a reader delivers, shared by the reader targets,
//! and the control byte that sets how each target feeds its input.

#![allow(dead_code)]

use sigma_edge::event::Event;
use sigma_edge::prefilter::Prefilter;
use sigma_edge::reader::{Reader, Sink};

/// The literal of the bundled EDR-Freeze rule that the prefilter looks for.
const LITERAL: &str = "werfaultsecure.exe";

#[derive(Default)]
pub struct Count {
    pub records: u64,
    pub warnings: u64,
    pub skipped: u64,
    pub prefilter: Option<Prefilter>,
}

impl Sink for Count {
    fn record(&mut self, event: Event, _index: u64, _offset: u64) {
        self.records += 1;
        let _ = event.event_id();
    }

    fn warning(&mut self, _record: Option<u64>, _offset: u64, _message: String) {
        self.warnings += 1;
    }

    fn member_record(&mut self, _member: &str, event: Event, index: u64, offset: u64) {
        self.record(event, index, offset);
    }

    fn member_warning(&mut self, _member: &str, record: Option<u64>, offset: u64, message: String) {
        self.warning(record, offset, message);
    }

    fn unknown_format(&mut self, _seen: String) {
        self.warnings += 1;
    }

    fn prefilter(&self) -> Option<&Prefilter> {
        self.prefilter.as_ref()
    }

    fn skipped(&mut self, records: u64) {
        self.skipped += records;
    }
}

/// How a target feeds its input, read from the input's first byte: bits
/// 0-6 times `scale` (at least 1) are the push size, and bit 7 turns on
/// the prefilter of the bundled rules.
pub struct Control {
    pub piece: usize,
    pub prefilter: bool,
}

impl Control {
    pub fn new(byte: u8, scale: usize) -> Control {
        Control { piece: (usize::from(byte & 0x7f) * scale).max(1), prefilter: byte & 0x80 != 0 }
    }
}

/// Feeds `input` to `reader` in pieces as `control` says, then finishes.
pub fn read_all(reader: &mut dyn Reader, input: &[u8], control: &Control) -> Count {
    let prefilter = control.prefilter.then(|| Prefilter::new(&[LITERAL.to_string()]));
    let mut sink = Count { prefilter, ..Count::default() };
    for chunk in input.chunks(control.piece) {
        reader.push(chunk, &mut sink);
    }
    reader.finish(&mut sink);
    sink
}

/// Checks that a reader of uncompressed input reports no more records and
/// warnings than its input could hold: each takes at least one byte, plus
/// a few warnings about the end of the input.
pub fn assert_bounded_output(count: &Count, input: &[u8]) {
    let reported = count.records + count.skipped + count.warnings;
    assert!(reported <= 2 * input.len() as u64 + 8, "{reported} records and warnings from {} bytes", input.len());
}
