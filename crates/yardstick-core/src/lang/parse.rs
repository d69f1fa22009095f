//! Lexer and recursive-descent parser of metric expressions.
//!
//! ```text
//! expr    = or
//! or      = and ("or" and)*
//! and     = not ("and" not)*
//! not     = "not" not | cmp
//! cmp     = add [("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") add
//!               | "is" ["not"] "null" | ["not"] "in" ("(" expr ("," expr)* ")" | $param)]
//! add     = mul (("+" | "-") mul)*
//! mul     = unary (("*" | "/") unary)*
//! unary   = "-" unary | primary
//! primary = number | number unit | 'text' | true | false | null | $param | path
//!         | name "(" [expr ("," expr)*] ")" | "(" expr ")"
//!         | "case" ("when" expr "then" expr)+ ["else" expr] "end"
//!         | "exists" "(" source "where" expr ")"
//! unit    = s | sec | m | min | h | d | w   (a duration: 24h, 7d, 15min)
//! ```

use super::ast::{BinaryOp, Expr, InSet, Literal, Span};

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Number { int: i64, micros: i64, is_decimal: bool },
    Duration(i64),
    Text(String),
    Param(String),
    Sym(&'static str),
    End,
}

/// A parse error: byte offset in the expression and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError { offset, message: message.into() })
}

fn lex(text: &str) -> Result<Vec<(Tok, Span)>, ParseError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let int_part = &text[start..i];
            let mut frac = "";
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                let f0 = i + 1;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                frac = &text[f0..i];
            }
            if frac.len() > 6 {
                return err(start, "at most 6 decimal places");
            }
            let Ok(int) = int_part.parse::<i64>() else {
                return err(start, "number too large");
            };
            let micros = int
                .checked_mul(1_000_000)
                .and_then(|m| m.checked_add(format!("{frac:0<6}").parse::<i64>().unwrap_or(0)));
            let Some(micros) = micros else {
                return err(start, "number too large");
            };
            let u0 = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &text[u0..i];
            if unit.is_empty() {
                Tok::Number { int, micros, is_decimal: !frac.is_empty() }
            } else {
                let seconds = match unit {
                    "s" | "sec" => 1,
                    "m" | "min" => 60,
                    "h" => 3600,
                    "d" => 86_400,
                    "w" => 604_800,
                    _ => {
                        return err(u0, format!("`{unit}` is not a duration unit (s, min, h, d, w)"));
                    }
                };
                if !frac.is_empty() && (micros * seconds) % 1_000_000 != 0 {
                    return err(start, "a duration must be a whole number of seconds");
                }
                Tok::Duration(micros / 1_000_000 * seconds + (micros % 1_000_000) * seconds / 1_000_000)
            }
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &text[start..i];
            if let Some(name) = word.strip_prefix('$') {
                if name.is_empty() {
                    return err(start, "`$` must be followed by a setting name");
                }
                Tok::Param(name.to_string())
            } else {
                Tok::Ident(word.to_string())
            }
        } else if c == b'\'' || c == b'"' {
            i += 1;
            let s0 = i;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            if i == b.len() {
                return err(start, "unterminated text: add the closing quote");
            }
            i += 1;
            Tok::Text(text[s0..i - 1].to_string())
        } else {
            let two: &[u8] = if i + 1 < b.len() { &b[i..i + 2] } else { &[] };
            let sym: &'static str = match two {
                b"<=" => "<=",
                b">=" => ">=",
                b"!=" => "!=",
                b"<>" => "!=",
                b"==" => "=",
                _ => match c {
                    b'=' => "=",
                    b'<' => "<",
                    b'>' => ">",
                    b'+' => "+",
                    b'-' => "-",
                    b'*' => "*",
                    b'/' => "/",
                    b'(' => "(",
                    b')' => ")",
                    b',' => ",",
                    b'.' => ".",
                    _ => {
                        let ch = text[i..].chars().next().unwrap_or('?');
                        return err(i, format!("unexpected character `{ch}`"));
                    }
                },
            };
            i += if matches!(two, b"<=" | b">=" | b"!=" | b"<>" | b"==") { 2 } else { 1 };
            Tok::Sym(sym)
        };
        out.push((tok, Span { start, end: i }));
    }
    out.push((Tok::End, Span { start: b.len(), end: b.len() }));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, Span)>,
    at: usize,
    /// How deeply the expression nests at this point.
    depth: usize,
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "is", "null", "in", "true", "false", "case", "when", "then", "else", "end", "exists", "where",
];

