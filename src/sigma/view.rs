//! An event indexed for one engine, and the evaluation of field tests on it.
//!
//! Each field the rules refer to points at its values, each value is
//! case-folded at most once, on first use, and each distinct field test is
//! evaluated at most once, so evaluating a rule allocates nothing per rule.

use std::cell::{Cell, OnceCell};

use super::detection::{FieldId, FieldTable, FieldTest, Search, SearchBody, ValueTest, NO_SLOT};
use crate::event::Event;
use crate::matcher::{fold, Anchor, Pattern};

const NONE: u32 = u32::MAX;

/// An [`Event`] seen through an engine's [`FieldTable`].
pub struct View<'e> {
    pub event: &'e Event,
    /// For each field id, the index of its first value in the event.
    first: Vec<u32>,
    /// For each event field, the index of the next value with the same id.
    next: Vec<u32>,
    folded: Vec<OnceCell<Box<str>>>,
    /// Results of field tests by slot: 0 not yet evaluated, 1 false, 2 true.
    results: Vec<Cell<u8>>,
}

impl<'e> View<'e> {
    /// Indexes `event` for the fields of `table`, with a result cache of
    /// `slots` field tests.
    pub fn new(event: &'e Event, table: &FieldTable, slots: usize) -> View<'e> {
        let fields = event.fields();
        let mut first = vec![NONE; table.len()];
        let mut next = vec![NONE; fields.len()];
        for (index, field) in fields.iter().enumerate().rev() {
            if let Some(id) = table.get(&field.name) {
                next[index] = first[id as usize];
                first[id as usize] = index as u32;
            }
        }
        View { event, first, next, folded: vec![OnceCell::new(); fields.len()], results: vec![Cell::new(0); slots] }
    }

    fn cached(&self, slot: u32) -> Option<bool> {
        match self.results.get(slot as usize)?.get() {
            0 => None,
            result => Some(result == 2),
        }
    }

    fn store(&self, slot: u32, result: bool) {
        if let Some(cell) = self.results.get(slot as usize) {
            cell.set(if result { 2 } else { 1 });
        }
    }

    /// Indices (into the event's fields) of every value of field `id`.
    pub fn values_of(&self, id: FieldId) -> impl Iterator<Item = usize> + '_ {
        let mut index = self.first.get(id as usize).copied().unwrap_or(NONE);
        std::iter::from_fn(move || {
            if index == NONE {
                return None;
            }
            let current = index as usize;
            index = self.next[current];
            Some(current)
        })
    }

    /// Lists the non-null values of field `id` with their event field index.
    fn texts_of(&self, id: FieldId) -> impl Iterator<Item = (usize, &'e str)> + '_ {
        self.values_of(id).filter_map(|index| Some((index, self.event.fields()[index].value.as_deref()?)))
    }

    /// The first non-null value of field `id`.
    pub fn first_text(&self, id: FieldId) -> Option<&'e str> {
        self.texts_of(id).map(|(_, text)| text).next()
    }

    fn folded(&self, index: usize, raw: &str) -> &str {
        self.folded[index].get_or_init(|| fold(raw).into_boxed_str())
    }

    /// Tests one value of a field test against every value of the field.
    pub fn field_matches(&self, id: FieldId, test: &ValueTest) -> bool {
        match test {
            ValueTest::Null => {
                let mut values = self.values_of(id).peekable();
                values.peek().is_none() || values.any(|index| self.event.fields()[index].value.is_none())
            }
            ValueTest::Exists(present) => self.values_of(id).next().is_some() == *present,
            ValueTest::FieldRef { field, anchor, cased, .. } => self.texts_of(id).any(|(index, value)| {
                self.texts_of(*field).any(|(other_index, other)| {
                    self.compare_fields((index, value), (other_index, other), *anchor, *cased)
                })
            }),
            _ => self.texts_of(id).any(|(index, raw)| self.value_matches(index, raw, test)),
        }
    }

    /// Tests a keyword against every value of the event.
    pub fn any_value_matches(&self, test: &ValueTest) -> bool {
        self.event
            .fields()
            .iter()
            .enumerate()
            .any(|(index, field)| field.value.as_deref().is_some_and(|raw| self.value_matches(index, raw, test)))
    }

    /// Tests one non-null event value (field index `index`).
    fn value_matches(&self, index: usize, raw: &str, test: &ValueTest) -> bool {
        match test {
            ValueTest::Text { patterns, .. } => patterns.iter().any(|pattern| self.text_matches(index, raw, pattern)),
            ValueTest::Regex { regex, .. } => regex.is_match(raw),
            ValueTest::Compare { comparison, .. } => comparison.matches(raw),
            ValueTest::Cidr { network, .. } => network.contains(raw),
            ValueTest::Time { time, .. } => time.matches(raw),
            // Null, exists and field references are about the field as a
            // whole; as keywords they match no single value.
            ValueTest::Null | ValueTest::Exists(_) | ValueTest::FieldRef { .. } => false,
        }
    }

    fn text_matches(&self, index: usize, raw: &str, pattern: &Pattern) -> bool {
        if pattern.is_cased() {
            pattern.matches(raw, raw)
        } else {
            pattern.matches(raw, self.folded(index, raw))
        }
    }

    /// Compares a field's value with the value of the field it refers to.
    fn compare_fields(&self, value: (usize, &str), other: (usize, &str), anchor: Anchor, cased: bool) -> bool {
        let (haystack, needle) = if cased {
            (value.1, other.1)
        } else {
            (self.folded(value.0, value.1), self.folded(other.0, other.1))
        };
        match anchor {
            Anchor::Whole => haystack == needle,
            Anchor::Start => haystack.starts_with(needle),
            Anchor::End => haystack.ends_with(needle),
            Anchor::Anywhere => memchr::memmem::find(haystack.as_bytes(), needle.as_bytes()).is_some(),
        }
    }
}

impl Search {
    /// Evaluates the search against an event.
    pub fn matches(&self, view: &View) -> bool {
        match &self.body {
            SearchBody::Maps(maps) => maps.iter().any(|tests| tests.iter().all(|test| test.matches(view))),
            SearchBody::Keywords(test) => test.matches(view),
        }
    }
}

impl FieldTest {
    /// Evaluates the test: any value (every value with `|all`) matches,
    /// negated with `|neq`. The result is cached in the view's slot for it.
    pub fn matches(&self, view: &View) -> bool {
        if self.slot != NO_SLOT {
            if let Some(result) = view.cached(self.slot) {
                return result;
            }
        }
        let result = self.evaluate(view);
        view.store(self.slot, result);
        result
    }

    fn evaluate(&self, view: &View) -> bool {
        let matches_value = |value: &ValueTest| self.value_matches(view, value);
        let matched =
            if self.all { self.values.iter().all(matches_value) } else { self.values.iter().any(matches_value) };
        matched != self.negate
    }

    /// Tests whether one of the test's values matches (before `|neq`).
    pub fn value_matches(&self, view: &View, value: &ValueTest) -> bool {
        match self.field {
            Some(field) => view.field_matches(field, value),
            None => view.any_value_matches(value),
        }
    }
}
