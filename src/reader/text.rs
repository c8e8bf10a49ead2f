//! UTF-16 text, little- or big-endian and usually with a byte order mark:
//! what Windows PowerShell 5 writes when `wevtutil` output is redirected to
//! a file. It is transcoded to UTF-8 while it streams, then read as an
//! input of its own (XML, JSON or CSV).
//!
//! An unpaired surrogate or a lone last byte becomes U+FFFD in the value
//! that contains it; the rest of the record is kept. Offsets in records and
//! warnings are mapped back to bytes of the UTF-16 input.

use std::collections::VecDeque;

use super::{Detect, Reader, Sink, MAX_RECORD_BYTES};
use crate::event::Event;
use crate::prefilter::Prefilter;

/// Source bytes transcoded per step, so the UTF-8 text handed on at once
/// stays small whatever the size of a push.
const STEP: usize = 64 * 1024;
/// Offsets older than this many decoded bytes are no longer mapped
/// exactly: readers report offsets of records they still hold, and a
/// record is at most [`MAX_RECORD_BYTES`].
const MAP_WINDOW: u64 = 2 * MAX_RECORD_BYTES as u64;
/// Most runs of same-width characters the offset map keeps.
const MAX_RUNS: usize = 64 * 1024;
const REPLACEMENT: char = '\u{FFFD}';

/// Byte order of the UTF-16 code units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

/// Streaming UTF-16 reader.
pub struct Utf16Reader {
    endian: Endian,
    /// A last byte that is half a code unit.
    odd: Option<u8>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    /// Source bytes transcoded so far.
    source: u64,
    /// UTF-8 bytes produced so far.
    decoded: u64,
    map: OffsetMap,
    text: String,
    inner: Detect,
}

impl Utf16Reader {
    /// Creates a reader of UTF-16 text inside `layers` containers or
    /// encodings (this one included).
    pub fn new(endian: Endian, layers: usize) -> Utf16Reader {
        Utf16Reader {
            endian,
            odd: None,
            high: None,
            source: 0,
            decoded: 0,
            map: OffsetMap::default(),
            text: String::new(),
            inner: Detect::new(layers),
        }
    }

    fn unit(&self, pair: [u8; 2]) -> u16 {
        match self.endian {
            Endian::Little => u16::from_le_bytes(pair),
            Endian::Big => u16::from_be_bytes(pair),
        }
    }

    /// Transcodes `bytes` into `self.text`.
    fn decode(&mut self, mut bytes: &[u8]) {
        if let (Some(first), Some(&second)) = (self.odd, bytes.first()) {
            self.odd = None;
            self.code_unit(self.unit([first, second]));
            bytes = &bytes[1..];
        }
        let mut pairs = bytes.chunks_exact(2);
        for pair in &mut pairs {
            self.code_unit(self.unit([pair[0], pair[1]]));
        }
        if let [last] = pairs.remainder() {
            self.odd = Some(*last);
        }
    }

    fn code_unit(&mut self, unit: u16) {
        if let Some(high) = self.high.take() {
            if (0xDC00..0xE000).contains(&unit) {
                let scalar = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                self.emit(char::from_u32(scalar).unwrap_or(REPLACEMENT), 4);
                return;
            }
            self.emit(REPLACEMENT, 2);
        }
        match unit {
            0xD800..=0xDBFF => self.high = Some(unit),
            // A byte order mark at the start is not text.
            0xFEFF if self.source == 0 => self.source = 2,
            _ => self.emit(char::from_u32(u32::from(unit)).unwrap_or(REPLACEMENT), 2),
        }
    }

    /// Appends one character that took `source_len` bytes of UTF-16.
    fn emit(&mut self, character: char, source_len: u64) {
        let decoded_len = character.len_utf8() as u64;
        self.map.note(self.decoded, self.source, decoded_len, source_len);
        self.text.push(character);
        self.decoded += decoded_len;
        self.source += source_len;
    }

    /// Hands the transcoded text to the inner reader.
    fn hand_on(&mut self, sink: &mut dyn Sink) {
        let mut mapped = MappedSink { sink, map: &self.map, endian: self.endian };
        self.inner.push(self.text.as_bytes(), &mut mapped);
        self.text.clear();
        self.map.prune(self.decoded);
    }
}

impl Reader for Utf16Reader {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn Sink) {
        for step in bytes.chunks(STEP) {
            self.decode(step);
            self.hand_on(sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.high.take().is_some() {
            self.emit(REPLACEMENT, 2);
        }
        if self.odd.take().is_some() {
            let message = "the UTF-16 input has an odd number of bytes; its last byte became U+FFFD".to_string();
            sink.warning(None, self.source, message);
            self.emit(REPLACEMENT, 1);
        }
        self.hand_on(sink);
        let mut mapped = MappedSink { sink, map: &self.map, endian: self.endian };
        self.inner.finish(&mut mapped);
    }
}

/// Maps offsets in the UTF-8 text back to offsets in the UTF-16 input. It
/// keeps one entry per run of characters of the same widths (ASCII is one
/// UTF-8 byte per two UTF-16 bytes, most other text two or three per two).
#[derive(Default)]
struct OffsetMap {
    runs: VecDeque<Run>,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    decoded: u64,
    source: u64,
    decoded_len: u64,
    source_len: u64,
}

impl OffsetMap {
    fn note(&mut self, decoded: u64, source: u64, decoded_len: u64, source_len: u64) {
        if let Some(last) = self.runs.back() {
            if last.decoded_len == decoded_len && last.source_len == source_len {
                return;
            }
        }
        // NOTE: past MAX_RUNS runs the oldest go, and offsets before the
        // first kept run are estimated as two bytes per UTF-8 byte.
        if self.runs.len() >= MAX_RUNS {
            self.runs.pop_front();
        }
        self.runs.push_back(Run { decoded, source, decoded_len, source_len });
    }

