//! The EVTX reader on arbitrary bytes behind a valid file signature.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::evtx::EvtxReader;

fuzz_target!(|data: &[u8]| {
    let Some((&piece, input)) = data.split_first() else { return };
    let mut reader = EvtxReader::new();
    common::read_all(&mut reader, input, usize::from(piece) * 257);
});
