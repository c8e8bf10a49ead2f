//! EVTX input, read one 64 KiB chunk at a time with the `evtx` crate.
//!
//! An EVTX file is a 4 KiB file header followed by chunks of 64 KiB, each
//! self-contained (its own string and template tables), so a chunk can be
//! parsed as soon as its last byte arrives and dropped after. Memory stays
//! at about one chunk whatever the file size.

use std::sync::Arc;

use evtx::{EvtxChunkData, EvtxChunkHeader, ParserSettings};

use super::{Reader, Sink};
use crate::event::Event;

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
    chunks: u64,
    records: u64,
    settings: Arc<ParserSettings>,
}

impl EvtxReader {
    pub fn new() -> EvtxReader {
        let settings = ParserSettings::default().indent(false).separate_json_attributes(false);
        EvtxReader {
            buffer: Vec::with_capacity(CHUNK_SIZE),
            base: 0,
            header_block: None,
            chunks: 0,
            records: 0,
            settings: Arc::new(settings),
        }
    }

    /// Takes the file header from the front of `bytes` (buffering it when
    /// it arrives in pieces); returns the bytes after it, or `None` while
    /// the header is incomplete.
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
            // Space Windows preallocated for a chunk never written.
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
        if verify_checksum && !chunk.validate_checksum() {
            sink.warning(None, offset, format!("chunk {number}: checksum mismatch; its records may be damaged"));
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
                        Ok(rendered) => match record_event(&rendered.data) {
                            Ok(event) => sink.record(event, index, record_offset),
                            Err(message) => sink.warning(Some(index), record_offset, message),
                        },
                        Err(error) => sink.warning(Some(index), record_offset, format!("cannot render record: {error}")),
                    }
                }
                Err(error) => sink.warning(Some(index), offset, format!("chunk {number}: {error}")),
            }
        }
    }
}

/// The number of records a chunk header declares, or 0 when it is unreadable
/// or implausible (a record takes at least 24 bytes).
fn record_count(chunk: &[u8]) -> u64 {
    let Ok(header) = EvtxChunkHeader::from_bytes(chunk) else { return 0 };
    let count = header.last_event_record_number.wrapping_sub(header.first_event_record_number).wrapping_add(1);
    if header.last_event_record_number < header.first_event_record_number || count > (CHUNK_SIZE as u64) / RECORD_HEADER_SIZE {
        return 0;
    }
    count
}

fn record_event(json: &[u8]) -> Result<Event, String> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|error| format!("record rendered as invalid JSON: {error}"))?;
    Event::from_json(&value)
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
        if self.buffer.is_empty() {
            return;
        }
        let length = self.buffer.len();
        let offset = self.base;
        sink.warning(
            None,
            offset,
            format!("truncated EVTX file: the last chunk has {length} of {CHUNK_SIZE} bytes; its complete records are read"),
        );
        let mut chunk = std::mem::take(&mut self.buffer);
        chunk.resize(CHUNK_SIZE, 0);
        // The cut-off part fails the checksum by construction.
        self.read_chunk(&chunk, offset, false, sink);
    }
}
