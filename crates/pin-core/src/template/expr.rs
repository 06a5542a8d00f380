//! The Azure Pipelines template expression language: its own small lexer and parser.
//!
//! Covers what `${{ }}` holds in practice: literals (`'…'` with `''` escapes, numbers,
//! `true`/`false`/`null`), property paths (`parameters.container.image`,
//! `variables['Build.Reason']`, `pair.key`, `list[0]`) and function calls. The language has no
//! infix operators (`==`, `&&` are GitHub's); meeting one is a parse error. Errors are values
//! with a byte offset into the expression text, never panics. Directives (`if`, `elseif`,
//! `else`, `each x in …`, `insert`) are parsed by [`parse_directive`].

use std::ops::Range;
use std::rc::Rc;

/// A parsed expression. Spans are byte ranges in the expression text that was parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal.
    Lit(Lit, Range<usize>),
    /// A bare name: `parameters`, `variables`, a loop variable.
    Name(String, Range<usize>),
    /// `base.name`.
    Member(Box<Expr>, String),
    /// `base[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `name(args…)`.
    Call(String, Vec<Expr>, Range<usize>),
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string, escapes resolved (shared: every evaluation of the literal gives this text).
    Str(Rc<str>),
}

/// A parse error at a byte offset of the expression text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// Byte offset in the parsed text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// A `${{ }}` directive key.
#[derive(Debug, Clone, PartialEq)]
pub enum Directive {
    /// `${{ if cond }}`.
    If(Expr),
    /// `${{ elseif cond }}`.
    ElseIf(Expr),
    /// `${{ else }}`.
    Else,
    /// `${{ each name in collection }}`.
    Each(String, Expr),
    /// `${{ insert }}`.
    Insert,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    End,
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

impl Lexer<'_> {
    fn next(&mut self) -> Result<(Tok, Range<usize>), ExprError> {
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() && bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = bytes.get(self.pos) else {
            return Ok((Tok::End, start..start));
        };
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'[' => Some(Tok::LBracket),
            b']' => Some(Tok::RBracket),
            b',' => Some(Tok::Comma),
            b'.' if !bytes.get(self.pos + 1).is_some_and(u8::is_ascii_digit) => Some(Tok::Dot),
            _ => None,
        };
        if let Some(tok) = single {
            self.pos += 1;
            return Ok((tok, start..self.pos));
        }
        if c == b'\'' {
            let mut out = String::new();
            let mut i = self.pos + 1;
            loop {
                let Some(rel) = self.src[i..].find('\'') else {
                    return Err(ExprError {
                        offset: start,
                        message: "unterminated string literal".to_string(),
                    });
                };
                out.push_str(&self.src[i..i + rel]);
                i += rel + 1;
                if bytes.get(i) == Some(&b'\'') {
                    out.push('\'');
                    i += 1;
                } else {
                    break;
                }
            }
            self.pos = i;
            return Ok((Tok::Str(out), start..i));
        }
        if c.is_ascii_digit() || c == b'-' || c == b'.' {
            let mut i = self.pos + 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                i += 1;
            }
            let text = &self.src[start..i];
            return match text.parse::<f64>() {
                Ok(n) => {
                    self.pos = i;
                    Ok((Tok::Num(n), start..i))
                }
                Err(_) => Err(ExprError {
                    offset: start,
                    message: format!("`{text}` is not a number"),
                }),
            };
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let mut i = self.pos + 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
            {
                i += 1;
            }
            self.pos = i;
            return Ok((Tok::Ident(self.src[start..i].to_string()), start..i));
        }
        let ch = self.src[start..].chars().next().unwrap_or('?');
        let hint = match ch {
            '=' | '&' | '|' | '!' | '<' | '>' => {
                " (template expressions have no operators: use eq(), and(), or(), not() …)"
            }
            '$' | '{' | '}' => " (an expression cannot contain another `${{ }}`)",
            _ => "",
        };
        Err(ExprError {
            offset: start,
            message: format!("unexpected `{ch}`{hint}"),
        })
    }
}

struct Parser<'s> {
    lexer: Lexer<'s>,
    tok: Tok,
    span: Range<usize>,
    depth: usize,
}

/// Nesting limit: deeper expressions are refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

impl<'s> Parser<'s> {
    fn new(src: &'s str) -> Result<Self, ExprError> {
        let mut lexer = Lexer { src, pos: 0 };
        let (tok, span) = lexer.next()?;
        Ok(Parser {
            lexer,
            tok,
            span,
            depth: 0,
        })
    }

