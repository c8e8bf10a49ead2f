//! The streaming scanner: bytes of one input in, matches out.
//!
//! `push` takes the input in pieces of any size (a record may be split
//! across two pushes) and returns the matches of the records it completed;
//! `finish` reads what is left and returns a [`Summary`]. The format is
//! sniffed from the first bytes. A record that cannot be read becomes a
//! [`Warning`] and the scan goes on; an input in no supported format is one
//! [`InputError`]. Records of a zip member are reported under the name
//! `archive.zip:member`.

use std::sync::Arc;

use crate::engine::{Engine, Match};
use crate::error::{InputError, Warning};
use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::reader::{Detect, Format, Reader, Sink};

/// Counts for one scanned input.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub file: String,
    /// The outermost format, once known: `evtx`, `json`, `xml`, `csv`,
    /// `utf-16le`, `utf-16be`, `gzip` or `zip`.
    pub format: Option<&'static str>,
    pub bytes: u64,
    /// Records read, including those that could not be parsed.
    pub records: u64,
    /// Records ruled out by the prefilter without being parsed.
    pub records_skipped: u64,
    pub matches: u64,
    pub warnings: u64,
}

/// Scans one input against an engine's rules.
pub struct Scanner {
    reader: Detect,
    collected: Collected,
    failed: Option<InputError>,
    finished: bool,
}

/// The sink given to readers: evaluates their records and collects the results.
struct Collected {
    engine: Arc<Engine>,
    summary: Summary,
    matches: Vec<Match>,
    warnings: Vec<Warning>,
    /// The content is in no supported format: what its start looks like.
    unknown: Option<String>,
    /// `(index, offset)` of the last record delivered, to tell a warning
    /// about a delivered record from one about a record that was lost.
    last_record: Option<(u64, u64)>,
    use_prefilter: bool,
    include_event: bool,
}

impl Collected {
    /// Evaluates one record; `member` names the zip member it came from.
    fn evaluate(&mut self, member: Option<&str>, event: Event, index: u64, offset: u64) {
        self.summary.records += 1;
        self.last_record = Some((index, offset));
        let found = self.engine.evaluate(&event);
        if found.is_empty() {
            return;
        }
        let file = match member {
            Some(member) => self.member_file(member),
            None => self.summary.file.clone(),
        };
        for mut found in found {
            found.file = Some(file.clone());
            found.record = Some(index);
            found.offset = Some(offset);
            if self.include_event {
                found.event = Some(event.to_map());
            }
            self.summary.matches += 1;
            self.matches.push(found);
        }
    }

    fn add_warning(&mut self, file: String, record: Option<u64>, offset: u64, message: String) {
        let about_delivered = record.is_some_and(|index| self.last_record == Some((index, offset)));
        if record.is_some() && !about_delivered {
            // A record that could not be parsed still counts as read.
            self.summary.records += 1;
        }
        self.summary.warnings += 1;
        self.warnings.push(Warning { file, record, offset, message });
    }

    fn member_file(&self, member: &str) -> String {
        format!("{}:{member}", self.summary.file)
    }
}

impl Sink for Collected {
    fn prefilter(&self) -> Option<&Prefilter> {
        self.engine.prefilter().filter(|_| self.use_prefilter)
    }

    fn skipped(&mut self, records: u64) {
        self.summary.records += records;
        self.summary.records_skipped += records;
    }

    fn record(&mut self, event: Event, index: u64, offset: u64) {
        self.evaluate(None, event, index, offset);
    }

    fn warning(&mut self, record: Option<u64>, offset: u64, message: String) {
        self.add_warning(self.summary.file.clone(), record, offset, message);
    }

    fn member_record(&mut self, member: &str, event: Event, index: u64, offset: u64) {
        self.evaluate(Some(member), event, index, offset);
    }

    fn member_warning(&mut self, member: &str, record: Option<u64>, offset: u64, message: String) {
        self.add_warning(self.member_file(member), record, offset, message);
    }

    fn unknown_format(&mut self, seen: String) {
        self.unknown.get_or_insert(seen);
    }
}

impl Scanner {
    /// Starts a scan of the input called `file`. The name is used in
    /// matches and messages only, because the format is detected from content.
    pub fn new(engine: Arc<Engine>, file: impl Into<String>) -> Scanner {
        let summary = Summary { file: file.into(), ..Summary::default() };
        let collected = Collected {
            engine,
            summary,
            matches: Vec::new(),
            warnings: Vec::new(),
            unknown: None,
            last_record: None,
            use_prefilter: true,
            include_event: false,
        };
        Scanner { reader: Detect::new(0), collected, failed: None, finished: false }
    }

    /// Turns the raw-byte prefilter off (or back on). Matches never depend
    /// on it; without it every record is parsed, which is slower.
    pub fn set_prefilter(&mut self, enabled: bool) {
        self.collected.use_prefilter = enabled;
    }

    /// Adds every field of the matched event to each match (off by
    /// default, because it makes matches larger).
    pub fn set_include_event(&mut self, enabled: bool) {
        self.collected.include_event = enabled;
    }

    /// Reads the next piece of the input and returns the matches of the
    /// records it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Match>, InputError> {
        self.check_usable()?;
        self.collected.summary.bytes += bytes.len() as u64;
        self.reader.push(bytes, &mut self.collected);
        self.check_format()?;
        Ok(std::mem::take(&mut self.collected.matches))
    }

    fn check_usable(&self) -> Result<(), InputError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if self.finished {
            return Err(InputError::Finished { file: self.file().to_string() });
        }
        Ok(())
    }

    /// Records the format once known, and fails when there is none.
    fn check_format(&mut self) -> Result<(), InputError> {
        self.collected.summary.format = self.reader.format().map(Format::name);
        let Some(seen) = self.collected.unknown.take() else { return Ok(()) };
        let error = InputError::UnknownFormat { file: self.file().to_string(), seen };
        self.failed = Some(error.clone());
        Err(error)
    }

    /// Warnings found since the last call.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.collected.warnings)
    }

    /// Counts so far.
    pub fn summary(&self) -> &Summary {
        &self.collected.summary
    }

    pub fn file(&self) -> &str {
        &self.collected.summary.file
    }

    /// Returns the outermost format, once the first bytes have shown it.
    pub fn format(&self) -> Option<Format> {
        self.reader.format()
    }

    /// Reads the rest of the input and returns its last matches with the
    /// summary. Warnings stay available through [`Scanner::take_warnings`].
    pub fn finish(&mut self) -> Result<(Vec<Match>, Summary), InputError> {
        self.check_usable()?;
        self.finished = true;
        self.reader.finish(&mut self.collected);
        self.check_format()?;
        Ok((std::mem::take(&mut self.collected.matches), self.collected.summary.clone()))
    }
}

/// Scans a whole input held in memory: matches, warnings and summary.
pub fn scan_bytes(
    engine: Arc<Engine>,
    file: &str,
    bytes: &[u8],
) -> Result<(Vec<Match>, Vec<Warning>, Summary), InputError> {
    let mut scanner = Scanner::new(engine, file);
    let mut matches = scanner.push(bytes)?;
    let (rest, summary) = scanner.finish()?;
    matches.extend(rest);
    Ok((matches, scanner.take_warnings(), summary))
}
