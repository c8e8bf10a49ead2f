//! CSV input: a header row of field names, then one event per row.
//!
//! Rows are split by `csv-core` as the bytes arrive, with RFC 4180 quoting,
//! line breaks inside quoted fields, and `\n` or `\r\n` row ends. A row cut
//! between two pushes needs no buffering of the input, because the parser
//! keeps its state and only the fields of the current row are held. The delimiter is the first `,`, `;` or tab of
//! the header row. A UTF-8 byte order mark and the `#TYPE` line that Windows
//! PowerShell's `Export-Csv` writes first are skipped.
//!
//! Header names go through the alias table ([`crate::fields`]), so a column
//! `Event.EventData.SourceImage` or `winlog.event_data.SourceImage` is the
//! field `SourceImage`. An empty cell is an absent field, because CSV cannot
//! tell an empty value from a missing one; a row whose number of fields
//! differs from the header's is reported and skipped.
//!
//! A quote that is never closed makes the rest of the input one field. At
//! the end of the input that row is reported, and the lines after its
//! first line, which the field contains as written, are read again as rows.

use csv_core::{ReadRecordResult, ReaderBuilder};

use super::{Reader, Sink, Verdict};
use crate::event::Event;
use crate::fields;
use crate::limits::Limits;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// The first line of Windows PowerShell 5.1's `Export-Csv` output.
const POWERSHELL_TYPE_LINE: &[u8] = b"#TYPE ";
const DELIMITERS: &[u8] = b",;\t";
/// Maximum number of fields in a row; a row with more is reported and skipped.
const MAX_FIELDS: usize = 64 * 1024;

/// Streaming CSV reader.
pub struct CsvReader {
    /// Bytes kept until the header row is complete and gives the delimiter.
    start: Option<Vec<u8>>,
    parser: csv_core::Reader,
    /// The delimiter of the header row, once it is read.
    delimiter: u8,
    /// Sigma names of the columns, once the header row is read.
    columns: Option<Vec<Box<str>>>,
    row: Row,
    /// Input bytes given to the parser so far, including those skipped.
    consumed: u64,
    records: u64,
    max_record_bytes: usize,
}

/// The row being parsed.
struct Row {
    output: Vec<u8>,
    ends: Vec<usize>,
    output_len: usize,
    ends_len: usize,
    /// Input offset of the row's first byte, once it has one.
    offset: Option<u64>,
    /// The limit the row outgrew; its fields are then dropped as they come.
    overflow: Option<Overflow>,
    max_bytes: usize,
}

/// A limit on rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    /// `max_record_bytes`, counted on the row's bytes in the input
    /// without the line end.
    Bytes,
    /// [`MAX_FIELDS`].
    Fields,
}

/// The shape of the header row.
struct Header {
    delimiter: u8,
    /// Bytes before the header row: byte order mark, blank lines, `#TYPE`.
    skip: usize,
}

impl CsvReader {
    pub fn new() -> CsvReader {
        CsvReader::with_limits(Limits::default())
    }

    /// Creates a reader that skips rows over `limits.max_record_bytes`.
    pub fn with_limits(limits: Limits) -> CsvReader {
        CsvReader {
            start: Some(Vec::new()),
            parser: csv_core::Reader::new(),
            delimiter: b',',
            columns: None,
            row: Row::new(limits.max_record_bytes),
            consumed: 0,
            records: 0,
            max_record_bytes: limits.max_record_bytes,
        }
    }