    /// Drops runs that end before the window of offsets still reported.
    fn prune(&mut self, decoded_total: u64) {
        let oldest_needed = decoded_total.saturating_sub(MAP_WINDOW);
        while self.runs.len() > 1 && self.runs[1].decoded <= oldest_needed {
            self.runs.pop_front();
        }
    }

    fn source_offset(&self, decoded: u64) -> u64 {
        let index = self.runs.partition_point(|run| run.decoded <= decoded);
        match index.checked_sub(1).and_then(|i| self.runs.get(i)) {
            Some(run) => run.source + (decoded - run.decoded) / run.decoded_len * run.source_len,
            None => match self.runs.front() {
                Some(first) => first.source.saturating_sub((first.decoded - decoded) * 2),
                None => decoded * 2,
            },
        }
    }
}

/// Passes records and warnings on with their offsets in the UTF-16 input.
struct MappedSink<'a> {
    sink: &'a mut dyn Sink,
    map: &'a OffsetMap,
    endian: Endian,
}

impl Sink for MappedSink<'_> {
    fn record(&mut self, event: Event, index: u64, offset: u64) {
        self.sink.record(event, index, self.map.source_offset(offset));
    }

    fn warning(&mut self, record: Option<u64>, offset: u64, message: String) {
        self.sink.warning(record, self.map.source_offset(offset), message);
    }

    fn member_record(&mut self, member: &str, event: Event, index: u64, offset: u64) {
        self.sink.member_record(member, event, index, offset);
    }

    fn member_warning(&mut self, member: &str, record: Option<u64>, offset: u64, message: String) {
        self.sink.member_warning(member, record, offset, message);
    }

    fn unknown_format(&mut self, seen: String) {
        let encoding = match self.endian {
            Endian::Little => "UTF-16LE",
            Endian::Big => "UTF-16BE",
        };
        self.sink.unknown_format(format!("{encoding} text that starts with {seen}"));
    }

    fn prefilter(&self) -> Option<&Prefilter> {
        self.sink.prefilter()
    }

    fn skipped(&mut self, records: u64) {
        self.sink.skipped(records);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::testing::read;

    fn utf16(text: &str, endian: Endian, bom: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
        for unit in units {
            bytes.extend(match endian {
                Endian::Little => unit.to_le_bytes(),
                Endian::Big => unit.to_be_bytes(),
            });
        }
        bytes
    }

    #[test]
    fn ndjson_in_utf16_with_exact_offsets() {
        let text = "{\"a\":\"é\"}\n{\"a\":\"𝄞x\"}\n{\"a\": broken\n{\"a\":\"z\"}\n";
        for endian in [Endian::Little, Endian::Big] {
            for piece in [1, 3, 1000] {
                let out = read(Utf16Reader::new(endian, 1), &utf16(text, endian, true), piece);
                assert_eq!(out.values("a"), vec![Some("é".into()), Some("𝄞x".into()), Some("z".into())]);
                // Each record starts after a '\n': 2 + 2 * (UTF-16 units before it).
                assert_eq!(out.positions(), vec![(1, 2), (2, 22), (4, 72)], "{endian:?} piece {piece}");
                assert_eq!(out.warnings.len(), 1);
                assert_eq!((out.warnings[0].1, out.warnings[0].2), (Some(3), 46));
            }
        }
    }

    #[test]
    fn unpaired_surrogate_becomes_replacement_character() {
        let mut bytes = utf16("{\"a\":\"x", Endian::Little, true);
        bytes.extend(0xD800u16.to_le_bytes());
        bytes.extend(utf16("y\",\"b\":\"ok\"}\n", Endian::Little, false));
        let out = read(Utf16Reader::new(Endian::Little, 1), &bytes, 5);
        assert_eq!(out.values("a"), vec![Some("x\u{FFFD}y".into())]);
        assert_eq!(out.values("b"), vec![Some("ok".into())]);
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn odd_last_byte_is_reported() {
        let mut bytes = utf16("{\"a\":\"1\"}\n", Endian::Little, false);
        bytes.push(b'x');
        let out = read(Utf16Reader::new(Endian::Little, 1), &bytes, 4);
        assert_eq!(out.values("a"), vec![Some("1".into())]);
        assert_eq!(out.warnings.len(), 2);
        let message = "the UTF-16 input has an odd number of bytes; its last byte became U+FFFD".to_string();
        assert_eq!(out.warnings[0], (None, None, 20, message));
        // The replacement character is a line of its own, which is not JSON.
        assert_eq!((out.warnings[1].1, out.warnings[1].2), (Some(2), 20));
    }

    #[test]
    fn unknown_content_names_the_encoding() {
        let out = read(Utf16Reader::new(Endian::Big, 1), &utf16("hello world\n", Endian::Big, true), 100);
        assert_eq!(out.unknown, vec!["UTF-16BE text that starts with \"hello world\\n\"".to_string()]);
    }
}
