//! The body of every fuzz target, one function each, with the sink that
//! counts what a reader delivers and the control byte that sets how a
//! target feeds its input. `tests/fuzz_regressions.rs` includes this file
//! to replay saved inputs through the same functions.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use sigma_edge::event::Event;
use sigma_edge::prefilter::Prefilter;
use sigma_edge::reader::csv::CsvReader;
use sigma_edge::reader::evtx::EvtxReader;
use sigma_edge::reader::gzip::GzipReader;
use sigma_edge::reader::json::JsonReader;
use sigma_edge::reader::text::{Endian, Utf16Reader};
use sigma_edge::reader::xml::XmlReader;
use sigma_edge::reader::zip::ZipReader;
use sigma_edge::reader::{sniff, Reader, Sink};
use sigma_edge::sigma::condition::parse;
use sigma_edge::{Engine, Scanner};

/// The names of the targets, as `fuzz/Cargo.toml` and the folders of
/// `tests/data/fuzz` name them.
pub const TARGETS: &[&str] = &["scanner", "evtx", "json", "xml", "csv", "utf16", "gzip", "zip", "sniff", "rules", "condition"];

/// Runs the target named `target` on `data`; panics for an unknown name.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "scanner" => scanner(data),
        "evtx" => evtx(data),
        "json" => json(data),
        "xml" => xml(data),
        "csv" => csv(data),
        "utf16" => utf16(data),
        "gzip" => gzip(data),
        "zip" => zip(data),
        "sniff" => sniff_prefixes(data),
        "rules" => rules(data),
        "condition" => condition(data),
        _ => panic!("no fuzz target named {target}"),
    }
}

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

/// The way a target feeds its input, read from the input's first byte: bits
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

/// Feeds `input` to `reader` in the pieces `control` sets, then finishes.
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

/// Runs the streaming scanner on arbitrary bytes split at arbitrary
/// points: every format reader behind the sniffer, with records cut across
/// pushes.
///
/// The first byte sets the push size (times 7). In the second, bit 0 turns
/// the prefilter off, bit 1 adds the whole event to matches, and bits 2-7,
/// when not all zero, seed a generator that varies each push between 1
/// byte and twice the push size.
pub fn scanner(data: &[u8]) {
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
}

/// Runs the EVTX reader on arbitrary bytes (seeded with EVTX files).
pub fn evtx(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    let count = read_all(&mut EvtxReader::new(), input, &Control::new(control, 257));
    assert_bounded_output(&count, input);
}

/// Runs the JSON reader (NDJSON, arrays, concatenated values) in random
/// pieces.
pub fn json(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    let count = read_all(&mut JsonReader::new(), input, &Control::new(control, 1));
    assert_bounded_output(&count, input);
}

/// Runs the XML reader in random pieces.
pub fn xml(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    let count = read_all(&mut XmlReader::new(), input, &Control::new(control, 1));
    assert_bounded_output(&count, input);
}

/// Runs the CSV reader (header row, quoting, line breaks in fields) in
/// random pieces.
pub fn csv(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    let count = read_all(&mut CsvReader::new(), input, &Control::new(control, 1));
    assert_bounded_output(&count, input);
}

/// Runs the UTF-16 text reader, little- or big-endian, with any text
/// format inside, in random pieces. The second byte picks the byte order.
pub fn utf16(data: &[u8]) {
    let [control, order, input @ ..] = data else { return };
    let endian = if order & 1 == 0 { Endian::Little } else { Endian::Big };
    let count = read_all(&mut Utf16Reader::new(endian, 1), input, &Control::new(*control, 3));
    assert_bounded_output(&count, input);
}

/// Runs the gzip reader on arbitrary bytes (seeded with gzip files). Its
/// output is not bounded by its input, which may inflate.
pub fn gzip(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    read_all(&mut GzipReader::new(1), input, &Control::new(control, 5));
}

/// Runs the zip reader on arbitrary bytes (seeded with zip archives):
/// local headers, stored and deflated members, data descriptors, zip64
/// sizes.
pub fn zip(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    read_all(&mut ZipReader::new(1), input, &Control::new(control, 5));
}

/// Runs the format sniffer on every prefix length of arbitrary bytes.
pub fn sniff_prefixes(data: &[u8]) {
    for end in 0..=data.len().min(64) {
        let _ = sniff(&data[..end], false);
    }
    let _ = sniff(data, true);
}

/// Loads arbitrary text as a Sigma rule file (YAML parsing, detection
/// compiling, condition parsing), then evaluates one event.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let engine = Engine::builder().default_rules(false).rule_text("fuzz.yml", text).build();
    let event = Event::from_json(&serde_json::json!({
        "EventID": 10,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Image": "C:\\Windows\\System32\\WerFaultSecure.exe",
        "CommandLine": "WerFaultSecure.exe /h /pid 1 /tid 2",
    }))
    .expect("a valid event");
    let _ = engine.evaluate(&event);
}

/// Runs the condition parser on arbitrary text over a fixed set of search
/// names.
pub fn condition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let names = ["selection", "selection_img", "filter_main", "_hidden", "keywords"].map(String::from);
    let _ = parse(text, &names);
}
