//! Compiled string patterns: Sigma values with `*` and `?` wildcards,
//! case-folded once at load and searched with memchr.
//!
//! A pattern is compiled from the value as written in the rule plus the
//! modifier that anchors it (`contains`, `startswith`, `endswith` or none).
//! The common shapes (equality, prefix, suffix, one substring) get a direct
//! test; anything with several literals or a `?` becomes a glob whose pure
//! literal segments still use a `memchr::memmem::Finder`.
//!
//! Case-insensitive patterns compare against a folded copy of the value that
//! the caller makes once per event field ([`fold`]), so evaluation allocates
//! nothing per pattern.

use memchr::memmem::Finder;

/// Appends the case-folded form of `text` to `out`.
///
/// ASCII text takes a byte-wise fast path. Other text is lower-cased one
/// character at a time with Unicode's lower-case mapping, so `Ä` and `ä`
/// compare equal.
pub fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        out[start..].make_ascii_lowercase();
    } else {
        for c in text.chars() {
            out.extend(c.to_lowercase());
        }
    }
}

/// Returns the case-folded form of `text` (see [`fold_into`]).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// One piece of a Sigma string value once its escapes are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Text that must appear as written.
    Literal(String),
    /// `*`: any run of characters, the empty run included.
    AnyRun,
    /// `?`: exactly one character.
    AnyChar,
}

/// Splits a Sigma string value into literals and wildcards.
///
/// A backslash escapes only `*`, `?` and another backslash; before any other
/// character, and at the end of the value, it is a literal backslash, so
/// `\dbgcore.dll` starts with a backslash and `\\*` is a backslash followed
/// by a wildcard.
pub fn tokenize(value: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut literal = String::new();
    let mut chars = value.chars().peekable();

    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    literal.push(next);
                    chars.next();
                }
                _ => literal.push('\\'),
            },
            '*' | '?' => {
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                let wildcard = if c == '*' { Token::AnyRun } else { Token::AnyChar };
                // Consecutive `*` mean the same as one.
                if !(wildcard == Token::AnyRun && tokens.last() == Some(&Token::AnyRun)) {
                    tokens.push(wildcard);
                }
            }
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        tokens.push(Token::Literal(literal));
    }
    tokens
}

/// Adds the `*` that an anchor implies at either end, unless already there.
pub fn anchor_tokens(tokens: &mut Vec<Token>, anchor: Anchor) {
    if matches!(anchor, Anchor::End | Anchor::Anywhere) && tokens.first() != Some(&Token::AnyRun) {
        tokens.insert(0, Token::AnyRun);
    }
    if matches!(anchor, Anchor::Start | Anchor::Anywhere) && tokens.last() != Some(&Token::AnyRun) {
        tokens.push(Token::AnyRun);
    }
}

/// Joins adjacent literals, drops empty ones and collapses runs of `*`.
fn normalize(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for token in tokens {
        match (out.last_mut(), token) {
            (_, Token::Literal(text)) if text.is_empty() => {}
            (Some(Token::Literal(previous)), Token::Literal(text)) => previous.push_str(&text),
            (Some(Token::AnyRun), Token::AnyRun) => {}
            (_, token) => out.push(token),
        }
    }
    out
}

/// Where a value must sit in the field, from the rule's modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// No modifier: the whole field equals the value.
    Whole,
    /// `|startswith`.
    Start,
    /// `|endswith`.
    End,
    /// `|contains`.
    Anywhere,
}

/// A compiled Sigma string value.
#[derive(Debug, Clone)]
pub struct Pattern {
    shape: Shape,
    cased: bool,
}

#[derive(Debug, Clone)]
enum Shape {
    Equals(Box<str>),
    StartsWith(Box<str>),
    EndsWith(Box<str>),
    Contains(Finder<'static>),
    Glob(Glob),
}

impl Pattern {
    /// Compiles `value` as written in a rule (escapes and wildcards intact).
    ///
    /// With `cased` false the needle is folded here, and [`Pattern::matches`]
    /// must be given the folded value.
    pub fn new(value: &str, anchor: Anchor, cased: bool) -> Pattern {
        let mut tokens = tokenize(value);
        anchor_tokens(&mut tokens, anchor);
        Pattern::from_tokens(tokens, cased)
    }