/// The most words and symbols an expression may have, and the deepest it may nest
/// (parentheses, `not`, `-`, `case`, calls): far beyond any real metric, well within what
/// the parser, the compiler and the evaluator can recurse through on any thread's stack.
const MAX_TOKENS: usize = 2_000;
const MAX_DEPTH: usize = 64;

/// Parses one expression.
pub fn parse_expr(text: &str) -> Result<Expr, ParseError> {
    let toks = lex(text)?;
    if toks.len() > MAX_TOKENS {
        return err(0, format!("the expression is too long ({} words and symbols; at most {MAX_TOKENS})", toks.len()));
    }
    let mut p = Parser { toks, at: 0, depth: 0 };
    let e = p.or()?;
    match p.peek() {
        Tok::End => Ok(e),
        _ => err(p.span().start, format!("unexpected `{}` after a complete expression", p.describe())),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }

    fn span(&self) -> Span {
        self.toks[self.at].1
    }

    fn describe(&self) -> String {
        match self.peek() {
            Tok::Ident(s) => s.clone(),
            Tok::Number { int, .. } => int.to_string(),
            Tok::Duration(d) => format!("{d}s"),
            Tok::Text(t) => format!("'{t}'"),
            Tok::Param(p) => format!("${p}"),
            Tok::Sym(s) => s.to_string(),
            Tok::End => "end of expression".to_string(),
        }
    }

    fn bump(&mut self) -> Span {
        let s = self.span();
        self.at += 1;
        s
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w.eq_ignore_ascii_case(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let yes = self.is_word(word);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(self.peek(), Tok::Sym(s) if *s == sym)
    }

    fn expect_sym(&mut self, sym: &str) -> Result<Span, ParseError> {
        if self.is_sym(sym) {
            Ok(self.bump())
        } else {
            err(self.span().start, format!("expected `{sym}`, found `{}`", self.describe()))
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<Span, ParseError> {
        if self.is_word(word) {
            Ok(self.bump())
        } else {
            err(self.span().start, format!("expected `{word}`, found `{}`", self.describe()))
        }
    }

    fn binary(op: BinaryOp, a: Expr, b: Expr) -> Expr {
        let span = Span { start: a.span().start, end: b.span().end };
        Expr::Binary(op, Box::new(a), Box::new(b), span)
    }

    /// Enters one more level of nesting, refusing past [`MAX_DEPTH`].
    fn nest(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(self.span().start, format!("the expression nests more than {MAX_DEPTH} levels deep"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.nest()?;
        let e = self.or_inner();
        self.depth -= 1;
        e
    }

    fn or_inner(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.and()?;
        while self.eat_word("or") {
            let rhs = self.and()?;
            e = Parser::binary(BinaryOp::Or, e, rhs);
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.not()?;
        while self.eat_word("and") {
            let rhs = self.not()?;
            e = Parser::binary(BinaryOp::And, e, rhs);
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.is_word("not") {
            let s = self.bump();
            self.nest()?;
            let inner = self.not();
            self.depth -= 1;
            let inner = inner?;
            let span = Span { start: s.start, end: inner.span().end };
            return Ok(Expr::Not(Box::new(inner), span));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, ParseError> {
        let lhs = self.add()?;
        let op = match self.peek() {
            Tok::Sym("=") => Some(BinaryOp::Eq),
            Tok::Sym("!=") => Some(BinaryOp::Ne),
            Tok::Sym("<") => Some(BinaryOp::Lt),
            Tok::Sym("<=") => Some(BinaryOp::Le),
            Tok::Sym(">") => Some(BinaryOp::Gt),
            Tok::Sym(">=") => Some(BinaryOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let rhs = self.add()?;
            return Ok(Parser::binary(op, lhs, rhs));
        }
        if self.eat_word("is") {
            let negated = self.eat_word("not");
            let end = self.expect_word("null")?.end;
            return Ok(Expr::IsNull { span: Span { start: lhs.span().start, end }, expr: Box::new(lhs), negated });
        }
        let negated = if self.is_word("not")
            && matches!(&self.toks[self.at + 1].0, Tok::Ident(w) if w.eq_ignore_ascii_case("in"))
        {
            self.bump();
            true
        } else {
            false
        };
        if self.eat_word("in") {
            let (set, end) = if let Tok::Param(name) = self.peek().clone() {
                let s = self.bump();
                (InSet::Param(name, s), s.end)
            } else {
                self.expect_sym("(")?;
                let mut items = vec![self.or()?];
                while self.is_sym(",") {
                    self.bump();
                    items.push(self.or()?);
                }
                (InSet::List(items), self.expect_sym(")")?.end)
            };
            return Ok(Expr::In { span: Span { start: lhs.span().start, end }, expr: Box::new(lhs), set, negated });
        }
        Ok(lhs)
    }

    fn add(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.mul()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("+") => BinaryOp::Add,
                Tok::Sym("-") => BinaryOp::Sub,
                _ => return Ok(e),
            };
            self.bump();
            let rhs = self.mul()?;
            e = Parser::binary(op, e, rhs);
        }
    }

    fn mul(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("*") => BinaryOp::Mul,
                Tok::Sym("/") => BinaryOp::Div,
                _ => return Ok(e),
            };
            self.bump();
            let rhs = self.unary()?;
            e = Parser::binary(op, e, rhs);
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.is_sym("-") {
            let s = self.bump();
            self.nest()?;
            let inner = self.unary();
            self.depth -= 1;
            let inner = inner?;
            let span = Span { start: s.start, end: inner.span().end };
            return Ok(Expr::Neg(Box::new(inner), span));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let span = self.span();
        match self.peek().clone() {
            Tok::Number { int, micros, is_decimal } => {
                self.bump();
                Ok(Expr::Literal(if is_decimal { Literal::Decimal(micros) } else { Literal::Int(int) }, span))
            }
            Tok::Duration(seconds) => {
                self.bump();
                Ok(Expr::Literal(Literal::Duration(seconds), span))
            }
            Tok::Text(t) => {
                self.bump();
                Ok(Expr::Literal(Literal::Text(t), span))
            }
            Tok::Param(name) => {
                self.bump();
                Ok(Expr::Param(name, span))
            }
            Tok::Sym("(") => {
                self.bump();
                let e = self.or()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                match lower.as_str() {
                    "null" => {
                        self.bump();
                        Ok(Expr::Literal(Literal::Null, span))
                    }
                    "true" | "false" => {
                        self.bump();
                        Ok(Expr::Literal(Literal::Bool(lower == "true"), span))
                    }
                    "case" => self.case(),
                    "exists" => self.exists(),
                    _ if KEYWORDS.contains(&lower.as_str()) => {
                        err(span.start, format!("expected a value, found the keyword `{word}`"))
                    }
                    _ => {
                        self.bump();
                        if self.is_sym("(") {
                            self.bump();
                            let mut args = Vec::new();
                            if !self.is_sym(")") {
                                args.push(self.or()?);
                                while self.is_sym(",") {
                                    self.bump();
                                    args.push(self.or()?);
                                }
                            }
                            let end = self.expect_sym(")")?.end;
                            return Ok(Expr::Call(lower, args, Span { start: span.start, end }));
                        }
                        let mut path = vec![word];
                        let mut end = span.end;
                        while self.is_sym(".") {
                            self.bump();
                            match self.peek().clone() {
                                Tok::Ident(next) => {
                                    end = self.bump().end;
                                    path.push(next);
                                }
                                _ => {
                                    return err(self.span().start, "expected a field name after `.`");
                                }
                            }
                        }
                        Ok(Expr::Path(path, Span { start: span.start, end }))
                    }
                }
            }
            _ => err(span.start, format!("expected a value, found `{}`", self.describe())),
        }
    }

    fn case(&mut self) -> Result<Expr, ParseError> {
        let start = self.bump().start;
        let mut arms = Vec::new();
        while self.eat_word("when") {
            let cond = self.or()?;
            self.expect_word("then")?;
            let value = self.or()?;
            arms.push((cond, value));
        }
        if arms.is_empty() {
            return err(self.span().start, "`case` needs at least one `when … then …`");
        }
        let otherwise = if self.eat_word("else") { Some(Box::new(self.or()?)) } else { None };
        let end = self.expect_word("end")?.end;
        Ok(Expr::Case { arms, otherwise, span: Span { start, end } })
    }

    fn exists(&mut self) -> Result<Expr, ParseError> {
        let start = self.bump().start;
        self.expect_sym("(")?;
        let source = match self.peek().clone() {
            Tok::Ident(s) => {
                self.bump();
                s
            }
            _ => return err(self.span().start, "expected a source table after `exists(`"),
        };
        self.expect_word("where")?;
        let predicate = self.or()?;
        let end = self.expect_sym(")")?.end;
        Ok(Expr::Exists { source, predicate: Box::new(predicate), span: Span { start, end } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(e: &Expr) -> String {
        match e {
            Expr::Literal(l, _) => format!("{l:?}"),
            Expr::Path(p, _) => p.join("."),
            Expr::Param(p, _) => format!("${p}"),
            Expr::Neg(e, _) => format!("(-{})", show(e)),
            Expr::Not(e, _) => format!("(not {})", show(e)),
            Expr::Binary(op, a, b, _) => format!("({} {} {})", show(a), op.symbol(), show(b)),
            Expr::IsNull { expr, negated, .. } => {
                format!("({} is {}null)", show(expr), if *negated { "not " } else { "" })
            }
            Expr::In { expr, set, negated, .. } => {
                let set = match set {
                    InSet::List(items) => items.iter().map(show).collect::<Vec<_>>().join(", "),
                    InSet::Param(p, _) => format!("${p}"),
                };
                format!("({} {}in [{set}])", show(expr), if *negated { "not " } else { "" })
            }
            Expr::Call(f, args, _) => format!("{f}({})", args.iter().map(show).collect::<Vec<_>>().join(", ")),
            Expr::Case { arms, otherwise, .. } => {
                let arms: Vec<String> = arms.iter().map(|(c, v)| format!("{} => {}", show(c), show(v))).collect();
                format!("case[{}; else {}]", arms.join("; "), otherwise.as_ref().map_or("-".into(), |e| show(e)))
            }
            Expr::Exists { source, predicate, .. } => format!("exists {source} [{}]", show(predicate)),
        }
    }

    fn check(text: &str, expected: &str) {
        assert_eq!(show(&parse_expr(text).unwrap()), expected, "{text}");
    }

    #[test]
    fn precedence_and_forms() {
        check(
            "coalesce(contact_count, 1) = 1 and coalesce(reopen_count, 0) = 0",
            "((coalesce(contact_count, Int(1)) = Int(1)) and (coalesce(reopen_count, Int(0)) = Int(0)))",
        );
        check("first_response_at - created_at <= 24h", "((first_response_at - created_at) <= Duration(86400))");
        check("a or b and not c", "(a or (b and (not c)))");
        check("ticket.cause not in $uncontrollable_causes", "(ticket.cause not in [$uncontrollable_causes])");
        check(
            "kind in ('inspection', 'mystery_shopper')",
            "(kind in [Text(\"inspection\"), Text(\"mystery_shopper\")])",
        );
        check("resolved_at is not null", "(resolved_at is not null)");
        check(
            "case when nps >= 9 then 1 when nps <= 6 then -1 else 0 end",
            "case[(nps >= Int(9)) => Int(1); (nps <= Int(6)) => (-Int(1)); else Int(0)]",
        );
        check("1.5 * 2 - 3", "((Decimal(1500000) * Int(2)) - Int(3))");
        check("15min + 1.5h", "(Duration(900) + Duration(5400))");
        check(
            "exists(tickets where customer_id = this.customer_id and created_at > this.resolved_at)",
            "exists tickets [((customer_id = this.customer_id) and (created_at > this.resolved_at))]",
        );
    }

    /// Hostile nesting is refused with a message, never a stack overflow: 4 000
    /// parentheses, 50 000 `not`s, a sum of 5 000 terms.
    #[test]
    fn deep_or_long_expressions_are_refused_not_crashed() {
        let deep = format!("{}reopen_count = 0{}", "(".repeat(4000), ")".repeat(4000));
        assert!(parse_expr(&deep).unwrap_err().message.contains("too long"));
        let deep = format!("{}reopen_count = 0{}", "(".repeat(500), ")".repeat(500));
        assert!(parse_expr(&deep).unwrap_err().message.contains("nests more than 64 levels"));
        let nots = format!("{}reopen_count = 0", "not ".repeat(50_000));
        assert!(parse_expr(&nots).unwrap_err().message.contains("too long"));
        let nots = format!("{}reopen_count = 0", "not ".repeat(100));
        assert!(parse_expr(&nots).unwrap_err().message.contains("nests more than 64 levels"));
        let sum = vec!["reopen_count"; 5000].join(" + ");
        assert!(parse_expr(&sum).unwrap_err().message.contains("too long"));
        // Real expressions are far from either limit.
        let fine = format!("{}reopen_count = 0{}", "(".repeat(20), ")".repeat(20));
        assert!(parse_expr(&fine).is_ok());
    }

    #[test]
    fn errors_point_at_the_offending_place() {
        let e = |text: &str| parse_expr(text).unwrap_err();
        assert_eq!(e("a = ").offset, 4);
        assert_eq!(e("a = 'x").message, "unterminated text: add the closing quote");
        assert_eq!(e("7parsecs").message, "`parsecs` is not a duration unit (s, min, h, d, w)");
        assert_eq!(e("a b").message, "unexpected `b` after a complete expression");
        assert_eq!(e("a ≥ b").offset, 2);
        assert_eq!(e("case end").message, "`case` needs at least one `when … then …`");
        assert_eq!(e("and").message, "expected a value, found the keyword `and`");
    }
}
