//! The JSON reader (NDJSON, arrays, concatenated values) in random pieces.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::json::JsonReader;

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else { return };
    let count = common::read_all(&mut JsonReader::new(), input, &common::Control::new(control, 1));
    common::assert_bounded_output(&count, input);
});
