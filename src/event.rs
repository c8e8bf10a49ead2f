//! The event view: one record's fields under their Sigma names, whatever
//! shape the record arrived in.
//!
//! Readers turn each record into a JSON value (the evtx crate renders EVTX
//! records that way too) and [`Event::from_json`] flattens it. Objects are
//! walked into dotted paths, evtx-style `#attributes` and `#text` are
//! unwrapped, and [`crate::fields`] maps each path to the name rules use
//! (`Event.EventData.SourceImage`, `winlog.event_data.SourceImage` and a flat
//! `SourceImage` all become `SourceImage`).
//!
//! Every value is kept as text, because Sigma compares numbers and strings
//! by value: the JSON number `10` and the string `"10"` are the same
//! EventID. JSON `null` stays distinct from the empty string.

use serde_json::Value;

use crate::fields;
use crate::limits::Limits;

/// One field of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The Sigma field name (`SourceImage`, `EventID`, `Provider_Name`).
    pub name: Box<str>,
    /// The value as text; `None` for JSON `null`.
    pub value: Option<Box<str>>,
}

/// A flattened event. A name may occur more than once (unnamed `Data`
/// elements, arrays); a rule's field test then passes if any value passes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    fields: Vec<Field>,
}

impl Event {
    /// Flattens a JSON event in any supported shape, nested at most as
    /// deep as [`Limits::default`] allows.
    pub fn from_json(value: &Value) -> Result<Event, String> {
        Event::from_json_with_max_depth(value, Limits::default().max_depth)
    }

    /// Flattens a JSON event whose objects and arrays nest at most
    /// `max_depth` levels; a deeper event is an error that names the limit.
    pub fn from_json_with_max_depth(value: &Value, max_depth: usize) -> Result<Event, String> {
        let Value::Object(map) = value else {
            return Err(format!("expected a JSON object, found {}", json_kind(value)));
        };
        let mut event = Event::default();
        let mut path = String::new();
        for (key, child) in map {
            event.walk(&mut path, key, child, Depth { now: 0, max: max_depth })?;
        }
        fields::add_aliases(&mut event);
        Ok(event)
    }

    /// Adds a field (used by readers that do not go through JSON).
    pub fn push(&mut self, name: &str, value: Option<&str>) {
        self.fields.push(Field { name: name.into(), value: value.map(Into::into) });
    }

    /// Returns all fields in the order they were read.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Returns the first value of a field, or `None` when it is absent or null.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|f| &*f.name == name).and_then(|f| f.value.as_deref())
    }

    /// Returns whether the event has a field of that name, null or not.
    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|f| &*f.name == name)
    }

    /// Returns the fields as a map: a name to its value (`null` for null),
    /// or to an array of values when the name occurs more than once.
    pub fn to_map(&self) -> std::collections::BTreeMap<String, Value> {
        let mut map = std::collections::BTreeMap::new();
        for field in &self.fields {
            let value = field.value.as_deref().map_or(Value::Null, |text| Value::String(text.to_string()));
            match map.entry(field.name.to_string()) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                std::collections::btree_map::Entry::Occupied(mut slot) => match slot.get_mut() {
                    Value::Array(values) => values.push(value),
                    first => *first = Value::Array(vec![first.take(), value]),
                },
            }
        }
        map
    }

    /// Returns the event's EventID as a number, when it has one.
    pub fn event_id(&self) -> Option<u32> {
        self.get("EventID")?.trim().parse().ok()
    }

    fn walk(&mut self, path: &mut String, key: &str, value: &Value, depth: Depth) -> Result<(), String> {
        let saved = path.len();
        match key {
            // `{"#text": 10, "#attributes": {...}}` is the element's own value.
            "#text" => {}
            // Attributes become `Element_Attribute`, as in `Provider_Name`.
            "#attributes" => {
                if let Value::Object(attributes) = value {
                    for (name, attribute) in attributes {
                        path.push('_');
                        path.push_str(name);
                        self.walk_value(path, attribute, depth)?;
                        path.truncate(saved);
                    }
                    return Ok(());
                }
                path.push_str("_attributes");
            }
            _ => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
        }
        self.walk_value(path, value, depth)?;
        path.truncate(saved);
        Ok(())
    }

    fn walk_value(&mut self, path: &mut String, value: &Value, depth: Depth) -> Result<(), String> {
        if depth.now >= depth.max {
            return Err(format!("nested deeper than the maxDepth limit of {} levels", depth.max));
        }
        match value {
            Value::Object(map) => {
                if let Some(name) = data_element_name(path, map) {
                    let text = map.get("#text").unwrap_or(&Value::Null);
                    let saved = path.len();
                    path.truncate(path.len() - "Data".len());
                    path.push_str(name);
                    self.walk_value(path, text, depth.deeper())?;
                    path.truncate(saved - "Data".len());
                    path.push_str("Data");
                    return Ok(());
                }
                for (key, child) in map {
                    self.walk(path, key, child, depth.deeper())?;
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk_value(path, item, depth.deeper())?;
                }
            }
            scalar => {
                let name = fields::sigma_name(path);
                self.fields.push(Field { name: name.into(), value: scalar_text(scalar) });
            }
        }
        Ok(())
    }
}

