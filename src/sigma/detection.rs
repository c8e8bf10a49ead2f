//! Compiling a rule's `detection` searches into field tests, and evaluating
//! them against an event view.
//!
//! A search is a map (its keys AND-ed), a list of maps (OR-ed), or a list of
//! plain values (keywords, matched anywhere in the event). Each key is a
//! field name with modifiers; its values are OR-ed unless `|all`.

use std::collections::HashMap;

use yaml_rust2::Yaml;

use super::modifier::{Modifier, Modifiers};
use super::view::View;
use crate::matcher::{Anchor, Pattern};

/// Index of a field name in a [`FieldTable`].
pub type FieldId = u32;

/// The field names the rules of one engine refer to, each with an index.
#[derive(Debug, Clone, Default)]
pub struct FieldTable {
    ids: HashMap<Box<str>, FieldId>,
    names: Vec<Box<str>>,
}

impl FieldTable {
    /// Returns the index of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as FieldId;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    pub fn get(&self, name: &str) -> Option<FieldId> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: FieldId) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One named search of a rule's `detection`.
#[derive(Debug, Clone)]
pub struct Search {
    pub name: String,
    pub body: SearchBody,
}

#[derive(Debug, Clone)]
pub enum SearchBody {
    /// OR of maps, each an AND of field tests (a single map is one entry).
    Maps(Vec<Vec<FieldTest>>),
    /// Plain values, any of which may appear in any field.
    Keywords(Vec<ValueTest>),
}

/// `Field|modifiers: values`.
#[derive(Debug, Clone)]
pub struct FieldTest {
    pub field: FieldId,
    /// The key as written, such as `CallTrace|contains`.
    pub key: String,
    pub values: Vec<ValueTest>,
    /// `|all`: every value must match.
    pub all: bool,
}

/// One value of a field test.
#[derive(Debug, Clone)]
pub enum ValueTest {
    /// `null`: the field is absent or null.
    Null,
    /// A string (numbers and booleans as their text).
    Text { pattern: Pattern, written: String },
}

/// Compiles every search of `detection` (all keys but `condition` and
/// `timeframe`), in the order written.
pub fn compile_searches(detection: &Yaml, fields: &mut FieldTable) -> Result<Vec<Search>, String> {
    let Yaml::Hash(map) = detection else {
        return Err("'detection' must be a map".to_string());
    };
    let mut searches = Vec::new();
    for (key, body) in map {
        let Yaml::String(name) = key else {
            return Err(format!("search names must be strings, found {key:?}"));
        };
        if name == "condition" || name == "timeframe" {
            continue;
        }
        let body = compile_body(body, fields).map_err(|message| format!("search '{name}': {message}"))?;
        searches.push(Search { name: name.clone(), body });
    }
    Ok(searches)
}

fn compile_body(body: &Yaml, fields: &mut FieldTable) -> Result<SearchBody, String> {
    match body {
        Yaml::Hash(_) => Ok(SearchBody::Maps(vec![compile_map(body, fields)?])),
        Yaml::Array(items) if items.iter().all(|item| matches!(item, Yaml::Hash(_))) && !items.is_empty() => {
            let maps = items.iter().map(|item| compile_map(item, fields)).collect::<Result<_, _>>()?;
            Ok(SearchBody::Maps(maps))
        }
        Yaml::Array(items) => {
            let values = items
                .iter()
                .map(|item| compile_value(item, Anchor::Anywhere, false))
                .collect::<Result<Vec<_>, _>>()?;
            if values.is_empty() {
                return Err("empty list".to_string());
            }
            Ok(SearchBody::Keywords(values))
        }
        scalar => Ok(SearchBody::Keywords(vec![compile_value(scalar, Anchor::Anywhere, false)?])),
    }
}

fn compile_map(map: &Yaml, fields: &mut FieldTable) -> Result<Vec<FieldTest>, String> {
    let Yaml::Hash(entries) = map else { unreachable!("compile_body passes maps only") };
    let mut tests = Vec::with_capacity(entries.len());
    for (key, values) in entries {
        let Yaml::String(key) = key else {
            return Err(format!("field names must be strings, found {key:?}"));
        };
        tests.push(compile_field_test(key, values, fields).map_err(|message| format!("'{key}': {message}"))?);
    }
    Ok(tests)
}

fn compile_field_test(key: &str, values: &Yaml, fields: &mut FieldTable) -> Result<FieldTest, String> {
    let mut parts = key.split('|');
    let field_name = parts.next().unwrap_or_default();
    if field_name.is_empty() {
        return Err("missing field name before '|'".to_string());
    }
    let modifier_names: Vec<&str> = parts.collect();
    let modifiers = Modifiers::parse(&modifier_names)?;

    let anchor = if modifiers.has(Modifier::Contains) {
        Anchor::Anywhere
    } else if modifiers.has(Modifier::StartsWith) {
        Anchor::Start
    } else if modifiers.has(Modifier::EndsWith) {
        Anchor::End
    } else {
        Anchor::Whole
    };
    let cased = modifiers.has(Modifier::Cased);

    let compiled = match values {
        Yaml::Array(items) if items.is_empty() => return Err("empty value list".to_string()),
        Yaml::Array(items) => items.iter().map(|v| compile_value(v, anchor, cased)).collect::<Result<_, _>>()?,
        single => vec![compile_value(single, anchor, cased)?],
    };
    Ok(FieldTest {
        field: fields.intern(field_name),
        key: key.to_string(),
        values: compiled,
        all: modifiers.has(Modifier::All),
    })
}

fn compile_value(value: &Yaml, anchor: Anchor, cased: bool) -> Result<ValueTest, String> {
    let written = match value {
        Yaml::Null => return Ok(ValueTest::Null),
        Yaml::String(text) | Yaml::Real(text) => text.clone(),
        Yaml::Integer(number) => number.to_string(),
        Yaml::Boolean(flag) => flag.to_string(),
        other => return Err(format!("values must be strings, numbers, booleans or null, found {other:?}")),
    };
    Ok(ValueTest::Text { pattern: Pattern::new(&written, anchor, cased), written })
}

impl Search {
    /// Evaluates the search against an event.
    pub fn matches(&self, view: &View) -> bool {
        match &self.body {
            SearchBody::Maps(maps) => maps.iter().any(|tests| tests.iter().all(|test| test.matches(view))),
            SearchBody::Keywords(values) => values.iter().any(|value| view.any_value_matches(value)),
        }
    }
}

impl FieldTest {
    pub fn matches(&self, view: &View) -> bool {
        if self.all {
            self.values.iter().all(|value| view.field_matches(self.field, value))
        } else {
            self.values.iter().any(|value| view.field_matches(self.field, value))
        }
    }
}