    /// Buffers the start until the header row is complete, then starts the
    /// parser with its delimiter.
    fn begin(&mut self, bytes: &[u8], complete: bool, sink: &mut dyn Sink) {
        let Some(start) = &mut self.start else { return };
        let searched = start.len();
        start.extend_from_slice(bytes);
        // The header row ends with a line end. Until one arrives, the start
        // is not read again, so a long header pushed in small pieces is
        // read once.
        let ended = memchr::memchr2(b'\n', b'\r', &start[searched.saturating_sub(1)..]).is_some();
        if !complete && !ended && searched > 0 && start.len() <= self.max_record_bytes {
            return;
        }
        let header = match read_header(start, complete) {
            Ok(Some(header)) => header,
            Ok(None) if !complete && start.len() <= self.max_record_bytes => return,
            Ok(None) | Err(_) => {
                sink.warning(None, 0, "no CSV header row of field names found; nothing read".to_string());
                self.consumed = start.len() as u64;
                self.start = None;
                return;
            }
        };
        self.delimiter = header.delimiter;
        self.parser = ReaderBuilder::new().delimiter(header.delimiter).build();
        let bytes = self.start.take().unwrap_or_default();
        self.consumed = header.skip as u64;
        self.feed(bytes.get(header.skip..).unwrap_or_default(), sink);
    }

    /// Parses rows out of `input`.
    fn feed(&mut self, mut input: &[u8], sink: &mut dyn Sink) {
        let whole = input;
        let whole_offset = self.consumed;
        loop {
            if self.row.offset.is_none() {
                // Blank lines between rows hold no record.
                let blank = input.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
                input = &input[blank..];
                self.consumed += blank as u64;
                if input.is_empty() {
                    return;
                }
                self.row.offset = Some(self.consumed);
            }
            let (result, read) = self.row.parse(&mut self.parser, input);
            let line_end = input[..read].iter().rev().take(2).take_while(|&&b| b == b'\n' || b == b'\r').count();
            input = &input[read..];
            self.consumed += read as u64;
            match result {
                ReadRecordResult::InputEmpty | ReadRecordResult::End => return,
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => self.row.grow(),
                ReadRecordResult::Record => {
                    // The row's raw bytes, when all of them came in this push.
                    let start = self.row.offset.and_then(|start| start.checked_sub(whole_offset));
                    let end = (self.consumed - whole_offset) as usize;
                    let raw = start.and_then(|start| whole.get(start as usize..end));
                    self.end_row(raw, line_end as u64, sink);
                }
            }
        }
    }

    /// Turns the parsed row into the header or an event. `raw` is the row
    /// as it was in the input, when one push held all of it: a row in which
    /// the prefilter finds no literal cannot match, so no event is built.
    fn end_row(&mut self, raw: Option<&[u8]>, line_end: u64, sink: &mut dyn Sink) {
        let offset = self.row.offset.unwrap_or(self.consumed);
        let Some(columns) = &self.columns else {
            self.columns = Some(self.row.cells().map(column_name).collect());
            self.row.clear();
            return;
        };

        self.records += 1;
        let ruled_out = sink.prefilter().zip(raw).is_some_and(|(prefilter, raw)| prefilter.find(raw).is_none());
        if ruled_out {
            sink.skipped(1);
            self.row.clear();
            return;
        }
        let count = self.row.cells().count();
        // The row's bytes in the input, without its line end.
        let size = self.consumed.saturating_sub(offset).saturating_sub(line_end);
        let overflow = self.row.overflow.or((size > self.max_record_bytes as u64).then_some(Overflow::Bytes));
        if let Some(overflow) = overflow {
            let message = match overflow {
                Overflow::Bytes => format!("row larger than the maxRecordBytes limit of {} bytes; skipped", self.max_record_bytes),
                Overflow::Fields => format!("row with more than {MAX_FIELDS} fields; skipped"),
            };
            sink.warning(Some(self.records), offset, message);
        } else if count != columns.len() {
            let message = format!("row has {count} fields but the header has {}; skipped", columns.len());
            sink.warning(Some(self.records), offset, message);
        } else {
            let mut event = Event::default();
            for (name, cell) in columns.iter().zip(self.row.cells()) {
                if !cell.is_empty() {
                    event.push(name, Some(&String::from_utf8_lossy(cell)));
                }
            }
            fields::add_aliases(&mut event);
            sink.record(event, self.records, offset);
        }
        self.row.clear();
    }
}

