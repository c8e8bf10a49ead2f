//! String values through the transformation modifiers: `windash`, `base64`,
//! `base64offset`, `utf16le` (`wide`), `utf16be`, `utf16`, `expand`, and the
//! anchors `contains`, `startswith` and `endswith`, applied in the order
//! written.
//!
//! A value is held as parts: byte strings (the encodings produce bytes that
//! need not be UTF-8 until the chain ends), wildcards and `%name%`
//! placeholders. A transformation may turn one value into several variants
//! (`windash`, `base64offset`, `expand`); the variants are OR-ed. Once every
//! modifier has run, each variant must be UTF-8 text again and becomes
//! [`Token`]s for [`crate::matcher::Pattern::from_tokens`].

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::modifier::Modifier;
use crate::matcher::{tokenize, Token};

/// Values configured for `%name%` placeholders, by name without the `%`.
pub type Placeholders = BTreeMap<String, Vec<String>>;

/// Most variants one value may expand into (`windash` makes five per dash,
/// `expand` one per configured value, `base64offset` three).
pub const MAX_VARIANTS: usize = 4096;

/// The characters `windash` treats as interchangeable: hyphen-minus, slash,
/// en dash, em dash and horizontal bar.
pub const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// One piece of a value between transformations.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Bytes(Vec<u8>),
    AnyRun,
    AnyChar,
    Placeholder(String),
}

type Variant = Vec<Part>;

/// The failures of a value transformation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    /// The chain cannot apply to this value.
    Invalid(String),
    /// A placeholder that the engine has no values for.
    Placeholder(String),
    /// The value expands into more than [`MAX_VARIANTS`] variants.
    TooManyVariants(usize),
}

/// Runs `written` through the modifiers in order and returns its variants.
pub fn transform(
    written: &str,
    modifiers: &[Modifier],
    placeholders: &Placeholders,
) -> Result<Vec<Vec<Token>>, ValueError> {
    let expands = modifiers.contains(&Modifier::Expand);
    let mut variants = vec![initial_parts(written, expands)];

    for &modifier in modifiers {
        let mut next = Vec::with_capacity(variants.len());
        for variant in variants {
            apply(modifier, variant, placeholders, &mut next)?;
            if next.len() > MAX_VARIANTS {
                return Err(ValueError::TooManyVariants(next.len()));
            }
        }
        variants = next;
    }

    let mut tokens: Vec<Vec<Token>> = Vec::with_capacity(variants.len());
    for variant in variants {
        let variant = into_tokens(variant, modifiers)?;
        if !tokens.contains(&variant) {
            tokens.push(variant);
        }
    }
    Ok(tokens)
}

/// Applies one modifier to one variant, pushing the results to `out`.
fn apply(
    modifier: Modifier,
    mut variant: Variant,
    placeholders: &Placeholders,
    out: &mut Vec<Variant>,
) -> Result<(), ValueError> {
    match modifier {
        Modifier::Contains => {
            anchor_start(&mut variant);
            anchor_end(&mut variant);
            out.push(variant);
        }
        Modifier::StartsWith => {
            anchor_end(&mut variant);
            out.push(variant);
        }
        Modifier::EndsWith => {
            anchor_start(&mut variant);
            out.push(variant);
        }
        Modifier::Windash => windash(&variant, out)?,
        Modifier::Base64 => {
            let bytes = plain_bytes(&variant, "base64")?;
            out.push(vec![Part::Bytes(STANDARD.encode(bytes).into_bytes())]);
        }
        Modifier::Base64Offset => {
            let bytes = plain_bytes(&variant, "base64offset")?;
            out.extend(base64_offsets(&bytes).into_iter().map(|text| vec![Part::Bytes(text.into_bytes())]));
        }
        Modifier::Utf16Le => out.push(utf16(&variant, "utf16le", u16::to_le_bytes)?),
        Modifier::Utf16Be => out.push(utf16(&variant, "utf16be", u16::to_be_bytes)?),
        Modifier::Utf16 => {
            let mut encoded = utf16(&variant, "utf16", u16::to_le_bytes)?;
            encoded.insert(0, Part::Bytes(vec![0xFF, 0xFE]));
            out.push(encoded);
        }
        Modifier::Expand => expand(variant, placeholders, out)?,
        _ => out.push(variant),
    }
    Ok(())
}

