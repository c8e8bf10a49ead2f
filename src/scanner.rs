//! The streaming scanner: bytes of one input in, matches out.
//!
//! `push` takes the input in pieces of any size (a record may be split
//! across two pushes) and returns the matches of the records it completed;
//! `finish` reads what is left and returns a [`Summary`]. The format is
//! sniffed from the first bytes. A record that cannot be read becomes a
//! [`Warning`] and the scan goes on; an input in no supported format is one
//! [`InputError`].

use std::sync::Arc;

use crate::engine::{Engine, Match};
use crate::error::{InputError, Warning};
use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::reader::{self, Format, Reader, Sink, Sniffed};

/// How much of an input's start is kept to tell its format before giving up.
const MAX_SNIFF_BYTES: usize = 64 * 1024;

/// Counts for one scanned input.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub file: String,
    /// `evtx`, `json` or `xml`, once known.
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
    state: State,
    collected: Collected,
    failed: Option<InputError>,
}

enum State {
    Sniffing(Vec<u8>),
    Reading(Box<dyn Reader>),
    Finished,
}

/// What the readers delivered, evaluated: the sink given to readers.
struct Collected {
    engine: Arc<Engine>,
    summary: Summary,
    matches: Vec<Match>,
    warnings: Vec<Warning>,
    use_prefilter: bool,
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
        self.summary.records += 1;
        for mut found in self.engine.evaluate(&event) {
            found.file = Some(self.summary.file.clone());
            found.record = Some(index);
            found.offset = Some(offset);
            self.summary.matches += 1;
            self.matches.push(found);
        }
    }

    fn warning(&mut self, record: Option<u64>, offset: u64, message: String) {
        if record.is_some() {
            // A record that could not be parsed still counts as read.
            self.summary.records += 1;
        }
        self.summary.warnings += 1;
        self.warnings.push(Warning { file: self.summary.file.clone(), record, offset, message });
    }
}

impl Scanner {
    /// Starts a scan of the input called `file` (used in matches and
    /// messages only; the format is told from content).
    pub fn new(engine: Arc<Engine>, file: impl Into<String>) -> Scanner {
        let summary = Summary { file: file.into(), ..Summary::default() };
        Scanner {
            state: State::Sniffing(Vec::new()),
            collected: Collected { engine, summary, matches: Vec::new(), warnings: Vec::new(), use_prefilter: true },
            failed: None,
        }
    }

    /// Turns the raw-byte prefilter off (or back on). Matches never depend
    /// on it; without it every record is parsed, which is slower.
    pub fn set_prefilter(&mut self, enabled: bool) {
        self.collected.use_prefilter = enabled;
    }

    /// Reads the next piece of the input and returns the matches of the
    /// records it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Match>, InputError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        self.collected.summary.bytes += bytes.len() as u64;
        match &mut self.state {
            State::Finished => return Err(InputError::Finished { file: self.collected.summary.file.clone() }),
            State::Reading(reader) => reader.push(bytes, &mut self.collected),
            State::Sniffing(prefix) => {
                prefix.extend_from_slice(bytes);
                self.try_start(false)?;
            }
        }
        Ok(std::mem::take(&mut self.collected.matches))
    }

    fn try_start(&mut self, complete: bool) -> Result<(), InputError> {
        let State::Sniffing(prefix) = &mut self.state else { return Ok(()) };
        let format = match reader::sniff(prefix, complete || prefix.len() >= MAX_SNIFF_BYTES) {
            Sniffed::NeedMore => return Ok(()),
            Sniffed::Unknown(seen) => return Err(self.fail(InputError::UnknownFormat { file: self.file().to_string(), seen })),
            Sniffed::Format(format) => format,
        };
        let mut reader = match reader::reader_for(format) {
            Ok(reader) => reader,
            Err(message) => {
                let seen = format!("{} ({message})", reader::describe_prefix(prefix));
                return Err(self.fail(InputError::UnknownFormat { file: self.file().to_string(), seen }));
            }
        };
        let prefix = std::mem::take(prefix);
        self.collected.summary.format = Some(format.name());
        reader.push(&prefix, &mut self.collected);
        self.state = State::Reading(reader);
        Ok(())
    }

    fn fail(&mut self, error: InputError) -> InputError {
        self.failed = Some(error.clone());
        self.state = State::Finished;
        error
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

    /// The format, once the first bytes have told it.
    pub fn format(&self) -> Option<Format> {
        match self.collected.summary.format {
            Some("evtx") => Some(Format::Evtx),
            Some("json") => Some(Format::Json),
            Some("xml") => Some(Format::Xml),
            _ => None,
        }
    }

    /// Reads the rest of the input and returns its last matches with the
    /// summary. Warnings stay available through [`Scanner::take_warnings`].
    pub fn finish(&mut self) -> Result<(Vec<Match>, Summary), InputError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        self.try_start(true)?;
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Reading(mut reader) => reader.finish(&mut self.collected),
            State::Finished => return Err(InputError::Finished { file: self.file().to_string() }),
            State::Sniffing(_) => {}
        }
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
