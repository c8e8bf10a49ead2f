//! The format sniffer on every prefix length of arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigma_edge::reader::sniff;

fuzz_target!(|data: &[u8]| {
    for end in 0..=data.len().min(64) {
        let _ = sniff(&data[..end], false);
    }
    let _ = sniff(data, true);
});
