//! The zip reader on arbitrary bytes (seeded with zip archives): local
//! headers, stored and deflated members, data descriptors, zip64 sizes.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::zip::ZipReader;

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else { return };
    common::read_all(&mut ZipReader::new(1), input, &common::Control::new(control, 5));
});