    /// Compiles a value already split into literals and wildcards, such as
    /// the output of a base64 or UTF-16 transformation. Adjacent literals
    /// are joined and runs of `*` collapse into one.
    pub fn from_tokens(tokens: Vec<Token>, cased: bool) -> Pattern {
        let mut tokens = normalize(tokens);
        if !cased {
            for token in &mut tokens {
                if let Token::Literal(text) = token {
                    *text = fold(text);
                }
            }
        }
        Pattern { shape: Shape::from_tokens(tokens), cased }
    }

    /// Whether the pattern compares case-sensitively (`|cased`).
    pub fn is_cased(&self) -> bool {
        self.cased
    }

    /// Tests a field value: `raw` as the event has it, `folded` its
    /// [`fold`]ed form (read only by case-insensitive patterns).
    pub fn matches(&self, raw: &str, folded: &str) -> bool {
        let haystack = if self.cased { raw } else { folded };
        match &self.shape {
            Shape::Equals(needle) => haystack == &**needle,
            Shape::StartsWith(needle) => haystack.starts_with(&**needle),
            Shape::EndsWith(needle) => haystack.ends_with(&**needle),
            Shape::Contains(finder) => finder.find(haystack.as_bytes()).is_some(),
            Shape::Glob(glob) => glob.find(haystack).is_some(),
        }
    }

    /// Returns the byte range of `raw` that the pattern matched, for showing
    /// a user why a rule fired. Off the hot path: it may allocate.
    pub fn find_span(&self, raw: &str) -> Option<(usize, usize)> {
        let folded;
        let haystack = if self.cased {
            raw
        } else {
            folded = fold(raw);
            &folded
        };
        let (start, end) = match &self.shape {
            Shape::Equals(needle) => (haystack == &**needle).then_some((0, haystack.len()))?,
            Shape::StartsWith(needle) => haystack.starts_with(&**needle).then_some((0, needle.len()))?,
            Shape::EndsWith(needle) => haystack
                .ends_with(&**needle)
                .then(|| (haystack.len() - needle.len(), haystack.len()))?,
            Shape::Contains(finder) => {
                let start = finder.find(haystack.as_bytes())?;
                (start, start + finder.needle().len())
            }
            Shape::Glob(glob) => glob.find(haystack)?,
        };
        if self.cased || raw.is_ascii() {
            return Some((start, end));
        }
        Some((raw_offset(raw, start), raw_offset(raw, end)))
    }

    /// The literal text every match must contain, if the pattern has one:
    /// its longest literal piece, folded unless the pattern is cased.
    pub fn longest_literal(&self) -> Option<&str> {
        match &self.shape {
            Shape::Equals(needle) | Shape::StartsWith(needle) | Shape::EndsWith(needle) => {
                Some(needle).filter(|n| !n.is_empty()).map(|n| &**n)
            }
            Shape::Contains(finder) => std::str::from_utf8(finder.needle()).ok().filter(|n| !n.is_empty()),
            Shape::Glob(glob) => glob.longest_literal(),
        }
    }
}

/// Maps a byte offset in the folded form of `raw` back to a byte offset in
/// `raw`, by folding one character at a time.
fn raw_offset(raw: &str, folded_offset: usize) -> usize {
    let mut folded_len = 0;
    for (index, c) in raw.char_indices() {
        if folded_len >= folded_offset {
            return index;
        }
        folded_len += c.to_lowercase().map(char::len_utf8).sum::<usize>();
    }
    raw.len()
}

impl Shape {
    fn from_tokens(tokens: Vec<Token>) -> Shape {
        use Token::{AnyRun, Literal};
        match tokens.as_slice() {
            [] => Shape::Equals("".into()),
            [Literal(text)] => Shape::Equals(text.as_str().into()),
            [Literal(text), AnyRun] => Shape::StartsWith(text.as_str().into()),
            [AnyRun, Literal(text)] => Shape::EndsWith(text.as_str().into()),
            [AnyRun, Literal(text), AnyRun] => Shape::Contains(Finder::new(text.as_bytes()).into_owned()),
            _ => Shape::Glob(Glob::new(tokens)),
        }
    }
}

/// A general wildcard pattern: segments of literals and `?` separated by `*`.
#[derive(Debug, Clone)]
struct Glob {
    segments: Vec<Segment>,
    /// The value starts without `*`: the first segment sits at offset 0.
    anchored_start: bool,
    /// The value ends without `*`: the last segment ends the value.
    anchored_end: bool,
}

#[derive(Debug, Clone)]
struct Segment {
    pieces: Vec<Piece>,
    /// A finder when the segment is a single literal.
    finder: Option<Finder<'static>>,
    /// How many characters the segment spans.
    char_count: usize,
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(Box<str>),
    AnyChar,
}

impl Glob {
    fn new(tokens: Vec<Token>) -> Glob {
        let anchored_start = tokens.first() != Some(&Token::AnyRun);
        let anchored_end = tokens.last() != Some(&Token::AnyRun);
        let mut segments = Vec::new();
        let mut pieces = Vec::new();
        for token in tokens {
            match token {
                Token::Literal(text) => pieces.push(Piece::Literal(text.into())),
                Token::AnyChar => pieces.push(Piece::AnyChar),
                Token::AnyRun => {
                    if !pieces.is_empty() {
                        segments.push(Segment::new(std::mem::take(&mut pieces)));
                    }
                }
            }
        }
        if !pieces.is_empty() {
            segments.push(Segment::new(pieces));
        }
        Glob { segments, anchored_start, anchored_end }
    }

