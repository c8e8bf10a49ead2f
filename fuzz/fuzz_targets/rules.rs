//! The rule loader: arbitrary text as a Sigma rule file (YAML parsing,
//! detection compiling, condition parsing), then one event evaluated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigma_edge::{Engine, Event};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let engine = Engine::builder().default_rules(false).rule_text("fuzz.yml", text).build();
    let event = Event::from_json(&serde_json::json!({
        "EventID": 10,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Image": "C:\\Windows\\System32\\WerFaultSecure.exe",
        "CommandLine": "WerFaultSecure.exe /h /pid 1 /tid 2",
    }))
    .expect("a valid event");
    let _ = engine.evaluate(&event);
});
