//! zip archives, read front to back from their local file headers while
//! they stream (the central directory at the end is not needed). Each
//! member is inflated with `miniz_oxide` (or copied, when stored) and read
//! as an input of its own, named `archive.zip:member`.
//!
//! Members may put their sizes in a data descriptor after the data (what
//! streaming zip writers do): deflate data ends by itself, and stored data
//! ends at the descriptor whose signature, size and CRC-32 match what came
//! before. Zip64 sizes are read. A member that is encrypted or uses a
//! compression method other than stored or deflate is reported and skipped.
//!
//! Warnings about the archive itself carry offsets in the archive; records
//! and warnings from inside a member carry offsets in its decompressed
//! content.

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::{Detect, Reader, Sink};
use crate::event::Event;
use crate::prefilter::Prefilter;

const LOCAL_HEADER: &[u8] = b"PK\x03\x04";
const CENTRAL_HEADER: &[u8] = b"PK\x01\x02";
const END_RECORD: &[u8] = b"PK\x05\x06";
const ZIP64_END_RECORD: &[u8] = b"PK\x06\x06";
const DESCRIPTOR: &[u8] = b"PK\x07\x08";
/// Fixed part of a local file header.
const LOCAL_HEADER_SIZE: usize = 30;
const FLAG_ENCRYPTED: u16 = 0x0001;
const FLAG_DESCRIPTOR: u16 = 0x0008;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
const ZIP64_EXTRA: u16 = 0x0001;
const ZIP64_MARKER: u32 = 0xFFFF_FFFF;
/// Decompressed bytes handed on at a time.
const OUTPUT_SIZE: usize = 64 * 1024;

/// Streaming zip reader.
pub struct ZipReader {
    /// Containers and encodings around each member's content, this one included.
    layers: usize,
    state: State,
    /// Header, descriptor or held-back bytes being collected.
    pending: Vec<u8>,
    /// Archive bytes read.
    offset: u64,
    member: Option<Member>,
    inflater: Box<InflateState>,
    output: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a local file header (or the central directory).
    Header,
    /// Reading a member's data.
    Data,
    /// Reading the data descriptor after a member's data.
    Descriptor,
    /// Skipping the data of a member that is not read.
    Skip(u64),
    /// Looking for the next local file header after damage.
    Search,
    /// The central directory: the members are over.
    Done,
}

/// The member being read.
struct Member {
    name: String,
    /// Archive offset of its local file header.
    offset: u64,
    method: u16,
    flags: u16,
    crc: u32,
    /// Compressed bytes still to come, when the header gives the size.
    remaining: Option<u64>,
    uncompressed: u64,
    zip64: bool,
    hasher: crc32fast::Hasher,
    /// Decompressed bytes so far.
    size: u64,
    content: Detect,
}

/// A parsed local file header.
struct LocalHeader {
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    uncompressed: u64,
    name: String,
    zip64: bool,
}

impl ZipReader {
    /// Creates a reader of a zip archive inside `layers` containers or
    /// encodings (this one included).
    pub fn new(layers: usize) -> ZipReader {
        ZipReader {
            layers,
            state: State::Header,
            pending: Vec::new(),
            offset: 0,
            member: None,
            inflater: InflateState::new_boxed(DataFormat::Raw),
            output: vec![0; OUTPUT_SIZE],
        }
    }

    /// Reads part of `input` in the current state; returns the bytes used.
    fn step(&mut self, input: &[u8], sink: &mut dyn Sink) -> usize {
        match self.state {
            State::Header => self.read_header(input, sink),
            State::Data => self.read_data(input, sink),
            State::Descriptor => self.read_descriptor(input, sink),
            State::Skip(count) => {
                let taken = count.min(input.len() as u64);
                self.state = if taken == count { State::Header } else { State::Skip(count - taken) };
                taken as usize
            }
            State::Search => self.search(input),
            State::Done => input.len(),
        }
    }

    /// Returns the archive offset where the pending bytes start.
    fn pending_offset(&self) -> u64 {
        self.offset - self.pending.len() as u64
    }

