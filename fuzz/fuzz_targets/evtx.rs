//! The EVTX reader on arbitrary bytes (seeded with EVTX files).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::evtx::EvtxReader;

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else { return };
    let count = common::read_all(&mut EvtxReader::new(), input, &common::Control::new(control, 257));
    common::assert_bounded_output(&count, input);
});
