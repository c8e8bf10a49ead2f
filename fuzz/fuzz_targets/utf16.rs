//! The UTF-16 text reader, little- or big-endian, with any text format
//! inside, in random pieces. The second byte picks the byte order.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::text::{Endian, Utf16Reader};

fuzz_target!(|data: &[u8]| {
    let [control, order, input @ ..] = data else { return };
    let endian = if order & 1 == 0 { Endian::Little } else { Endian::Big };
    let count = common::read_all(&mut Utf16Reader::new(endian, 1), input, &common::Control::new(*control, 3));
    common::assert_bounded_output(&count, input);
});
