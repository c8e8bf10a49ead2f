//! JSON input: NDJSON (one object per line), a top-level array of objects,
//! or objects one after another (pretty-printed `evtx_dump` output).
//!
//! The reader decides between two modes on the first value. When the first
//! line contains a whole object, or starts one with a key, it reads lines, so
//! a damaged line costs only itself. Otherwise it splits values by tracking
//! strings and nesting depth, which needs no line structure.

use serde_json::Value;

use super::{Reader, Sink};
use crate::event::Event;
use crate::limits::Limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Undecided,
    Lines,
    Values,
}

/// Streaming JSON reader.
pub struct JsonReader {
    buffer: Vec<u8>,
    /// Offset in the input of `buffer[0]`.
    base: u64,
    mode: Mode,
    records: u64,
    splitter: Splitter,
    /// Skipping the rest of an oversized line or value.
    skipping: bool,
    /// The position where the search for the next line end resumes, so
    /// that a long line pushed in small pieces is searched once.
    line_scan: usize,
    /// While the mode is undecided: the buffer length at which the first
    /// line is looked at again, so that a long one pushed in small pieces
    /// is not searched once per push.
    decide_at: usize,
    limits: Limits,
}

/// State of the value splitter, kept across pushes.
#[derive(Debug, Default)]
struct Splitter {
    /// Where the scan resumes in the buffer.
    scan: usize,
    /// Start of the value being read, if one is open.
    start: Option<usize>,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Inside the outer `[` of a top-level array.
    in_array: bool,
}

impl JsonReader {
    pub fn new() -> JsonReader {
        JsonReader::with_limits(Limits::default())
    }

    /// Creates a reader that skips records over `limits.max_record_bytes`
    /// and events nested deeper than `limits.max_depth`.
    pub fn with_limits(limits: Limits) -> JsonReader {
        JsonReader {
            buffer: Vec::new(),
            base: 0,
            mode: Mode::Undecided,
            records: 0,
            splitter: Splitter::default(),
            skipping: false,
            line_scan: 0,
            decide_at: 0,
            limits,
        }
    }

