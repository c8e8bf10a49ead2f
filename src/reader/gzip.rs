//! gzip input (RFC 1952), inflated while it streams with `miniz_oxide` and
//! read as an input of its own. Members one after another (what `cat a.gz
//! b.gz` makes) are one stream of content, as gzip itself treats them.
//!
//! Records inside keep the file's name; their offsets count bytes of the
//! decompressed content. Warnings about the gzip data itself (a bad header,
//! damaged deflate data, a CRC-32 mismatch, bytes after the end) carry
//! offsets in the compressed file.

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::{Detect, Reader, Sink};
use crate::event::Event;
use crate::limits::Limits;
use crate::prefilter::Prefilter;

/// Decompressed bytes handed on at a time.
const OUTPUT_SIZE: usize = 64 * 1024;
/// The fixed part of a member header: magic, method, flags, time, extra flags, OS.
const FIXED_HEADER: usize = 10;
/// Maximum header size accepted, file name and comment included.
const MAX_HEADER: usize = 64 * 1024;
const TRAILER: usize = 8;
const METHOD_DEFLATE: u8 = 8;
const FLAG_HCRC: u8 = 0x02;
const FLAG_EXTRA: u8 = 0x04;
const FLAG_NAME: u8 = 0x08;
const FLAG_COMMENT: u8 = 0x10;
const FLAG_RESERVED: u8 = 0xE0;

/// Streaming gzip reader.
pub struct GzipReader {
    state: State,
    /// The header or trailer being read.
    pending: Vec<u8>,
    inflater: Box<InflateState>,
    output: Vec<u8>,
    crc: crc32fast::Hasher,
    /// Decompressed size of the current member, modulo 2^32 as gzip stores it.
    size: u32,
    /// Compressed bytes read.
    offset: u64,
    /// Offset of the current member's header.
    member_offset: u64,
    members: u64,
    /// Decompressed bytes handed to `inner`, over all members.
    content: u64,
    inner: Detect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Body,
    Trailer,
    /// After a member: another one may follow.
    Between,
    /// Bytes after the gzip data that are not a member; counted, not read.
    Trailing(u64),
    /// After damage, already reported: the rest is not read.
    Stopped,
}

impl GzipReader {
    /// Creates a reader of gzip data inside `layers` containers or encodings
    /// (this one included).
    pub fn new(layers: usize) -> GzipReader {
        GzipReader::with_limits(layers, Limits::default())
    }

    /// Creates a reader whose content readers apply `limits`.
    pub fn with_limits(layers: usize, limits: Limits) -> GzipReader {
        GzipReader {
            state: State::Header,
            pending: Vec::new(),
            inflater: InflateState::new_boxed(DataFormat::Raw),
            output: vec![0; OUTPUT_SIZE],
            crc: crc32fast::Hasher::new(),
            size: 0,
            offset: 0,
            member_offset: 0,
            members: 0,
            content: 0,
            inner: Detect::with_limits(layers, limits),
        }
    }

    /// Reads part of `input` in the current state; returns the bytes used.
    fn step(&mut self, input: &[u8], sink: &mut dyn Sink) -> usize {
        match self.state {
            State::Header => self.read_header(input, sink),
            State::Body => self.inflate(input, sink),
            State::Trailer => self.read_trailer(input, sink),
            State::Between if input.first() == Some(&0x1f) => {
                self.state = State::Header;
                0
            }
            State::Between => {
                self.state = State::Trailing(0);
                0
            }
            State::Trailing(count) => {
                self.state = State::Trailing(count + input.len() as u64);
                input.len()
            }
            State::Stopped => input.len(),
        }
    }

    fn read_header(&mut self, input: &[u8], sink: &mut dyn Sink) -> usize {
        if self.pending.is_empty() {
            self.member_offset = self.offset;
        }
        match header_needs(&self.pending) {
            Ok(0) => {
                self.pending.clear();
                self.members += 1;
                self.inflater.reset(DataFormat::Raw);
                self.crc = crc32fast::Hasher::new();
                self.size = 0;
                self.state = State::Body;
                0
            }
            Ok(needed) => {
                let taken = needed.min(input.len());
                self.pending.extend_from_slice(&input[..taken]);
                taken
            }
            Err(problem) => {
                let message = format!("gzip member {}: invalid header: {problem}; the rest is not read", self.members + 1);
                sink.warning(None, self.member_offset, message);
                self.pending.clear();
                self.state = State::Stopped;
                0
            }
        }
    }

