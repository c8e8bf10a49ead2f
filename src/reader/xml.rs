//! Windows event XML: Event Viewer's "Save as XML" (an `<Events>` root
//! after an XML declaration) and `wevtutil qe /f:xml` (`<Event>` elements
//! one after another, with no root and no declaration).
//!
//! The reader pulls markup with `quick-xml` from whatever has arrived and
//! builds the current event as it goes, so memory is bounded by one event
//! (at most [`Limits::max_record_bytes`] of input), not by the file. Markup cut off
//! at the end of a push is read again when the next push completes it.
//!
//! Fields get the names the evtx JSON rendering gives them (see
//! [`crate::fields`]): `<EventID>` is `EventID`, `<Provider Name=...>` is
//! `Provider_Name`, `<Data Name="SourceImage">` is `SourceImage`, an
//! unnamed `<Data>` is `Data`, and `UserData` children keep their own
//! names. An element with neither text nor attributes is a null field; a
//! named `<Data/>` is an empty one. `RenderingInfo` (the message text in the
//! reader's language) is skipped. Entity and character references are
//! decoded exactly once; an undefined entity is kept as written and
//! reported.

use std::borrow::Cow;

use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::{BytesRef, BytesStart, Event as XmlEvent};

use super::{Reader, Sink, Verdict};
use crate::event::Event;
use crate::fields;
use crate::limits::Limits;

/// The element that contains one record.
const RECORD_ELEMENT: &[u8] = b"Event";
/// The root element of a saved event log.
const ROOT_ELEMENT: &[u8] = b"Events";
/// The rendered message and names, never used for matching.
const RENDERING_ELEMENT: &[u8] = b"RenderingInfo";
/// Bytes kept while searching for the next `<Event`, so that a start tag
/// cut between two pushes is still found.
const RESYNC_TAIL: usize = b"<Event".len();
/// Unfinished markup or text shorter than this is parsed again on every
/// push; a longer one only once the buffer has doubled (see `reparse_at`).
const REPARSE_MIN: usize = 4096;

/// Streaming reader of event XML.
pub struct XmlReader {
    /// Bytes not yet parsed: an incomplete markup or text at the end.
    buffer: Vec<u8>,
    /// Offset in the input of `buffer[0]`.
    base: u64,
    /// The buffer length at which parsing is tried again. Parsing starts
    /// over at the unfinished markup or text, so trying on every push would
    /// read a long one once per push: quadratic time when it comes in
    /// small pieces. Waiting until it doubles keeps the total linear.
    reparse_at: usize,
    state: State,
}

/// The parser state kept between pushes.
struct State {
    limits: Limits,
    /// Open elements around the records (`<Events>`).
    outer_depth: usize,
    record: Option<Record>,
    records: u64,
    /// After a damaged record: skipping to the next `<Event` start tag.
    resync: bool,
}

/// The record being read.
struct Record {
    index: u64,
    offset: u64,
    event: Event,
    /// Dotted element path, `Event.System.Provider`, as in evtx JSON.
    path: String,
    elements: Vec<Element>,
    /// The depth of the `RenderingInfo` element being skipped.
    skip_depth: Option<usize>,
    /// Values kept undecoded, reported after the record.
    problems: Vec<String>,
}

/// An open element of the current record.
struct Element {
    /// The qualified name, to check the end tag against.
    name: Box<[u8]>,
    /// Length of the record's path before this element.
    path_len: usize,
    /// The `Name` attribute of a `<Data>` element.
    data_name: Option<String>,
    text: String,
    has_children: bool,
    has_attributes: bool,
}

/// The end state of parsing the buffered bytes.
enum Outcome {
    /// Everything complete was read; the rest starts at this position.
    NeedMore(usize),
    /// The input ends inside markup that starts at this position.
    Truncated(usize),
    /// Damaged XML at this position.
    Invalid(usize, String),
    /// A record ruled out by the prefilter ends at this position.
    RuledOut(usize),
}

impl XmlReader {
    pub fn new() -> XmlReader {
        XmlReader::with_limits(Limits::default())
    }

