//! The `csv` fuzz target. `common::csv` is its body and describes
//! what it runs and how it reads its input.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::csv(data));
