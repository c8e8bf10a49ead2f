//! An event indexed for one engine: each field the rules refer to points at
//! its values, and each value is case-folded at most once, on first use.

use std::cell::OnceCell;

use super::detection::{FieldId, FieldTable, ValueTest};
use crate::event::Event;
use crate::matcher::{fold, Pattern};

const NONE: u32 = u32::MAX;

/// An [`Event`] seen through an engine's [`FieldTable`].
pub struct View<'e> {
    pub event: &'e Event,
    /// For each field id, the index of its first value in the event.
    first: Vec<u32>,
    /// For each event field, the index of the next value with the same id.
    next: Vec<u32>,
    folded: Vec<OnceCell<Box<str>>>,
}

impl<'e> View<'e> {
    pub fn new(event: &'e Event, table: &FieldTable) -> View<'e> {
        let fields = event.fields();
        let mut first = vec![NONE; table.len()];
        let mut next = vec![NONE; fields.len()];
        for (index, field) in fields.iter().enumerate().rev() {
            if let Some(id) = table.get(&field.name) {
                next[index] = first[id as usize];
                first[id as usize] = index as u32;
            }
        }
        View { event, first, next, folded: vec![OnceCell::new(); fields.len()] }
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

    /// The first non-null value of field `id`.
    pub fn first_text(&self, id: FieldId) -> Option<&'e str> {
        self.values_of(id).find_map(|index| self.event.fields()[index].value.as_deref())
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
            ValueTest::Text { pattern, .. } => self.values_of(id).any(|index| self.text_matches(index, pattern)),
        }
    }

    /// Tests a keyword against every value of the event.
    pub fn any_value_matches(&self, test: &ValueTest) -> bool {
        match test {
            ValueTest::Null => false,
            ValueTest::Text { pattern, .. } => {
                (0..self.event.fields().len()).any(|index| self.text_matches(index, pattern))
            }
        }
    }

    fn text_matches(&self, index: usize, pattern: &Pattern) -> bool {
        let Some(raw) = self.event.fields()[index].value.as_deref() else {
            return false;
        };
        if pattern.is_cased() {
            pattern.matches(raw, raw)
        } else {
            pattern.matches(raw, self.folded(index, raw))
        }
    }
}