    /// Creates a reader that skips events over `limits.max_record_bytes`
    /// or with elements nested deeper than `limits.max_depth`.
    pub fn with_limits(limits: Limits) -> XmlReader {
        let state = State { limits, outer_depth: 0, record: None, records: 0, resync: false };
        XmlReader { buffer: Vec::new(), base: 0, reparse_at: 0, state }
    }

    /// Reads every complete markup in the buffer, then drops what was read.
    fn parse(&mut self, at_end: bool, sink: &mut dyn Sink) {
        let mut position = 0;
        loop {
            if self.state.resync {
                match find_record_start(&self.buffer[position..]) {
                    Some(start) => {
                        position += start;
                        self.state.resync = false;
                    }
                    None => {
                        position = position.max(self.buffer.len().saturating_sub(RESYNC_TAIL));
                        break;
                    }
                }
            }
            let base = self.base + position as u64;
            match self.state.parse_slice(&self.buffer[position..], base, at_end, sink) {
                Outcome::NeedMore(read) => {
                    position += read;
                    break;
                }
                Outcome::Truncated(at) => {
                    self.state.truncated(base + at as u64, sink);
                    position = self.buffer.len();
                    break;
                }
                Outcome::RuledOut(end) => position += end,
                Outcome::Invalid(at, message) => {
                    self.state.invalid(base + at as u64, message, sink);
                    // Past the damage, so the search for the next event moves on.
                    position = (position + at + 1).min(self.buffer.len());
                }
            }
        }
        self.consume(position);
        self.limit_buffer(sink);
        let unfinished = self.buffer.len();
        let max = self.state.limits.max_record_bytes;
        // Parsed again before the buffer can go over the limit.
        self.reparse_at = if unfinished >= REPARSE_MIN { (2 * unfinished).min(max.saturating_add(1)) } else { 0 };
    }

    /// Reports and drops unfinished markup larger than a record may be.
    fn limit_buffer(&mut self, sink: &mut dyn Sink) {
        let max = self.state.limits.max_record_bytes;
        if self.buffer.len() <= max {
            return;
        }
        let message = format!("XML markup or text longer than the maxRecordBytes limit of {max} bytes; skipped");
        self.state.invalid(self.base, message, sink);
        let keep_from = self.buffer.len().saturating_sub(RESYNC_TAIL);
        self.consume(keep_from);
    }

    fn consume(&mut self, count: usize) {
        self.buffer.drain(..count);
        self.base += count as u64;
    }
}

impl Default for XmlReader {
    fn default() -> Self {
        XmlReader::new()
    }
}

impl Reader for XmlReader {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn Sink) {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= self.reparse_at {
            self.parse(false, sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        self.parse(true, sink);
        if let Some(record) = self.state.record.take() {
            let message = "truncated XML event: the input ends inside it".to_string();
            sink.warning(Some(record.index), record.offset, message);
        }
        self.buffer.clear();
    }
}

impl State {
    /// Reads the markup in `slice`, which starts at input offset `base`.
    fn parse_slice(&mut self, slice: &[u8], base: u64, at_end: bool, sink: &mut dyn Sink) -> Outcome {
        let mut xml = quick_xml::Reader::from_reader(slice);
        let config = xml.config_mut();
        // Each push starts a new parser, so an end tag may close an element
        // opened in an earlier push; the reader checks names itself.
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.allow_dangling_amp = true;

        loop {
            let before = xml.buffer_position() as usize;
            let event = match xml.read_event() {
                Ok(XmlEvent::Eof) => return Outcome::NeedMore(before),
                Ok(event) => event,
                Err(error) if ends_inside_markup(&error, slice.len().saturating_sub(xml.error_position() as usize)) => {
                    return if at_end { Outcome::Truncated(before) } else { Outcome::NeedMore(before) };
                }
                Err(error) => return Outcome::Invalid(xml.error_position() as usize, format!("invalid XML: {error}")),
            };
            // Text that reaches the end may go on in the next push.
            let unfinished = matches!(event, XmlEvent::Text(_)) && xml.buffer_position() as usize == slice.len();
            if unfinished && !at_end {
                return Outcome::NeedMore(before);
            }
            if let XmlEvent::Start(start) = &event {
                if let Some(end) = self.rule_out(start, slice, before, xml.buffer_position() as usize, sink) {
                    return Outcome::RuledOut(end);
                }
            }
            let end = base + xml.buffer_position();
            if let Err(message) = self.handle(event, base + before as u64, end, sink) {
                return Outcome::Invalid(before, message);
            }
        }
    }

