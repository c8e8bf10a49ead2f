//! Tests of the JavaScript API, shared by the Node and the Chromium runs.

use js_sys::{Array, Reflect, JSON};
use sigma_edge::wasm::{evaluate, JsEngine};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const EDR_FREEZE: &str = "387df17d-3b04-448f-8669-9e7fd5e5fd8c";
const SAMPLE_EVTX: &[u8] = include_bytes!(
    "../data/edr-freeze/proc_access_win_werfaultsecure_msmpeng_access/387df17d-3b04-448f-8669-9e7fd5e5fd8c.evtx"
);
const SAMPLE_JSON: &str = include_str!(
    "../data/edr-freeze/proc_access_win_werfaultsecure_msmpeng_access/387df17d-3b04-448f-8669-9e7fd5e5fd8c.json"
);
const CUSTOM_RULE: &str = "title: Notepad\nid: 11111111-2222-3333-4444-555555555555\nlevel: low\n\
logsource: {product: windows, category: process_creation}\n\
detection:\n  selection:\n    Image|endswith: '\\notepad.exe'\n  condition: selection\n";

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

fn text(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap_or_else(|| panic!("{key} is not a string"))
}

fn matches_of(result: JsValue) -> Array {
    assert!(Array::is_array(&result), "expected an array of matches");
    Array::from(&result)
}

fn options(json: &str) -> JsValue {
    JSON::parse(json).unwrap()
}

/// Copies bytes into a JS `Uint8Array`, the type `Scanner.push` takes.
fn bytes(data: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(data).into()
}

#[wasm_bindgen_test]
fn evaluate_accepts_object_and_string() {
    let object = JSON::parse(SAMPLE_JSON).unwrap();
    let from_object = matches_of(evaluate(object).unwrap());
    assert_eq!(from_object.length(), 1);
    assert_eq!(text(&from_object.get(0), "ruleId"), EDR_FREEZE);
    assert_eq!(get(&from_object.get(0), "recordId").as_f64(), Some(445923.0));
    assert_eq!(text(&from_object.get(0), "computer"), "swachchhanda");

    let from_string = matches_of(evaluate(SAMPLE_JSON.into()).unwrap());
    assert_eq!(from_string.length(), 1);
    assert_eq!(get(&from_string.get(0), "eventId").as_f64(), Some(10.0));
}

#[wasm_bindgen_test]
fn evaluate_explains_the_match() {
    let found = matches_of(evaluate(SAMPLE_JSON.into()).unwrap()).get(0);
    let reasons = Array::from(&get(&found, "reasons"));
    let call_trace = reasons.iter().find(|r| text(r, "field") == "CallTrace").expect("a CallTrace reason");
    let value = text(&call_trace, "value");
    let start = get(&call_trace, "start").as_f64().unwrap() as usize;
    let end = get(&call_trace, "end").as_f64().unwrap() as usize;
    assert_eq!(&value[start..end], "\\dbgcore.DLL");
    assert_eq!(text(&call_trace, "needle"), "\\dbgcore.dll");
}

#[wasm_bindgen_test]
fn bad_events_throw_errors_and_module_still_works() {
    let error = evaluate(JsValue::from_f64(42.0)).unwrap_err();
    let error = error.dyn_into::<js_sys::Error>().expect("a JS Error");
    assert_eq!(String::from(error.name()), "TypeError");
    assert_eq!(text(&error, "code"), "invalid-event");

    let error = evaluate("{not json".into()).unwrap_err().dyn_into::<js_sys::Error>().unwrap();
    assert_eq!(String::from(error.name()), "InputError");
    assert!(String::from(error.message()).starts_with("invalid event: the string is not valid JSON"));

    let error = evaluate("[1, 2]".into()).unwrap_err().dyn_into::<js_sys::Error>().unwrap();
    assert_eq!(String::from(error.message()), "invalid event: expected a JSON object, found an array");

    assert_eq!(matches_of(evaluate(SAMPLE_JSON.into()).unwrap()).length(), 1);
}

#[wasm_bindgen_test]
fn engine_lists_default_rules() {
    let engine = JsEngine::new(JsValue::UNDEFINED).unwrap();
    let rules = Array::from(&engine.rules().unwrap());
    assert_eq!(rules.length(), 6);
    let ids: Vec<String> = rules.iter().map(|rule| text(&rule, "id")).collect();
    assert!(ids.contains(&EDR_FREEZE.to_string()));
    let first = rules.get(0);
    assert_eq!(text(&get(&first, "logsource"), "category"), "process_access");
    assert_eq!(Array::from(&engine.warnings().unwrap()).length(), 0);
}