impl CsvReader {
    /// Ends the row that the input ends inside. Whether the row is inside
    /// a quoted field shows when the parser is given a line end: outside
    /// quotes it completes the row, which is read as usual. Inside, the
    /// quote is never closed, so the row is reported, and the text after
    /// its first line end, which the open field contains as written, is
    /// returned to be read again. `csv_core` 0.1.13 has no call that
    /// returns its state, and its `Clone` copies only part of it.
    fn end_last_row(&mut self, sink: &mut dyn Sink) -> Option<Vec<u8>> {
        let offset = self.row.offset?;
        loop {
            match self.row.parse(&mut self.parser, b"\n") {
                (ReadRecordResult::Record, _) => {
                    self.end_row(None, 0, sink);
                    return None;
                }
                (ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull, 0) => self.row.grow(),
                _ => break,
            }
        }
        // The line end just given is the last byte of the open field.
        self.row.output_len = self.row.output_len.saturating_sub(1);
        if self.columns.is_none() {
            self.row.clear();
            return None;
        }

        self.records += 1;
        let field_start = self.row.ends[..self.row.ends_len].last().copied().unwrap_or(0);
        let field = self.row.output.get(field_start..self.row.output_len).unwrap_or_default();
        // NOTE: a `""` inside the open field stands for two input bytes,
        // which would make the offsets of the rows after it wrong. Such a
        // row, and one over the size limits, is only reported.
        let rest = memchr::memchr2(b'\n', b'\r', field)
            .filter(|_| self.row.overflow.is_none() && memchr::memchr(b'"', field).is_none())
            .map(|line_end| field[line_end..].to_vec());
        let message = match (&rest, self.row.overflow) {
            (Some(_), _) => "row has a quote that is never closed; skipped, and the lines after its first line are read as rows",
            (None, Some(_)) => "row has a quote that is never closed; skipped with the rest of the input, which is over the limits of a row",
            (None, None) => "row has a quote that is never closed; skipped",
        };
        sink.warning(Some(self.records), offset, message.to_string());

        self.row.clear();
        self.parser = ReaderBuilder::new().delimiter(self.delimiter).build();
        let rest = rest?;
        self.consumed -= rest.len() as u64;
        Some(rest)
    }
}

impl Default for CsvReader {
    fn default() -> Self {
        CsvReader::new()
    }
}

impl Reader for CsvReader {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn Sink) {
        if self.start.is_some() {
            self.begin(bytes, false, sink);
        } else {
            self.feed(bytes, sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.start.is_some() {
            self.begin(&[], true, sink);
        }
        while let Some(rest) = self.end_last_row(sink) {
            self.feed(&rest, sink);
        }
        // An empty input means to the parser that the data ended, which
        // completes a last row that has no line end.
        loop {
            if self.row.offset.is_none() {
                self.row.offset = Some(self.consumed);
            }
            match self.row.parse(&mut self.parser, &[]).0 {
                ReadRecordResult::Record => self.end_row(None, 0, sink),
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => self.row.grow(),
                ReadRecordResult::InputEmpty | ReadRecordResult::End => break,
            }
        }
    }
}

impl Row {
    fn new(max_bytes: usize) -> Row {
        Row {
            output: vec![0; max_bytes.clamp(1, 1024)],
            ends: vec![0; 64],
            output_len: 0,
            ends_len: 0,
            offset: None,
            overflow: None,
            max_bytes,
        }
    }

    /// Parses as much of the row as `input` holds; returns the parser's
    /// result and the number of input bytes read.
    fn parse(&mut self, parser: &mut csv_core::Reader, input: &[u8]) -> (ReadRecordResult, usize) {
        let output = &mut self.output[self.output_len..];
        let ends = &mut self.ends[self.ends_len..];
        let (result, read, written, ended) = parser.read_record(input, output, ends);
        self.output_len += written;
        self.ends_len += ended;
        (result, read)
    }

