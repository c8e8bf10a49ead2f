//! The JavaScript API, and the only module that uses wasm-bindgen.
//!
//! Every export returns a `Result`, so a problem reaches JavaScript as a
//! thrown `Error` (with `name` set to `RuleError`, `InputError` or
//! `TypeError`, and a `code`) and never as a panic, which would leave the
//! module unusable.
//!
//! Arguments arrive as `JsValue`s and are checked here, because the
//! conversions wasm-bindgen generates for typed parameters accept some
//! wrong types silently (a number becomes a file name, a string becomes
//! zero bytes). Values the caller controls are read only through calls
//! that catch JavaScript exceptions (`Reflect`, `JSON.stringify`), so a
//! throwing getter, `toJSON` or proxy trap becomes an `Error` here instead
//! of unwinding through wasm frames. Objects become events through
//! `JSON.stringify`, which rejects cycles and nesting too deep for the
//! JavaScript stack.

use std::cell::OnceCell;
use std::sync::Arc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::engine::{Engine, EngineBuilder, Match};
use crate::error::{InputError, RuleError};
use crate::event::Event;
use crate::limits::Limits;
use crate::logsource::LogSource;
use crate::scanner::Scanner;

thread_local! {
    static DEFAULT_ENGINE: OnceCell<Arc<Engine>> = const { OnceCell::new() };
}

fn default_engine() -> Arc<Engine> {
    DEFAULT_ENGINE.with(|cell| cell.get_or_init(|| Arc::new(Engine::with_default_rules())).clone())
}

/// Creates a JS `Error` with a `name` and a `code` a caller can test.
fn js_error(name: &str, code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(name);
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

fn input_error(error: &InputError) -> JsValue {
    js_error("InputError", error.code(), &error.to_string())
}

fn rule_error(error: &RuleError) -> JsValue {
    js_error("RuleError", error.code(), &error.to_string())
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| js_error("Error", "serialize", &format!("cannot convert the result to JavaScript: {error}")))
}

#[wasm_bindgen]
extern "C" {
    /// `Array.isArray`, which throws for a revoked proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn array_is_array(value: &JsValue) -> Result<bool, JsValue>;
}

fn is_array(value: &JsValue) -> bool {
    array_is_array(value).unwrap_or(false)
}

/// Returns whether `value` is an `ArrayBuffer` or a view of one (a typed
/// array or a `DataView`).
fn is_bytes(value: &JsValue) -> bool {
    js_sys::ArrayBuffer::is_view(value) || value.is_instance_of::<js_sys::ArrayBuffer>()
}

fn type_error(code: &str, message: &str) -> JsValue {
    js_error("TypeError", code, message)
}

fn invalid_event(message: String) -> JsValue {
    input_error(&InputError::InvalidEvent { message })
}

/// Describes a JS value's type for an error message: `number`, `symbol`,
/// `null`, `an array`, `a Uint8Array` and so on.
fn describe_type(value: &JsValue) -> String {
    if value.is_null() {
        return "null".to_string();
    }
    if is_array(value) {
        return "an array".to_string();
    }
    if is_bytes(value) {
        let name = js_sys::Reflect::get(value, &"constructor".into())
            .and_then(|constructor| js_sys::Reflect::get(&constructor, &"name".into()))
            .ok()
            .and_then(|name| name.as_string())
            .unwrap_or_else(|| "ArrayBuffer view".to_string());
        return format!("a {name}");
    }
    value.js_typeof().as_string().unwrap_or_default()
}

/// Returns the message of a thrown JS value, whatever its type.
fn thrown_message(thrown: &JsValue) -> String {
    if thrown.is_object() {
        // Read through `Reflect`, because `message` may be a throwing getter.
        if let Some(message) = js_sys::Reflect::get(thrown, &"message".into()).ok().and_then(|m| m.as_string()) {
            return message;
        }
    }
    thrown.as_string().unwrap_or_else(|| format!("a thrown {}", describe_type(thrown)))
}

/// Returns the JSON text of a JS event: a string as it is, an object
/// through `JSON.stringify`.
fn event_json(value: &JsValue) -> Result<String, JsValue> {
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    if !value.is_object() || is_bytes(value) {
        let message = format!("expected an event object or a JSON string, found {}", describe_type(value));
        return Err(type_error("invalid-event", &message));
    }
    let text = js_sys::JSON::stringify(value)
        .map_err(|thrown| invalid_event(format!("the object cannot be converted to JSON: {}", thrown_message(&thrown))))?;
    text.as_string().ok_or_else(|| invalid_event("the object has no JSON form (its toJSON returned undefined)".to_string()))
}

