//! The JavaScript API in Node (wasm-bindgen-test's default runner).
#![cfg(target_arch = "wasm32")]

mod wasm_common;