    /// Makes room for more of the row, or starts dropping it when it is
    /// over the limits.
    fn grow(&mut self) {
        if self.output_len == self.output.len() {
            if self.output.len() >= self.max_bytes {
                return self.drop_fields(Overflow::Bytes);
            }
            let size = (self.output.len() * 2).min(self.max_bytes);
            self.output.resize(size, 0);
        }
        if self.ends_len == self.ends.len() {
            if self.ends.len() >= MAX_FIELDS {
                return self.drop_fields(Overflow::Fields);
            }
            self.ends.resize(self.ends.len() * 2, 0);
        }
    }

    /// Marks the row as over a limit and drops the fields read so far.
    fn drop_fields(&mut self, overflow: Overflow) {
        self.overflow.get_or_insert(overflow);
        self.output_len = 0;
        self.ends_len = 0;
    }

    /// Returns the fields of the parsed row.
    fn cells(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends[..self.ends_len].iter().map(move |&end| {
            let cell = self.output.get(start..end).unwrap_or_default();
            start = end;
            cell
        })
    }

    fn clear(&mut self) {
        if self.overflow.is_some() {
            // Give back the memory the oversized row took.
            *self = Row::new(self.max_bytes);
            return;
        }
        self.output_len = 0;
        self.ends_len = 0;
        self.offset = None;
    }
}

fn column_name(cell: &[u8]) -> Box<str> {
    let name = String::from_utf8_lossy(cell);
    fields::sigma_name(name.trim()).into()
}

/// Reads the shape of the header row at the start of `text`: `Ok(None)`
/// when more bytes are needed, `Err` when it is not a header row.
fn read_header(text: &[u8], complete: bool) -> Result<Option<Header>, ()> {
    let mut skip = text.strip_prefix(UTF8_BOM).map_or(0, |_| UTF8_BOM.len());
    skip += text[skip..].iter().take_while(|b| b.is_ascii_whitespace()).count();
    if text[skip..].starts_with(POWERSHELL_TYPE_LINE) {
        match memchr::memchr(b'\n', &text[skip..]) {
            Some(end) => skip += end + 1,
            None if complete => return Err(()),
            None => return Ok(None),
        }
    }
    let delimiter = header_delimiter(&text[skip..], complete)?;
    Ok(delimiter.map(|delimiter| Header { delimiter, skip }))
}

/// Checks the header row: two or more names, quoted or made of name
/// characters and spaces (not first), split by one delimiter and ended by a
/// line end. Returns the
/// delimiter, or `None` when the row is not complete yet.
fn header_delimiter(line: &[u8], complete: bool) -> Result<Option<u8>, ()> {
    let mut delimiter = None;
    let mut fields = 0;
    let mut at = 0;
    loop {
        let end = match line.get(at) {
            Some(b'"') => quoted_name_end(line, at)?,
            Some(&first) if is_name_byte(first) => {
                at + 1 + line[at + 1..].iter().take_while(|&&b| is_name_byte(b) || b == b' ').count()
            }
            Some(_) => at,
            None => at,
        };
        if end == at {
            // An empty name, or no byte of the next name yet.
            return if line.get(at).is_none() && !complete { Ok(None) } else { Err(()) };
        }
        let Some(end) = (end <= line.len()).then_some(end) else { return incomplete(complete, delimiter, fields) };
        at = end;
        fields += 1;
        match line.get(at) {
            None => return if complete { finish_header(delimiter, fields) } else { Ok(None) },
            Some(b'\n') => return finish_header(delimiter, fields),
            Some(b'\r') => match line.get(at + 1) {
                Some(b'\n') => return finish_header(delimiter, fields),
                None if !complete => return Ok(None),
                _ => return Err(()),
            },
            Some(&byte) if delimiter.is_none() && DELIMITERS.contains(&byte) => delimiter = Some(byte),
            Some(&byte) if Some(byte) == delimiter => {}
            Some(_) => return Err(()),
        }
        at += 1;
    }
}

fn incomplete(complete: bool, delimiter: Option<u8>, fields: usize) -> Result<Option<u8>, ()> {
    if complete {
        finish_header(delimiter, fields)
    } else {
        Ok(None)
    }
}

fn finish_header(delimiter: Option<u8>, fields: usize) -> Result<Option<u8>, ()> {
    match delimiter {
        Some(delimiter) if fields >= 2 => Ok(Some(delimiter)),
        _ => Err(()),
    }
}

/// Returns the end of a quoted name starting at `at`, or a position past
/// the end of `line` when the closing quote has not arrived yet.
fn quoted_name_end(line: &[u8], at: usize) -> Result<usize, ()> {
    let mut index = at + 1;
    loop {
        match line.get(index) {
            None => return Ok(line.len() + 1),
            Some(b'"') if line.get(index + 1) == Some(&b'"') => index += 2,
            Some(b'"') if index == at + 1 => return Err(()),
            Some(b'"') => return Ok(index + 1),
            Some(&byte) if byte < 0x20 => return Err(()),
            Some(_) => index += 1,
        }
    }
}

/// Bytes of an unquoted field name: ASCII letters, digits, `_.@#:/()$-`,
/// and any non-ASCII UTF-8 byte. Spaces may follow the first byte, as in
/// `Default SD String:`, a key of Windows security events.
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"_.@#:/()$-".contains(&byte) || byte >= 0x80
}

