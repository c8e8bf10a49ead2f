//! The CSV reader (header row, quoting, line breaks in fields) in random
//! pieces.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::csv::CsvReader;

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else { return };
    let count = common::read_all(&mut CsvReader::new(), input, &common::Control::new(control, 1));
    common::assert_bounded_output(&count, input);
});