/// Turns a JS event (an object or a JSON string) into an [`Event`],
/// within the record size and depth limits.
fn event_from_js(value: &JsValue, limits: &Limits) -> Result<Event, JsValue> {
    let text = event_json(value)?;
    if text.len() > limits.max_record_bytes {
        let message =
            format!("the event's JSON text has {} bytes, over the maxRecordBytes limit of {}", text.len(), limits.max_record_bytes);
        return Err(invalid_event(message));
    }
    let json = crate::reader::json::parse_value(text.as_bytes()).map_err(|error| {
        let form = if value.is_string() { "string" } else { "object" };
        invalid_event(format!("the {form} is not valid JSON: {error}"))
    })?;
    Event::from_json_with_max_depth(&json, limits.max_depth).map_err(invalid_event)
}

/// Evaluates one event (an object or a JSON string) against the bundled
/// EDR-Freeze rules and returns its matches.
#[wasm_bindgen]
pub fn evaluate(#[wasm_bindgen(unchecked_param_type = "object | string")] event: JsValue) -> Result<JsValue, JsValue> {
    let engine = default_engine();
    let event = event_from_js(&event, engine.limits())?;
    to_js(&engine.evaluate(&event))
}

/// Counts the ASCII case-insensitive occurrences of `literal` in raw
/// bytes, as UTF-8 or (with `utf16`) UTF-16LE text: the prefilter's search
/// alone, for measuring how fast the input can be read at all.
#[wasm_bindgen(js_name = countLiteral)]
pub fn count_literal(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] literal: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "boolean | null")] utf16: JsValue,
) -> Result<u32, JsValue> {
    let bytes = bytes_argument("countLiteral", "bytes", &bytes)?;
    let Some(literal) = literal.as_string() else {
        let message = format!("countLiteral: 'literal' must be a string, found {}", describe_type(&literal));
        return Err(type_error("invalid-argument", &message));
    };
    let utf16 = flag_argument("countLiteral", "utf16", &utf16, false)?;
    let prefilter = crate::prefilter::Prefilter::new(&[literal]);
    let mut count = 0;
    let mut rest = bytes.as_slice();
    loop {
        let found = if utf16 { prefilter.find_utf16le(rest) } else { prefilter.find(rest) };
        let Some(position) = found else { return Ok(count) };
        count += 1;
        rest = rest.get(position + 1..).unwrap_or_default();
    }
}

/// Copies a `Uint8Array` argument (a Node `Buffer` is one) into wasm memory.
fn bytes_argument(function: &str, name: &str, value: &JsValue) -> Result<Vec<u8>, JsValue> {
    match value.dyn_ref::<js_sys::Uint8Array>() {
        Some(bytes) => Ok(bytes.to_vec()),
        None => {
            let message = format!("{function}: '{name}' must be a Uint8Array, found {}", describe_type(value));
            Err(type_error("invalid-argument", &message))
        }
    }
}

/// Reads an optional boolean argument: `default` when undefined or null.
fn flag_argument(function: &str, name: &str, value: &JsValue, default: bool) -> Result<bool, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(default);
    }
    value.as_bool().ok_or_else(|| {
        let message = format!("{function}: '{name}' must be a boolean, found {}", describe_type(value));
        type_error("invalid-argument", &message)
    })
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The options of `new Engine()`.
struct EngineOptions {
    /// `(name, yaml)` of each rule source.
    rules: Vec<(String, String)>,
    default_rules: bool,
    /// Reject the engine when any rule fails to load.
    strict: bool,
    limits: Limits,
    /// Values of `%name%` placeholders for rules that use `|expand`, by
    /// name without the `%`.
    placeholders: Vec<(String, Vec<String>)>,
}

const ENGINE_OPTIONS: &[&str] = &["rules", "defaultRules", "strict", "limits", "placeholders"];
const LIMIT_OPTIONS: &[&str] = &["maxRecordBytes", "maxDepth", "maxRules", "maxRuleFileBytes", "maxRegexBytes"];

impl EngineOptions {
    /// Reads the options object, rejecting unknown names (which would
    /// otherwise be ignored) and values of the wrong type.
    fn from_js(options: &JsValue) -> Result<EngineOptions, JsValue> {
        let mut parsed = EngineOptions {
            rules: Vec::new(),
            default_rules: true,
            strict: false,
            limits: Limits::default(),
            placeholders: Vec::new(),
        };
        if options.is_undefined() || options.is_null() {
            return Ok(parsed);
        }
        check_names(options, "Engine options", "Engine option", ENGINE_OPTIONS)?;
        parsed.rules = rules_option(&option(options, "rules")?)?;
        parsed.default_rules = boolean_option(&option(options, "defaultRules")?, "defaultRules", true)?;
        parsed.strict = boolean_option(&option(options, "strict")?, "strict", false)?;
        parsed.limits = limits_option(&option(options, "limits")?)?;
        parsed.placeholders = placeholders_option(&option(options, "placeholders")?)?;
        Ok(parsed)
    }
}