    fn bump(&mut self) -> Result<(Tok, Range<usize>), ExprError> {
        let (tok, span) = self.lexer.next()?;
        let old_tok = std::mem::replace(&mut self.tok, tok);
        let old_span = std::mem::replace(&mut self.span, span);
        Ok((old_tok, old_span))
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, ExprError> {
        Err(ExprError {
            offset: self.span.start,
            message: message.into(),
        })
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error("expression nested too deeply");
        }
        let (tok, span) = self.bump()?;
        let mut base = match tok {
            Tok::Str(s) => Expr::Lit(Lit::Str(Rc::from(s)), span),
            Tok::Num(n) => Expr::Lit(Lit::Number(n), span),
            Tok::Ident(name) if self.tok == Tok::LParen => {
                self.bump()?;
                let mut args = Vec::new();
                if self.tok != Tok::RParen {
                    loop {
                        args.push(self.expr()?);
                        match self.tok {
                            Tok::Comma => {
                                self.bump()?;
                            }
                            Tok::RParen => break,
                            _ => {
                                return self.error(format!(
                                    "expected `,` or `)` in the arguments of `{name}(`"
                                ))
                            }
                        }
                    }
                }
                let (_, close) = self.bump()?;
                Expr::Call(name, args, span.start..close.end)
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Expr::Lit(Lit::Bool(true), span),
                "false" => Expr::Lit(Lit::Bool(false), span),
                "null" => Expr::Lit(Lit::Null, span),
                _ => Expr::Name(name, span),
            },
            Tok::End => {
                return Err(ExprError {
                    offset: span.start,
                    message: "expected an expression".to_string(),
                })
            }
            other => {
                return Err(ExprError {
                    offset: span.start,
                    message: format!("unexpected {}", describe(&other)),
                })
            }
        };
        loop {
            match self.tok {
                Tok::Dot => {
                    self.bump()?;
                    match self.bump()? {
                        (Tok::Ident(name), _) => base = Expr::Member(Box::new(base), name),
                        (other, span) => {
                            return Err(ExprError {
                                offset: span.start,
                                message: format!(
                                    "expected a property name after `.`, found {}",
                                    describe(&other)
                                ),
                            })
                        }
                    }
                }
                Tok::LBracket => {
                    self.bump()?;
                    let index = self.expr()?;
                    if self.tok != Tok::RBracket {
                        return self.error("expected `]`");
                    }
                    self.bump()?;
                    base = Expr::Index(Box::new(base), Box::new(index));
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(base)
    }

    fn finish(&mut self, e: Expr) -> Result<Expr, ExprError> {
        if self.tok != Tok::End {
            return self.error(format!(
                "unexpected {} after the expression",
                describe(&self.tok)
            ));
        }
        Ok(e)
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(_) => "a string".to_string(),
        Tok::Num(_) => "a number".to_string(),
        Tok::LParen => "`(`".to_string(),
        Tok::RParen => "`)`".to_string(),
        Tok::LBracket => "`[`".to_string(),
        Tok::RBracket => "`]`".to_string(),
        Tok::Comma => "`,`".to_string(),
        Tok::Dot => "`.`".to_string(),
        Tok::End => "the end of the expression".to_string(),
    }
}

/// Parse one expression (the text between `${{` and `}}`).
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let mut p = Parser::new(src)?;
    let e = p.expr()?;
    p.finish(e)
}

/// Parse a directive key's inner text (`if eq(a, b)`, `else`, `each x in list` …). `None`
/// when the text is not a directive (a plain expression key such as `${{ pair.key }}`).
pub fn parse_directive(src: &str) -> Option<Result<Directive, ExprError>> {
    let trimmed = src.trim_start();
    let lead = src.len() - trimmed.len();
    let word_end = trimmed
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(trimmed.len());
    let word = &trimmed[..word_end];
    let rest_at = lead + word_end;
    let rest = &src[rest_at..];
    let shift = |mut e: ExprError| {
        e.offset += rest_at;
        e
    };
    let condition = |rest: &str| {
        if rest.trim().is_empty() {
            Err(ExprError {
                offset: rest_at,
                message: format!("`{word}` needs a condition"),
            })
        } else {
            parse(rest).map_err(shift)
        }
    };
    Some(match word {
        "if" => condition(rest).map(Directive::If),
        "elseif" => condition(rest).map(Directive::ElseIf),
        "else" if rest.trim().is_empty() => Ok(Directive::Else),
        "else" => Err(ExprError {
            offset: rest_at,
            message: "`else` takes no condition (use `elseif`)".to_string(),
        }),
        "insert" if rest.trim().is_empty() => Ok(Directive::Insert),
        "each" => {
            let body = rest.trim_start();
            let body_at = rest_at + (rest.len() - body.len());
            let name_end = body
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(body.len());
            let name = &body[..name_end];
            let after = &body[name_end..];
            let after_trim = after.trim_start();
            let in_at = body_at + name_end + (after.len() - after_trim.len());
            if name.is_empty() {
                Err(ExprError {
                    offset: body_at,
                    message: "`each` needs a loop variable: `each item in collection`".to_string(),
                })
            } else if !after_trim.starts_with("in")
                || after_trim[2..]
                    .chars()
                    .next()
                    .is_some_and(|c| !c.is_whitespace())
            {
                Err(ExprError {
                    offset: in_at,
                    message: "expected `in` after the loop variable of `each`".to_string(),
                })
            } else {
                let coll_at = in_at + 2;
                parse(&src[coll_at..])
                    .map_err(|mut e| {
                        e.offset += coll_at;
                        e
                    })
                    .map(|e| Directive::Each(name.to_string(), e))
            }
        }
        _ => return None,
    })
}

/// A `${{ … }}` found in a scalar: byte range of the whole `${{ … }}` and of its inner text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// `${{` … `}}` inclusive.
    pub outer: Range<usize>,
    /// Between the braces.
    pub inner: Range<usize>,
}

/// Split a scalar into its `${{ }}` segments. An unterminated `${{` is an error at its
/// position. Quoted strings inside an expression may contain `}}`.
pub fn segments(text: &str) -> Result<Vec<Segment>, ExprError> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(rel) = text[at..].find("${{") {
        let start = at + rel;
        let inner_start = start + 3;
        let bytes = text.as_bytes();
        let mut i = inner_start;
        let mut in_str = false;
        let mut end = None;
        while i < bytes.len() {
            match bytes[i] {
                b'\'' => in_str = !in_str,
                b'}' if !in_str && bytes.get(i + 1) == Some(&b'}') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let Some(end) = end else {
            return Err(ExprError {
                offset: start,
                message: "`${{` is not closed by `}}`".to_string(),
            });
        };
        out.push(Segment {
            outer: start..end + 2,
            inner: inner_start..end,
        });
        at = end + 2;
    }
    Ok(out)
}

/// Places where a template expression was probably meant but is not written as one
/// (`$ {{ parameters.x }}`, `{{ parameters.x }}`): byte offset and message.
pub fn near_misses(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(rel) = text[at..].find("{{") {
        let pos = at + rel;
        at = pos + 2;
        let before = &text[..pos];
        if before.ends_with('$') {
            continue;
        }
        let Some(close) = text[pos..].find("}}") else {
            continue;
        };
        let inner = text[pos + 2..pos + close].trim();
        let gap = before.trim_end_matches([' ', '\t']);
        if gap.ends_with('$') && gap.len() < before.len() {
            out.push((
                gap.len() - 1,
                format!("`$ {{{{ {inner} }}}}` has a space after `$`: it is plain text, not a template expression; write `${{{{ {inner} }}}}`"),
            ));
        } else if inner.starts_with("parameters.") || inner.starts_with("variables.") {
            out.push((
                pos,
                format!("`{{{{ {inner} }}}}` lacks the `$`: it is plain text, not a template expression; write `${{{{ {inner} }}}}`"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calls_paths_and_literals() {
        let e = parse("format('{0}:{1}', 'it''s', parameters.container.image)").expect("ok");
        let Expr::Call(name, args, _) = e else {
            panic!("call")
        };
        assert_eq!(name, "format");
        assert_eq!(args.len(), 3);
        assert!(matches!(&args[1], Expr::Lit(Lit::Str(s), _) if &**s == "it's"));
        assert!(matches!(&args[2], Expr::Member(_, m) if m == "image"));
        assert!(matches!(
            parse("variables['Build.Reason']").expect("ok"),
            Expr::Index(..)
        ));
        assert!(matches!(
            parse(" 3.5 ").expect("ok"),
            Expr::Lit(Lit::Number(n), _) if n == 3.5
        ));
    }

    #[test]
    fn errors_are_values_with_offsets() {
        let err = parse("eq(a, 'b'").expect_err("unclosed");
        assert!(err.message.contains("expected `,` or `)`"), "{err}");
        let err = parse("a == b").expect_err("operator");
        assert_eq!(err.offset, 2);
        assert!(err.message.contains("no operators"));
        assert!(parse("'open").is_err());
        assert!(parse("").is_err());
        assert!(parse(&"f(".repeat(200)).is_err());
        // Calls nest 64 deep, and no deeper.
        let nested = |n: usize| format!("{}1{}", "f(".repeat(n), ")".repeat(n));
        assert!(parse(&nested(63)).is_ok());
        let err = parse(&nested(64)).expect_err("too deep");
        assert_eq!(err.message, "expression nested too deeply");
        assert!(parse("a.").is_err());
        // Depth is that of nesting: a call takes as many arguments as it is given.
        let wide = format!("f({})", vec!["g(1)"; 100].join(", "));
        match parse(&wide) {
            Ok(Expr::Call(_, args, span)) => {
                assert_eq!((args.len(), span), (100, 0..wide.len()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn directives() {
        assert!(matches!(
            parse_directive(" if eq(a, 'b') "),
            Some(Ok(Directive::If(_)))
        ));
        assert!(matches!(
            parse_directive(" else "),
            Some(Ok(Directive::Else))
        ));
        assert!(matches!(
            parse_directive(" each pair in parameters.containers "),
            Some(Ok(Directive::Each(n, _))) if n == "pair"
        ));
        assert!(matches!(
            parse_directive("insert"),
            Some(Ok(Directive::Insert))
        ));
        assert!(matches!(
            parse_directive(" each build_image2 in parameters.images "),
            Some(Ok(Directive::Each(n, Expr::Member(..)))) if n == "build_image2"
        ));
        assert!(parse_directive(" parameters.x ").is_none());
        let err = parse_directive(" if eq(a,, b) ")
            .and_then(Result::err)
            .expect("error");
        assert_eq!(err.offset, 9);
        assert!(matches!(parse_directive(" each x on y"), Some(Err(_))));
        // `insert` takes nothing after it; with something it is no directive.
        assert!(parse_directive(" insert parameters.x ").is_none());
        // An error in the collection of `each` is placed in the directive's text.
        let src = " each x in eq(a,, b) ";
        let err = parse_directive(src).and_then(Result::err).expect("error");
        assert_eq!(err.offset, 16, "{err:?}");
        assert_eq!(&src[err.offset..err.offset + 1], ",");
    }

    /// What a reader is told about an expression that cannot be read, and where.
    #[test]
    fn errors_say_what_is_wrong_and_where() {
        for (src, offset, message) in [
            ("a.1", 1, "unexpected a number after the expression"),
            ("a.(", 2, "expected a property name after `.`, found `(`"),
            ("a[0", 3, "expected `]`"),
            ("1x", 0, "`1x` is not a number"),
            ("'a' 'b'", 4, "unexpected a string after the expression"),
            ("f(a b)", 4, "expected `,` or `)` in the arguments of `f(`"),
            (
                "f(${{ x }})",
                2,
                "unexpected `$` (an expression cannot contain another `${{ }}`)",
            ),
            (
                "not(a && b)",
                6,
                "unexpected `&` (template expressions have no operators: use eq(), and(), or(), not() …)",
            ),
            (")", 0, "unexpected `)`"),
            ("a @ b", 2, "unexpected `@`"),
            ("f(", 2, "expected an expression"),
        ] {
            let err = parse(src).expect_err(src);
            assert_eq!((err.offset, err.message.as_str()), (offset, message), "{src}");
        }
        for (src, offset, message) in [
            (" if ", 3, "`if` needs a condition"),
            ("elseif", 6, "`elseif` needs a condition"),
            (
                " else eq(a, b)",
                5,
                "`else` takes no condition (use `elseif`)",
            ),
            (
                " each  in x", // `in` is taken for the loop variable
                10,
                "expected `in` after the loop variable of `each`",
            ),
            (
                " each ",
                6,
                "`each` needs a loop variable: `each item in collection`",
            ),
            (
                " each x inside y",
                8,
                "expected `in` after the loop variable of `each`",
            ),
            (" each x in ", 11, "expected an expression"),
        ] {
            let err = parse_directive(src)
                .and_then(Result::err)
                .unwrap_or_else(|| panic!("{src}"));
            assert_eq!(
                (err.offset, err.message.as_str()),
                (offset, message),
                "{src}"
            );
        }
        let err = segments("a ${{ b }} ${{ c").expect_err("unclosed");
        assert_eq!(
            (err.offset, err.message.as_str()),
            (11, "`${{` is not closed by `}}`")
        );
        assert_eq!(
            near_misses("a: {{ variables.x }}, b: $\t{{ y }}"),
            [
                (
                    3,
                    "`{{ variables.x }}` lacks the `$`: it is plain text, not a template expression; write `${{ variables.x }}`".to_string()
                ),
                (
                    25,
                    "`$ {{ y }}` has a space after `$`: it is plain text, not a template expression; write `${{ y }}`".to_string()
                ),
            ]
        );
    }

    #[test]
    fn segments_and_near_misses() {
        let s = segments("a ${{ x }} b ${{ format('}}', y) }}").expect("ok");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].outer, 2..10);
        assert!(segments("x ${{ y").is_err());
        // Characters of several bytes just before `}}`: the next search starts after it.
        let text = "${{ 'x€' }}${{ 'é'}}${{ z }}";
        let s = segments(text).expect("ok");
        let inner: Vec<&str> = s.iter().map(|g| &text[g.inner.clone()]).collect();
        assert_eq!(inner, [" 'x€' ", " 'é'", " z "]);
        let m = near_misses("collectionType: $ {{ parameters.collectionType }}");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].0, 16);
        assert!(near_misses("${{ a }} and {{ .Id }}").is_empty());
        assert_eq!(near_misses("x {{ parameters.a }}").len(), 1);
    }
}