    fn inflate(&mut self, mut input: &[u8], sink: &mut dyn Sink) -> usize {
        let mut used = 0;
        loop {
            let result = inflate(&mut self.inflater, input, &mut self.output, MZFlush::None);
            input = &input[result.bytes_consumed..];
            used += result.bytes_consumed;
            self.hand_on(result.bytes_written, sink);
            match result.status {
                Ok(MZStatus::StreamEnd) => {
                    self.state = State::Trailer;
                    return used;
                }
                Ok(_) | Err(MZError::Buf) => {
                    let output_full = result.bytes_written == self.output.len();
                    if input.is_empty() && !output_full {
                        return used;
                    }
                    if result.bytes_consumed == 0 && result.bytes_written == 0 {
                        let message =
                            format!("gzip member {}: the deflate data makes no progress; the rest is not read", self.members);
                        sink.warning(None, self.member_offset, message);
                        self.state = State::Stopped;
                        return used;
                    }
                }
                Err(error) => {
                    let message = format!(
                        "gzip member {}: damaged deflate data ({error:?}) at byte {}; the rest is not read",
                        self.members,
                        self.offset + used as u64
                    );
                    sink.warning(None, self.member_offset, message);
                    self.state = State::Stopped;
                    return used;
                }
            }
        }
    }

    /// Hands `count` decompressed bytes to the inner reader.
    fn hand_on(&mut self, count: usize, sink: &mut dyn Sink) {
        if count == 0 {
            return;
        }
        let data = &self.output[..count];
        self.crc.update(data);
        self.size = self.size.wrapping_add(count as u32);
        self.content += count as u64;
        self.inner.push(data, &mut GzipContent { sink });
    }

    fn read_trailer(&mut self, input: &[u8], sink: &mut dyn Sink) -> usize {
        let taken = (TRAILER - self.pending.len()).min(input.len());
        self.pending.extend_from_slice(&input[..taken]);
        if let [c0, c1, c2, c3, s0, s1, s2, s3] = self.pending[..] {
            let stored_crc = u32::from_le_bytes([c0, c1, c2, c3]);
            let stored_size = u32::from_le_bytes([s0, s1, s2, s3]);
            let crc = std::mem::replace(&mut self.crc, crc32fast::Hasher::new()).finalize();
            if crc != stored_crc || self.size != stored_size {
                let message = format!(
                    "gzip member {}: the decompressed data does not match the stored CRC-32 and size; it may be damaged",
                    self.members
                );
                sink.warning(None, self.member_offset, message);
            }
            self.pending.clear();
            self.state = State::Between;
        }
        taken
    }
}

impl Reader for GzipReader {
    fn push(&mut self, mut bytes: &[u8], sink: &mut dyn Sink) {
        // Each step either uses bytes or changes state, and no state change
        // loops back without using bytes.
        while !bytes.is_empty() {
            let used = self.step(bytes, sink);
            bytes = &bytes[used..];
            self.offset += used as u64;
        }
        if self.state == State::Header {
            // Completes a header that the last bytes finished.
            self.step(&[], sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        match self.state {
            State::Header => {
                let member = self.members.max(1);
                let message = format!("truncated gzip data: the input ends inside the header of member {member}, before its content");
                sink.warning(None, self.member_offset, message);
            }
            State::Body | State::Trailer => {
                let message = format!(
                    "truncated gzip data: the input ends inside member {}; the content before the cut was read",
                    self.members.max(1)
                );
                sink.warning(None, self.member_offset, message);
            }
            State::Trailing(count) => {
                let message = format!("{count} bytes after the gzip data are not gzip members; they were not read");
                sink.warning(None, self.offset - count, message);
            }
            State::Between | State::Stopped => {}
        }
        // Damaged gzip data that gave no content has been reported above;
        // its empty content is not an input of unknown format.
        let complete = matches!(self.state, State::Between | State::Trailing(_));
        if !complete && self.content == 0 {
            return;
        }
        self.inner.finish(&mut GzipContent { sink });
    }
}

/// Returns how many more header bytes are needed, or 0 when `header` is complete.
fn header_needs(header: &[u8]) -> Result<usize, String> {
    if header.len() < FIXED_HEADER {
        return Ok(FIXED_HEADER - header.len());
    }
    if header[..2] != [0x1f, 0x8b] {
        return Err("no gzip magic bytes".to_string());
    }
    if header[2] != METHOD_DEFLATE {
        return Err(format!("compression method {} is not deflate", header[2]));
    }
    let flags = header[3];
    if flags & FLAG_RESERVED != 0 {
        return Err(format!("reserved flags set ({flags:#04x})"));
    }
    let mut end = FIXED_HEADER;
    if flags & FLAG_EXTRA != 0 {
        let Some(length) = header.get(end..end + 2) else { return Ok(end + 2 - header.len()) };
        end += 2 + usize::from(u16::from_le_bytes([length[0], length[1]]));
    }
    for flag in [FLAG_NAME, FLAG_COMMENT] {
        if flags & flag != 0 {
            // A zero-terminated string.
            match header.get(end..).and_then(|rest| memchr::memchr(0, rest)) {
                Some(zero) => end += zero + 1,
                None if header.len() >= MAX_HEADER => return Err(format!("longer than {MAX_HEADER} bytes")),
                None => return Ok(1.max(end.saturating_sub(header.len()))),
            }
        }
    }
    if flags & FLAG_HCRC != 0 {
        end += 2;
    }
    Ok(end.saturating_sub(header.len()))
}

/// Passes the content's records on; names the container when the content
/// is in no supported format.
struct GzipContent<'a> {
    sink: &'a mut dyn Sink,
}

impl Sink for GzipContent<'_> {
    fn record(&mut self, event: Event, index: u64, offset: u64) {
        self.sink.record(event, index, offset);
    }

