//! The JavaScript API, and the only module that uses wasm-bindgen.
//!
//! Every export returns a `Result`, so a problem reaches JavaScript as a
//! thrown `Error` (with `name` set to `RuleError`, `InputError` or
//! `TypeError`, and a `code`) and never as a panic, which would leave the
//! module unusable.

use std::cell::OnceCell;
use std::sync::Arc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::engine::{Engine, EngineBuilder, Match};
use crate::error::{InputError, RuleError};
use crate::event::Event;
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

/// Turns a JS event (an object or a JSON string) into an [`Event`].
fn event_from_js(value: &JsValue) -> Result<Event, JsValue> {
    let json: serde_json::Value = if let Some(text) = value.as_string() {
        serde_json::from_str(&text).map_err(|error| {
            input_error(&InputError::InvalidEvent { message: format!("the string is not valid JSON: {error}") })
        })?
    } else if value.is_object() {
        serde_wasm_bindgen::from_value(value.clone()).map_err(|error| {
            input_error(&InputError::InvalidEvent { message: format!("the object cannot be read as JSON: {error}") })
        })?
    } else {
        let kind = value.js_typeof().as_string().unwrap_or_default();
        let message = format!("expected an event object or a JSON string, found {kind}");
        return Err(js_error("TypeError", "invalid-event", &message));
    };
    Event::from_json(&json).map_err(|message| input_error(&InputError::InvalidEvent { message }))
}

/// Evaluates one event (an object or a JSON string) against the bundled
/// EDR-Freeze rules and returns its matches.
#[wasm_bindgen]
pub fn evaluate(event: JsValue) -> Result<JsValue, JsValue> {
    let event = event_from_js(&event)?;
    to_js(&default_engine().evaluate(&event))
}

/// Counts the ASCII case-insensitive occurrences of `literal` in raw
/// bytes, as UTF-8 or (with `utf16`) UTF-16LE text: the prefilter's search
/// alone, for measuring how fast the input can be read at all.
#[wasm_bindgen(js_name = countLiteral)]
pub fn count_literal(bytes: &[u8], literal: &str, utf16: bool) -> u32 {
    let prefilter = crate::prefilter::Prefilter::new(&[literal.to_string()]);
    let mut count = 0;
    let mut rest = bytes;
    loop {
        let found = if utf16 { prefilter.find_utf16le(rest) } else { prefilter.find(rest) };
        let Some(position) = found else { return count };
        count += 1;
        rest = &rest[position + 1..];
    }
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct EngineOptions {
    #[serde(default)]
    rules: Vec<RuleInput>,
    default_rules: Option<bool>,
    /// Reject the engine when any rule fails to load.
    #[serde(default)]
    strict: bool,
    /// Values of `%name%` placeholders for rules that use `|expand`, by
    /// name without the `%`.
    #[serde(default)]
    placeholders: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum RuleInput {
    Text(String),
    Named { name: String, yaml: String },
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
    /// Compiles `new Engine({ rules, defaultRules, strict })`. `rules` is an
    /// array of YAML texts or `{ name, yaml }` objects. `defaultRules` (true
    /// unless set) adds the bundled rules. With `strict`, a rule that fails
    /// to load throws instead of being listed in `warnings`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsEngine, JsValue> {
        let options: EngineOptions = if options.is_undefined() || options.is_null() {
            EngineOptions::default()
        } else {
            check_option_names(&options)?;
            serde_wasm_bindgen::from_value(options)
                .map_err(|error| js_error("TypeError", "invalid-options", &format!("invalid Engine options: {error}")))?
        };
        let mut builder = EngineBuilder::default().default_rules(options.default_rules.unwrap_or(true));
        for (name, values) in options.placeholders {
            builder = builder.placeholder(name, values);
        }
        for (index, rule) in options.rules.into_iter().enumerate() {
            builder = match rule {
                RuleInput::Text(yaml) => builder.rule_text(format!("rules[{index}]"), yaml),
                RuleInput::Named { name, yaml } => builder.rule_text(name, yaml),
            };
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
    pub fn evaluate(&self, event: JsValue) -> Result<JsValue, JsValue> {
        let event = event_from_js(&event)?;
        to_js(&self.inner.evaluate(&event))
    }

    /// Evaluates an array of events; returns one array of matches per event.
    #[wasm_bindgen(js_name = evaluateBatch)]
    pub fn evaluate_batch(&self, events: JsValue) -> Result<JsValue, JsValue> {
        if !js_sys::Array::is_array(&events) {
            return Err(js_error("TypeError", "invalid-event", "evaluateBatch expects an array of events"));
        }
        let events = js_sys::Array::from(&events);
        let mut results: Vec<Vec<Match>> = Vec::with_capacity(events.length() as usize);
        for (index, event) in events.iter().enumerate() {
            let event = event_from_js(&event).map_err(|error| prefix_message(error, &format!("event {index}: ")))?;
            results.push(self.inner.evaluate(&event));
        }
        to_js(&results)
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
            file: String::new(),
            rule_id: None,
            code: "never-matches",
            message: note.clone(),
        }));
        to_js(&warnings)
    }

    /// Starts a streaming scan of one input named `file`. `prefilter`
    /// (true unless set) skips records that contain no literal the rules
    /// need; matches are the same either way. `includeEvent` (false unless
    /// set) adds every field of the matched event to each match as `event`.
    pub fn scanner(&self, file: String, prefilter: Option<bool>, include_event: Option<bool>) -> JsScanner {
        let mut inner = Scanner::new(self.inner.clone(), file);
        inner.set_prefilter(prefilter.unwrap_or(true));
        inner.set_include_event(include_event.unwrap_or(false));
        JsScanner { inner }
    }

    /// Lists the literals the raw-byte prefilter searches for, or returns
    /// `null` when some rule has none and every record is parsed.
    #[wasm_bindgen(js_name = prefilterLiterals)]
    pub fn prefilter_literals(&self) -> Result<JsValue, JsValue> {
        let literals: Option<Vec<&str>> = self.inner.prefilter().map(|p| p.literals().collect());
        to_js(&literals)
    }
}

const ENGINE_OPTIONS: &[&str] = &["rules", "defaultRules", "strict", "placeholders"];

/// Rejects misspelt options, which would otherwise be ignored silently
/// (serde-wasm-bindgen reads only the fields it expects).
fn check_option_names(options: &JsValue) -> Result<(), JsValue> {
    let Some(object) = options.dyn_ref::<js_sys::Object>() else {
        return Err(js_error("TypeError", "invalid-options", "Engine options must be an object"));
    };
    for key in js_sys::Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !ENGINE_OPTIONS.contains(&key.as_str()) {
            let message = format!("unknown Engine option '{key}'; the options are {}", ENGINE_OPTIONS.join(", "));
            return Err(js_error("TypeError", "invalid-options", &message));
        }
    }
    Ok(())
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
    pub fn push(&mut self, bytes: &[u8]) -> Result<JsValue, JsValue> {
        let matches = self.inner.push(bytes).map_err(|error| input_error(&error))?;
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
