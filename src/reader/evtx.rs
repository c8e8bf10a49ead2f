//! EVTX input, read one 64 KiB chunk at a time with the `evtx` crate.
//!
//! An EVTX file is a 4 KiB file header followed by chunks of 64 KiB, each
//! self-contained (its own string and template tables), so a chunk can be
//! parsed as soon as its last byte arrives and dropped after. Memory stays
//! at about one chunk whatever the file size.
//!
//! The file header's chunk count, when its CRC-32 matches, separates lost
//! chunks from preallocated space. A file with fewer chunks than it declares
//! was cut, and an all-zero chunk within the declared count lost its records.

use std::sync::Arc;

use evtx::{EvtxChunkData, EvtxChunkHeader, ParserSettings};

use super::{Reader, Sink};
use crate::event::Event;
use crate::limits::Limits;

/// Size of an EVTX chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;
const CHUNK_MAGIC: &[u8] = b"ElfChnk\0";
/// EVTX record header: magic, size, record id, timestamp.
const RECORD_HEADER_SIZE: u64 = 24;
/// Usual size of the file header block, used when the header gives none.
const DEFAULT_HEADER_BLOCK: usize = 4096;

/// Streaming EVTX reader.
pub struct EvtxReader {
    buffer: Vec<u8>,
    /// Offset in the file of `buffer[0]`.
    base: u64,
    /// Size of the file header, once read.
    header_block: Option<usize>,
    /// The number of chunks the file header declares, when its CRC-32
    /// matches.
    declared_chunks: Option<u64>,
    chunks: u64,
    records: u64,
    settings: Arc<ParserSettings>,
    max_depth: usize,
}

impl EvtxReader {
    pub fn new() -> EvtxReader {
        EvtxReader::with_limits(Limits::default())
    }

    /// Creates a reader that rejects records nested deeper than
    /// `limits.max_depth`. EVTX records are bounded by their 64 KiB chunk,
    /// so `max_record_bytes` does not apply.
    pub fn with_limits(limits: Limits) -> EvtxReader {
        let settings = ParserSettings::default().indent(false).separate_json_attributes(false);
        EvtxReader {
            buffer: Vec::with_capacity(CHUNK_SIZE),
            base: 0,
            header_block: None,
            declared_chunks: None,
            chunks: 0,
            records: 0,
            settings: Arc::new(settings),
            max_depth: limits.max_depth,
        }
    }

    /// Takes the file header from the front of `bytes`, buffering it when it
    /// arrives in pieces. Returns the bytes after it, or `None` while the
    /// header is incomplete.
    fn read_header<'b>(&mut self, bytes: &'b [u8]) -> Option<&'b [u8]> {
        if self.header_block.is_some() {
            return Some(bytes);
        }
        let wanted = DEFAULT_HEADER_BLOCK - self.buffer.len();
        let taken = wanted.min(bytes.len());
        self.buffer.extend_from_slice(&bytes[..taken]);
        if self.buffer.len() < DEFAULT_HEADER_BLOCK {
            return None;
        }
        // Bytes 40..42 hold the header block size; anything odd means 4096.
        let declared = u16::from_le_bytes([self.buffer[40], self.buffer[41]]) as usize;
        let size = if (128..=DEFAULT_HEADER_BLOCK).contains(&declared) { declared } else { DEFAULT_HEADER_BLOCK };
        self.header_block = Some(size);
        self.declared_chunks = declared_chunks(&self.buffer);
        // A header block shorter than 4096 means the first chunk began in
        // the bytes already taken.
        let early = self.buffer.split_off(size);
        self.buffer = early;
        self.base = size as u64;
        Some(&bytes[taken..])
    }

    fn read_chunk(&mut self, data: &[u8], offset: u64, verify_checksum: bool, sink: &mut dyn Sink) {
        self.chunks += 1;
        let number = self.chunks;
        if data.iter().all(|&b| b == 0) {
            // Space Windows preallocated for a chunk never written, unless
            // the header counts the chunk as written.
            if let Some(declared) = self.declared_chunks.filter(|&declared| number <= declared) {
                let message =
                    format!("chunk {number}: all bytes are zero, but the file header declares {declared} chunks; its records are lost");
                sink.warning(None, offset, message);
            }
            return;
        }
        if !data.starts_with(CHUNK_MAGIC) {
            let message = format!("chunk {number}: not an EVTX chunk (bad magic); its records are lost");
            sink.warning(None, offset, message);
            return;
        }
        if let Some(prefilter) = sink.prefilter() {
            if prefilter.find_utf16le(&data).is_none() {
                let count = record_count(&data);
                self.records += count;
                sink.skipped(count);
                return;
            }
        }
        let mut chunk = match EvtxChunkData::new(data.to_vec(), false) {
            Ok(chunk) => chunk,
            Err(error) => {
                sink.warning(None, offset, format!("chunk {number}: unreadable chunk header: {error}"));
                return;
            }
        };
        if verify_checksum {
            check_chunk(&chunk, number, offset, sink);
        }
        let mut parsed = match chunk.parse(self.settings.clone()) {
            Ok(parsed) => parsed,
            Err(error) => {
                sink.warning(None, offset, format!("chunk {number}: cannot be parsed: {error}"));
                return;
            }
        };
        for record in parsed.iter() {
            self.records += 1;
            let index = self.records;
            match record {
                Ok(record) => {
                    let record_offset = offset + record.binxml_offset.saturating_sub(RECORD_HEADER_SIZE);
                    match record.into_json_bytes() {
                        Ok(rendered) => match record_event(&rendered.data, self.max_depth) {
                            Ok(event) => sink.record(event, index, record_offset),
                            Err(message) => sink.warning(Some(index), record_offset, message),
                        },
                        Err(error) => sink.warning(Some(index), record_offset, format!("cannot render record: {error}")),
                    }
                }
                Err(error) => {
                    let (record_offset, message) = record_error(&error, offset);
                    sink.warning(Some(index), record_offset, format!("chunk {number}: {message}"));
                }
            }
        }
    }
}