fn invalid_option(message: &str) -> JsValue {
    type_error("invalid-options", message)
}

/// Checks that `value` is a plain object whose own property names are all
/// in `known`. `object_label` names the object in messages ("Engine
/// options") and `name_label` one of its properties ("Engine option").
fn check_names(value: &JsValue, object_label: &str, name_label: &str, known: &[&str]) -> Result<(), JsValue> {
    if !value.is_object() || is_array(value) || is_bytes(value) {
        return Err(invalid_option(&format!("{object_label} must be an object, found {}", describe_type(value))));
    }
    let names = js_sys::Reflect::own_keys(value)
        .map_err(|thrown| invalid_option(&format!("cannot list the {object_label}: {}", thrown_message(&thrown))))?;
    for name in names.iter().filter_map(|name| name.as_string()) {
        if !known.contains(&name.as_str()) {
            return Err(invalid_option(&format!("unknown {name_label} '{name}'; the options are {}", known.join(", "))));
        }
    }
    Ok(())
}

/// Reads one property of an options object.
fn option(object: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    js_sys::Reflect::get(object, &name.into())
        .map_err(|thrown| invalid_option(&format!("cannot read the option '{name}': {}", thrown_message(&thrown))))
}

fn boolean_option(value: &JsValue, name: &str, default: bool) -> Result<bool, JsValue> {
    if value.is_undefined() {
        return Ok(default);
    }
    value
        .as_bool()
        .ok_or_else(|| invalid_option(&format!("Engine option '{name}' must be a boolean, found {}", describe_type(value))))
}

/// Reads `rules`: an array of YAML texts or `{ name, yaml }` objects.
fn rules_option(value: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    if value.is_undefined() {
        return Ok(Vec::new());
    }
    let mut rules = Vec::new();
    for_each_item(value, "Engine option 'rules'", "invalid-options", |index, item| {
        let label = format!("rules[{index}]");
        if let Some(yaml) = item.as_string() {
            rules.push((label, yaml));
            return Ok(());
        }
        let named = if item.is_object() && !is_array(&item) && !is_bytes(&item) {
            let name = option(&item, "name")?.as_string();
            let yaml = option(&item, "yaml")?.as_string();
            name.zip(yaml)
        } else {
            None
        };
        let Some(rule) = named else {
            let message = format!(
                "Engine option '{label}' must be YAML text or an object {{ name, yaml }} of two strings, found {}",
                describe_type(&item)
            );
            return Err(invalid_option(&message));
        };
        rules.push(rule);
        Ok(())
    })?;
    Ok(rules)
}

/// Calls `visit` with each item of a JS array, in order, and stops at
/// the first error. Items are read one at a time, so a sparse array with
/// a huge `length` costs nothing before its first hole, which reads as
/// undefined and which `visit` rejects.
/// Errors are `TypeError`s with `code`.
fn for_each_item(
    value: &JsValue,
    what: &str,
    code: &str,
    mut visit: impl FnMut(usize, JsValue) -> Result<(), JsValue>,
) -> Result<(), JsValue> {
    if !is_array(value) {
        return Err(type_error(code, &format!("{what} must be an array, found {}", describe_type(value))));
    }
    let length = js_sys::Reflect::get(value, &"length".into())
        .map_err(|thrown| type_error(code, &format!("cannot read the length of {what}: {}", thrown_message(&thrown))))?
        .as_f64()
        .unwrap_or_default();
    for index in 0..length as u32 {
        let item = js_sys::Reflect::get_u32(value, index)
            .map_err(|thrown| type_error(code, &format!("cannot read item {index} of {what}: {}", thrown_message(&thrown))))?;
        visit(index as usize, item)?;
    }
    Ok(())
}