#[wasm_bindgen_test]
fn engine_with_custom_rules_only() {
    let rules = Array::new();
    rules.push(&CUSTOM_RULE.into());
    let broken = options(r#"{"name": "broken.yml", "yaml": "title: x\nid: broken-1\n"}"#);
    rules.push(&broken);
    let settings = js_sys::Object::new();
    Reflect::set(&settings, &"rules".into(), &rules).unwrap();
    Reflect::set(&settings, &"defaultRules".into(), &false.into()).unwrap();
    let engine = JsEngine::new(settings.clone().into()).unwrap();

    assert_eq!(Array::from(&engine.rules().unwrap()).length(), 1);
    let warnings = Array::from(&engine.warnings().unwrap());
    assert_eq!(warnings.length(), 1);
    assert_eq!(text(&warnings.get(0), "file"), "broken.yml");
    assert_eq!(text(&warnings.get(0), "ruleId"), "broken-1");
    assert_eq!(text(&warnings.get(0), "code"), "missing");

    let event = r#"{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "C:\\Windows\\notepad.exe"}"#;
    let found = matches_of(engine.evaluate(event.into()).unwrap());
    assert_eq!(found.length(), 1);
    assert_eq!(text(&found.get(0), "level"), "low");
    assert_eq!(matches_of(engine.evaluate(SAMPLE_JSON.into()).unwrap()).length(), 0);

    Reflect::set(&settings, &"strict".into(), &true.into()).unwrap();
    let error = JsEngine::new(settings.into()).err().unwrap().dyn_into::<js_sys::Error>().unwrap();
    assert_eq!(String::from(error.name()), "RuleError");
    assert_eq!(String::from(error.message()), "broken.yml (rule broken-1): missing required key 'detection'");
}

#[wasm_bindgen_test]
fn unknown_engine_option_is_a_type_error() {
    let error = JsEngine::new(options(r#"{"rule": []}"#)).err().unwrap().dyn_into::<js_sys::Error>().unwrap();
    assert_eq!(String::from(error.name()), "TypeError");
    assert_eq!(
        String::from(error.message()),
        "unknown Engine option 'rule'; the options are rules, defaultRules, strict, limits, placeholders"
    );
}

#[wasm_bindgen_test]
fn placeholders_option_fills_expand() {
    let rule = "title: Admin logon\nid: admin-logon\nlogsource: {product: windows, service: security}\n\
                detection:\n  selection:\n    TargetUserName|expand: '%Administrators%'\n  condition: selection\n";
    let settings = js_sys::Object::new();
    let rules = Array::new();
    rules.push(&rule.into());
    Reflect::set(&settings, &"rules".into(), &rules).unwrap();
    Reflect::set(&settings, &"defaultRules".into(), &false.into()).unwrap();

    let unset = JsEngine::new(settings.clone().into()).unwrap();
    let warnings = Array::from(&unset.warnings().unwrap());
    assert_eq!(text(&warnings.get(0), "code"), "placeholder");

    Reflect::set(&settings, &"placeholders".into(), &options(r#"{"Administrators": ["adm_*", "root"]}"#)).unwrap();
    let engine = JsEngine::new(settings.into()).unwrap();
    assert_eq!(Array::from(&engine.warnings().unwrap()).length(), 0);
    let event = r#"{"EventID": 4624, "Channel": "Security", "TargetUserName": "ADM_alice"}"#;
    assert_eq!(matches_of(engine.evaluate(event.into()).unwrap()).length(), 1);
    let other = r#"{"EventID": 4624, "Channel": "Security", "TargetUserName": "bob"}"#;
    assert_eq!(matches_of(engine.evaluate(other.into()).unwrap()).length(), 0);
}

#[wasm_bindgen_test]
fn evaluate_batch_returns_one_array_per_event() {
    let engine = JsEngine::new(JsValue::UNDEFINED).unwrap();
    let events = Array::new();
    events.push(&SAMPLE_JSON.into());
    events.push(&options(r#"{"EventID": 4624, "Channel": "Security"}"#));
    let results = Array::from(&engine.evaluate_batch(events.into()).unwrap());
    assert_eq!(results.length(), 2);
    assert_eq!(Array::from(&results.get(0)).length(), 1);
    assert_eq!(Array::from(&results.get(1)).length(), 0);
}

#[wasm_bindgen_test]
fn scanner_finds_match_in_evtx_pushed_in_pieces() {
    let engine = JsEngine::new(JsValue::UNDEFINED).unwrap();
    let mut scanner = engine.scanner("sample.evtx".into(), JsValue::UNDEFINED, true.into()).unwrap();
    let found = Array::new();
    for piece in SAMPLE_EVTX.chunks(1000) {
        for item in matches_of(scanner.push(bytes(piece)).unwrap()).iter() {
            found.push(&item);
        }
    }
    let finished = scanner.finish().unwrap();
    for item in Array::from(&get(&finished, "matches")).iter() {
        found.push(&item);
    }
    assert_eq!(found.length(), 1);
    let event = get(&found.get(0), "event");
    assert_eq!(text(&event, "EventRecordID"), "445923");
    assert_eq!(text(&event, "GrantedAccess"), "0x1fffff");
    assert_eq!(text(&event, "SourceUser"), "swachchhanda\\xodih");
    let summary = get(&finished, "summary");
    assert_eq!(get(&summary, "records").as_f64(), Some(1.0));
    assert_eq!(get(&summary, "bytes").as_f64(), Some(SAMPLE_EVTX.len() as f64));
    assert_eq!(text(&summary, "format"), "evtx");
    assert_eq!(Array::from(&get(&finished, "warnings")).length(), 0);
}

#[wasm_bindgen_test]
fn scanner_reports_truncated_evtx_and_unknown_format() {
    let engine = JsEngine::new(JsValue::UNDEFINED).unwrap();
    let mut scanner = engine.scanner("cut.evtx".into(), false.into(), JsValue::UNDEFINED).unwrap();
    scanner.push(bytes(&SAMPLE_EVTX[..3000])).unwrap();
    let finished = scanner.finish().unwrap();
    let warnings = Array::from(&get(&finished, "warnings"));
    assert_eq!(warnings.length(), 1);
    assert_eq!(text(&warnings.get(0), "file"), "cut.evtx");
    assert!(text(&warnings.get(0), "message").starts_with("truncated EVTX file: the file header needs 4096 bytes"));

    let mut scanner = engine.scanner("notes.txt".into(), JsValue::UNDEFINED, JsValue::UNDEFINED).unwrap();
    let error = scanner.push(bytes(b"hello world\n")).unwrap_err().dyn_into::<js_sys::Error>().unwrap();
    assert_eq!(String::from(error.name()), "InputError");
    assert_eq!(text(&error, "code"), "unknown-format");
    assert!(String::from(error.message()).starts_with("notes.txt: unknown format"));
}

#[wasm_bindgen_test]
fn scanner_reads_zip_members_in_pieces() {
    const ARCHIVE: &[u8] = include_bytes!("../data/formats/edr-freeze.zip");
    let engine = JsEngine::new(JsValue::UNDEFINED).unwrap();
    let mut scanner = engine.scanner("logs.zip".into(), JsValue::UNDEFINED, JsValue::UNDEFINED).unwrap();
    let found = Array::new();
    for piece in ARCHIVE.chunks(1000) {
        for found_match in matches_of(scanner.push(bytes(piece)).unwrap()).iter() {
            found.push(&found_match);
        }
    }
    let finished = scanner.finish().unwrap();
    for found_match in Array::from(&get(&finished, "matches")).iter() {
        found.push(&found_match);
    }
    let summary = get(&finished, "summary");
    assert_eq!(text(&summary, "format"), "zip");
    assert_eq!(get(&summary, "records").as_f64(), Some(54.0));
    assert_eq!(Array::from(&get(&finished, "warnings")).length(), 0);
    let edr_freeze: Vec<String> =
        found.iter().filter(|m| text(m, "ruleId") == EDR_FREEZE).map(|m| text(&m, "file")).collect();
    assert_eq!(edr_freeze.len(), 9);
    assert!(edr_freeze.contains(&"logs.zip:edr-freeze.utf16le.xml".to_string()));
    assert!(edr_freeze.contains(&format!("logs.zip:evtx/{EDR_FREEZE}.evtx")));
}

#[wasm_bindgen_test]
fn limits_option_bounds_events_and_rules() {
    let engine = JsEngine::new(options(r#"{"limits": {"maxDepth": 4, "maxRecordBytes": 100, "maxRules": 4}}"#)).unwrap();
    let warnings = Array::from(&engine.warnings().unwrap());
    assert_eq!(warnings.length(), 2);
    assert_eq!(text(&warnings.get(0), "code"), "limit");
    assert_eq!(
        text(&warnings.get(0), "message"),
        "proc_creation_win_hktl_edr_freeze.yml: the number of rules (maxRules) is 5, over the maximum of 4"
    );
    assert_eq!(Array::from(&engine.rules().unwrap()).length(), 4);

    // Four nested objects are allowed, five are not.
    assert!(engine.evaluate(r#"{"a": {"b": {"c": {"d": 1}}}}"#.into()).is_ok());
    let deep = engine.evaluate(r#"{"a": {"b": {"c": {"d": {"e": 1}}}}}"#.into()).unwrap_err();
    let deep = deep.dyn_into::<js_sys::Error>().unwrap();
    assert_eq!(String::from(deep.name()), "InputError");
    assert_eq!(String::from(deep.message()), "invalid event: nested deeper than the maxDepth limit of 4 levels");

    let long = format!(r#"{{"CommandLine": "{}"}}"#, "x".repeat(100));
    let error = engine.evaluate(long.as_str().into()).unwrap_err().dyn_into::<js_sys::Error>().unwrap();
    assert_eq!(
        String::from(error.message()),
        "invalid event: the event's JSON text has 119 bytes, over the maxRecordBytes limit of 100"
    );
}

#[wasm_bindgen_test]
fn limits_option_rejects_bad_values() {
    let cases = [
        (r#"{"limits": {"maxDepth": 0}}"#, "limit 'maxDepth' must be an integer from 1 to 4294967295, found 0"),
        (r#"{"limits": {"maxRules": 1.5}}"#, "limit 'maxRules' must be an integer from 1 to 4294967295, found 1.5"),
        (r#"{"limits": {"maxRegexBytes": "1"}}"#, "limit 'maxRegexBytes' must be an integer from 1 to 4294967295, found string"),
        (
            r#"{"limits": {"maxBytes": 1}}"#,
            "unknown limit 'maxBytes'; the options are maxRecordBytes, maxDepth, maxRules, maxRuleFileBytes, maxRegexBytes",
        ),
        (r#"{"limits": [1]}"#, "Engine option 'limits' must be an object, found an array"),
        (r#"{"rules": [5]}"#, "Engine option 'rules[0]' must be YAML text or an object { name, yaml } of two strings, found number"),
        (r#"{"rules": "title: x"}"#, "Engine option 'rules' must be an array, found string"),
        (r#"{"strict": 1}"#, "Engine option 'strict' must be a boolean, found number"),
    ];
    for (given, expected) in cases {
        let error = JsEngine::new(options(given)).err().unwrap().dyn_into::<js_sys::Error>().unwrap();
        assert_eq!(String::from(error.name()), "TypeError", "{given}");
        assert_eq!(text(&error, "code"), "invalid-options", "{given}");
        assert_eq!(String::from(error.message()), expected, "{given}");
    }
}

#[wasm_bindgen_test]
fn wrong_argument_types_are_type_errors() {
    let engine = JsEngine::new(JsValue::UNDEFINED).unwrap();
    let error = engine.scanner(JsValue::from_f64(5.0), JsValue::UNDEFINED, JsValue::UNDEFINED).err().unwrap();
    let error = error.dyn_into::<js_sys::Error>().unwrap();
    assert_eq!(String::from(error.message()), "scanner: 'file' must be a string, found number");

    let mut scanner = engine.scanner("x".into(), JsValue::UNDEFINED, JsValue::UNDEFINED).unwrap();
    let error = scanner.push("ElfFile".into()).unwrap_err().dyn_into::<js_sys::Error>().unwrap();
    assert_eq!(String::from(error.name()), "TypeError");
    assert_eq!(String::from(error.message()), "push: 'bytes' must be a Uint8Array, found string");
    scanner.push(bytes(SAMPLE_EVTX)).unwrap();
    let summary = get(&scanner.finish().unwrap(), "summary");
    assert_eq!(get(&summary, "matches").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
fn limits_option_bounds_regex_size() {
    let rule = "title: t\nid: large\nlogsource: {product: windows}\n\
                detection:\n  sel:\n    CommandLine|re: 'a{1000}'\n  condition: sel\n";
    let settings = options(r#"{"defaultRules": false, "limits": {"maxRegexBytes": 10000}}"#);
    let rules = Array::new();
    rules.push(&rule.into());
    Reflect::set(&settings, &"rules".into(), &rules).unwrap();
    let engine = JsEngine::new(settings).unwrap();
    let warnings = Array::from(&engine.warnings().unwrap());
    assert_eq!(warnings.length(), 1);
    assert_eq!(text(&warnings.get(0), "code"), "limit");
    assert_eq!(
        text(&warnings.get(0), "message"),
        "rules[0] (rule large): search 'sel': 'CommandLine|re': regular expression 'a{1000}' compiles to more \
         than the maxRegexBytes limit of 10000 bytes"
    );
    assert_eq!(Array::from(&engine.rules().unwrap()).length(), 0);
}

#[wasm_bindgen_test]
fn linux_rule_is_a_note_with_its_file_and_id() {
    let yaml = "title: t\nid: lin-1\nlogsource: {product: linux, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: /bash\n  condition: sel\n";
    let given = serde_json::json!({ "rules": [{ "name": "linux.yml", "yaml": yaml }], "defaultRules": false });
    let engine = JsEngine::new(options(&given.to_string())).unwrap();

    let warnings = Array::from(&engine.warnings().unwrap());
    assert_eq!(warnings.length(), 1);
    let note = warnings.get(0);
    assert_eq!(text(&note, "file"), "linux.yml");
    assert_eq!(text(&note, "ruleId"), "lin-1");
    assert_eq!(text(&note, "code"), "never-matches");
    assert!(text(&note, "message").starts_with("linux.yml (rule lin-1): never matches Windows events"), "{}", text(&note, "message"));
}