/// Describes a record the evtx crate could not read: the record's offset
/// in the file when the error gives it (else the chunk's), and the message
/// with the cause.
fn record_error(error: &evtx::err::EvtxError, chunk_offset: u64) -> (u64, String) {
    use evtx::err::EvtxError;
    match error {
        EvtxError::FailedToReadRecordAt { offset, source, .. } => {
            (chunk_offset + offset, format!("cannot read the record: {}", with_causes(source.as_ref())))
        }
        other => (chunk_offset, with_causes(other)),
    }
}

/// Returns an error's message followed by the message of each cause.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    message
}

/// Reports a chunk whose header or record data does not match its CRC-32.
/// The records are still read, because a wrong checksum often comes from
/// a chunk that Windows was writing when the file was copied.
fn check_chunk(chunk: &EvtxChunkData, number: u64, offset: u64, sink: &mut dyn Sink) {
    if !chunk.validate_header_checksum() {
        let message = format!("chunk {number}: the chunk header does not match its CRC-32; its records may be damaged");
        sink.warning(None, offset, message);
    } else if !chunk.validate_data_checksum() {
        let message = format!("chunk {number}: the record data does not match its CRC-32; its records may be damaged");
        sink.warning(None, offset, message);
    }
}

/// Returns the chunk count at bytes 42..44 of a file header whose CRC-32 (of its
/// first 120 bytes, stored at 124..128) matches.
fn declared_chunks(header: &[u8]) -> Option<u64> {
    let stored = u32::from_le_bytes(header.get(124..128)?.try_into().ok()?);
    if crc32fast::hash(header.get(..120)?) != stored {
        return None;
    }
    Some(u64::from(u16::from_le_bytes([header[42], header[43]])))
}

/// Returns the number of records a chunk header declares, or 0 when it is unreadable
/// or implausible (a record takes at least 24 bytes).
fn record_count(chunk: &[u8]) -> u64 {
    let Ok(header) = EvtxChunkHeader::from_bytes(chunk) else { return 0 };
    let count = header.last_event_record_number.wrapping_sub(header.first_event_record_number).wrapping_add(1);
    if header.last_event_record_number < header.first_event_record_number || count > (CHUNK_SIZE as u64) / RECORD_HEADER_SIZE {
        return 0;
    }
    count
}

fn record_event(json: &[u8], max_depth: usize) -> Result<Event, String> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|error| format!("record rendered as invalid JSON: {error}"))?;
    Event::from_json_with_max_depth(&value, max_depth)
}

impl EvtxReader {
    fn next_chunk(&mut self, chunk: &[u8], sink: &mut dyn Sink) {
        let offset = self.base;
        self.base += CHUNK_SIZE as u64;
        self.read_chunk(chunk, offset, true, sink);
    }
}

impl Default for EvtxReader {
    fn default() -> Self {
        EvtxReader::new()
    }
}

impl Reader for EvtxReader {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn Sink) {
        let Some(mut bytes) = self.read_header(bytes) else { return };

        // Complete a chunk begun in an earlier push.
        if !self.buffer.is_empty() {
            let taken = (CHUNK_SIZE - self.buffer.len()).min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..taken]);
            bytes = &bytes[taken..];
            if self.buffer.len() < CHUNK_SIZE {
                return;
            }
            let chunk = std::mem::take(&mut self.buffer);
            self.next_chunk(&chunk, sink);
        }

        // Whole chunks are read in place, without copying.
        while bytes.len() >= CHUNK_SIZE {
            self.next_chunk(&bytes[..CHUNK_SIZE], sink);
            bytes = &bytes[CHUNK_SIZE..];
        }
        self.buffer.extend_from_slice(bytes);
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.header_block.is_none() {
            let message = format!("truncated EVTX file: the file header needs {DEFAULT_HEADER_BLOCK} bytes, the input has {}", self.buffer.len());
            sink.warning(None, 0, message);
            self.buffer.clear();
            return;
        }
        let end = self.base + self.buffer.len() as u64;
        if !self.buffer.is_empty() {
            self.finish_partial_chunk(sink);
        }
        if let Some(declared) = self.declared_chunks.filter(|&declared| self.chunks < declared) {
            let message = format!(
                "truncated EVTX file: the file header declares {declared} chunks, the input has {}; the records of the others are lost",
                self.chunks
            );
            sink.warning(None, end, message);
        }
    }
}

impl EvtxReader {
    /// Reads the complete records of a chunk cut off by the end of the
    /// input, or reports bytes after the last chunk that are not one.
    fn finish_partial_chunk(&mut self, sink: &mut dyn Sink) {
        let mut chunk = std::mem::take(&mut self.buffer);
        let length = chunk.len();
        let offset = self.base;
        if !chunk.starts_with(&CHUNK_MAGIC[..length.min(CHUNK_MAGIC.len())]) {
            let after = if self.chunks == 0 { "the file header".to_string() } else { format!("chunk {}", self.chunks) };
            sink.warning(None, offset, format!("{length} bytes after {after} are not an EVTX chunk; they were not read"));
            return;
        }
        let message = format!("truncated EVTX file: the last chunk has {length} of {CHUNK_SIZE} bytes; its complete records are read");
        sink.warning(None, offset, message);
        chunk.resize(CHUNK_SIZE, 0);
        // The cut-off part fails the checksum by construction.
        self.read_chunk(&chunk, offset, false, sink);
    }
}