    fn decide_mode(&mut self, at_end: bool) {
        let text = self.buffer.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&self.buffer);
        let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace()) else { return };
        if text[first] == b'[' {
            self.mode = Mode::Values;
            return;
        }
        match memchr::memchr(b'\n', &text[first..]) {
            Some(end) => {
                let line = text[first..first + end].trim_ascii_end();
                // Pretty-printers (jq, PowerShell, Python, evtx_dump) end the
                // first line after the opening brace, so a first line that
                // also contains a key is NDJSON whose first line is damaged.
                let ndjson = line.ends_with(b"}") || line.starts_with(b"{\"");
                self.mode = if ndjson { Mode::Lines } else { Mode::Values };
            }
            None if at_end => self.mode = Mode::Lines,
            None => {}
        }
    }

    fn emit(&mut self, bytes_start: usize, bytes_end: usize, sink: &mut dyn Sink) {
        self.records += 1;
        let offset = self.base + bytes_start as u64;
        // A record is over the limit whether it arrived in one push or in many.
        let max = self.limits.max_record_bytes;
        if bytes_end - bytes_start > max {
            sink.warning(Some(self.records), offset, too_large(max));
            return;
        }
        match parse_event(&self.buffer[bytes_start..bytes_end], self.limits.max_depth) {
            Ok(event) => sink.record(event, self.records, offset),
            Err(message) => sink.warning(Some(self.records), offset, message),
        }
    }

    fn read_lines(&mut self, at_end: bool, sink: &mut dyn Sink) {
        // The buffer starts at a line start, and its first `line_scan`
        // bytes were searched already: they hold no line end.
        let complete = if at_end {
            self.buffer.len()
        } else {
            memchr::memrchr(b'\n', &self.buffer[self.line_scan..]).map_or(0, |position| self.line_scan + position + 1)
        };
        self.read_complete_lines(complete, sink);
        self.consume(complete);
        self.line_scan = self.buffer.len();

        let max = self.limits.max_record_bytes;
        if self.buffer.len() > max {
            self.records += 1;
            sink.warning(Some(self.records), self.base, too_large(max));
            self.skipping = true;
            self.consume(self.buffer.len());
            self.line_scan = 0;
        }
    }

    /// Reads the lines in `buffer[..complete]`, which ends with a line end
    /// or at the end of the input.
    fn read_complete_lines(&mut self, complete: usize, sink: &mut dyn Sink) {
        let mut start = 0;
        // The first prefilter hit at or after `start`; lines that end before
        // it contain no literal and are skipped unparsed.
        let mut hit = self.next_hit(0, complete, sink);
        while start < complete {
            let end = memchr::memchr(b'\n', &self.buffer[start..complete]).map_or(complete, |position| start + position);
            if self.skipping {
                self.skipping = false;
            } else if !self.buffer[start..end].trim_ascii().is_empty() {
                if hit.is_some_and(|h| h < end) {
                    self.emit(start, end, sink);
                    hit = self.next_hit(end, complete, sink);
                } else {
                    self.records += 1;
                    sink.skipped(1);
                }
            }
            start = end + 1;
        }
    }

    /// Returns where the prefilter next finds a literal in
    /// `buffer[from..end]`, or `Some(from)` when there is no prefilter, so
    /// that every line is parsed.
    fn next_hit(&self, from: usize, end: usize, sink: &dyn Sink) -> Option<usize> {
        match sink.prefilter() {
            None => Some(from),
            Some(prefilter) => prefilter.find(&self.buffer[from..end]).map(|position| from + position),
        }
    }

    fn read_values(&mut self, sink: &mut dyn Sink) {
        let mut index = self.splitter.scan;
        while index < self.buffer.len() {
            let byte = self.buffer[index];
            let s = &mut self.splitter;
            if s.in_string {
                if s.escaped {
                    s.escaped = false;
                } else if byte == b'\\' {
                    s.escaped = true;
                } else if byte == b'"' {
                    s.in_string = false;
                }
            } else {
                match byte {
                    b'"' => s.in_string = true,
                    b'{' | b'[' => {
                        if s.depth == 0 && byte == b'[' && !s.in_array && s.start.is_none() && self.records == 0 {
                            s.in_array = true;
                        } else {
                            if s.depth == 0 {
                                s.start = Some(index);
                            }
                            s.depth += 1;
                        }
                    }
                    b'}' | b']' if s.depth > 0 => {
                        s.depth -= 1;
                        if s.depth == 0 {
                            let start = s.start.take().unwrap_or(index);
                            if self.skipping {
                                self.skipping = false;
                            } else if sink.prefilter().is_some_and(|p| p.find(&self.buffer[start..=index]).is_none()) {
                                self.records += 1;
                                sink.skipped(1);
                            } else {
                                self.emit(start, index + 1, sink);
                            }
                        }
                    }
                    b']' if s.in_array => s.in_array = false,
                    b',' | b' ' | b'\t' | b'\r' | b'\n' => {}
                    other if s.depth == 0 => {
                        self.records += 1;
                        let message = format!("expected a JSON object, found '{}'", char::from(other).escape_default());
                        sink.warning(Some(self.records), self.base + index as u64, message);
                        index = self.skip_scalar(index);
                        continue;
                    }
                    _ => {}
                }
            }
            index += 1;
        }
        self.splitter.scan = index;
        self.compact(sink);
    }

    /// Skips a stray top-level scalar (or a stray `}` or `]`) up to the
    /// next separator, always past its first byte.
    fn skip_scalar(&self, mut index: usize) -> usize {
        index += 1;
        while index < self.buffer.len() && !matches!(self.buffer[index], b',' | b']' | b'{' | b'[' | b'\n') {
            index += 1;
        }
        index
    }

    /// Drops bytes no open value needs, and enforces the record size limit.
    fn compact(&mut self, sink: &mut dyn Sink) {
        let keep_from = self.splitter.start.unwrap_or(self.splitter.scan);
        self.consume(keep_from);
        let max = self.limits.max_record_bytes;
        if self.splitter.start.is_some() && self.buffer.len() > max && !self.skipping {
            self.records += 1;
            sink.warning(Some(self.records), self.base, too_large(max));
            self.skipping = true;
        }
        if self.skipping {
            // The oversized value is still scanned for its end, but not kept.
            let scan = self.splitter.scan;
            self.consume(scan);
            self.splitter.start = self.splitter.start.map(|_| 0);
        }
    }

    fn consume(&mut self, count: usize) {
        if count == 0 {
            return;
        }
        self.buffer.drain(..count);
        self.base += count as u64;
        self.line_scan = self.line_scan.saturating_sub(count);
        self.splitter.scan = self.splitter.scan.saturating_sub(count);
        self.splitter.start = self.splitter.start.map(|start| start.saturating_sub(count));
    }
}

