//! Format sniffing and streaming record readers.
//!
//! The format is detected from content, never from a file name: binary formats
//! by their magic bytes (EVTX `ElfFile`, gzip `1f 8b`, zip `PK\3\4`), UTF-16
//! text by its byte order mark, and UTF-8 text by its first non-space
//! character (`{` or `[` for JSON, `<` for XML) or by a header row of field
//! names (CSV). Readers take bytes in pieces of any size and hand each
//! complete record to a [`Sink`] as an [`Event`], so memory stays bounded by
//! the largest record (or one 64 KiB EVTX chunk), not by the file.
//!
//! Containers and encodings are layers: the gzip, zip and UTF-16 readers
//! decode their content while it streams and give it to a [`Detect`] reader,
//! which sniffs it as if it were a file of its own.

pub mod csv;
pub mod detect;
pub mod evtx;
pub mod gzip;
pub mod json;
pub mod text;
pub mod xml;
pub mod zip;

pub use detect::Detect;

use crate::event::Event;
use crate::prefilter::Prefilter;

/// The largest single text record (one JSON value, XML event or CSV row) a
/// reader buffers; a larger one is reported and skipped.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Maximum number of containers and encodings around content: a zip member
/// that is a gzip file of UTF-16 text has three. Deeper content is reported
/// instead of read, so that the buffers of all layers stay bounded.
pub const MAX_LAYERS: usize = 4;

/// Input formats, as detected by [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Evtx,
    /// NDJSON, a top-level array, or JSON values one after another.
    Json,
    /// Windows event XML: an `<Events>` root or `<Event>` elements.
    Xml,
    /// Comma-, semicolon- or tab-separated values with a header row.
    Csv,
    /// UTF-16 little-endian text holding one of the text formats.
    Utf16Le,
    /// UTF-16 big-endian text holding one of the text formats.
    Utf16Be,
    /// A gzip stream holding any format.
    Gzip,
    /// A zip archive; each member is read as an input of its own.
    Zip,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::Json => "json",
            Format::Xml => "xml",
            Format::Csv => "csv",
            Format::Utf16Le => "utf-16le",
            Format::Utf16Be => "utf-16be",
            Format::Gzip => "gzip",
            Format::Zip => "zip",
        }
    }

    /// Returns whether the format wraps another one.
    pub fn is_layer(self) -> bool {
        matches!(self, Format::Utf16Le | Format::Utf16Be | Format::Gzip | Format::Zip)
    }
}

/// The result of [`sniff`] on the first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    Format(Format),
    /// Not enough bytes yet.
    NeedMore,
    /// No supported format; a printable description of the first bytes.
    Unknown(String),
}

const EVTX_MAGIC: &[u8] = b"ElfFile\0";
const GZIP_MAGIC: &[u8] = b"\x1f\x8b";
const ZIP_LOCAL_MAGIC: &[u8] = b"PK\x03\x04";
/// The end record of an archive without members.
const ZIP_EMPTY_MAGIC: &[u8] = b"PK\x05\x06";
const UTF16LE_BOM: &[u8] = b"\xFF\xFE";
const UTF16BE_BOM: &[u8] = b"\xFE\xFF";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

const MAGICS: &[(&[u8], Format)] = &[
    (EVTX_MAGIC, Format::Evtx),
    (GZIP_MAGIC, Format::Gzip),
    (ZIP_LOCAL_MAGIC, Format::Zip),
    (ZIP_EMPTY_MAGIC, Format::Zip),
    (UTF16LE_BOM, Format::Utf16Le),
    (UTF16BE_BOM, Format::Utf16Be),
];

/// The result of the sniffer of one text format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Yes,
    NeedMore,
    /// Not this format, with the reason when it is worth telling.
    No(Option<String>),
}

/// Detects the format from the first bytes of an input. `complete` means
/// that `prefix` is the whole input, so no more bytes will come.
pub fn sniff(prefix: &[u8], complete: bool) -> Sniffed {
    let partial_magic = MAGICS
        .iter()
        .map(|(magic, _)| *magic)
        .chain([UTF8_BOM])
        .any(|magic| prefix.len() < magic.len() && magic.starts_with(prefix));
    if !complete && (partial_magic || could_become_utf16(prefix)) {
        return Sniffed::NeedMore;
    }
    if let Some((_, format)) = MAGICS.iter().find(|(magic, _)| prefix.starts_with(magic)) {
        return Sniffed::Format(*format);
    }
    if let Some(format) = utf16_without_bom(prefix) {
        return Sniffed::Format(format);
    }
    sniff_text(prefix, complete)
}

fn is_text_byte(byte: u8) -> bool {
    byte.is_ascii_graphic() || byte.is_ascii_whitespace()
}

/// UTF-16 text without a byte order mark, recognised when its first two
/// characters are ASCII: `<\0E\0` is little-endian, `\0<\0E` big-endian.
fn utf16_without_bom(prefix: &[u8]) -> Option<Format> {
    match prefix {
        [a, 0, b, 0, ..] if is_text_byte(*a) && is_text_byte(*b) => Some(Format::Utf16Le),
        [0, a, 0, b, ..] if is_text_byte(*a) && is_text_byte(*b) => Some(Format::Utf16Be),
        _ => None,
    }
}