    /// Skips a record whose whole text is in `slice` (from `start` on, its
    /// start tag ending at `after`) when the prefilter finds no literal in
    /// it, because it cannot match; returns where the record ends.
    fn rule_out(&mut self, tag: &BytesStart<'_>, slice: &[u8], start: usize, after: usize, sink: &mut dyn Sink) -> Option<usize> {
        if self.record.is_some() || tag.local_name().as_ref() != RECORD_ELEMENT {
            return None;
        }
        let prefilter = sink.prefilter()?;
        let end_tag = [b"</", tag.name().as_ref(), b">"].concat();
        let end = after + memchr::memmem::find(slice.get(after..)?, &end_tag)? + end_tag.len();
        if prefilter.find(slice.get(start..end)?).is_some() {
            return None;
        }
        self.records += 1;
        sink.skipped(1);
        Some(end)
    }

    /// Applies one piece of markup that starts at input offset `at` and
    /// ends before `end`.
    fn handle(&mut self, event: XmlEvent<'_>, at: u64, end: u64, sink: &mut dyn Sink) -> Result<(), String> {
        let max = self.limits.max_record_bytes;
        if let Some(record) = &self.record {
            if end.saturating_sub(record.offset) > max as u64 {
                return Err(format!("XML event larger than the maxRecordBytes limit of {max} bytes; skipped"));
            }
        }
        match event {
            XmlEvent::Start(start) => self.open(&start, at)?,
            XmlEvent::Empty(start) => {
                self.open(&start, at)?;
                self.close(start.name().as_ref(), sink)?;
            }
            XmlEvent::End(end) => self.close(end.name().as_ref(), sink)?,
            XmlEvent::Text(text) => self.text(&text, at, sink),
            XmlEvent::CData(data) => self.text(&data, at, sink),
            XmlEvent::GeneralRef(reference) => self.reference(&reference),
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) | XmlEvent::Eof => {}
        }
        Ok(())
    }

    fn open(&mut self, start: &BytesStart<'_>, at: u64) -> Result<(), String> {
        let max_depth = self.limits.max_depth;
        if let Some(record) = &mut self.record {
            return record.open(start, max_depth);
        }
        if start.local_name().as_ref() != RECORD_ELEMENT {
            // `<Events>`, or another element around the records.
            self.outer_depth += 1;
            return Ok(());
        }
        self.records += 1;
        let mut record = Record::new(self.records, at);
        let opened = record.open(start, max_depth);
        self.record = Some(record);
        opened
    }

    fn close(&mut self, name: &[u8], sink: &mut dyn Sink) -> Result<(), String> {
        let Some(record) = &mut self.record else {
            self.outer_depth = self.outer_depth.saturating_sub(1);
            return Ok(());
        };
        if !record.close(name)? {
            return Ok(());
        }
        if let Some(record) = self.record.take() {
            record.deliver(sink);
        }
        Ok(())
    }

    fn text(&mut self, raw: &[u8], at: u64, sink: &mut dyn Sink) {
        match &mut self.record {
            Some(record) => record.append_text(raw),
            None if !raw.trim_ascii().is_empty() => {
                let shown: String = String::from_utf8_lossy(raw.trim_ascii()).chars().take(40).collect();
                sink.warning(None, at, format!("text outside <Event> elements ignored: {shown:?}"));
            }
            None => {}
        }
    }

    fn reference(&mut self, reference: &BytesRef<'_>) {
        if let Some(record) = &mut self.record {
            record.append_reference(reference);
        }
    }

    /// Reports the damaged record (or markup) at `at`, then skips to the
    /// next `<Event`.
    fn invalid(&mut self, at: u64, message: String, sink: &mut dyn Sink) {
        match self.record.take() {
            Some(record) => {
                let message = format!("{message} (at byte {at}); the event is skipped");
                sink.warning(Some(record.index), record.offset, message);
            }
            None => sink.warning(None, at, message),
        }
        self.resync = true;
    }