impl Default for JsonReader {
    fn default() -> Self {
        JsonReader::new()
    }
}

impl Reader for JsonReader {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn Sink) {
        self.buffer.extend_from_slice(bytes);
        if self.mode == Mode::Undecided && self.base == 0 && self.buffer.starts_with(b"\xEF\xBB\xBF") {
            self.consume(3);
        }
        if self.mode == Mode::Undecided && self.buffer.len() >= self.decide_at {
            self.decide_mode(false);
            self.decide_at = 2 * self.buffer.len();
        }
        match self.mode {
            Mode::Lines => self.read_lines(false, sink),
            Mode::Values => self.read_values(sink),
            Mode::Undecided => {
                if self.buffer.len() > self.limits.max_record_bytes {
                    self.mode = Mode::Values;
                    self.read_values(sink);
                }
            }
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.mode == Mode::Undecided {
            self.decide_mode(true);
        }
        match self.mode {
            Mode::Lines => self.read_lines(true, sink),
            Mode::Values => {
                self.read_values(sink);
                if let Some(start) = self.splitter.start {
                    self.records += 1;
                    let message = "truncated JSON value: the input ends inside it".to_string();
                    sink.warning(Some(self.records), self.base + start as u64, message);
                }
            }
            Mode::Undecided => {}
        }
        self.buffer.clear();
    }
}

fn too_large(max: usize) -> String {
    format!("record larger than the maxRecordBytes limit of {max} bytes; skipped")
}

/// Parses one JSON record nested at most `max_depth` levels.
fn parse_event(bytes: &[u8], max_depth: usize) -> Result<Event, String> {
    let value = parse_value(bytes).map_err(|error| format!("invalid JSON: {error}"))?;
    Event::from_json_with_max_depth(&value, max_depth)
}

/// Parses JSON text, replacing invalid UTF-8 and unpaired surrogate
/// escapes (`"\ud800"`, which Python and JavaScript write for text that
/// is not valid UTF-16) by U+FFFD rather than losing the value. The error
/// is the one of the text as given.
pub fn parse_value(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let error = match serde_json::from_slice(bytes) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let text = String::from_utf8_lossy(bytes);
    let repaired = replace_lone_surrogates(text.as_bytes());
    let changed = repaired.is_some() || matches!(text, std::borrow::Cow::Owned(_));
    if !changed {
        return Err(error);
    }
    serde_json::from_slice(repaired.as_deref().unwrap_or(text.as_bytes())).map_err(|_| error)
}

/// Returns `text` with each `\uXXXX` escape of a surrogate that is not
/// part of a high-low pair replaced by `\ufffd`, or `None` when there is
/// none. Other escapes, such as `\\`, are copied as they are.
fn replace_lone_surrogates(text: &[u8]) -> Option<Vec<u8>> {
    const REPLACEMENT: &[u8] = b"\\ufffd";
    let mut output = Vec::new();
    let mut copied = 0;
    let mut index = 0;
    while let Some(found) = memchr::memchr(b'\\', &text[index..]) {
        let at = index + found;
        match escaped_unit(text, at) {
            Some(0xD800..=0xDBFF) if escaped_unit(text, at + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) => {
                index = at + 12;
            }
            Some(0xD800..=0xDFFF) => {
                output.extend_from_slice(&text[copied..at]);
                output.extend_from_slice(REPLACEMENT);
                index = at + 6;
                copied = index;
            }
            Some(_) => index = at + 6,
            // Any other escape is two bytes long.
            None => index = (at + 2).min(text.len()),
        }
    }
    if copied == 0 {
        return None;
    }
    output.extend_from_slice(&text[copied..]);
    Some(output)
}