/// Detects whether UTF-8 text starts with a CSV header row.
pub(crate) fn sniff_header(text: &[u8], complete: bool) -> Verdict {
    match read_header(text, complete) {
        Ok(Some(_)) => Verdict::Yes,
        Ok(None) => Verdict::NeedMore,
        Err(()) => Verdict::No(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::testing::{read, read_prefiltered};

    const SAMPLE: &str = "EventID,Channel,CommandLine,ParentImage\r\n\
        1,Microsoft-Windows-Sysmon/Operational,\"cmd.exe /c \"\"echo, hi\"\"\",C:\\x.exe\r\n\
        10,Security,\"two\r\nlines\",\r\n";

    #[test]
    fn rows_become_events_in_any_pieces() {
        for piece in [1, 2, 5, 1000] {
            let out = read(CsvReader::new(), SAMPLE.as_bytes(), piece);
            assert_eq!(out.warnings, vec![], "piece {piece}");
            assert_eq!(out.positions(), vec![(1, 41), (2, 116)], "piece {piece}");
            assert_eq!(out.values("CommandLine"), vec![Some("cmd.exe /c \"echo, hi\"".into()), Some("two\r\nlines".into())]);
            assert_eq!(out.values("EventID"), vec![Some("1".into()), Some("10".into())]);
        }
    }

    #[test]
    fn empty_cell_is_absent() {
        let out = read(CsvReader::new(), SAMPLE.as_bytes(), 1000);
        assert!(out.records[0].3.has("ParentImage"));
        assert!(!out.records[1].3.has("ParentImage"));
    }

    #[test]
    fn bom_type_line_and_semicolons() {
        let input = b"\xEF\xBB\xBF#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"EventID\";\"Event.EventData.Image\"\r\n\"4688\";\"C:\\a.exe\"";
        let out = read(CsvReader::new(), input, 7);
        assert_eq!(out.warnings, vec![]);
        assert_eq!(out.values("Image"), vec![Some("C:\\a.exe".into())]);
        assert_eq!(out.positions(), vec![(1, 95)]);
    }

    #[test]
    fn row_with_wrong_field_count_is_reported() {
        let input = "a,b\n1,2\n1,2,3\n\n4,5\n";
        let out = read(CsvReader::new(), input.as_bytes(), 3);
        assert_eq!(out.values("a"), vec![Some("1".into()), Some("4".into())]);
        assert_eq!(out.positions(), vec![(1, 4), (3, 15)]);
        let expected = (None, Some(2), 8, "row has 3 fields but the header has 2; skipped".to_string());
        assert_eq!(out.warnings, vec![expected]);
    }

    #[test]
    fn unclosed_quote_rows_after_are_read_again() {
        let input = "a,b\r\n1,2\r\n3,\"x\r\n4,5\r\n\r\n6,7";
        for piece in [1, 4, 1000] {
            let out = read(CsvReader::new(), input.as_bytes(), piece);
            assert_eq!(out.values("a"), vec![Some("1".into()), Some("4".into()), Some("6".into())], "piece {piece}");
            assert_eq!(out.positions(), vec![(1, 5), (3, 16), (4, 23)], "piece {piece}");
            let message = "row has a quote that is never closed; skipped, and the lines after its first line are read as rows";
            assert_eq!(out.warnings, vec![(None, Some(2), 10, message.to_string())], "piece {piece}");
        }
    }

    #[test]
    fn unclosed_quote_on_last_line_is_reported() {
        let out = read(CsvReader::new(), b"a,b\n1,2\n3,\"x,y", 1000);
        assert_eq!(out.positions(), vec![(1, 4)]);
        let message = "row has a quote that is never closed; skipped".to_string();
        assert_eq!(out.warnings, vec![(None, Some(2), 8, message.clone())]);

        // A doubled quote inside the open field keeps it open, and makes
        // the offsets of the lines after it unknown.
        let out = read(CsvReader::new(), b"a,b\n3,\"x\"\"\n4,5\n", 1000);
        assert_eq!(out.positions(), vec![]);
        assert_eq!(out.warnings, vec![(None, Some(1), 4, message)]);
    }

    #[test]
    fn prefilter_skips_rows_without_literal() {
        let input = "EventID,Image\n10,a.exe\n10,C:\\WerFaultSecure.exe\n10,b.exe\n";
        let out = read_prefiltered(CsvReader::new(), input.as_bytes(), 1000, &["werfaultsecure.exe"]);
        assert_eq!(out.values("Image"), vec![Some("C:\\WerFaultSecure.exe".into())]);
        assert_eq!(out.positions(), vec![(2, 23)]);
        assert_eq!(out.skipped, 2);
    }

    #[test]
    fn invalid_utf8_stays_in_its_cell() {
        let out = read(CsvReader::new(), b"a,b\nx\xFFy,z\n", 100);
        assert_eq!(out.values("a"), vec![Some("x\u{FFFD}y".into())]);
        assert_eq!(out.values("b"), vec![Some("z".into())]);
    }

    #[test]
    fn header_shapes() {
        assert!(matches!(sniff_header(b"EventID,Channel\n", false), Verdict::Yes));
        assert!(matches!(sniff_header(b"\"Event ID\"\t\"Task Category\"\r\n", false), Verdict::Yes));
        assert!(matches!(sniff_header(b"@timestamp,winlog.event_id\n", false), Verdict::Yes));
        assert!(matches!(sniff_header(b"EventID,Chan", false), Verdict::NeedMore));
        assert!(matches!(sniff_header(b"EventID,\"Chan", false), Verdict::NeedMore));
        assert!(matches!(sniff_header(b"EventID,Channel\r", false), Verdict::NeedMore));
        assert!(matches!(sniff_header(b"Level,Date and Time\n", false), Verdict::Yes));
        assert!(matches!(sniff_header(b"Hello, world\n", false), Verdict::No(None)));
        assert!(matches!(sniff_header(b"EventID\n", false), Verdict::No(None)));
        assert!(matches!(sniff_header(b"a,,b\n", false), Verdict::No(None)));
        assert!(matches!(sniff_header(b"a,b;c\n", false), Verdict::No(None)));
        assert!(matches!(sniff_header(b"a,\"\"\n", false), Verdict::No(None)));
    }
}
