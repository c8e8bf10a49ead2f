//! The reader that sniffs its input first, then hands it to the reader of
//! the format found. The scanner reads each input through one, and so does
//! each container or encoding for its content.

use super::{describe_prefix, reader_for, sniff, Format, Reader, Sink, Sniffed};

/// Maximum bytes of an input's start kept to detect its format.
pub const MAX_SNIFF_BYTES: usize = 64 * 1024;

/// A reader for content of any supported format.
pub struct Detect {
    /// Containers and encodings around this content.
    layers: usize,
    state: State,
}

enum State {
    Sniffing(Vec<u8>),
    Reading(Format, Box<dyn Reader>),
    /// In no supported format, already reported; further bytes are ignored.
    Rejected,
}

impl Detect {
    /// Creates a reader for content wrapped in `layers` containers or
    /// encodings (0 for a file itself).
    pub fn new(layers: usize) -> Detect {
        Detect { layers, state: State::Sniffing(Vec::new()) }
    }

    /// Returns the format, once the first bytes have shown it.
    pub fn format(&self) -> Option<Format> {
        match &self.state {
            State::Reading(format, _) => Some(*format),
            _ => None,
        }
    }

    /// Starts the reader once the prefix shows the format.
    fn try_start(&mut self, complete: bool, sink: &mut dyn Sink) {
        let State::Sniffing(prefix) = &mut self.state else { return };
        let format = match sniff(prefix, complete || prefix.len() >= MAX_SNIFF_BYTES) {
            Sniffed::NeedMore => return,
            Sniffed::Unknown(seen) => {
                self.state = State::Rejected;
                sink.unknown_format(seen);
                return;
            }
            Sniffed::Format(format) => format,
        };
        match reader_for(format, self.layers) {
            Ok(mut reader) => {
                let prefix = std::mem::take(prefix);
                reader.push(&prefix, sink);
                self.state = State::Reading(format, reader);
            }
            Err(reason) => {
                let seen = format!("{} ({reason})", describe_prefix(prefix));
                self.state = State::Rejected;
                sink.unknown_format(seen);
            }
        }
    }
}

impl Reader for Detect {
    fn push(&mut self, bytes: &[u8], sink: &mut dyn Sink) {
        match &mut self.state {
            State::Sniffing(prefix) => {
                prefix.extend_from_slice(bytes);
                self.try_start(false, sink);
            }
            State::Reading(_, reader) => reader.push(bytes, sink),
            State::Rejected => {}
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        self.try_start(true, sink);
        if let State::Reading(_, reader) = &mut self.state {
            reader.finish(sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::testing::read;

    #[test]
    fn sniffs_then_reads() {
        let out = read(Detect::new(0), b"{\"a\":\"1\"}\n{\"a\":\"2\"}\n", 1);
        assert_eq!(out.values("a"), vec![Some("1".to_string()), Some("2".to_string())]);
        assert!(out.unknown.is_empty());
    }

    #[test]
    fn unknown_content_is_reported_once() {
        let out = read(Detect::new(0), b"just some notes\nand more\n", 3);
        assert_eq!(out.unknown, vec!["\"just some notes\\n\"".to_string()]);
        assert!(out.records.is_empty());
    }
}
