//! The event XML reader (Save-as and wevtutil layouts) in random pieces.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::xml::XmlReader;

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else { return };
    let count = common::read_all(&mut XmlReader::new(), input, &common::Control::new(control, 1));
    common::assert_bounded_output(&count, input);
});
