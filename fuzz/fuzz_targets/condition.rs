//! The condition parser on arbitrary text over a fixed set of search names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigma_edge::sigma::condition::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let names = ["selection", "selection_img", "filter_main", "_hidden", "keywords"].map(String::from);
    let _ = parse(text, &names);
});