/// Returns the code unit of a `\uXXXX` escape at `at`.
fn escaped_unit(text: &[u8], at: usize) -> Option<u16> {
    let escape = text.get(at..at + 6)?;
    if !escape.starts_with(b"\\u") || !escape[2..].iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u16::from_str_radix(std::str::from_utf8(&escape[2..]).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::testing;

    struct Collect {
        records: Vec<(u64, u64, Option<String>)>,
        warnings: Vec<(Option<u64>, u64, String)>,
    }

    fn read(input: &[u8], piece: usize) -> Collect {
        let out = testing::read(JsonReader::new(), input, piece);
        Collect {
            records: out.records.into_iter().map(|(_, index, offset, event)| (index, offset, event.get("a").map(str::to_string))).collect(),
            warnings: out.warnings.into_iter().map(|(_, record, offset, message)| (record, offset, message)).collect(),
        }
    }

    #[test]
    fn ndjson_with_a_bad_line_keeps_the_rest() {
        let input = b"{\"a\":\"1\"}\n{\"a\": broken\n\n{\"a\":\"3\"}";
        for piece in [1, 3, 7, 100] {
            let out = read(input, piece);
            assert_eq!(out.records, vec![(1, 0, Some("1".into())), (3, 24, Some("3".into()))], "piece {piece}");
            assert_eq!(out.warnings.len(), 1);
            assert_eq!(out.warnings[0].0, Some(2));
            assert_eq!(out.warnings[0].1, 10);
            assert!(out.warnings[0].2.starts_with("invalid JSON"));
        }
    }

    #[test]
    fn damaged_first_line_keeps_rest() {
        let input = b"{\"a\": \"1\",\n{\"a\":\"2\"}\n";
        for piece in [1, 3, 100] {
            let out = read(input, piece);
            assert_eq!(out.records, vec![(2, 11, Some("2".into()))], "piece {piece}");
            assert_eq!(out.warnings.len(), 1, "piece {piece}");
            assert_eq!(out.warnings[0].0, Some(1));
            assert_eq!(out.warnings[0].1, 0);
            assert!(out.warnings[0].2.starts_with("invalid JSON"), "{}", out.warnings[0].2);
        }
    }

    #[test]
    fn array_and_pretty_values() {
        let input = b"[\n {\"a\": \"x]}\"},\n {\"a\": 2}\n]";
        for piece in [1, 5, 100] {
            let out = read(input, piece);
            assert_eq!(out.records, vec![(1, 3, Some("x]}".into())), (2, 18, Some("2".into()))]);
            assert!(out.warnings.is_empty());
        }
        let pretty = b"{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n";
        let out = read(pretty, 4);
        assert_eq!(out.records.len(), 2);
    }

    #[test]
    fn truncated_value_is_reported() {
        let out = read(b"[{\"a\":1},{\"a\":", 4);
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.warnings, vec![(Some(2), 9, "truncated JSON value: the input ends inside it".into())]);
    }

    #[test]
    fn stray_scalar_in_array_is_reported() {
        let out = read(b"[{\"a\":1}, 42, {\"a\":3}]", 100);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.warnings[0].0, Some(2));
        assert_eq!(out.records[1].0, 3);
    }

    #[test]
    fn stray_closing_brackets_are_reported_once_each() {
        let out = read(b"}{\"a\":1}]\n", 100);
        assert_eq!(out.records, vec![(2, 1, Some("1".into()))]);
        assert_eq!(
            out.warnings,
            vec![
                (Some(1), 0, "expected a JSON object, found '}'".into()),
                (Some(3), 8, "expected a JSON object, found ']'".into()),
            ]
        );
        let out = read(b"[{\"a\":1}]]", 100);
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.warnings, vec![(Some(2), 9, "expected a JSON object, found ']'".into())]);
    }

    #[test]
    fn lone_surrogate_escapes_become_replacement_character() {
        let input = br#"{"a":"x\ud800y\udc00\ud83d\ude00\\ud800"}"#;
        let out = read(input, 100);
        assert_eq!(out.records, vec![(1, 0, Some("x\u{FFFD}y\u{FFFD}\u{1F600}\\ud800".into()))]);
        assert_eq!(out.warnings, vec![]);
        assert_eq!(replace_lone_surrogates(br#""\ud83d\ude00 \\ud800""#), None);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_character() {
        let out = read(b"{\"a\":\"x\xFFy\"}\n", 100);
        assert_eq!(out.records, vec![(1, 0, Some("x\u{FFFD}y".into()))]);
    }
}
