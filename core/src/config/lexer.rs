//! httpd.conf lexing: physical lines into logical lines, and a logical line
//! into words.
//!
//! As httpd's `ap_cfg_getline` and `ap_getword_conf`: a backslash right before
//! the newline joins the next line, leading and trailing blanks go, a line whose
//! first non-blank character is `#` is a comment. Words split on whitespace;
//! `"..."` and `'...'` quote one word, inside which `\"`, `\'` and `\\` are
//! escapes and every other backslash is literal.

/// Longest logical line httpd accepts after joining continuations (16 MiB).
pub(crate) const MAX_LINE_LEN: usize = 16 * 1024 * 1024;

/// One logical line: its text and the number of its first physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub number: usize,
    pub text: String,
}

/// Splits `source` into logical lines, skipping blank lines and comments.
///
/// The line number is that of the first physical line, as httpd reports it.
/// A line over [`MAX_LINE_LEN`] is refused with the number of its first
/// physical line.
pub(crate) fn logical_lines(source: &str) -> Result<Vec<Line>, (usize, String)> {
    let mut lines = Vec::new();
    let mut pending: Option<Line> = None;
    for (idx, raw) in source.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let (body, continues) = match raw.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (raw, false),
        };
        let line = pending.get_or_insert_with(|| Line { number: idx + 1, text: String::new() });
        line.text.push_str(body);
        if line.text.len() > MAX_LINE_LEN {
            return Err((line.number, format!("line too long: more than {MAX_LINE_LEN} bytes")));
        }
        if continues {
            continue;
        }
        let Line { number, text } = pending.take().expect("pending line was just inserted");
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        lines.push(Line { number, text: trimmed.to_string() });
    }
    if let Some(Line { number, text }) = pending {
        let trimmed = text.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            lines.push(Line { number, text: trimmed.to_string() });
        }
    }
    Ok(lines)
}

/// Splits a directive's arguments into words, as `ap_getword_conf`.
///
/// A quote left open is refused: httpd takes the rest of the line as the
/// word, so `ServerAdmin "a@b` silently gets `a@b` and a forgotten quote
/// before more words silently swallows them.
pub(crate) fn words(args: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = args.trim_start();
    while !rest.is_empty() {
        let (word, after) = next_word(rest)?;
        out.push(word);
        rest = after.trim_start();
    }
    Ok(out)
}

/// The first word of `s` (which starts with a non-blank) and the rest.
fn next_word(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices().peekable();
    let quote = match s.chars().next() {
        Some(q @ ('"' | '\'')) => {
            chars.next();
            Some(q)
        }
        _ => None,
    };
    let mut word = String::new();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) => {
                if c == '\\' {
                    if let Some(&(_, next)) = chars.peek() {
                        if next == q || next == '\\' {
                            word.push(next);
                            chars.next();
                            continue;
                        }
                    }
                    word.push(c);
                } else if c == q {
                    return Ok((word, &s[i + c.len_utf8()..]));
                } else {
                    word.push(c);
                }
            }
            None => {
                if c.is_whitespace() {
                    return Ok((word, &s[i..]));
                }
                word.push(c);
            }
        }
    }
    match quote {
        Some(q) => Err(format!("unterminated quote: the {q} that opens {} is never closed", shorten(s))),
        None => Ok((word, "")),
    }
}

/// At most 40 characters of `s`, for an error message.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// Splits a logical line into the directive name and the raw argument text.
pub(crate) fn split_directive(text: &str) -> (&str, &str) {
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim_start()),
        None => (text, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(src: &str) -> Vec<(usize, String)> {
        logical_lines(src).unwrap().into_iter().map(|l| (l.number, l.text)).collect()
    }

    #[test]
    fn blank_lines_and_comments_are_skipped() {
        let src = "\n# comment\n   # indented comment\nListen 80\n\t\n";
        assert_eq!(lines(src), vec![(4, "Listen 80".into())]);
    }

    #[test]
    fn surrounding_whitespace_is_removed() {
        assert_eq!(lines("   Timeout 5   \r\n"), vec![(1, "Timeout 5".into())]);
    }

    #[test]
    fn continuation_joins_lines_and_keeps_first_number() {
        let src = "LogFormat \"%h %l\" \\\n    common\nListen 80\n";
        assert_eq!(lines(src), vec![(1, "LogFormat \"%h %l\"     common".into()), (3, "Listen 80".into())]);
    }

    #[test]
    fn continuation_with_crlf() {
        assert_eq!(lines("Listen \\\r\n80\r\n"), vec![(1, "Listen 80".into())]);
    }

    #[test]
    fn backslash_not_at_end_is_literal() {
        assert_eq!(lines("Foo a\\b\n"), vec![(1, "Foo a\\b".into())]);
    }

    #[test]
    fn continuation_at_end_of_file() {
        assert_eq!(lines("Listen \\"), vec![(1, "Listen ".trim().into())]);
    }

    #[test]
    fn hash_after_directive_is_not_a_comment() {
        assert_eq!(words("x@y # c").unwrap(), vec!["x@y", "#", "c"]);
    }

    #[test]
    fn words_split_on_whitespace() {
        assert_eq!(words("  a \t b   c ").unwrap(), vec!["a", "b", "c"]);
    }

    #[test]
    fn quotes_group_words() {
        assert_eq!(words(r#""%h %l" common"#).unwrap(), vec!["%h %l", "common"]);
        assert_eq!(words("'a b' c").unwrap(), vec!["a b", "c"]);
        assert_eq!(words(r#""""#).unwrap(), vec![""]);
    }

    #[test]
    fn escapes_inside_quotes() {
        assert_eq!(words(r#""a \"b\" c""#).unwrap(), vec![r#"a "b" c"#]);
        assert_eq!(words(r"'it\'s'").unwrap(), vec!["it's"]);
        assert_eq!(words(r#""back\\slash""#).unwrap(), vec![r"back\slash"]);
        assert_eq!(words(r#""keep \n literal""#).unwrap(), vec![r"keep \n literal"]);
    }

    #[test]
    fn quote_inside_a_word_is_literal() {
        assert_eq!(words(r#"a"b c"#).unwrap(), vec![r#"a"b"#, "c"]);
    }

    #[test]
    fn unterminated_quote_is_refused() {
        assert_eq!(
            words(r#"x "a b"#).unwrap_err(),
            r#"unterminated quote: the " that opens "a b is never closed"#
        );
    }

    #[test]
    fn overlong_line_names_its_first_line() {
        let long = format!("A\nB {}\\\nC\n", "x".repeat(MAX_LINE_LEN));
        assert_eq!(logical_lines(&long).unwrap_err().0, 2);
    }

    #[test]
    fn directive_name_and_args() {
        assert_eq!(split_directive("Listen  127.0.0.1:80"), ("Listen", "127.0.0.1:80"));
        assert_eq!(split_directive("</IfModule>"), ("</IfModule>", ""));
    }
}