    /// Finds the leftmost match, as a byte range from the start of the first
    /// segment to the end of the last one.
    ///
    /// Segments between `*` can be placed leftmost one after the other: a
    /// match with a later placement exists only if the leftmost one works.
    fn find(&self, haystack: &str) -> Option<(usize, usize)> {
        let Some((last, rest)) = self.segments.split_last() else {
            // Only `*`: matches anything, including the empty string.
            return Some((0, 0));
        };
        if self.segments.len() == 1 && self.anchored_start && self.anchored_end {
            return (last.match_at(haystack, 0)? == haystack.len()).then_some((0, haystack.len()));
        }

        let mut position = 0;
        let mut span_start = None;
        for (index, segment) in rest.iter().enumerate() {
            let (start, end) = if index == 0 && self.anchored_start {
                (0, segment.match_at(haystack, 0)?)
            } else {
                segment.find_from(haystack, position)?
            };
            span_start.get_or_insert(start);
            position = end;
        }

        let (start, end) = if self.anchored_end {
            let start = start_of_last_chars(haystack, last.char_count)?;
            if start < position || last.match_at(haystack, start)? != haystack.len() {
                return None;
            }
            (start, haystack.len())
        } else if rest.is_empty() && self.anchored_start {
            (0, last.match_at(haystack, 0)?)
        } else {
            last.find_from(haystack, position)?
        };
        Some((span_start.unwrap_or(start), end))
    }

    fn longest_literal(&self) -> Option<&str> {
        self.segments
            .iter()
            .flat_map(|segment| segment.pieces.iter())
            .filter_map(|piece| match piece {
                Piece::Literal(text) => Some(&**text),
                Piece::AnyChar => None,
            })
            .max_by_key(|text| text.len())
    }
}

/// Byte offset where the last `count` characters of `haystack` begin.
fn start_of_last_chars(haystack: &str, count: usize) -> Option<usize> {
    if count == 0 {
        return Some(haystack.len());
    }
    haystack.char_indices().rev().nth(count - 1).map(|(index, _)| index)
}

impl Segment {
    fn new(pieces: Vec<Piece>) -> Segment {
        let finder = match pieces.as_slice() {
            [Piece::Literal(text)] => Some(Finder::new(text.as_bytes()).into_owned()),
            _ => None,
        };
        let char_count = pieces
            .iter()
            .map(|piece| match piece {
                Piece::Literal(text) => text.chars().count(),
                Piece::AnyChar => 1,
            })
            .sum();
        Segment { pieces, finder, char_count }
    }

    /// Matches the segment at byte offset `at`, returning where it ends.
    fn match_at(&self, haystack: &str, mut at: usize) -> Option<usize> {
        for piece in &self.pieces {
            let rest = haystack.get(at..)?;
            match piece {
                Piece::Literal(text) => {
                    if !rest.starts_with(&**text) {
                        return None;
                    }
                    at += text.len();
                }
                Piece::AnyChar => at += rest.chars().next()?.len_utf8(),
            }
        }
        Some(at)
    }