/// Returns whether fewer than four bytes may still turn out to be UTF-16
/// without a byte order mark.
fn could_become_utf16(prefix: &[u8]) -> bool {
    let fits = |zero_first: bool| {
        prefix.iter().enumerate().all(|(i, &b)| if (i % 2 == 0) == zero_first { b == 0 } else { is_text_byte(b) })
    };
    prefix.len() < 4 && (fits(false) || fits(true))
}

/// Sniffs UTF-8 text: JSON, XML or CSV.
fn sniff_text(prefix: &[u8], complete: bool) -> Sniffed {
    let text = prefix.strip_prefix(UTF8_BOM).unwrap_or(prefix);
    let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return match (complete, prefix.is_empty()) {
            (false, _) => Sniffed::NeedMore,
            (true, true) => Sniffed::Unknown("nothing (the input is empty)".to_string()),
            (true, false) => Sniffed::Unknown("only whitespace".to_string()),
        };
    };
    let (format, verdict) = match text[start] {
        b'{' | b'[' => (Format::Json, Verdict::Yes),
        b'<' => (Format::Xml, xml::sniff_root(&text[start..], complete)),
        _ => (Format::Csv, csv::sniff_header(text, complete)),
    };
    match verdict {
        Verdict::Yes => Sniffed::Format(format),
        Verdict::NeedMore => Sniffed::NeedMore,
        Verdict::No(None) => Sniffed::Unknown(describe_prefix(prefix)),
        Verdict::No(Some(reason)) => Sniffed::Unknown(format!("{} ({reason})", describe_prefix(prefix))),
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

/// The receiver of what readers read.
pub trait Sink {
    /// Receives a complete record. `index` is 1-based within the input, and
    /// `offset` is the byte offset where the record starts.
    fn record(&mut self, event: Event, index: u64, offset: u64);
    /// Receives a problem with a record or part of the input. A warning
    /// with a record index reports that record as lost, unless it follows
    /// that record's delivery with the same index and offset: then the
    /// record was kept, with the problem noted (a value kept undecoded).
    fn warning(&mut self, record: Option<u64>, offset: u64, message: String);
    /// Receives a complete record of a container member. `member` is the member's
    /// path inside the input (`a.json`, or `inner.zip:a.json` when nested);
    /// `index` and `offset` count within the member's decompressed content.
    fn member_record(&mut self, member: &str, event: Event, index: u64, offset: u64);
    /// Receives a problem with a record or part of a container member.
    fn member_warning(&mut self, member: &str, record: Option<u64>, offset: u64, message: String);
    /// Reports that the content is in no supported format, so none of it is
    /// read. `seen` describes its first bytes.
    fn unknown_format(&mut self, seen: String);
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

/// Creates the reader for a sniffed format. `layers` counts the containers
/// and encodings around the content; a layer format past [`MAX_LAYERS`] is
/// rejected with the reason.
pub fn reader_for(format: Format, layers: usize) -> Result<Box<dyn Reader>, String> {
    if format.is_layer() && layers >= MAX_LAYERS {
        return Err(format!("{} content nested inside {layers} other containers or encodings", format.name()));
    }
    let inner = layers + 1;
    Ok(match format {
        Format::Evtx => Box::new(evtx::EvtxReader::new()),
        Format::Json => Box::new(json::JsonReader::new()),
        Format::Xml => Box::new(xml::XmlReader::new()),
        Format::Csv => Box::new(csv::CsvReader::new()),
        Format::Utf16Le => Box::new(text::Utf16Reader::new(text::Endian::Little, inner)),
        Format::Utf16Be => Box::new(text::Utf16Reader::new(text::Endian::Big, inner)),
        Format::Gzip => Box::new(gzip::GzipReader::new(inner)),
        Format::Zip => Box::new(zip::ZipReader::new(inner)),
    })
}

/// A sink that records everything, for the readers' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Reader, Sink};
    use crate::event::Event;
    use crate::prefilter::Prefilter;

    /// `(member, index, offset, event)` of each record.
    pub type Record = (Option<String>, u64, u64, Event);
    /// `(member, record, offset, message)` of each warning.
    pub type Warning = (Option<String>, Option<u64>, u64, String);

    #[derive(Default)]
    pub struct Collect {
        pub records: Vec<Record>,
        pub warnings: Vec<Warning>,
        pub unknown: Vec<String>,
        pub skipped: u64,
        /// The prefilter readers are given; none unless a test sets one.
        pub prefilter: Option<Prefilter>,
    }

    impl Sink for Collect {
        fn record(&mut self, event: Event, index: u64, offset: u64) {
            self.records.push((None, index, offset, event));
        }
        fn warning(&mut self, record: Option<u64>, offset: u64, message: String) {
            self.warnings.push((None, record, offset, message));
        }
        fn member_record(&mut self, member: &str, event: Event, index: u64, offset: u64) {
            self.records.push((Some(member.to_string()), index, offset, event));
        }
        fn member_warning(&mut self, member: &str, record: Option<u64>, offset: u64, message: String) {
            self.warnings.push((Some(member.to_string()), record, offset, message));
        }
        fn unknown_format(&mut self, seen: String) {
            self.unknown.push(seen);
        }
        fn prefilter(&self) -> Option<&Prefilter> {
            self.prefilter.as_ref()
        }
        fn skipped(&mut self, records: u64) {
            self.skipped += records;
        }
    }

    impl Collect {
        /// Returns the value of `field` in each record, in order.
        pub fn values(&self, field: &str) -> Vec<Option<String>> {
            self.records.iter().map(|(_, _, _, event)| event.get(field).map(str::to_string)).collect()
        }

        /// Returns the `(index, offset)` of each record.
        pub fn positions(&self) -> Vec<(u64, u64)> {
            self.records.iter().map(|(_, index, offset, _)| (*index, *offset)).collect()
        }
    }

    /// Feeds `input` to `reader` in pieces of `piece` bytes, then finishes.
    pub fn read(reader: impl Reader, input: &[u8], piece: usize) -> Collect {
        read_into(reader, input, piece, Collect::default())
    }

    /// Feeds `input` to `reader` with a prefilter for `literals`.
    pub fn read_prefiltered(reader: impl Reader, input: &[u8], piece: usize, literals: &[&str]) -> Collect {
        let literals: Vec<String> = literals.iter().map(|l| l.to_string()).collect();
        let sink = Collect { prefilter: Some(Prefilter::new(&literals)), ..Collect::default() };
        read_into(reader, input, piece, sink)
    }

    fn read_into(mut reader: impl Reader, input: &[u8], piece: usize, mut sink: Collect) -> Collect {
        for chunk in input.chunks(piece.max(1)) {
            reader.push(chunk, &mut sink);
        }
        reader.finish(&mut sink);
        sink
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

    #[test]
    fn sniffs_containers_and_encodings() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00", false), Sniffed::Format(Format::Gzip));
        assert_eq!(sniff(b"\x1f", false), Sniffed::NeedMore);
        assert_eq!(sniff(b"PK\x03\x04\x14\x00", false), Sniffed::Format(Format::Zip));
        assert_eq!(sniff(b"PK\x05\x06", false), Sniffed::Format(Format::Zip));
        assert_eq!(sniff(b"PK", false), Sniffed::NeedMore);
        assert_eq!(sniff(b"\xFF\xFE<\0", false), Sniffed::Format(Format::Utf16Le));
        assert_eq!(sniff(b"\xFE\xFF\0<", false), Sniffed::Format(Format::Utf16Be));
        assert_eq!(sniff(b"<\0E\0v\0", false), Sniffed::Format(Format::Utf16Le));
        assert_eq!(sniff(b"\0<\0E", false), Sniffed::Format(Format::Utf16Be));
        assert_eq!(sniff(b"<\0", false), Sniffed::NeedMore);
    }

    #[test]
    fn sniffs_xml_root_element() {
        let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- saved -->\n<Events><Event>";
        assert_eq!(sniff(xml, false), Sniffed::Format(Format::Xml));
        assert_eq!(sniff(b"<Event xmlns='x'>", false), Sniffed::Format(Format::Xml));
        assert_eq!(sniff(b"<?xml version=\"1.0\"", false), Sniffed::NeedMore);
        assert_eq!(sniff(b"<Eve", false), Sniffed::NeedMore);
        assert_eq!(
            sniff(b"<html><body>", false),
            Sniffed::Unknown("\"<html><body>\" (an XML document whose root element is <html>, not <Events> or <Event>)".into())
        );
    }

    #[test]
    fn sniffs_csv_header_row() {
        assert_eq!(sniff(b"EventID,Channel,SourceImage\r\n10,", false), Sniffed::Format(Format::Csv));
        assert_eq!(sniff(b"\xEF\xBB\xBF\"EventID\";\"Channel\"\n", false), Sniffed::Format(Format::Csv));
        assert_eq!(sniff(b"EventID\tChannel", false), Sniffed::NeedMore);
        assert_eq!(sniff(b"EventID\tChannel", true), Sniffed::Format(Format::Csv));
        assert_eq!(sniff(b"hello world", false), Sniffed::NeedMore);
        assert_eq!(sniff(b"hello world\n", false), Sniffed::Unknown("\"hello world\\n\"".into()));
        assert_eq!(sniff(b"hello world", true), Sniffed::Unknown("\"hello world\"".into()));
        assert_eq!(sniff(b"EventID\n10\n", false), Sniffed::Unknown("\"EventID\\n10\\n\"".into()));
    }

    #[test]
    fn layers_are_limited() {
        assert!(reader_for(Format::Gzip, MAX_LAYERS - 1).is_ok());
        assert_eq!(
            reader_for(Format::Zip, MAX_LAYERS).err(),
            Some(format!("zip content nested inside {MAX_LAYERS} other containers or encodings"))
        );
        assert!(reader_for(Format::Json, MAX_LAYERS + 3).is_ok());
    }
}