/// Splits the value as written into parts, resolving `\*`, `\?` and `\\`.
/// With `expand`, `%name%` is a placeholder and `\%` a plain percent sign.
fn initial_parts(written: &str, expands: bool) -> Variant {
    if !expands {
        return parts_of(tokenize(written));
    }
    let mut parts = Vec::new();
    for segment in split_placeholders(written) {
        match segment {
            Segment::Text(text) => parts.extend(parts_of(tokenize(&text))),
            Segment::Placeholder(name) => parts.push(Part::Placeholder(name)),
        }
    }
    parts
}

fn parts_of(tokens: Vec<Token>) -> Variant {
    tokens
        .into_iter()
        .map(|token| match token {
            Token::Literal(text) => Part::Bytes(text.into_bytes()),
            Token::AnyRun => Part::AnyRun,
            Token::AnyChar => Part::AnyChar,
        })
        .collect()
}

enum Segment {
    /// Text still holding its wildcard escapes, for [`tokenize`].
    Text(String),
    Placeholder(String),
}

/// Finds the `%name%` placeholders of a value. `\%` becomes a plain `%`;
/// the other escapes are left for [`tokenize`]. A `%` without a closing
/// `%` is plain text.
fn split_placeholders(written: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut text = String::new();
    let mut chars = written.char_indices().peekable();

    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => match chars.peek().map(|&(_, next)| next) {
                Some('%') => {
                    text.push('%');
                    chars.next();
                }
                Some(next @ ('\\' | '*' | '?')) => {
                    text.push('\\');
                    text.push(next);
                    chars.next();
                }
                _ => text.push('\\'),
            },
            '%' => {
                let rest = &written[index + 1..];
                match rest.find('%').filter(|&end| end > 0) {
                    Some(end) => {
                        if !text.is_empty() {
                            segments.push(Segment::Text(std::mem::take(&mut text)));
                        }
                        segments.push(Segment::Placeholder(rest[..end].to_string()));
                        // Skip the name and the closing `%`.
                        for _ in 0..rest[..=end].chars().count() {
                            chars.next();
                        }
                    }
                    None => text.push('%'),
                }
            }
            _ => text.push(c),
        }
    }
    if !text.is_empty() {
        segments.push(Segment::Text(text));
    }
    segments
}

fn anchor_start(variant: &mut Variant) {
    if variant.first() != Some(&Part::AnyRun) {
        variant.insert(0, Part::AnyRun);
    }
}

fn anchor_end(variant: &mut Variant) {
    if variant.last() != Some(&Part::AnyRun) {
        variant.push(Part::AnyRun);
    }
}

/// Joins the bytes of a variant for the base64 encodings, which reject
/// wildcards and placeholders.
fn plain_bytes(variant: &Variant, modifier: &str) -> Result<Vec<u8>, ValueError> {
    let mut bytes = Vec::new();
    for part in variant {
        match part {
            Part::Bytes(piece) => bytes.extend_from_slice(piece),
            Part::AnyRun | Part::AnyChar => {
                return Err(ValueError::Invalid(format!(
                    "'{modifier}' cannot encode a value with wildcards; put 'contains', 'startswith' or \
                     'endswith' after '{modifier}', and escape a literal '*' or '?' with '\\'"
                )))
            }
            Part::Placeholder(name) => {
                return Err(ValueError::Invalid(format!(
                    "'{modifier}' cannot encode the placeholder %{name}%; put 'expand' before '{modifier}'"
                )))
            }
        }
    }
    Ok(bytes)
}