/// The nesting level of the value being flattened, and the limit.
#[derive(Clone, Copy)]
struct Depth {
    now: usize,
    max: usize,
}

impl Depth {
    fn deeper(self) -> Depth {
        Depth { now: self.now + 1, ..self }
    }
}

/// The `Name` of an XML-style `<Data Name="X">` element rendered as JSON
/// (`{"#attributes": {"Name": "X"}, "#text": "..."}` under a `Data` key).
fn data_element_name<'a>(path: &str, map: &'a serde_json::Map<String, Value>) -> Option<&'a str> {
    if !path.ends_with("Data") || path.ends_with("EventData") {
        return None;
    }
    map.get("#attributes")?.get("Name")?.as_str()
}

fn scalar_text(value: &Value) -> Option<Box<str>> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.as_str().into()),
        Value::Bool(flag) => Some(if *flag { "true" } else { "false" }.into()),
        Value::Number(number) => Some(number.to_string().into()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evtx_layout_flattens_to_sigma_names() {
        let event = Event::from_json(&json!({
            "Event": {
                "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
                "System": {
                    "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                    "EventID": {"#text": 10, "#attributes": {"Qualifiers": 0}},
                    "Channel": "Microsoft-Windows-Sysmon/Operational",
                    "Correlation": null,
                    "TimeCreated": {"#attributes": {"SystemTime": "2025-11-27T07:22:22.033828Z"}}
                },
                "EventData": {"SourceImage": "C:\\a.exe", "SourceProcessId": 7224}
            }
        }))
        .unwrap();
        assert_eq!(event.get("EventID"), Some("10"));
        assert_eq!(event.event_id(), Some(10));
        assert_eq!(event.get("EventID_Qualifiers"), Some("0"));
        assert_eq!(event.get("Provider_Name"), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(event.get("TimeCreated_SystemTime"), Some("2025-11-27T07:22:22.033828Z"));
        assert_eq!(event.get("SourceImage"), Some("C:\\a.exe"));
        assert_eq!(event.get("SourceProcessId"), Some("7224"));
        assert!(event.has("Correlation"));
        assert_eq!(event.get("Correlation"), None);
    }

    #[test]
    fn named_data_elements_become_fields() {
        let event = Event::from_json(&json!({
            "Event": {"EventData": {"Data": [
                {"#attributes": {"Name": "TargetImage"}, "#text": "C:\\MsMpEng.exe"},
                {"#attributes": {"Name": "Empty"}}
            ]}}
        }))
        .unwrap();
        assert_eq!(event.get("TargetImage"), Some("C:\\MsMpEng.exe"));
        assert!(event.has("Empty"));
    }

    #[test]
    fn unnamed_data_is_multi_valued() {
        let event = Event::from_json(&json!({"Event": {"EventData": {"Data": ["a", "b"]}}})).unwrap();
        let values: Vec<_> = event.fields().iter().filter(|f| &*f.name == "Data").collect();
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn map_groups_repeated_names() {
        let event = Event::from_json(&json!({"Event": {"EventData": {"Data": ["a", "b"]}, "System": {"EventID": 4}}})).unwrap();
        let map = event.to_map();
        assert_eq!(map["Data"], json!(["a", "b"]));
        assert_eq!(map["EventID"], json!("4"));
    }

    #[test]
    fn non_object_is_rejected() {
        assert_eq!(Event::from_json(&json!([1])).unwrap_err(), "expected a JSON object, found an array");
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let mut value = json!("leaf");
        for _ in 0..100 {
            value = json!({ "a": value });
        }
        assert_eq!(Event::from_json(&value).unwrap_err(), "nested deeper than the maxDepth limit of 64 levels");
        assert!(Event::from_json_with_max_depth(&value, 100).is_ok());
        assert!(Event::from_json_with_max_depth(&value, 99).is_err());
    }
}
