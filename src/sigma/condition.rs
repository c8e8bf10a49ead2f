//! The `condition` grammar: search names joined by `and`, `or`, `not` and
//! parentheses, and the quantifiers `1 of`, `any of` and `all of` over a
//! name pattern or `them`.
//!
//! Precedence, tightest first: `not`, `and`, `or`. Quantifiers are resolved
//! against the rule's search names here, so evaluation only sees indices.

use crate::matcher::{Anchor, Pattern};

/// A parsed and resolved condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The search with this index in the rule's search list.
    Search(usize),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

/// Parses `text` against the rule's search names.
pub fn parse(text: &str, searches: &[String]) -> Result<Condition, String> {
    if text.contains('|') {
        return Err("aggregations after '|' (count, near, ...) are not supported".to_string());
    }
    let tokens = tokenize(text);
    let mut parser = Parser { tokens: &tokens, position: 0, searches };
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
            return Ok(Condition::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, String> {
        let position = self.position + 1;
        match self.next().cloned() {
            None => Err("the condition ends where a search name was expected".to_string()),
            Some(Token::Open) => {
                let inner = self.or()?;
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
            let pattern = Pattern::new(&target, Anchor::Whole, true);
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