    fn read_header(&mut self, input: &[u8], sink: &mut dyn Sink) -> usize {
        let wanted = match self.pending.get(..4) {
            None => 4,
            Some(signature) if signature == LOCAL_HEADER => match local_header_size(&self.pending) {
                Some(size) => size,
                None => LOCAL_HEADER_SIZE,
            },
            Some(signature) if [CENTRAL_HEADER, END_RECORD, ZIP64_END_RECORD].contains(&signature) => {
                self.pending.clear();
                self.state = State::Done;
                return 0;
            }
            Some(_) => {
                let message = "no zip local file header here; looking for the next one".to_string();
                sink.warning(None, self.pending_offset(), message);
                self.pending.clear();
                self.state = State::Search;
                return 0;
            }
        };
        if self.pending.len() < wanted {
            let taken = (wanted - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..taken]);
            return taken;
        }
        let header_offset = self.pending_offset();
        let header = parse_local_header(&self.pending);
        self.pending.clear();
        match header {
            Some(header) => self.start_member(header, header_offset, sink),
            None => {
                sink.warning(None, header_offset, "invalid zip local file header; looking for the next one".to_string());
                self.state = State::Search;
            }
        }
        0
    }

    /// Starts reading a member, or skips it with the reason.
    fn start_member(&mut self, header: LocalHeader, offset: u64, sink: &mut dyn Sink) {
        let descriptor = header.flags & FLAG_DESCRIPTOR != 0;
        let size_known = !descriptor || header.compressed != 0;
        let skip_reason = if header.flags & FLAG_ENCRYPTED != 0 {
            Some("is encrypted".to_string())
        } else if header.method != METHOD_STORED && header.method != METHOD_DEFLATE {
            Some(format!("uses compression method {} ({})", header.method, method_name(header.method)))
        } else {
            None
        };
        if let Some(reason) = skip_reason {
            let action = if size_known { "skipped" } else { "skipped, and its size is unknown, so the next member is searched for" };
            sink.warning(None, offset, format!("member {} {reason}, which is not supported; {action}", header.name));
            self.state = if size_known { State::Skip(header.compressed) } else { State::Search };
            return;
        }
        if header.name.ends_with('/') || (!descriptor && header.uncompressed == 0) {
            // A folder or an empty file: no content to read.
            self.state = State::Skip(header.compressed);
            return;
        }
        self.inflater.reset(DataFormat::Raw);
        self.member = Some(Member {
            name: header.name,
            offset,
            method: header.method,
            flags: header.flags,
            crc: header.crc,
            remaining: size_known.then_some(header.compressed),
            uncompressed: header.uncompressed,
            zip64: header.zip64,
            hasher: crc32fast::Hasher::new(),
            size: 0,
            content: Detect::new(self.layers),
        });
        self.state = State::Data;
    }

    fn read_data(&mut self, input: &[u8], sink: &mut dyn Sink) -> usize {
        let Some(member) = &mut self.member else {
            self.state = State::Header;
            return 0;
        };
        let limit = member.remaining.map_or(input.len(), |left| left.min(input.len() as u64) as usize);
        let input = &input[..limit];
        match (member.method, member.remaining) {
            (METHOD_DEFLATE, _) => self.inflate(input, sink),
            (_, Some(_)) => self.copy_stored(input, sink),
            (_, None) => self.copy_stored_until_descriptor(input, sink),
        }
    }

    fn inflate(&mut self, mut input: &[u8], sink: &mut dyn Sink) -> usize {
        let mut used = 0;
        loop {
            let result = inflate(&mut self.inflater, input, &mut self.output, MZFlush::None);
            input = &input[result.bytes_consumed..];
            used += result.bytes_consumed;
            self.count_compressed(result.bytes_consumed);
            self.hand_on(result.bytes_written, sink);
            match result.status {
                Ok(MZStatus::StreamEnd) => {
                    self.end_data(sink);
                    return used;
                }
                Ok(_) | Err(MZError::Buf) => {
                    let output_full = result.bytes_written == self.output.len();
                    if self.member.as_ref().and_then(|m| m.remaining) == Some(0) && !output_full {
                        self.damaged("its deflate data ends before the end marker", sink);
                        return used;
                    }
                    if input.is_empty() && !output_full {
                        return used;
                    }
                    if result.bytes_consumed == 0 && result.bytes_written == 0 {
                        self.damaged("its deflate data makes no progress", sink);
                        return used;
                    }
                }
                Err(error) => {
                    self.damaged(&format!("its deflate data is damaged ({error:?})"), sink);
                    return used;
                }
            }
        }
    }

    fn copy_stored(&mut self, input: &[u8], sink: &mut dyn Sink) -> usize {
        self.pass_stored(input, sink);
        if self.member.as_ref().and_then(|m| m.remaining) == Some(0) {
            self.end_data(sink);
        }
        input.len()
    }

    /// Stored data of unknown size: it ends at the first data descriptor
    /// whose signature, size and CRC-32 match the data before it. Bytes
    /// that may start such a descriptor are held back in `pending`.
    fn copy_stored_until_descriptor(&mut self, input: &[u8], sink: &mut dyn Sink) -> usize {
        let held = self.pending.len();
        self.pending.extend_from_slice(input);
        let Some(member) = &self.member else { return input.len() };

        let mut search_from = 0;
        let (end, found) = loop {
            let Some(offset) = memchr::memmem::find(&self.pending[search_from..], DESCRIPTOR) else {
                // Keep what could be the start of a signature.
                break (self.pending.len().saturating_sub(DESCRIPTOR.len() - 1), false);
            };
            let at = search_from + offset;
            match descriptor_matches(member, &self.pending[..at], &self.pending[at..]) {
                Some(true) => break (at, true),
                Some(false) => search_from = at + 1,
                None => break (at, false),
            }
        };

        let data: Vec<u8> = self.pending.drain(..end).collect();
        self.pass_stored(&data, sink);
        if !found {
            return input.len();
        }
        // The descriptor is read in its own state: its bytes that came with
        // this push are given back, those held from before stay pending.
        self.pending.truncate(held.saturating_sub(end));
        self.end_data(sink);
        end.saturating_sub(held)
    }

    fn pass_stored(&mut self, data: &[u8], sink: &mut dyn Sink) {
        for piece in data.chunks(OUTPUT_SIZE) {
            self.output[..piece.len()].copy_from_slice(piece);
            self.count_compressed(piece.len());
            self.hand_on(piece.len(), sink);
        }
    }

    fn count_compressed(&mut self, count: usize) {
        if let Some(Member { remaining: Some(left), .. }) = &mut self.member {
            *left = left.saturating_sub(count as u64);
        }
    }

    /// Hands `count` decompressed bytes to the member's reader.
    fn hand_on(&mut self, count: usize, sink: &mut dyn Sink) {
        let Some(member) = &mut self.member else { return };
        if count == 0 {
            return;
        }
        let data = &self.output[..count];
        member.hasher.update(data);
        member.size += count as u64;
        member.content.push(data, &mut MemberSink { sink, name: &member.name });
    }

    /// Ends the member's data: its descriptor follows, or the member ends.
    fn end_data(&mut self, sink: &mut dyn Sink) {
        let Some(member) = &mut self.member else { return };
        if let Some(left) = member.remaining.filter(|&left| left > 0) {
            // Compressed bytes after the end marker belong to no content.
            let message = format!("member {}: {left} bytes after its deflate data were not read", member.name);
            sink.warning(None, member.offset, message);
            self.state = State::Skip(left);
            self.finish_member(None, sink);
            return;
        }
        if member.flags & FLAG_DESCRIPTOR != 0 {
            self.state = State::Descriptor;
        } else {
            self.state = State::Header;
            let expected = (member.crc, member.uncompressed);
            self.finish_member(Some(expected), sink);
        }
    }

    fn read_descriptor(&mut self, input: &[u8], sink: &mut dyn Sink) -> usize {
        let zip64 = self.member.as_ref().is_some_and(|m| m.zip64);
        let signed = match self.pending.get(..4) {
            Some(start) => start == DESCRIPTOR,
            None => {
                let taken = (4 - self.pending.len()).min(input.len());
                self.pending.extend_from_slice(&input[..taken]);
                return taken;
            }
        };
        let size = descriptor_size(signed, zip64);
        if self.pending.len() < size {
            let taken = (size - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..taken]);
            return taken;
        }
        let fields = if signed { &self.pending[4..] } else { &self.pending[..] };
        let crc = read_u32(fields, 0);
        let uncompressed = if zip64 { read_u64(fields, 12) } else { u64::from(read_u32(fields, 8)) };
        self.pending.clear();
        self.state = State::Header;
        self.finish_member(Some((crc, uncompressed)), sink);
        0
    }

    /// Ends the member's content, checking its CRC-32 and size when known.
    fn finish_member(&mut self, expected: Option<(u32, u64)>, sink: &mut dyn Sink) {
        let Some(mut member) = self.member.take() else { return };
        if member.size > 0 {
            // An empty member contains no records, so there is nothing to finish.
            member.content.finish(&mut MemberSink { sink, name: &member.name });
        }
        if let Some((crc, size)) = expected {
            if member.hasher.finalize() != crc || member.size != size {
                let message = format!(
                    "member {}: the decompressed data does not match the stored CRC-32 and size; it may be damaged",
                    member.name
                );
                sink.warning(None, member.offset, message);
            }
        }
    }

    /// Reports a member whose data cannot be read further, ends it, and
    /// looks for the next member.
    fn damaged(&mut self, problem: &str, sink: &mut dyn Sink) {
        if let Some(member) = &self.member {
            let message = format!("member {}: {problem}; the rest of it is not read", member.name);
            sink.warning(None, member.offset, message);
        }
        self.finish_member(None, sink);
        self.state = State::Search;
    }

    /// Skips to the next local file header (or the central directory).
    fn search(&mut self, input: &[u8]) -> usize {
        let held = self.pending.len();
        self.pending.extend_from_slice(input);
        let found = memchr::memmem::find_iter(&self.pending, b"PK").find(|&at| {
            let signature = self.pending.get(at..at + 4);
            signature.is_some_and(|s| s == LOCAL_HEADER || s == CENTRAL_HEADER || s == END_RECORD)
        });
        match found {
            Some(at) if at >= held => {
                self.pending.clear();
                self.state = State::Header;
                at - held
            }
            Some(at) => {
                // The signature began in held-back bytes: keep them as the header start.
                self.pending.drain(..at);
                self.pending.truncate(held - at);
                self.state = State::Header;
                0
            }
            None => {
                let keep = self.pending.len().min(3);
                self.pending.drain(..self.pending.len() - keep);
                input.len()
            }
        }
    }
}

