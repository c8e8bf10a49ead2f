//! The JSON reader (NDJSON, arrays, concatenated values) in random pieces.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::json::JsonReader;

fuzz_target!(|data: &[u8]| {
    let Some((&piece, input)) = data.split_first() else { return };
    let mut reader = JsonReader::new();
    common::read_all(&mut reader, input, usize::from(piece));
});