/// Reads `placeholders`: an object whose values are arrays of strings.
fn placeholders_option(value: &JsValue) -> Result<Vec<(String, Vec<String>)>, JsValue> {
    if value.is_undefined() {
        return Ok(Vec::new());
    }
    if !value.is_object() || is_array(value) || is_bytes(value) {
        let message = format!("Engine option 'placeholders' must be an object, found {}", describe_type(value));
        return Err(invalid_option(&message));
    }
    let names = js_sys::Reflect::own_keys(value).map_err(|thrown| {
        invalid_option(&format!("cannot list the Engine option 'placeholders': {}", thrown_message(&thrown)))
    })?;
    let mut placeholders = Vec::new();
    for name in names.iter().filter_map(|name| name.as_string()) {
        let label = format!("Engine option 'placeholders.{name}'");
        let mut values = Vec::new();
        for_each_item(&option(value, &name)?, &label, "invalid-options", |index, item| {
            let Some(text) = item.as_string() else {
                let message = format!("{label} must be an array of strings, found {} at index {index}", describe_type(&item));
                return Err(invalid_option(&message));
            };
            values.push(text);
            Ok(())
        })?;
        placeholders.push((name, values));
    }
    Ok(placeholders)
}

/// Reads `limits`: any of [`LIMIT_OPTIONS`], each a positive integer.
fn limits_option(value: &JsValue) -> Result<Limits, JsValue> {
    let mut limits = Limits::default();
    if value.is_undefined() {
        return Ok(limits);
    }
    check_names(value, "Engine option 'limits'", "limit", LIMIT_OPTIONS)?;
    let fields = [
        ("maxRecordBytes", &mut limits.max_record_bytes),
        ("maxDepth", &mut limits.max_depth),
        ("maxRules", &mut limits.max_rules),
        ("maxRuleFileBytes", &mut limits.max_rule_file_bytes),
        ("maxRegexBytes", &mut limits.max_regex_bytes),
    ];
    for (name, field) in fields {
        let given = option(value, name)?;
        if given.is_undefined() {
            continue;
        }
        *field = positive_integer(&given).ok_or_else(|| {
            let found = given.as_f64().map_or_else(|| describe_type(&given), |number| number.to_string());
            invalid_option(&format!("limit '{name}' must be an integer from 1 to {}, found {found}", u32::MAX))
        })?;
    }
    Ok(limits)
}

fn positive_integer(value: &JsValue) -> Option<usize> {
    let number = value.as_f64()?;
    let in_range = number.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&number);
    in_range.then_some(number as usize)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleInfo<'a> {
    id: &'a str,
    title: &'a str,
    level: &'a str,
    status: &'a str,
    author: &'a str,
    description: &'a str,
    tags: &'a [String],
    logsource: &'a LogSource,
    file: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleWarning {
    file: String,
    rule_id: Option<String>,
    code: &'static str,
    message: String,
}

/// A rule set: the bundled rules, rules of the caller's, or both.
#[wasm_bindgen(js_name = Engine)]
pub struct JsEngine {
    inner: Arc<Engine>,
}