impl Reader for ZipReader {
    fn push(&mut self, mut bytes: &[u8], sink: &mut dyn Sink) {
        // Each step either uses bytes or changes state, and no state change
        // loops back without using bytes.
        while !bytes.is_empty() {
            let used = self.step(bytes, sink);
            bytes = &bytes[used..];
            self.offset += used as u64;
        }
        // Starts a member whose header the last bytes completed.
        if self.state == State::Header {
            self.step(&[], sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.state == State::Data && self.member.as_ref().is_some_and(|m| m.method == METHOD_STORED) {
            // Stored data held back while looking for its descriptor.
            let held = std::mem::take(&mut self.pending);
            self.pass_stored(&held, sink);
        }
        let cut = match self.state {
            State::Header if !self.pending.is_empty() => Some("inside a local file header".to_string()),
            State::Data | State::Descriptor => {
                let name = self.member.as_ref().map_or("", |m| m.name.as_str());
                Some(format!("inside member {name}; the content before the cut was read"))
            }
            State::Skip(_) => Some("inside a member that was skipped".to_string()),
            _ => None,
        };
        if let Some(place) = cut {
            sink.warning(None, self.offset, format!("truncated zip archive: the input ends {place}"));
        }
        self.finish_member(None, sink);
    }
}

/// Returns the full size of the local file header that starts `header`,
/// or `None` while its fixed part is incomplete.
fn local_header_size(header: &[u8]) -> Option<usize> {
    if header.len() < LOCAL_HEADER_SIZE {
        return None;
    }
    let name = usize::from(read_u16(header, 26));
    let extra = usize::from(read_u16(header, 28));
    Some(LOCAL_HEADER_SIZE + name + extra)
}

fn parse_local_header(header: &[u8]) -> Option<LocalHeader> {
    let length = local_header_size(header)?;
    let name_length = usize::from(read_u16(header, 26));
    let flags = read_u16(header, 6);
    let name_bytes = header.get(LOCAL_HEADER_SIZE..LOCAL_HEADER_SIZE + name_length)?;
    // NOTE: names without the UTF-8 flag (bit 11) are CP437, but are read
    // as UTF-8 too, which differs only for non-ASCII names.
    let name = String::from_utf8_lossy(name_bytes).into_owned();
    let mut compressed = u64::from(read_u32(header, 18));
    let mut uncompressed = u64::from(read_u32(header, 22));
    let extra = header.get(LOCAL_HEADER_SIZE + name_length..length)?;
    let zip64 = zip64_sizes(extra, &mut uncompressed, &mut compressed);
    Some(LocalHeader {
        flags,
        method: read_u16(header, 8),
        crc: read_u32(header, 14),
        compressed,
        uncompressed,
        name,
        zip64,
    })
}

/// Reads the zip64 extra field, which contains the real sizes when the header
/// has `0xFFFFFFFF` in their place; returns whether there is one.
fn zip64_sizes(mut extra: &[u8], uncompressed: &mut u64, compressed: &mut u64) -> bool {
    while extra.len() >= 4 {
        let id = read_u16(extra, 0);
        let size = usize::from(read_u16(extra, 2));
        let Some(data) = extra.get(4..4 + size) else { return false };
        if id == ZIP64_EXTRA {
            let mut values = data.chunks_exact(8).map(|chunk| read_u64(chunk, 0));
            if *uncompressed == u64::from(ZIP64_MARKER) {
                *uncompressed = values.next().unwrap_or(*uncompressed);
            }
            if *compressed == u64::from(ZIP64_MARKER) {
                *compressed = values.next().unwrap_or(*compressed);
            }
            return true;
        }
        extra = &extra[4 + size..];
    }
    false
}

fn descriptor_size(signed: bool, zip64: bool) -> usize {
    let sizes = if zip64 { 16 } else { 8 };
    (if signed { 4 } else { 0 }) + 4 + sizes
}

/// Whether the descriptor starting `tail` ends the stored `data`: its
/// compressed size and CRC-32 must match. `None` while `tail` is too short.
fn descriptor_matches(member: &Member, data: &[u8], tail: &[u8]) -> Option<bool> {
    let size = descriptor_size(true, member.zip64);
    if tail.len() < size {
        return None;
    }
    let crc = read_u32(tail, 4);
    let compressed = if member.zip64 { read_u64(tail, 8) } else { u64::from(read_u32(tail, 8)) };
    if compressed != member.size + data.len() as u64 {
        return Some(false);
    }
    let mut hasher = member.hasher.clone();
    hasher.update(data);
    Some(hasher.finalize() == crc)
}

fn method_name(method: u16) -> &'static str {
    match method {
        1 => "shrink",
        6 => "implode",
        9 => "deflate64",
        12 => "bzip2",
        14 => "LZMA",
        93 => "Zstandard",
        95 => "xz",
        98 => "PPMd",
        99 => "AES encryption",
        _ => "unknown",
    }
}

fn read_u16(bytes: &[u8], at: usize) -> u16 {
    match bytes.get(at..at + 2) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]),
        _ => 0,
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    bytes.get(at..at + 8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes)
}