    fn warning(&mut self, record: Option<u64>, offset: u64, message: String) {
        self.sink.warning(record, offset, message);
    }

    fn member_record(&mut self, member: &str, event: Event, index: u64, offset: u64) {
        self.sink.member_record(member, event, index, offset);
    }

    fn member_warning(&mut self, member: &str, record: Option<u64>, offset: u64, message: String) {
        self.sink.member_warning(member, record, offset, message);
    }

    fn unknown_format(&mut self, seen: String) {
        self.sink.unknown_format(format!("gzip data whose content starts with {seen}"));
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
    use miniz_oxide::deflate::compress_to_vec;

    /// Compresses `content` into a gzip member with a file name in its header.
    fn gzip(content: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x1f, 0x8b, 8, FLAG_NAME, 0, 0, 0, 0, 0, 3];
        bytes.extend_from_slice(b"events.json\0");
        bytes.extend(compress_to_vec(content, 6));
        bytes.extend(crc32fast::hash(content).to_le_bytes());
        bytes.extend((content.len() as u32).to_le_bytes());
        bytes
    }

    const NDJSON: &[u8] = b"{\"a\":\"1\"}\n{\"a\":\"2\"}\n";

    #[test]
    fn inflates_in_any_pieces() {
        let input = gzip(NDJSON);
        for piece in [1, 2, 11, 10_000] {
            let out = read(GzipReader::new(1), &input, piece);
            assert_eq!(out.warnings, vec![], "piece {piece}");
            assert_eq!(out.values("a"), vec![Some("1".into()), Some("2".into())]);
            assert_eq!(out.positions(), vec![(1, 0), (2, 10)]);
        }
    }

    #[test]
    fn members_one_after_another_are_one_stream() {
        let mut input = gzip(b"{\"a\":\"1\"}\n{\"a\":");
        input.extend(gzip(b"\"2\"}\n"));
        let out = read(GzipReader::new(1), &input, 7);
        assert_eq!(out.warnings, vec![]);
        assert_eq!(out.values("a"), vec![Some("1".into()), Some("2".into())]);
    }

    #[test]
    fn cut_before_any_content_is_one_warning() {
        let input = gzip(b"{\"a\":1}\n");
        let message = "truncated gzip data: the input ends inside the header of member 1, before its content";
        for cut in [2, 6, 12] {
            let out = read(GzipReader::new(1), &input[..cut], 100);
            assert_eq!(out.warnings, vec![(None, None, 0, message.to_string())], "cut at {cut}");
            assert_eq!(out.unknown, Vec::<String>::new(), "cut at {cut}");
        }
        // Whole gzip data whose content is empty is still reported.
        let out = read(GzipReader::new(1), &gzip(b""), 100);
        assert_eq!(out.unknown, vec!["gzip data whose content starts with nothing (the input is empty)".to_string()]);
    }

    #[test]
    fn truncated_data_keeps_what_was_inflated() {
        let content: Vec<u8> = (0..2000).flat_map(|i| format!("{{\"a\":\"{i}\"}}\n").into_bytes()).collect();
        let input = gzip(&content);
        let out = read(GzipReader::new(1), &input[..input.len() / 2], 100);
        assert!(out.records.len() > 100, "{} records", out.records.len());
        let messages: Vec<_> = out.warnings.iter().map(|w| w.3.as_str()).collect();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], "truncated gzip data: the input ends inside member 1; the content before the cut was read");
        assert!(messages[1].starts_with("invalid JSON: EOF while parsing"), "{}", messages[1]);
    }

    #[test]
    fn damaged_crc_and_trailing_bytes_are_reported() {
        let mut input = gzip(NDJSON);
        let crc_at = input.len() - 8;
        input[crc_at] ^= 0xff;
        input.extend_from_slice(b"\0\0\0");
        let out = read(GzipReader::new(1), &input, 5);
        assert_eq!(out.records.len(), 2);
        let messages: Vec<_> = out.warnings.iter().map(|w| (w.2, w.3.as_str())).collect();
        assert_eq!(
            messages,
            vec![
                (0, "gzip member 1: the decompressed data does not match the stored CRC-32 and size; it may be damaged"),
                (input.len() as u64 - 3, "3 bytes after the gzip data are not gzip members; they were not read"),
            ]
        );
    }

    #[test]
    fn unknown_content_names_gzip() {
        let out = read(GzipReader::new(1), &gzip(b"hello world\n"), 100);
        assert_eq!(out.unknown, vec!["gzip data whose content starts with \"hello world\\n\"".to_string()]);
    }
}