    fn truncated(&mut self, at: u64, sink: &mut dyn Sink) {
        match self.record.take() {
            Some(record) => {
                let message = "truncated XML event: the input ends inside it".to_string();
                sink.warning(Some(record.index), record.offset, message);
            }
            None => sink.warning(None, at, "truncated XML: the input ends inside markup".to_string()),
        }
    }
}

impl Record {
    fn new(index: u64, offset: u64) -> Record {
        Record {
            index,
            offset,
            event: Event::default(),
            path: String::new(),
            elements: Vec::new(),
            skip_depth: None,
            problems: Vec::new(),
        }
    }

    fn open(&mut self, start: &BytesStart<'_>, max_depth: usize) -> Result<(), String> {
        if self.elements.len() >= max_depth {
            return Err(format!("XML event nested deeper than the maxDepth limit of {max_depth} elements"));
        }
        if let Some(parent) = self.elements.last_mut() {
            parent.has_children = true;
        }
        let local = start.local_name();
        let path_len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(&String::from_utf8_lossy(local.as_ref()));
        if self.skip_depth.is_none() && self.elements.len() == 1 && local.as_ref() == RENDERING_ELEMENT {
            self.skip_depth = Some(self.elements.len());
        }

        let mut element = Element {
            name: start.name().as_ref().into(),
            path_len,
            data_name: None,
            text: String::new(),
            has_children: false,
            has_attributes: false,
        };
        if self.skip_depth.is_none() {
            self.read_attributes(start, &mut element, local.as_ref() == b"Data")?;
        }
        self.elements.push(element);
        Ok(())
    }

    /// Adds the attributes as `Element_Attribute` fields; a `<Data Name>`
    /// names the element's value instead.
    fn read_attributes(&mut self, start: &BytesStart<'_>, element: &mut Element, is_data: bool) -> Result<(), String> {
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|error| format!("invalid XML attribute: {error}"))?;
            let key = attribute.key;
            if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
                continue;
            }
            let value = self.attribute_value(&attribute.value);
            let local = String::from_utf8_lossy(key.local_name().as_ref()).into_owned();
            if is_data && local == "Name" {
                element.data_name = Some(value);
                continue;
            }
            element.has_attributes = true;
            let path = format!("{}_{local}", self.path);
            self.event.push(&fields::sigma_name(&path), Some(&value));
        }
        Ok(())
    }

    /// Decodes an attribute value: line ends and tabs written as such
    /// become spaces (XML attribute-value normalisation), then references
    /// are resolved.
    fn attribute_value(&mut self, raw: &[u8]) -> String {
        let text = String::from_utf8_lossy(raw);
        let spaced: Cow<'_, str> = if text.contains(['\r', '\n', '\t']) {
            Cow::Owned(text.replace("\r\n", " ").replace(['\r', '\n', '\t'], " "))
        } else {
            text
        };
        match quick_xml::escape::unescape(&spaced) {
            Ok(value) => value.into_owned(),
            Err(error) => {
                self.problems.push(format!("attribute value {spaced:?} kept as written: {error}"));
                spaced.into_owned()
            }
        }
    }

    /// Closes the innermost element; returns whether it was the record's own.
    fn close(&mut self, name: &[u8]) -> Result<bool, String> {
        let Some(element) = self.elements.pop() else { return Ok(true) };
        if *element.name != *name {
            let expected = String::from_utf8_lossy(&element.name);
            let found = String::from_utf8_lossy(name);
            return Err(format!("invalid XML: expected </{expected}>, found </{found}>"));
        }
        match self.skip_depth {
            Some(depth) if depth == self.elements.len() => self.skip_depth = None,
            Some(_) => {}
            None => self.add_value(element.data_name, element.text, element.has_children, element.has_attributes),
        }
        self.path.truncate(element.path_len);
        Ok(self.elements.is_empty())
    }

    /// Adds the value of the element at the current path.
    fn add_value(&mut self, data_name: Option<String>, text: String, has_children: bool, has_attributes: bool) {
        if let Some(name) = data_name {
            self.event.push(&name, Some(&text));
            return;
        }
        let name = fields::sigma_name(&self.path);
        if has_children {
            // Whitespace between child elements is layout, not a value.
            if !text.trim().is_empty() {
                self.event.push(&name, Some(&text));
            }
        } else if !text.is_empty() {
            self.event.push(&name, Some(&text));
        } else if !has_attributes {
            self.event.push(&name, None);
        }
    }

    fn current_text(&mut self) -> Option<&mut String> {
        if self.skip_depth.is_some() {
            return None;
        }
        self.elements.last_mut().map(|element| &mut element.text)
    }

    /// Appends character data; line ends become `\n` as XML requires.
    fn append_text(&mut self, raw: &[u8]) {
        let Some(target) = self.current_text() else { return };
        let text = String::from_utf8_lossy(raw);
        if text.contains('\r') {
            target.push_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
        } else {
            target.push_str(&text);
        }
    }

    fn append_reference(&mut self, reference: &BytesRef<'_>) {
        let name = String::from_utf8_lossy(reference).into_owned();
        let resolved = match reference.resolve_char_ref() {
            Ok(Some(character)) => Ok(character.to_string()),
            Ok(None) => quick_xml::escape::resolve_predefined_entity(&name)
                .map(str::to_string)
                .ok_or_else(|| format!("undefined entity &{name}; kept as written")),
            Err(error) => Err(format!("&{name}; kept as written: {error}")),
        };
        let text = match resolved {
            Ok(text) => text,
            Err(problem) => {
                self.problems.push(problem);
                format!("&{name};")
            }
        };
        if let Some(target) = self.current_text() {
            target.push_str(&text);
        }
    }

    /// Hands the finished event to the sink, with a warning for each value
    /// kept undecoded.
    fn deliver(mut self, sink: &mut dyn Sink) {
        fields::add_aliases(&mut self.event);
        sink.record(self.event, self.index, self.offset);
        for problem in self.problems {
            sink.warning(Some(self.index), self.offset, problem);
        }
    }
}

