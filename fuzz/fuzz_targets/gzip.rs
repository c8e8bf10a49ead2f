//! The gzip reader on arbitrary bytes (seeded with gzip files), with any
//! format inside, in random pieces.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::gzip::GzipReader;

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else { return };
    common::read_all(&mut GzipReader::new(1), input, &common::Control::new(control, 5));
});
