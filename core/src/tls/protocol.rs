//! SSLProtocol: mod_ssl's words (`all`, `[+-]TLSv1.2` ...) to the protocol
//! versions rustls speaks, TLS 1.2 and TLS 1.3.
//!
//! The words are checked as `ssl_cmd_protocol_parse` checks them when the
//! line is read (an unknown word, SSLv2 or SSLv3 enabled: errors with the
//! line). TLS 1.0 and 1.1, which rustls does not implement, are dropped
//! from what a line enables, with a warning naming the line; `all` means
//! what is left (no warning: httpd's own `all` no longer includes SSLv3).
//! A line that leaves nothing is an error.

/// The versions enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocols {
    pub tls12: bool,
    pub tls13: bool,
}

impl Default for Protocols {
    /// Without SSLProtocol: both (httpd's default is `all -SSLv3`).
    fn default() -> Self {
        Protocols { tls12: true, tls13: true }
    }
}

/// The words httpd knows, and what each means here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    /// SSLv2, SSLv3, TLSv1, TLSv1.1: rustls has none of them.
    Unsupported,
    Tls12,
    Tls13,
    All,
}

fn word(name: &str) -> Option<Word> {
    // mod_ssl compares with strcEQ: case matters.
    Some(match name {
        "SSLv2" | "SSLv3" | "TLSv1" | "TLSv1.1" => Word::Unsupported,
        "TLSv1.2" => Word::Tls12,
        "TLSv1.3" => Word::Tls13,
        "all" => Word::All,
        _ => return None,
    })
}

/// The checks made when the line is read, with mod_ssl's messages.
pub fn check_words(words: &[String]) -> Result<(), String> {
    for w in words {
        let (action, name) = split(w);
        match (word(name), action) {
            (None, _) => return Err(format!("SSLProtocol: Illegal protocol '{name}'")),
            (Some(_), Some('-')) => {}
            (Some(_), _) if name == "SSLv2" => return Err("SSLProtocol: SSLv2 is no longer supported".into()),
            (Some(_), _) if name == "SSLv3" => {
                return Err("SSLProtocol: SSLv3 is not supported (this server speaks TLSv1.2 and TLSv1.3; \
                            write -SSLv3 or leave it out)"
                    .into());
            }
            _ => {}
        }
    }
    Ok(())
}

fn split(w: &str) -> (Option<char>, &str) {
    match w.chars().next() {
        Some(c @ ('+' | '-')) => (Some(c), &w[1..]),
        _ => (None, w),
    }
}

/// What the words enable, and the unsupported versions they asked for
/// (for a warning). `Err` when nothing rustls speaks is left.
pub fn evaluate(words: &[String]) -> Result<(Protocols, Vec<String>), String> {
    let mut on = Protocols { tls12: false, tls13: false };
    let mut ignored = Vec::new();
    for w in words {
        let (action, name) = split(w);
        let Some(kind) = word(name) else { return Err(format!("SSLProtocol: Illegal protocol '{name}'")) };
        let (tls12, tls13) = match kind {
            Word::Unsupported => {
                if action != Some('-') && !ignored.iter().any(|n| n == name) {
                    ignored.push(name.to_string());
                }
                (false, false)
            }
            Word::Tls12 => (true, false),
            Word::Tls13 => (false, true),
            Word::All => (true, true),
        };
        match action {
            Some('-') => {
                on.tls12 &= !tls12;
                on.tls13 &= !tls13;
            }
            Some(_) => {
                on.tls12 |= tls12;
                on.tls13 |= tls13;
            }
            // A bare word sets the list anew, as mod_ssl's `*options = thisopt`.
            None => on = Protocols { tls12, tls13 },
        }
    }
    if !on.tls12 && !on.tls13 {
        let asked = if ignored.is_empty() {
            String::new()
        } else {
            format!(" ({} not supported)", ignored.join(", "))
        };
        return Err(format!(
            "SSLProtocol: no protocol this server speaks is left enabled{asked}; it speaks TLSv1.2 and TLSv1.3"
        ));
    }
    Ok((on, ignored))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn words_enable_and_disable_in_order() {
        let on = |line: &str| evaluate(&words(line)).map(|(p, _)| (p.tls12, p.tls13));
        assert_eq!(on("all"), Ok((true, true)));
        assert_eq!(on("all -SSLv3"), Ok((true, true)));
        assert_eq!(on("-all +TLSv1.3"), Ok((false, true)));
        assert_eq!(on("TLSv1.2"), Ok((true, false)));
        assert_eq!(on("all -TLSv1.2"), Ok((false, true)));
        assert_eq!(on("TLSv1.3 +TLSv1.2"), Ok((true, true)));
        assert_eq!(on("all -TLSv1 -TLSv1.1"), Ok((true, true)));
    }

    #[test]
    fn old_versions_are_dropped_with_a_note_or_refused() {
        assert_eq!(evaluate(&words("TLSv1 +TLSv1.1 +TLSv1.2")).unwrap().1, ["TLSv1", "TLSv1.1"]);
        assert!(evaluate(&words("all -SSLv3")).unwrap().1.is_empty());
        let e = evaluate(&words("TLSv1")).unwrap_err();
        assert!(e.contains("no protocol this server speaks") && e.contains("TLSv1 not supported"), "{e}");
        assert_eq!(
            check_words(&words("+SSLv3")).unwrap_err().split(' ').take(3).collect::<Vec<_>>(),
            ["SSLProtocol:", "SSLv3", "is"]
        );
        assert!(check_words(&words("all -SSLv3 -SSLv2")).is_ok());
        assert_eq!(check_words(&words("SSLv2")).unwrap_err(), "SSLProtocol: SSLv2 is no longer supported");
        assert_eq!(check_words(&words("+TLSv9")).unwrap_err(), "SSLProtocol: Illegal protocol 'TLSv9'");
        assert_eq!(check_words(&words("ALL")).unwrap_err(), "SSLProtocol: Illegal protocol 'ALL'");
    }
}