/// Returns whether a parse error only means that the slice ends inside markup.
/// `remaining` counts the bytes from the error position to the end.
fn ends_inside_markup(error: &XmlError, remaining: usize) -> bool {
    match error {
        XmlError::Syntax(SyntaxError::InvalidBangMarkup) => remaining < b"<![CDATA[".len(),
        XmlError::Syntax(_) => true,
        XmlError::IllFormed(IllFormedError::UnclosedReference) => true,
        _ => false,
    }
}

/// Finds the next `<Event` start tag (not `<Events` or `<EventData`).
fn find_record_start(bytes: &[u8]) -> Option<usize> {
    let finder = memchr::memmem::find_iter(bytes, b"<Event");
    for start in finder {
        match bytes.get(start + RESYNC_TAIL) {
            Some(b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n') => return Some(start),
            Some(_) => continue,
            None => return None,
        }
    }
    None
}

/// Checks that XML text (starting at `<`) has `<Events>` or `<Event>` as
/// its first element, after any declaration, comments and doctype.
pub(crate) fn sniff_root(text: &[u8], complete: bool) -> Verdict {
    let incomplete = if complete { Verdict::No(Some("the input ends before the first XML element".into())) } else { Verdict::NeedMore };
    let mut rest = text;
    loop {
        rest = rest.trim_ascii_start();
        let skip_to = if rest.starts_with(b"<?") {
            b"?>".as_slice()
        } else if rest.starts_with(b"<!--") {
            b"-->".as_slice()
        } else if rest.starts_with(b"<!") {
            b">".as_slice()
        } else {
            break;
        };
        match memchr::memmem::find(rest, skip_to) {
            Some(end) => rest = &rest[end + skip_to.len()..],
            None => return incomplete,
        }
    }
    let Some(tag) = rest.strip_prefix(b"<") else {
        return if rest.is_empty() { incomplete } else { Verdict::No(None) };
    };
    let Some(name_end) = tag.iter().position(|b| matches!(b, b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')) else {
        return incomplete;
    };
    let name = &tag[..name_end];
    let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
    if local == ROOT_ELEMENT || local == RECORD_ELEMENT {
        return Verdict::Yes;
    }
    let shown = String::from_utf8_lossy(name);
    Verdict::No(Some(format!("an XML document whose root element is <{shown}>, not <Events> or <Event>")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::testing::{read, read_prefiltered};

    const SAVED: &str = r#"<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID>10</EventID><TimeCreated SystemTime='2025-11-27T07:22:22.0338285Z'/><EventRecordID>445923</EventRecordID><Correlation/><Execution ProcessID='3544' ThreadID='4264'/><Channel>Microsoft-Windows-Sysmon/Operational</Channel></System><EventData><Data Name='SourceImage'>C:\Windows\System32\WerFaultSecure.exe</Data><Data Name='RuleName'/><Data Name='CallTrace'>a&amp;lt;b|c&#x41;</Data></EventData><RenderingInfo Culture='en-US'><Message>Process accessed</Message><Channel>Sysmon</Channel></RenderingInfo></Event>
<Event><System><EventID Qualifiers=''>4688</EventID></System><EventData><Data>first</Data><Data>second</Data></EventData></Event></Events>"#;

    #[test]
    fn saved_events_in_any_pieces() {
        for piece in [1, 2, 7, 64, 10_000] {
            let out = read(XmlReader::new(), SAVED.as_bytes(), piece);
            assert_eq!(out.warnings, vec![], "piece {piece}");
            assert_eq!(out.positions(), vec![(1, 64), (2, 747)], "piece {piece}");
        }
    }

    #[test]
    fn system_fields_have_evtx_json_names() {
        let out = read(XmlReader::new(), SAVED.as_bytes(), 10_000);
        let event = &out.records[0].3;
        assert_eq!(event.get("EventID"), Some("10"));
        assert_eq!(event.get("Provider_Name"), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(event.get("TimeCreated_SystemTime"), Some("2025-11-27T07:22:22.0338285Z"));
        assert_eq!(event.get("EventRecordID"), Some("445923"));
        assert_eq!(event.get("Execution_ProcessID"), Some("3544"));
        assert_eq!(event.get("Channel"), Some("Microsoft-Windows-Sysmon/Operational"));
        assert!(event.has("Correlation"));
        assert_eq!(event.get("Correlation"), None);
        assert!(!event.has("Event_xmlns"));
    }

    #[test]
    fn event_data_and_entities() {
        let out = read(XmlReader::new(), SAVED.as_bytes(), 3);
        let event = &out.records[0].3;
        assert_eq!(event.get("SourceImage"), Some(r"C:\Windows\System32\WerFaultSecure.exe"));
        assert_eq!(event.get("CallTrace"), Some("a&lt;b|cA"));
        assert!(event.has("RuleName"));
        assert_eq!(event.get("RuleName"), Some(""));
        let second = &out.records[1].3;
        assert_eq!(second.get("EventID_Qualifiers"), Some(""));
        let data: Vec<_> = second.fields().iter().filter(|f| &*f.name == "Data").map(|f| f.value.as_deref()).collect();
        assert_eq!(data, vec![Some("first"), Some("second")]);
    }

    #[test]
    fn rendering_info_is_skipped() {
        let out = read(XmlReader::new(), SAVED.as_bytes(), 10_000);
        let event = &out.records[0].3;
        assert!(event.fields().iter().all(|f| !f.name.contains("Message") && !f.name.contains("RenderingInfo")));
        let channels: Vec<_> = event.fields().iter().filter(|f| &*f.name == "Channel").collect();
        assert_eq!(channels.len(), 1);
    }

    #[test]
    fn wevtutil_layout_and_user_data() {
        let input = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1102</EventID></System><UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'><SubjectUserName>admin</SubjectUserName></LogFileCleared></UserData></Event><Event><System><EventID>1</EventID></System></Event>";
        let out = read(XmlReader::new(), input.as_bytes(), 5);
        assert_eq!(out.warnings, vec![]);
        assert_eq!(out.values("EventID"), vec![Some("1102".into()), Some("1".into())]);
        assert_eq!(out.values("SubjectUserName"), vec![Some("admin".into()), None]);
    }

    #[test]
    fn damaged_event_is_reported_and_skipped() {
        let input = "<Events><Event><System><EventID>1</EventID></System></Event>\n<Event><System><EventID>2</Channel></System></Event>\n<Event><System><EventID>3</EventID></System></Event></Events>";
        for piece in [1, 4, 1000] {
            let out = read(XmlReader::new(), input.as_bytes(), piece);
            assert_eq!(out.values("EventID"), vec![Some("1".into()), Some("3".into())], "piece {piece}");
            assert_eq!(out.positions(), vec![(1, 8), (3, 114)], "piece {piece}");
            assert_eq!(out.warnings.len(), 1, "piece {piece}");
            let (_, record, offset, message) = &out.warnings[0];
            assert_eq!((*record, *offset), (Some(2), 61));
            assert_eq!(message, "invalid XML: expected </EventID>, found </Channel> (at byte 86); the event is skipped");
        }
    }

    #[test]
    fn truncated_event_is_reported() {
        let input = "<Event><System><EventID>1</EventID></System></Event><Event><System><EventI";
        let out = read(XmlReader::new(), input.as_bytes(), 8);
        assert_eq!(out.values("EventID"), vec![Some("1".into())]);
        let expected = (None, Some(2), 52, "truncated XML event: the input ends inside it".to_string());
        assert_eq!(out.warnings, vec![expected]);
    }

    #[test]
    fn undefined_entity_is_kept_and_reported() {
        let input = "<Event><EventData><Data Name='CommandLine'>a&nbsp;b</Data></EventData></Event>";
        let out = read(XmlReader::new(), input.as_bytes(), 6);
        assert_eq!(out.values("CommandLine"), vec![Some("a&nbsp;b".into())]);
        let expected = (None, Some(1), 0, "undefined entity &nbsp; kept as written".to_string());
        assert_eq!(out.warnings, vec![expected]);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_character() {
        let input = b"<Event><EventData><Data Name='Image'>C:\\x\xFFy.exe</Data><Data Name='User'>ok</Data></EventData></Event>";
        let out = read(XmlReader::new(), input, 4);
        assert_eq!(out.values("Image"), vec![Some("C:\\x\u{FFFD}y.exe".into())]);
        assert_eq!(out.values("User"), vec![Some("ok".into())]);
    }

    #[test]
    fn line_ends_and_cdata() {
        let input = "<Event><EventData><Data Name='A'>x\r\ny</Data><Data Name='B'><![CDATA[<&amp;>]]></Data><Data Name='C'>&#xD;&#xA;</Data></EventData></Event>";
        let out = read(XmlReader::new(), input.as_bytes(), 3);
        assert_eq!(out.values("A"), vec![Some("x\ny".into())]);
        assert_eq!(out.values("B"), vec![Some("<&amp;>".into())]);
        assert_eq!(out.values("C"), vec![Some("\r\n".into())]);
    }

    #[test]
    fn prefilter_skips_whole_events_without_literal() {
        let input = "<Events><Event><EventData><Data Name='Image'>a.exe</Data></EventData></Event>\n\
                     <Event><EventData><Data Name='Image'>C:\\WerFaultSecure.exe</Data></EventData></Event>\n\
                     <Event><EventData><Data Name='Image'>b.exe</Data></EventData></Event></Events>";
        let out = read_prefiltered(XmlReader::new(), input.as_bytes(), 10_000, &["werfaultsecure.exe"]);
        assert_eq!(out.values("Image"), vec![Some("C:\\WerFaultSecure.exe".into())]);
        assert_eq!(out.positions(), vec![(2, 78)]);
        assert_eq!(out.skipped, 2);
        assert_eq!(out.warnings, vec![]);
        // An event cut between two pushes is parsed, because the prefilter searches only whole ones.
        let out = read_prefiltered(XmlReader::new(), input.as_bytes(), 40, &["werfaultsecure.exe"]);
        assert_eq!(out.records.len() as u64 + out.skipped, 3);
        assert!(out.values("Image").contains(&Some("C:\\WerFaultSecure.exe".into())));
    }

    #[test]
    fn stray_text_is_reported() {
        let out = read(XmlReader::new(), b"<Events>junk<Event/></Events>", 100);
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.warnings, vec![(None, None, 8, "text outside <Event> elements ignored: \"junk\"".to_string())]);
    }
}
