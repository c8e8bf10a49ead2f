//! The `condition` grammar: search names joined by `and`, `or`, `not` and
//! parentheses, and the quantifiers `1 of`, `any of` and `all of` over a
//! name pattern or `them`.
//!
//! Precedence, tightest first: `not`, `and`, `or`. Quantifiers are resolved
//! against the rule's search names here, so evaluation only sees indices.

use crate::matcher::{self, Pattern};

/// A parsed and resolved condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The search with this index in the rule's search list.
    Search(usize),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

/// Deepest nesting of parentheses and `not` a condition may have. The
/// parser recurses once per level, and a rule must not be able to exhaust
/// the stack (in wasm that kills the instance).
pub const MAX_DEPTH: usize = 64;

/// Parses `text` against the rule's search names.
pub fn parse(text: &str, searches: &[String]) -> Result<Condition, String> {
    if text.contains('|') {
        return Err("aggregations after '|' (count, near, ...) are not supported".to_string());
    }
    let tokens = tokenize(text);
    let mut parser = Parser { tokens: &tokens, position: 0, searches, depth: 0 };
    let condition = parser.or()?;
    match parser.peek() {
        None => Ok(condition),
        Some(token) => Err(format!("unexpected '{}' at word {}", token.text(), parser.position + 1)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Word(String),
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Open => "(",
            Token::Close => ")",
            Token::Word(word) => word,
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(word) if word.eq_ignore_ascii_case(keyword))
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c == '(' || c == ')' || c.is_whitespace() {
            if !word.is_empty() {
                tokens.push(Token::Word(std::mem::take(&mut word)));
            }
            match c {
                '(' => tokens.push(Token::Open),
                ')' => tokens.push(Token::Close),
                _ => {}
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        tokens.push(Token::Word(word));
    }
    tokens
}

struct Parser<'a> {
    tokens: &'a [Token],
    position: usize,
    searches: &'a [String],
    /// Current nesting of parentheses and `not`.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.position);
        self.position += 1;
        token
    }

    fn or(&mut self) -> Result<Condition, String> {
        let mut terms = vec![self.and()?];
        while self.peek().is_some_and(|t| t.is_keyword("or")) {
            self.position += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Condition::Or(terms) })
    }

    fn and(&mut self) -> Result<Condition, String> {
        let mut terms = vec![self.not()?];
        while self.peek().is_some_and(|t| t.is_keyword("and")) {
            self.position += 1;
            terms.push(self.not()?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Condition::And(terms) })
    }

    fn not(&mut self) -> Result<Condition, String> {
        if self.peek().is_some_and(|t| t.is_keyword("not")) {
            self.position += 1;
            let negated = self.nested(Self::not)?;
            return Ok(Condition::Not(Box::new(negated)));
        }
        self.primary()
    }

    /// Parses one level deeper, failing beyond [`MAX_DEPTH`].
    fn nested(&mut self, parse: fn(&mut Self) -> Result<Condition, String>) -> Result<Condition, String> {
        if self.depth >= MAX_DEPTH {
            return Err(format!("the condition nests parentheses and 'not' deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn primary(&mut self) -> Result<Condition, String> {
        let position = self.position + 1;
        match self.next().cloned() {
            None => Err("the condition ends where a search name was expected".to_string()),
            Some(Token::Open) => {
                let inner = self.nested(Self::or)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(format!("missing ')' for the '(' at word {position}")),
                }
            }
            Some(Token::Close) => Err(format!("unexpected ')' at word {position}")),
            Some(Token::Word(word)) => {
                if self.peek().is_some_and(|t| t.is_keyword("of")) {
                    self.position += 1;
                    return self.quantifier(&word);
                }
                if ["and", "or", "of", "them"].iter().any(|k| word.eq_ignore_ascii_case(k)) {
                    return Err(format!("unexpected '{word}' at word {position}"));
                }
                self.search(&word).map(Condition::Search)
            }
        }
    }

    fn quantifier(&mut self, quantity: &str) -> Result<Condition, String> {
        let target = match self.next() {
            Some(Token::Word(word)) => word.clone(),
            _ => return Err(format!("'{quantity} of' must be followed by a name pattern or 'them'")),
        };
        let indices = if target.eq_ignore_ascii_case("them") {
            // `them` leaves out searches whose names start with `_`.
            (0..self.searches.len()).filter(|&i| !self.searches[i].starts_with('_')).collect()
        } else {
            let pattern = name_pattern(&target);
            (0..self.searches.len())
                .filter(|&i| pattern.matches(&self.searches[i], &self.searches[i]))
                .collect::<Vec<_>>()
        };
        if indices.is_empty() {
            return Err(format!("no search matches '{target}'"));
        }
        let terms = indices.into_iter().map(Condition::Search).collect();
        match quantity.to_ascii_lowercase().as_str() {
            "1" | "any" => Ok(Condition::Or(terms)),
            "all" => Ok(Condition::And(terms)),
            _ => Err(format!("unsupported quantifier '{quantity} of' (use '1 of', 'any of' or 'all of')")),
        }
    }

    fn search(&self, name: &str) -> Result<usize, String> {
        self.searches
            .iter()
            .position(|s| s == name)
            .ok_or_else(|| format!("no search named '{name}' in 'detection'"))
    }
}

/// Compiles a search name pattern, in which only `*` is special (any run
/// of characters) and names compare case-sensitively.
fn name_pattern(target: &str) -> Pattern {
    let mut tokens = Vec::new();
    for (index, literal) in target.split('*').enumerate() {
        if index > 0 {
            tokens.push(matcher::Token::AnyRun);
        }
        tokens.push(matcher::Token::Literal(literal.to_string()));
    }
    Pattern::from_tokens(tokens, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Condition::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_not_and_or() {
        let searches = names(&["a", "b", "c"]);
        assert_eq!(
            parse("a or b and not c", &searches).unwrap(),
            Or(vec![Search(0), And(vec![Search(1), Not(Box::new(Search(2)))])])
        );
        assert_eq!(
            parse("(a or b) and c", &searches).unwrap(),
            And(vec![Or(vec![Search(0), Search(1)]), Search(2)])
        );
    }

    #[test]
    fn quantifiers_over_patterns_and_them() {
        let searches = names(&["selection_img", "selection_hash", "filter", "_hidden"]);
        assert_eq!(parse("1 of selection_*", &searches).unwrap(), Or(vec![Search(0), Search(1)]));
        assert_eq!(parse("all of selection_*", &searches).unwrap(), And(vec![Search(0), Search(1)]));
        assert_eq!(parse("any of them", &searches).unwrap(), Or(vec![Search(0), Search(1), Search(2)]));
        assert_eq!(
            parse("all of selection_* and not filter", &searches).unwrap(),
            And(vec![And(vec![Search(0), Search(1)]), Not(Box::new(Search(2)))])
        );
    }

    #[test]
    fn specification_examples() {
        let searches = names(&["keywords", "keywords1", "keywords2", "selection1", "selection2", "filters", "_example"]);
        assert_eq!(parse("keywords1 or keywords2", &searches).unwrap(), Or(vec![Search(1), Search(2)]));
        assert_eq!(parse("keywords and not filters", &searches).unwrap(), And(vec![Search(0), Not(Box::new(Search(5)))]));
        assert_eq!(
            parse("selection1 and (keywords1 or keywords2)", &searches).unwrap(),
            And(vec![Search(3), Or(vec![Search(1), Search(2)])])
        );
        assert_eq!(parse("all of selection*", &searches).unwrap(), And(vec![Search(3), Search(4)]));
        assert_eq!(
            parse("1 of selection* and keywords", &searches).unwrap(),
            And(vec![Or(vec![Search(3), Search(4)]), Search(0)])
        );
        assert_eq!(
            parse("1 of selection* and not 1 of filter*", &searches).unwrap(),
            And(vec![Or(vec![Search(3), Search(4)]), Not(Box::new(Or(vec![Search(5)])))])
        );
    }

    #[test]
    fn them_leaves_out_underscore_names() {
        let searches = names(&["a", "_example", "b"]);
        assert_eq!(parse("1 of them", &searches).unwrap(), Or(vec![Search(0), Search(2)]));
        assert_eq!(parse("all of them", &searches).unwrap(), And(vec![Search(0), Search(2)]));
        // A pattern that names them explicitly includes them.
        assert_eq!(parse("1 of _*", &searches).unwrap(), Or(vec![Search(1)]));
    }

    #[test]
    fn not_binds_tighter_than_and_and_or() {
        let searches = names(&["a", "b", "c"]);
        assert_eq!(parse("not a and b", &searches).unwrap(), And(vec![Not(Box::new(Search(0))), Search(1)]));
        assert_eq!(parse("not a or b", &searches).unwrap(), Or(vec![Not(Box::new(Search(0))), Search(1)]));
        assert_eq!(parse("not (a or b)", &searches).unwrap(), Not(Box::new(Or(vec![Search(0), Search(1)]))));
        assert_eq!(parse("not not a", &searches).unwrap(), Not(Box::new(Not(Box::new(Search(0))))));
        assert_eq!(
            parse("a and b or c", &searches).unwrap(),
            Or(vec![And(vec![Search(0), Search(1)]), Search(2)])
        );
    }

    #[test]
    fn quantifier_binds_tighter_than_not() {
        let searches = names(&["filter_a", "filter_b", "sel"]);
        assert_eq!(
            parse("sel and not 1 of filter_*", &searches).unwrap(),
            And(vec![Search(2), Not(Box::new(Or(vec![Search(0), Search(1)])))])
        );
        assert_eq!(parse("any of filter_*", &searches).unwrap(), Or(vec![Search(0), Search(1)]));
    }

    #[test]
    fn name_patterns_use_only_star() {
        let searches = names(&["sel?", "selA", "Sel_b"]);
        assert_eq!(parse("1 of sel?", &searches).unwrap(), Or(vec![Search(0)]));
        assert_eq!(parse("1 of sel*", &searches).unwrap(), Or(vec![Search(0), Search(1)]));
        assert_eq!(parse("all of *_b", &searches).unwrap(), And(vec![Search(2)]));
        assert_eq!(parse("1 of *", &searches).unwrap(), Or(vec![Search(0), Search(1), Search(2)]));
    }

    #[test]
    fn keywords_ignore_case_and_parentheses_need_no_space() {
        let searches = names(&["a", "b"]);
        assert_eq!(parse("a AND NOT(b)", &searches).unwrap(), And(vec![Search(0), Not(Box::new(Search(1)))]));
        assert_eq!(parse("((a))", &searches).unwrap(), Search(0));
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let searches = names(&["a"]);
        let deep = format!("{}a{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep, &searches).unwrap_err().contains("deeper than 64 levels"));
        assert!(parse(&format!("{}a", "not ".repeat(100_000)), &searches).is_err());
        let allowed = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse(&allowed, &searches).unwrap(), Search(0));
    }

    #[test]
    fn errors_name_the_problem() {
        let searches = names(&["selection"]);
        assert_eq!(parse("selection and", &searches).unwrap_err(), "the condition ends where a search name was expected");
        assert_eq!(parse("sel", &searches).unwrap_err(), "no search named 'sel' in 'detection'");
        assert_eq!(parse("1 of x*", &searches).unwrap_err(), "no search matches 'x*'");
        assert_eq!(parse("(selection", &searches).unwrap_err(), "missing ')' for the '(' at word 1");
        assert!(parse("selection | count() > 5", &searches).unwrap_err().contains("aggregations"));
        assert_eq!(parse("selection selection", &searches).unwrap_err(), "unexpected 'selection' at word 2");
    }
}
