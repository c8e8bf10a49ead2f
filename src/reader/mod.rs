//! Format sniffing and streaming record readers.
//!
//! The format is told from content, never from a file name: EVTX by its
//! `ElfFile` magic, JSON by a leading `{` or `[`, XML by `<`. Readers take
//! bytes in pieces of any size and hand each complete record to a [`Sink`]
//! as an [`Event`], so memory stays bounded by the largest record (or one
//! 64 KiB EVTX chunk), not by the file.

pub mod evtx;
pub mod json;

use crate::event::Event;
use crate::prefilter::Prefilter;

/// The largest single text record (one JSON value or line) a reader
/// buffers; a larger one is reported and skipped.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Input formats, as told by [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Evtx,
    /// NDJSON, a top-level array, or JSON values one after another.
    Json,
    Xml,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }
}

/// What [`sniff`] could tell from the first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    Format(Format),
    /// Not enough bytes yet.
    NeedMore,
    /// No supported format; a printable description of the first bytes.
    Unknown(String),
}

const EVTX_MAGIC: &[u8] = b"ElfFile\0";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Tells the format from the first bytes of an input. `complete` says that
/// `prefix` is the whole input, so no more bytes will come.
pub fn sniff(prefix: &[u8], complete: bool) -> Sniffed {
    if prefix.len() < EVTX_MAGIC.len() && EVTX_MAGIC.starts_with(prefix) && !complete {
        return Sniffed::NeedMore;
    }
    if prefix.starts_with(EVTX_MAGIC) {
        return Sniffed::Format(Format::Evtx);
    }
    let text = prefix.strip_prefix(UTF8_BOM).unwrap_or(prefix);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Sniffed::Format(Format::Json),
        Some(b'<') => Sniffed::Format(Format::Xml),
        Some(_) => Sniffed::Unknown(describe_prefix(prefix)),
        None if complete => Sniffed::Unknown(if prefix.is_empty() {
            "nothing (the input is empty)".to_string()
        } else {
            "only whitespace".to_string()
        }),
        None => Sniffed::NeedMore,
    }
}

/// Describes the first bytes of an input for an error message: as text
/// when printable, in hex otherwise.
pub fn describe_prefix(prefix: &[u8]) -> String {
    let head = &prefix[..prefix.len().min(16)];
    let printable = head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if printable {
        format!("{:?}", String::from_utf8_lossy(head))
    } else {
        let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}

/// Where readers deliver what they read.
pub trait Sink {
    /// A complete record. `index` is 1-based within the input, `offset` the
    /// byte offset where the record starts.
    fn record(&mut self, event: Event, index: u64, offset: u64);
    /// A record or part of the input that could not be read.
    fn warning(&mut self, record: Option<u64>, offset: u64, message: String);
    /// The prefilter to apply to raw input, if any: input in which it finds
    /// no literal cannot match and is skipped unparsed.
    fn prefilter(&self) -> Option<&Prefilter>;
    /// Records skipped unparsed because the prefilter found no literal.
    fn skipped(&mut self, records: u64);
}

/// A streaming reader of one format.
pub trait Reader {
    /// Reads as many records as `bytes` completes.
    fn push(&mut self, bytes: &[u8], sink: &mut dyn Sink);
    /// Reads what is left at the end of the input, reporting a truncated
    /// last record.
    fn finish(&mut self, sink: &mut dyn Sink);
}

/// Creates the reader for a sniffed format, or says why there is none.
pub fn reader_for(format: Format) -> Result<Box<dyn Reader>, String> {
    match format {
        Format::Evtx => Ok(Box::new(evtx::EvtxReader::new())),
        Format::Json => Ok(Box::new(json::JsonReader::new())),
        Format::Xml => Err("XML event exports are not supported yet".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"ElfFile\0rest", false), Sniffed::Format(Format::Evtx));
        assert_eq!(sniff(b"Elf", false), Sniffed::NeedMore);
        assert_eq!(sniff(b"  \n{\"a\":1}", false), Sniffed::Format(Format::Json));
        assert_eq!(sniff(b"\xEF\xBB\xBF[", false), Sniffed::Format(Format::Json));
        assert_eq!(sniff(b"<Events>", false), Sniffed::Format(Format::Xml));
        assert_eq!(sniff(b"   ", false), Sniffed::NeedMore);
        assert_eq!(sniff(b"", true), Sniffed::Unknown("nothing (the input is empty)".into()));
        assert_eq!(sniff(b"MZ\x90\x00", true), Sniffed::Unknown("bytes 4d 5a 90 00".into()));
        assert_eq!(sniff(b"hello", true), Sniffed::Unknown("\"hello\"".into()));
        assert_eq!(sniff(b"vm\n", true), Sniffed::Unknown("\"vm\\n\"".into()));
    }
}
