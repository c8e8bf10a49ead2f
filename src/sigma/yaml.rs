//! Loading rule YAML so that values keep the text they were written with.
//!
//! YAML's core schema reads a plain `0x1fffff` as the integer 2097151 and
//! `010` as 10, but Sigma compares values as strings: `GrantedAccess:
//! 0x1fffff` must match the text `0x1fffff`. This loader hands the parser's
//! events to [`YamlLoader`] and marks a plain scalar as a string whenever the
//! core schema would turn it into an integer whose decimal form differs from
//! the text. Plain decimal integers (`EventID: 10`), floats, booleans and
//! `null` resolve as usual.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::{Yaml, YamlLoader};

/// Parses every document in `text`, keeping the text of non-decimal
/// integers such as `0x10` or `007`.
pub fn load_documents(text: &str) -> Result<Vec<Yaml>, String> {
    let mut receiver = TextPreserving { loader: YamlLoader::default(), documents_ended: 0 };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut receiver, true).map_err(|error| error.to_string())?;

    let documents = receiver.loader.documents();
    // `YamlLoader` stops taking events after a semantic error (a duplicated
    // key), without exposing the error, so a document goes missing.
    if documents.len() != receiver.documents_ended {
        return Err("a mapping has the same key twice".to_string());
    }
    Ok(documents.to_vec())
}

/// Rewrites plain scalars before [`YamlLoader`] resolves them.
struct TextPreserving {
    loader: YamlLoader,
    documents_ended: usize,
}

impl MarkedEventReceiver for TextPreserving {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let event = match event {
            Event::Scalar(text, TScalarStyle::Plain, anchor, None) if is_non_decimal_integer(&text) => {
                Event::Scalar(text, TScalarStyle::SingleQuoted, anchor, None)
            }
            Event::DocumentEnd => {
                self.documents_ended += 1;
                Event::DocumentEnd
            }
            other => other,
        };
        self.loader.on_event(event, mark);
    }
}

/// Whether the core schema reads `text` as an integer written in another
/// form than plain decimal (hex, octal, a sign, leading zeros).
fn is_non_decimal_integer(text: &str) -> bool {
    match Yaml::from_str(text) {
        Yaml::Integer(number) => number.to_string() != text,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Yaml {
        load_documents(&format!("key: {text}\n")).unwrap().remove(0)["key"].clone()
    }

    #[test]
    fn hex_and_padded_numbers_stay_text() {
        assert_eq!(value("0x1fffff"), Yaml::String("0x1fffff".into()));
        assert_eq!(value("0X1F"), Yaml::String("0X1F".into()));
        assert_eq!(value("010"), Yaml::String("010".into()));
        assert_eq!(value("+5"), Yaml::String("+5".into()));
        assert_eq!(value("0o17"), Yaml::String("0o17".into()));
    }

    #[test]
    fn decimal_numbers_booleans_and_null_resolve() {
        assert_eq!(value("10"), Yaml::Integer(10));
        assert_eq!(value("-3"), Yaml::Integer(-3));
        assert_eq!(value("1.5"), Yaml::Real("1.5".into()));
        assert_eq!(value("true"), Yaml::Boolean(true));
        assert_eq!(value("null"), Yaml::Null);
        assert_eq!(value("'0x10'"), Yaml::String("0x10".into()));
    }

    #[test]
    fn anchors_and_documents_survive() {
        let documents = load_documents("a: &x 0x10\nb: *x\n---\nc: 1\n").unwrap();
        assert_eq!(documents.len(), 2);
        assert_eq!(documents[0]["b"], Yaml::String("0x10".into()));
        assert_eq!(documents[1]["c"], Yaml::Integer(1));
    }

    #[test]
    fn duplicated_key_is_an_error() {
        assert_eq!(load_documents("a: 1\na: 2\n").unwrap_err(), "a mapping has the same key twice");
        assert!(load_documents("a: [1\n").is_err());
    }
}