/// Encodes `bytes` in its three base64 forms at offsets 0, 1 and 2 of a
/// longer encoded text, each cut to the characters that depend on `bytes`
/// alone.
///
/// Base64 encodes 3 bytes as 4 characters. Preceded by 1 byte of other
/// data, the first 2 characters also carry bits of that byte, and after 2
/// bytes the first 3 do, so those are cut. At the end, a group of 1 byte
/// leaves 3 characters (one of them partly padding, two `=`) to cut, and
/// a group of 2 bytes leaves 2. Forms that end up empty (values of one or
/// two bytes) are left out, because an empty needle would match anything.
fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START_CUT: [usize; 3] = [0, 2, 3];
    const END_CUT: [usize; 3] = [0, 3, 2];

    let mut forms = Vec::with_capacity(3);
    for offset in 0..3 {
        let mut shifted = vec![b' '; offset];
        shifted.extend_from_slice(bytes);
        let encoded = STANDARD.encode(&shifted);
        let end = encoded.len().saturating_sub(END_CUT[shifted.len() % 3]);
        let start = START_CUT[offset];
        if start < end {
            forms.push(encoded[start..end].to_string());
        }
    }
    forms
}

/// Encodes the text of each part as UTF-16, keeping wildcards in place.
fn utf16(variant: &Variant, modifier: &str, encode: fn(u16) -> [u8; 2]) -> Result<Variant, ValueError> {
    let mut out = Vec::with_capacity(variant.len());
    for part in variant {
        match part {
            Part::Bytes(bytes) => {
                let text = std::str::from_utf8(bytes).map_err(|_| {
                    ValueError::Invalid(format!("'{modifier}' needs text, but an earlier modifier made bytes"))
                })?;
                out.push(Part::Bytes(text.encode_utf16().flat_map(encode).collect()));
            }
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

/// Makes every variant in which each dash character of the text is
/// replaced by any of the five [`DASHES`].
fn windash(variant: &Variant, out: &mut Vec<Variant>) -> Result<(), ValueError> {
    let mut results: Vec<Variant> = vec![Vec::with_capacity(variant.len())];
    for part in variant {
        let choices = match part {
            Part::Bytes(bytes) => {
                let text = std::str::from_utf8(bytes).map_err(|_| {
                    ValueError::Invalid("'windash' needs text, but an earlier modifier made bytes".to_string())
                })?;
                dash_variants(text)?.into_iter().map(|text| vec![Part::Bytes(text.into_bytes())]).collect()
            }
            other => vec![vec![other.clone()]],
        };
        results = product(&results, &choices)?;
    }
    out.extend(results);
    Ok(())
}

/// Spells `text` in every way that replaces each dash by any of [`DASHES`].
fn dash_variants(text: &str) -> Result<Vec<String>, ValueError> {
    let mut spellings = vec![String::with_capacity(text.len())];
    for c in text.chars() {
        if !DASHES.contains(&c) {
            spellings.iter_mut().for_each(|spelling| spelling.push(c));
            continue;
        }
        let count = spellings.len() * DASHES.len();
        if count > MAX_VARIANTS {
            return Err(ValueError::TooManyVariants(count));
        }
        let mut next = Vec::with_capacity(count);
        for spelling in &spellings {
            for dash in DASHES {
                let mut grown = spelling.clone();
                grown.push(dash);
                next.push(grown);
            }
        }
        spellings = next;
    }
    Ok(spellings)
}

/// Replaces each placeholder by each of its configured values, which are
/// Sigma strings themselves (wildcards work in them).
fn expand(variant: Variant, placeholders: &Placeholders, out: &mut Vec<Variant>) -> Result<(), ValueError> {
    let mut results: Vec<Variant> = vec![Vec::with_capacity(variant.len())];
    for part in variant {
        let choices = match part {
            Part::Placeholder(name) => {
                let values = placeholders.get(&name).filter(|values| !values.is_empty());
                let values = values.ok_or(ValueError::Placeholder(name))?;
                values.iter().map(|value| parts_of(tokenize(value))).collect()
            }
            other => vec![vec![other]],
        };
        results = product(&results, &choices)?;
    }
    out.extend(results);
    Ok(())
}

/// Continues each variant with each choice of parts.
fn product(variants: &[Variant], choices: &[Vec<Part>]) -> Result<Vec<Variant>, ValueError> {
    let count = variants.len() * choices.len();
    if count > MAX_VARIANTS {
        return Err(ValueError::TooManyVariants(count));
    }
    let mut out = Vec::with_capacity(count);
    for variant in variants {
        for choice in choices {
            let mut grown = variant.clone();
            grown.extend(choice.iter().cloned());
            out.push(grown);
        }
    }
    Ok(out)
}

/// Turns a finished variant back into matcher tokens.
fn into_tokens(variant: Variant, modifiers: &[Modifier]) -> Result<Vec<Token>, ValueError> {
    let mut joined: Variant = Vec::with_capacity(variant.len());
    for part in variant {
        match (joined.last_mut(), part) {
            (Some(Part::Bytes(previous)), Part::Bytes(bytes)) => previous.extend_from_slice(&bytes),
            (_, part) => joined.push(part),
        }
    }
    joined
        .into_iter()
        .map(|part| match part {
            Part::Bytes(bytes) => String::from_utf8(bytes).map(Token::Literal).map_err(|_| {
                let last = modifiers.iter().rev().find(|m| m.is_transformation()).map_or("", |m| m.name());
                ValueError::Invalid(format!(
                    "after '{last}' the value is not UTF-8 text, so no field can match it; \
                     follow '{last}' with 'base64' or 'base64offset'"
                ))
            }),
            Part::AnyRun => Ok(Token::AnyRun),
            Part::AnyChar => Ok(Token::AnyChar),
            Part::Placeholder(name) => Err(ValueError::Placeholder(name)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Token::{AnyChar, AnyRun, Literal};

    fn run(written: &str, modifiers: &[&str]) -> Result<Vec<Vec<Token>>, ValueError> {
        let modifiers: Vec<Modifier> = modifiers.iter().map(|name| Modifier::from_name(name).unwrap()).collect();
        transform(written, &modifiers, &Placeholders::new())
    }

    fn literal(text: &str) -> Token {
        Literal(text.to_string())
    }

    #[test]
    fn anchors_add_wildcards() {
        assert_eq!(run("a", &["contains"]).unwrap(), vec![vec![AnyRun, literal("a"), AnyRun]]);
        assert_eq!(run("a", &["startswith"]).unwrap(), vec![vec![literal("a"), AnyRun]]);
        assert_eq!(run("*a", &["endswith"]).unwrap(), vec![vec![AnyRun, literal("a")]]);
        assert_eq!(run("a?", &[]).unwrap(), vec![vec![literal("a"), AnyChar]]);
    }

    #[test]
    fn base64_of_the_specification_example() {
        // `base64` encodes the whole value, padding included.
        assert_eq!(run("cmd", &["base64"]).unwrap(), vec![vec![literal("Y21k")]]);
        assert_eq!(run("spinstall0.aspx", &["base64"]).unwrap(), vec![vec![literal("c3BpbnN0YWxsMC5hc3B4")]]);
        assert_eq!(run("ab", &["base64"]).unwrap(), vec![vec![literal("YWI=")]]);
    }

    #[test]
    fn base64offset_gives_three_forms() {
        // "IEX" at offsets 0, 1 and 2 of an encoded text: "SUVY", " IEX" is
        // "IElFWA" with the first 2 characters cut, "  IEX" is "ICBJRVg" with 3 cut.
        assert_eq!(
            run("IEX", &["base64offset", "contains"]).unwrap(),
            vec![
                vec![AnyRun, literal("SUVY"), AnyRun],
                vec![AnyRun, literal("lFW"), AnyRun],
                vec![AnyRun, literal("JRV"), AnyRun],
            ]
        );
    }

    #[test]
    fn base64offset_forms_appear_in_real_encodings() {
        let needle = "::FromBase64String";
        let forms = base64_offsets(needle.as_bytes());
        for prefix in ["", "x", "xy", "xyz", "[Convert]"] {
            let encoded = STANDARD.encode(format!("{prefix}{needle}('...')"));
            assert!(forms.iter().any(|form| encoded.contains(form.as_str())), "{prefix}");
        }
    }

    #[test]
    fn utf16_encodings() {
        assert_eq!(run("cmd", &["utf16le"]).unwrap(), vec![vec![literal("c\0m\0d\0")]]);
        assert_eq!(run("cmd", &["wide"]).unwrap(), run("cmd", &["utf16le"]).unwrap());
        assert_eq!(run("cmd", &["utf16be"]).unwrap(), vec![vec![literal("\0c\0m\0d")]]);
        // With a byte order mark the bytes are FF FE 63 00 6D 00 64 00, which are
        // not text on their own, but are once base64-encoded.
        assert_eq!(run("cmd", &["utf16", "base64"]).unwrap(), vec![vec![literal("//5jAG0AZAA=")]]);
        assert!(matches!(run("cmd", &["utf16"]), Err(ValueError::Invalid(_))));
        assert_eq!(run("cmd", &["wide", "base64"]).unwrap(), vec![vec![literal("YwBtAGQA")]]);
    }

    #[test]
    fn encoding_wildcards_is_rejected() {
        assert!(matches!(run("cmd", &["contains", "base64"]), Err(ValueError::Invalid(_))));
        assert!(matches!(run("c*d", &["base64offset"]), Err(ValueError::Invalid(_))));
        // An escaped wildcard is a plain character.
        assert_eq!(run(r"a\*", &["base64"]).unwrap(), vec![vec![literal("YSo=")]]);
    }

    #[test]
    fn windash_permutes_all_five_dashes() {
        let variants = run(" -foo", &["windash", "contains"]).unwrap();
        let texts: Vec<String> = variants
            .iter()
            .map(|tokens| match &tokens[1] {
                Literal(text) => text.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(texts, vec![" -foo", " /foo", " \u{2013}foo", " \u{2014}foo", " \u{2015}foo"]);
        assert_eq!(run("-a /b", &["windash"]).unwrap().len(), 25);
        assert_eq!(run("\u{2014}a", &["windash"]).unwrap().len(), 5);
        assert_eq!(run("plain", &["windash"]).unwrap(), vec![vec![literal("plain")]]);
    }

    #[test]
    fn windash_limit() {
        let many = "-".repeat(8);
        assert!(matches!(run(&many, &["windash"]), Err(ValueError::TooManyVariants(_))));
    }

    #[test]
    fn expand_uses_configured_values() {
        let mut placeholders = Placeholders::new();
        placeholders.insert("Admins".into(), vec!["root".into(), "adm*".into()]);
        let modifiers = [Modifier::Expand];
        assert_eq!(
            transform("%Admins%", &modifiers, &placeholders).unwrap(),
            vec![vec![literal("root")], vec![literal("adm"), AnyRun]]
        );
        assert_eq!(
            transform(r"\%plain%Admins%", &modifiers, &placeholders).unwrap(),
            vec![vec![literal("%plainroot")], vec![literal("%plainadm"), AnyRun]]
        );
        assert_eq!(
            transform("%Missing%", &modifiers, &placeholders).unwrap_err(),
            ValueError::Placeholder("Missing".into())
        );
        // Without `expand`, percent signs are plain text.
        assert_eq!(transform("%Admins%", &[], &placeholders).unwrap(), vec![vec![literal("%Admins%")]]);
    }
}
