//! A sink that counts what a reader delivers, shared by the reader targets.

use sigma_edge::event::Event;
use sigma_edge::prefilter::Prefilter;
use sigma_edge::reader::{Reader, Sink};

#[derive(Default)]
pub struct Count {
    pub records: u64,
    pub warnings: u64,
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
        None
    }

    fn skipped(&mut self, _records: u64) {}
}

/// Feeds `input` to `reader` in pieces of `piece` bytes, then finishes.
pub fn read_all(reader: &mut dyn Reader, input: &[u8], piece: usize) -> Count {
    let mut sink = Count::default();
    for chunk in input.chunks(piece.max(1)) {
        reader.push(chunk, &mut sink);
    }
    reader.finish(&mut sink);
    sink
}