#[wasm_bindgen(js_class = Engine)]
impl JsEngine {
    /// Compiles `new Engine({ rules, defaultRules, strict, limits, placeholders })`.
    /// `rules` is an array of YAML texts or `{ name, yaml }` objects.
    /// `defaultRules` (true unless set) adds the bundled rules. With
    /// `strict`, a rule that fails to load throws instead of being listed
    /// in `warnings`. `limits` sets any of `maxRecordBytes`, `maxDepth`,
    /// `maxRules`, `maxRuleFileBytes` and `maxRegexBytes`. `placeholders`
    /// gives the values of each `%name%` that rules using `|expand` refer to.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_optional_param_type = "object | null")] options: JsValue) -> Result<JsEngine, JsValue> {
        let options = EngineOptions::from_js(&options)?;
        let mut builder = EngineBuilder::default().default_rules(options.default_rules).limits(options.limits);
        for (name, values) in options.placeholders {
            builder = builder.placeholder(name, values);
        }
        for (name, yaml) in options.rules {
            builder = builder.rule_text(name, yaml);
        }
        let engine = builder.build();
        if options.strict {
            if let Some(error) = engine.errors().first() {
                return Err(rule_error(error));
            }
        }
        Ok(JsEngine { inner: Arc::new(engine) })
    }

    /// Evaluates one event (an object or a JSON string).
    pub fn evaluate(&self, #[wasm_bindgen(unchecked_param_type = "object | string")] event: JsValue) -> Result<JsValue, JsValue> {
        let event = event_from_js(&event, self.inner.limits())?;
        to_js(&self.inner.evaluate(&event))
    }

    /// Evaluates an array of events; returns one array of matches per event.
    /// Each event's matches go to JavaScript before the next event is
    /// read, so wasm memory contains one event at a time.
    #[wasm_bindgen(js_name = evaluateBatch)]
    pub fn evaluate_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Array<object | string>")] events: JsValue,
    ) -> Result<JsValue, JsValue> {
        let results = js_sys::Array::new();
        for_each_item(&events, "the events of evaluateBatch", "invalid-event", |index, event| {
            let event = event_from_js(&event, self.inner.limits())
                .map_err(|error| prefix_message(error, &format!("event {index}: ")))?;
            results.push(&to_js(&self.inner.evaluate(&event))?);
            Ok(())
        })?;
        Ok(results.into())
    }

    /// Lists the loaded rules: id, title, level, logsource and more.
    pub fn rules(&self) -> Result<JsValue, JsValue> {
        let rules: Vec<RuleInfo> = self
            .inner
            .rules()
            .iter()
            .map(|rule| RuleInfo {
                id: &rule.id,
                title: &rule.title,
                level: &rule.level,
                status: &rule.status,
                author: &rule.author,
                description: &rule.description,
                tags: &rule.tags,
                logsource: &rule.logsource,
                file: &rule.file,
            })
            .collect();
        to_js(&rules)
    }

    /// Rules that failed to load, and loaded rules that can never match a
    /// Windows event.
    #[wasm_bindgen(getter)]
    pub fn warnings(&self) -> Result<JsValue, JsValue> {
        let mut warnings: Vec<RuleWarning> = self
            .inner
            .errors()
            .iter()
            .map(|error| RuleWarning {
                file: error.file.clone(),
                rule_id: error.rule_id.clone(),
                code: error.code(),
                message: error.to_string(),
            })
            .collect();
        warnings.extend(self.inner.notes().iter().map(|note| RuleWarning {
            file: note.file.clone(),
            rule_id: note.rule_id.clone(),
            code: note.code,
            message: note.message.clone(),
        }));
        to_js(&warnings)
    }

    /// Starts a streaming scan of one input named `file`. `prefilter`
    /// (true unless set) skips records that contain no literal the rules
    /// need; matches are the same either way. `includeEvent` (false unless
    /// set) adds every field of the matched event to each match as `event`.
    pub fn scanner(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] file: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "boolean | null")] prefilter: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "boolean | null")] include_event: JsValue,
    ) -> Result<JsScanner, JsValue> {
        let Some(file) = file.as_string() else {
            let message = format!("scanner: 'file' must be a string, found {}", describe_type(&file));
            return Err(type_error("invalid-argument", &message));
        };
        let mut inner = Scanner::new(self.inner.clone(), file);
        inner.set_prefilter(flag_argument("scanner", "prefilter", &prefilter, true)?);
        inner.set_include_event(flag_argument("scanner", "includeEvent", &include_event, false)?);
        Ok(JsScanner { inner })
    }

    /// Lists the literals the raw-byte prefilter searches for, or returns
    /// `null` when some rule has none and every record is parsed.
    #[wasm_bindgen(js_name = prefilterLiterals)]
    pub fn prefilter_literals(&self) -> Result<JsValue, JsValue> {
        let literals: Option<Vec<&str>> = self.inner.prefilter().map(|p| p.literals().collect());
        to_js(&literals)
    }
}

fn prefix_message(error: JsValue, prefix: &str) -> JsValue {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        let message: String = error.message().into();
        error.set_message(&format!("{prefix}{message}"));
    }
    error
}

/// A streaming scan of one input: `push` pieces, then `finish`.
#[wasm_bindgen(js_name = Scanner)]
pub struct JsScanner {
    inner: Scanner,
}

#[wasm_bindgen(js_class = Scanner)]
impl JsScanner {
    /// Reads the next piece of the input; returns the matches it completed.
    pub fn push(&mut self, #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue) -> Result<JsValue, JsValue> {
        let bytes = bytes_argument("push", "bytes", &bytes)?;
        let matches = self.inner.push(&bytes).map_err(|error| input_error(&error))?;
        to_js(&matches)
    }

    /// Warnings found since the last call.
    #[wasm_bindgen(js_name = takeWarnings)]
    pub fn take_warnings(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.take_warnings())
    }

    /// Counts so far: bytes, records, matches, warnings, format.
    pub fn summary(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.summary())
    }

    /// Reads the rest; returns `{ matches, warnings, summary }`.
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        let (matches, summary) = self.inner.finish().map_err(|error| input_error(&error))?;
        #[derive(Serialize)]
        struct Finished<'a> {
            matches: &'a [Match],
            warnings: Vec<crate::error::Warning>,
            summary: &'a crate::scanner::Summary,
        }
        to_js(&Finished { matches: &matches, warnings: self.inner.take_warnings(), summary: &summary })
    }
}