/// Passes a member's records on under its name.
struct MemberSink<'a> {
    sink: &'a mut dyn Sink,
    name: &'a str,
}

impl Sink for MemberSink<'_> {
    fn record(&mut self, event: Event, index: u64, offset: u64) {
        self.sink.member_record(self.name, event, index, offset);
    }

    fn warning(&mut self, record: Option<u64>, offset: u64, message: String) {
        self.sink.member_warning(self.name, record, offset, message);
    }

    fn member_record(&mut self, member: &str, event: Event, index: u64, offset: u64) {
        self.sink.member_record(&format!("{}:{member}", self.name), event, index, offset);
    }

    fn member_warning(&mut self, member: &str, record: Option<u64>, offset: u64, message: String) {
        self.sink.member_warning(&format!("{}:{member}", self.name), record, offset, message);
    }

    fn unknown_format(&mut self, seen: String) {
        let message = format!(
            "unknown format: expected EVTX, JSON, NDJSON, XML or CSV (plain, UTF-16, gzip or zip), but the member starts with {seen}; it was not read"
        );
        self.sink.member_warning(self.name, None, 0, message);
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
    use crate::reader::testing::{read, Collect};
    use miniz_oxide::deflate::compress_to_vec;

    /// The layout of a test member.
    #[derive(Clone, Copy)]
    struct Entry<'a> {
        name: &'a str,
        content: &'a [u8],
        method: u16,
        /// Sizes and CRC-32 in a data descriptor after the data.
        descriptor: bool,
        flags: u16,
    }

    fn entry<'a>(name: &'a str, content: &'a [u8]) -> Entry<'a> {
        Entry { name, content, method: METHOD_DEFLATE, descriptor: false, flags: 0 }
    }

    /// Writes a zip archive of `entries`, with a central directory end record.
    fn archive(entries: &[Entry<'_>]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in entries {
            let data = match entry.method {
                METHOD_DEFLATE => compress_to_vec(entry.content, 6),
                _ => entry.content.to_vec(),
            };
            let crc = crc32fast::hash(entry.content);
            let flags = entry.flags | if entry.descriptor { FLAG_DESCRIPTOR } else { 0 };
            let (header_crc, compressed, size) = if entry.descriptor {
                (0, 0, 0)
            } else {
                (crc, data.len() as u32, entry.content.len() as u32)
            };
            bytes.extend_from_slice(LOCAL_HEADER);
            bytes.extend(20u16.to_le_bytes());
            bytes.extend(flags.to_le_bytes());
            bytes.extend(entry.method.to_le_bytes());
            bytes.extend([0; 4]);
            bytes.extend(header_crc.to_le_bytes());
            bytes.extend(compressed.to_le_bytes());
            bytes.extend(size.to_le_bytes());
            bytes.extend((entry.name.len() as u16).to_le_bytes());
            bytes.extend(0u16.to_le_bytes());
            bytes.extend_from_slice(entry.name.as_bytes());
            bytes.extend_from_slice(&data);
            if entry.descriptor {
                bytes.extend_from_slice(DESCRIPTOR);
                bytes.extend(crc.to_le_bytes());
                bytes.extend((data.len() as u32).to_le_bytes());
                bytes.extend((entry.content.len() as u32).to_le_bytes());
            }
        }
        bytes.extend_from_slice(END_RECORD);
        bytes.extend([0; 18]);
        bytes
    }

    fn members(out: &Collect) -> Vec<(String, Option<String>)> {
        out.records
            .iter()
            .map(|(member, _, _, event)| (member.clone().unwrap_or_default(), event.get("a").map(str::to_string)))
            .collect()
    }

    const A: &[u8] = b"{\"a\":\"1\"}\n{\"a\":\"2\"}\n";
    const B: &[u8] = b"a,b\nx,y\n";

    #[test]
    fn members_are_read_under_their_names() {
        let stored = Entry { method: METHOD_STORED, ..entry("logs/b.csv", B) };
        let input = archive(&[entry("a.json", A), entry("logs/", b""), stored]);
        for piece in [1, 3, 17, 100_000] {
            let out = read(ZipReader::new(1), &input, piece);
            assert_eq!(out.warnings, vec![], "piece {piece}");
            let expected = vec![
                ("a.json".to_string(), Some("1".to_string())),
                ("a.json".to_string(), Some("2".to_string())),
                ("logs/b.csv".to_string(), Some("x".to_string())),
            ];
            assert_eq!(members(&out), expected, "piece {piece}");
            assert_eq!(out.positions(), vec![(1, 0), (2, 10), (1, 4)]);
        }
    }

    #[test]
    fn data_descriptors_end_deflated_and_stored_members() {
        // The stored content contains a descriptor signature that does not
        // match, which must not end the member.
        let tricky = b"a,b\nPK\x07\x08 inside,y\n";
        let deflated = Entry { descriptor: true, ..entry("a.json", A) };
        let stored = Entry { method: METHOD_STORED, descriptor: true, ..entry("b.csv", tricky) };
        let input = archive(&[deflated, stored, entry("c.json", b"{\"a\":\"3\"}\n")]);
        for piece in [1, 2, 5, 100_000] {
            let out = read(ZipReader::new(1), &input, piece);
            assert_eq!(out.warnings, vec![], "piece {piece}");
            let names: Vec<_> = members(&out).into_iter().map(|(name, value)| format!("{name}={}", value.unwrap_or_default())).collect();
            assert_eq!(names, vec!["a.json=1", "a.json=2", "b.csv=PK\u{7}\u{8} inside", "c.json=3"], "piece {piece}");
        }
    }

    #[test]
    fn unsupported_members_are_reported_and_skipped() {
        let bzip2 = Entry { method: 12, ..entry("old.json", b"BZh9 not really") };
        let encrypted = Entry { method: METHOD_STORED, flags: FLAG_ENCRYPTED, ..entry("secret.json", b"0123456789") };
        let input = archive(&[bzip2, encrypted, entry("a.json", A)]);
        let out = read(ZipReader::new(1), &input, 7);
        assert_eq!(members(&out).len(), 2);
        let messages: Vec<_> = out.warnings.iter().map(|w| (w.0.clone(), w.2, w.3.as_str())).collect();
        assert_eq!(
            messages,
            vec![
                (None, 0, "member old.json uses compression method 12 (bzip2), which is not supported; skipped"),
                (None, 53, "member secret.json is encrypted, which is not supported; skipped"),
            ]
        );
    }

    #[test]
    fn unknown_member_format_is_a_member_warning() {
        let input = archive(&[entry("notes.txt", b"just some notes\n"), entry("a.json", A)]);
        let out = read(ZipReader::new(1), &input, 1000);
        assert_eq!(members(&out).len(), 2);
        let message = "unknown format: expected EVTX, JSON, NDJSON, XML or CSV (plain, UTF-16, gzip or zip), but the member starts with \"just some notes\\n\"; it was not read";
        assert_eq!(out.warnings, vec![(Some("notes.txt".to_string()), None, 0, message.to_string())]);
        assert!(out.unknown.is_empty());
    }

    #[test]
    fn nested_archive_members_get_both_names() {
        let inner = archive(&[entry("a.json", A)]);
        let input = archive(&[Entry { method: METHOD_STORED, ..entry("inner.zip", &inner) }]);
        let out = read(ZipReader::new(1), &input, 9);
        assert_eq!(out.warnings, vec![]);
        assert_eq!(members(&out)[0].0, "inner.zip:a.json");
    }

    #[test]
    fn truncated_archive_keeps_complete_records() {
        let content: Vec<u8> = (0..500).flat_map(|i| format!("{{\"a\":\"{i}\"}}\n").into_bytes()).collect();
        let input = archive(&[Entry { method: METHOD_STORED, ..entry("a.json", &content) }]);
        let cut = 30 + 6 + 1000;
        let out = read(ZipReader::new(1), &input[..cut], 64);
        // Ten records of 10 bytes, then 11 bytes each: 91 complete ones.
        assert_eq!(out.records.len(), 91);
        let messages: Vec<_> = out.warnings.iter().map(|w| (w.0.clone(), w.3.as_str())).collect();
        assert_eq!(messages[0], (None, "truncated zip archive: the input ends inside member a.json; the content before the cut was read"));
        assert_eq!(messages.len(), 2, "{messages:?}");
    }

    #[test]
    fn damaged_deflate_data_skips_to_the_next_member() {
        let mut input = archive(&[entry("a.json", A), entry("b.json", b"{\"a\":\"3\"}\n")]);
        // Block type 3 is invalid in deflate.
        input[30 + 6] = 0xff;
        let out = read(ZipReader::new(1), &input, 5);
        assert_eq!(members(&out), vec![("b.json".to_string(), Some("3".to_string()))]);
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(out.warnings[0].3.starts_with("member a.json: its deflate data is damaged"), "{}", out.warnings[0].3);
    }
}