    /// Finds the leftmost match at or after byte offset `from`.
    fn find_from(&self, haystack: &str, from: usize) -> Option<(usize, usize)> {
        let rest = haystack.get(from..)?;
        if let Some(finder) = &self.finder {
            let start = from + finder.find(rest.as_bytes())?;
            return Some((start, start + finder.needle().len()));
        }
        rest.char_indices()
            .map(|(index, _)| from + index)
            .chain(std::iter::once(haystack.len()))
            .find_map(|start| Some((start, self.match_at(haystack, start)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str, anchor: Anchor, haystack: &str) -> bool {
        Pattern::new(value, anchor, false).matches(haystack, &fold(haystack))
    }

    #[test]
    fn tokenize_escapes() {
        use Token::*;
        assert_eq!(tokenize(r"\dbgcore.dll"), vec![Literal(r"\dbgcore.dll".into())]);
        assert_eq!(tokenize(r"a\*b"), vec![Literal("a*b".into())]);
        assert_eq!(tokenize(r"a\\*"), vec![Literal(r"a\".into()), AnyRun]);
        assert_eq!(tokenize(r"a\\\*"), vec![Literal(r"a\*".into())]);
        assert_eq!(tokenize(r"a\?"), vec![Literal("a?".into())]);
        assert_eq!(tokenize(r"end\"), vec![Literal(r"end\".into())]);
        assert_eq!(tokenize("a**b"), vec![Literal("a".into()), AnyRun, Literal("b".into())]);
        assert_eq!(tokenize("?x"), vec![AnyChar, Literal("x".into())]);
    }

    #[test]
    fn anchors_and_case() {
        assert!(check(r"\WerFaultSecure.exe", Anchor::End, r"C:\Windows\System32\WERFAULTSECURE.EXE"));
        assert!(!check(r"\WerFaultSecure.exe", Anchor::End, r"C:\Windows\System32\WerFault.exe"));
        assert!(check(r"\dbgcore.dll", Anchor::Anywhere, r"C:\x\dbgcore.DLL+164cc"));
        assert!(check("C:\\", Anchor::Start, "c:\\temp"));
        assert!(check("10", Anchor::Whole, "10"));
        assert!(!check("10", Anchor::Whole, "100"));
        assert!(check("ÄRGER", Anchor::Whole, "ärger"));
    }

    #[test]
    fn cased_pattern_respects_case() {
        let pattern = Pattern::new("Ab", Anchor::Anywhere, true);
        assert!(pattern.matches("xAbx", "xabx"));
        assert!(!pattern.matches("xabx", "xabx"));
    }

    #[test]
    fn glob_shapes() {
        assert!(check("a*b*c", Anchor::Whole, "aXXbYYc"));
        assert!(!check("a*b*c", Anchor::Whole, "aXXbYYcd"));
        assert!(check("a?c", Anchor::Whole, "abc"));
        assert!(!check("a?c", Anchor::Whole, "ac"));
        assert!(check("*a?c", Anchor::Whole, "zzabc"));
        assert!(check("a*", Anchor::End, "xxaxx"));
        assert!(check("*", Anchor::Whole, ""));
        assert!(check("ab*ab", Anchor::Whole, "abab"));
        assert!(!check("ab*ab", Anchor::Whole, "aba"));
    }

    #[test]
    fn span_of_contains_in_original_case() {
        let pattern = Pattern::new(r"\dbgcore.dll", Anchor::Anywhere, false);
        let value = r"C:\WINDOWS\ntdll.dll+1|C:\Windows\System32\dbgcore.DLL+164cc";
        let (start, end) = pattern.find_span(value).unwrap();
        assert_eq!(&value[start..end], r"\dbgcore.DLL");
    }

    #[test]
    fn span_maps_non_ascii_offsets() {
        let pattern = Pattern::new("ärger", Anchor::Anywhere, false);
        let value = "Viel ÄRGER heute";
        let (start, end) = pattern.find_span(value).unwrap();
        assert_eq!(&value[start..end], "ÄRGER");
    }
}

/// The matcher against a plain reference: dynamic programming over the
/// characters of the folded value, with `*` and `?` as Sigma defines them.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// One character, `?` (any one) or `*` (any run) of the reference.
    #[derive(Clone, Copy)]
    enum Item {
        Char(char),
        One,
        Run,
    }

    /// Folds one character at a time with Unicode's lower-case mapping.
    fn reference_fold(text: &str, cased: bool) -> Vec<char> {
        if cased {
            text.chars().collect()
        } else {
            text.chars().flat_map(char::to_lowercase).collect()
        }
    }

    fn reference_matches(tokens: &[Token], haystack: &str, cased: bool) -> bool {
        let mut items = Vec::new();
        for token in tokens {
            match token {
                Token::Literal(text) => items.extend(reference_fold(text, cased).into_iter().map(Item::Char)),
                Token::AnyChar => items.push(Item::One),
                Token::AnyRun => items.push(Item::Run),
            }
        }
        let haystack = reference_fold(haystack, cased);

        // matched[j]: the items so far match the first j characters.
        let mut matched = vec![false; haystack.len() + 1];
        matched[0] = true;
        for item in items {
            let mut next = vec![false; haystack.len() + 1];
            for j in 0..=haystack.len() {
                next[j] = match item {
                    Item::Run => matched[j] || (j > 0 && next[j - 1]),
                    Item::One => j > 0 && matched[j - 1],
                    Item::Char(c) => j > 0 && matched[j - 1] && haystack[j - 1] == c,
                };
            }
            matched = next;
        }
        matched[haystack.len()]
    }

    /// Pieces of rule values: mixed case, non-ASCII (with `İ` and `ß`,
    /// whose lower case differs in length), wildcards and escapes.
    fn value_piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "a", "A", "b", "B", "ä", "Ä", "ß", "σ", "Σ", "İ", "i", "é", "\\", "*", "?", "\\*", "\\?", "\\\\", "x.",
        ])
    }

    fn haystack_char() -> impl Strategy<Value = char> {
        prop::sample::select(vec!['a', 'A', 'b', 'B', 'ä', 'Ä', 'ß', 'σ', 'Σ', 'ς', 'İ', 'i', 'é', '*', '?', '\\', '.', 'x'])
    }

    fn anchor() -> impl Strategy<Value = Anchor> {
        prop::sample::select(vec![Anchor::Whole, Anchor::Start, Anchor::End, Anchor::Anywhere])
    }

    /// A haystack that often contains the value: the value with its
    /// wildcards replaced, between random text.
    fn haystack_near(value: &str, fill: &[char], before: &[char], after: &[char]) -> String {
        let mut haystack: String = before.iter().collect();
        let mut fill = fill.iter().cycle();
        for token in tokenize(value) {
            match token {
                Token::Literal(text) => haystack.push_str(&text),
                Token::AnyChar => haystack.push(*fill.next().unwrap_or(&'x')),
                Token::AnyRun => haystack.extend(fill.next()),
            }
        }
        haystack.extend(after);
        haystack
    }

    fn check(value: &str, anchor: Anchor, cased: bool, haystack: &str) -> Result<(), TestCaseError> {
        let pattern = Pattern::new(value, anchor, cased);
        let mut tokens = tokenize(value);
        anchor_tokens(&mut tokens, anchor);
        let expected = reference_matches(&tokens, haystack, cased);

        prop_assert_eq!(pattern.matches(haystack, &fold(haystack)), expected);
        let span = pattern.find_span(haystack);
        prop_assert_eq!(span.is_some(), expected);
        if let Some((start, end)) = span {
            prop_assert!(start <= end && end <= haystack.len());
            prop_assert!(haystack.is_char_boundary(start) && haystack.is_char_boundary(end));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn matcher_agrees_with_reference_on_random_text(
            pieces in prop::collection::vec(value_piece(), 0..7),
            haystack in prop::collection::vec(haystack_char(), 0..14),
            anchor in anchor(),
            cased in any::<bool>(),
        ) {
            let value: String = pieces.concat();
            let haystack: String = haystack.into_iter().collect();
            check(&value, anchor, cased, &haystack)?;
        }

        #[test]
        fn matcher_agrees_with_reference_near_matches(
            pieces in prop::collection::vec(value_piece(), 1..7),
            fill in prop::collection::vec(haystack_char(), 1..4),
            before in prop::collection::vec(haystack_char(), 0..4),
            after in prop::collection::vec(haystack_char(), 0..4),
            anchor in anchor(),
            cased in any::<bool>(),
            upper in any::<bool>(),
        ) {
            let value: String = pieces.concat();
            let mut haystack = haystack_near(&value, &fill, &before, &after);
            if upper {
                haystack = haystack.to_uppercase();
            }
            check(&value, anchor, cased, &haystack)?;
        }
    }
}
