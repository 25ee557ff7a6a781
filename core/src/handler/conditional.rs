//! Conditional requests as httpd's `ap_meets_conditions` and its
//! `ap_condition_*` helpers (`modules/http/http_protocol.c`) decide them,
//! quirks included:
//!
//! - all times compare in whole seconds; a Last-Modified less than 60 s
//!   before the request is only a weak validator, which a Range request may
//!   not rely on;
//! - If-None-Match compares weakly for GET and HEAD (strongly when a Range
//!   is present) and strongly for other methods, where a match is a 412;
//! - an If-Unmodified-Since that holds, or an If-None-Match or
//!   If-Modified-Since that fails, cancels a 304 another header asked for
//!   (so If-Modified-Since is not ignored next to If-None-Match, unlike
//!   RFC 7232 section 6);
//! - If-Modified-Since only counts for GET and HEAD, and a date later than
//!   the request is ignored;
//! - a request with both Range and If-Range never gets a 304.

use crate::http::date::parse as parse_http_date;

/// The validators of the selected representation, as the response carries
/// them (the ETag as sent, `W/` included; Last-Modified in seconds).
#[derive(Debug, Clone, Copy)]
pub(super) struct Validators<'a> {
    pub(super) etag: Option<&'a str>,
    pub(super) last_modified: i64,
}

/// The request headers conditionals read (each the comma-joined value of
/// every field of that name, as httpd merges repeated fields).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Conditions<'a> {
    pub(super) if_match: Option<&'a str>,
    pub(super) if_unmodified_since: Option<&'a str>,
    pub(super) if_none_match: Option<&'a str>,
    pub(super) if_modified_since: Option<&'a str>,
    pub(super) if_range: Option<&'a str>,
    pub(super) range: Option<&'a str>,
    /// GET or HEAD (httpd's `M_GET`).
    pub(super) is_get: bool,
    /// Seconds since the epoch when the request arrived.
    pub(super) now: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Proceed,
    /// 304: for GET and HEAD only.
    NotModified,
    /// 412.
    PreconditionFailed,
}

/// httpd's `ap_condition_e`; the order matters (`>= Weak` means a match).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Condition {
    None,
    NoMatch,
    Weak,
    Strong,
}

impl Conditions<'_> {
    /// `ap_meets_conditions` for a successful response with validators `v`.
    pub(super) fn evaluate(&self, v: &Validators<'_>) -> Verdict {
        // -1 unset, 0 cancelled, 1 asked for, as httpd's `not_modified`.
        let mut not_modified = -1;
        if self.if_match(v) == Condition::NoMatch {
            return Verdict::PreconditionFailed;
        }
        match self.if_unmodified_since(v) {
            Condition::NoMatch => not_modified = 0,
            c if c >= Condition::Weak => return Verdict::PreconditionFailed,
            _ => {}
        }
        match self.if_none_match(v) {
            Condition::NoMatch => not_modified = 0,
            c if c >= Condition::Weak => {
                if !self.is_get {
                    return Verdict::PreconditionFailed;
                }
                if not_modified != 0 {
                    not_modified = 1;
                }
            }
            _ => {}
        }
        match self.if_modified_since(v) {
            Condition::NoMatch => not_modified = 0,
            c if c >= Condition::Weak && self.is_get && not_modified != 0 => not_modified = 1,
            _ => {}
        }
        if self.if_range(v) > Condition::None {
            return Verdict::Proceed;
        }
        if not_modified == 1 { Verdict::NotModified } else { Verdict::Proceed }
    }

    /// Whether a Range may be honoured: `ap_condition_if_range` is not
    /// NOMATCH (an If-Range ETag equal, byte for byte, to a strong ETag; or
    /// a date equal to Last-Modified at least 60 s before the request).
    pub(super) fn range_allowed(&self, v: &Validators<'_>) -> bool {
        self.if_range(v) != Condition::NoMatch
    }

    fn if_match(&self, v: &Validators<'_>) -> Condition {
        let Some(list) = self.if_match else { return Condition::None };
        if list.starts_with('*') || v.etag.is_some_and(|etag| find_etag(list, etag, Compare::Strong)) {
            Condition::Strong
        } else {
            Condition::NoMatch
        }
    }

    fn if_unmodified_since(&self, v: &Validators<'_>) -> Condition {
        let Some(date) = self.if_unmodified_since else { return Condition::None };
        match parse_http_date(date) {
            // APR_DATE_BAD is 0, and httpd tests `ius != APR_DATE_BAD`.
            Some(ius) if ius != 0 && v.last_modified > ius => self.freshness(v),
            _ => Condition::NoMatch,
        }
    }

    fn if_none_match(&self, v: &Validators<'_>) -> Condition {
        let Some(list) = self.if_none_match else { return Condition::None };
        if list.starts_with('*') {
            return Condition::Strong;
        }
        let Some(etag) = v.etag else { return Condition::NoMatch };
        if !self.is_get || self.range.is_some() {
            if find_etag(list, etag, Compare::Strong) {
                return Condition::Strong;
            }
        } else if find_etag(list, etag, Compare::Weak) {
            return Condition::Weak;
        }
        Condition::NoMatch
    }

    fn if_modified_since(&self, v: &Validators<'_>) -> Condition {
        let Some(date) = self.if_modified_since else { return Condition::None };
        let ims = parse_http_date(date).unwrap_or(0);
        if ims >= v.last_modified && ims <= self.now { self.freshness(v) } else { Condition::NoMatch }
    }

    fn if_range(&self, v: &Validators<'_>) -> Condition {
        let (Some(if_range), Some(_)) = (self.if_range, self.range) else { return Condition::None };
        if if_range.starts_with('"') {
            return if v.etag == Some(if_range) { Condition::Strong } else { Condition::NoMatch };
        }
        let date = parse_http_date(if_range).unwrap_or(0);
        if date == v.last_modified && self.now >= v.last_modified + 60 {
            Condition::Strong
        } else {
            Condition::NoMatch
        }
    }

    /// A date match is weak within 60 s of the modification, and a weak
    /// match does not count when a Range is asked for.
    fn freshness(&self, v: &Validators<'_>) -> Condition {
        if self.now < v.last_modified + 60 {
            if self.range.is_some() { Condition::NoMatch } else { Condition::Weak }
        } else {
            Condition::Strong
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Strong,
    Weak,
}

/// Whether `etag` is in the list `list`, as httpd's `ap_find_etag_strong`
/// and `ap_find_etag_weak`: the strong comparison never matches a weak tag,
/// on either side, and the search stops at the first item that is not a
/// quoted tag; the weak one ignores `W/` on both sides.
fn find_etag(list: &str, etag: &str, compare: Compare) -> bool {
    fn quoted(s: &str, compare: Compare) -> Option<&str> {
        let s = match compare {
            Compare::Weak => s.strip_prefix("W/").unwrap_or(s),
            Compare::Strong => s,
        };
        s.starts_with('"').then_some(s)
    }
    let Some(wanted) = quoted(etag, compare) else { return false };
    for item in split_list(list) {
        match quoted(item, compare) {
            Some(tag) if tag == wanted => return true,
            Some(_) => {}
            None => return false,
        }
    }
    false
}

/// The items of a comma-separated list, trimmed; commas inside quoted
/// strings do not separate.
fn split_list(list: &str) -> impl Iterator<Item = &str> {
    let mut rest = list;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return None;
        }
        let (mut quoted, mut escaped, mut end) = (false, false, rest.len());
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let item = rest[..end].trim_end();
        rest = &rest[end..];
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETAG: &str = "\"3-660f4cb4f27ba\"";
    /// Last-Modified: Mon, 23 Nov 2026 17:19:19 GMT.
    const LM: i64 = 1_795_454_359;
    const LM_TEXT: &str = "Mon, 23 Nov 2026 17:19:19 GMT";
    const OLD: &str = "Mon, 01 Jan 2001 00:00:00 GMT";
    const FUTURE: &str = "Mon, 01 Jan 2035 00:00:00 GMT";

    /// Evaluates `headers` (name, value) for a GET (or `method`) an hour
    /// after the modification, with the reference file's validators.
    fn verdict(method: &str, headers: &[(&str, &str)], etag: Option<&str>, now: i64) -> Verdict {
        let get = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
        let c = Conditions {
            if_match: get("If-Match"),
            if_unmodified_since: get("If-Unmodified-Since"),
            if_none_match: get("If-None-Match"),
            if_modified_since: get("If-Modified-Since"),
            if_range: get("If-Range"),
            range: get("Range"),
            is_get: method == "GET" || method == "HEAD",
            now,
        };
        c.evaluate(&Validators { etag, last_modified: LM })
    }

    #[test]
    fn meets_conditions() {
        use Verdict::*;
        let hour = LM + 3600;
        let check = |method: &str, headers: &[(&str, &str)], expected: Verdict| {
            assert_eq!(verdict(method, headers, Some(ETAG), hour), expected, "{method} {headers:?}");
        };
        check("GET", &[], Proceed);
        // If-Match: strong comparison, `*` matches any existing file.
        check("GET", &[("If-Match", "\"nope\"")], PreconditionFailed);
        check("GET", &[("If-Match", ETAG)], Proceed);
        check("GET", &[("If-Match", "\"x\", \"3-660f4cb4f27ba\"")], Proceed);
        check("GET", &[("If-Match", "*")], Proceed);
        check("GET", &[("If-Match", "W/\"3-660f4cb4f27ba\"")], PreconditionFailed);
        check("POST", &[("If-Match", "\"nope\"")], PreconditionFailed);
        // If-Unmodified-Since.
        check("GET", &[("If-Unmodified-Since", OLD)], PreconditionFailed);
        check("GET", &[("If-Unmodified-Since", LM_TEXT)], Proceed);
        check("GET", &[("If-Unmodified-Since", "garbage")], Proceed);
        // If-None-Match: weak for GET/HEAD, strong (and 412) otherwise.
        check("GET", &[("If-None-Match", ETAG)], NotModified);
        check("HEAD", &[("If-None-Match", ETAG)], NotModified);
        check("GET", &[("If-None-Match", "W/\"3-660f4cb4f27ba\"")], NotModified);
        check("GET", &[("If-None-Match", "\"a\" , \"3-660f4cb4f27ba\"")], NotModified);
        check("GET", &[("If-None-Match", "*")], NotModified);
        check("GET", &[("If-None-Match", "\"other\"")], Proceed);
        check("POST", &[("If-None-Match", ETAG)], PreconditionFailed);
        check("POST", &[("If-None-Match", "*")], PreconditionFailed);
        check("POST", &[("If-None-Match", "W/\"3-660f4cb4f27ba\"")], Proceed);
        check("DELETE", &[("If-None-Match", "\"other\"")], Proceed);
        // If-Modified-Since: GET/HEAD only; a future date is ignored.
        check("GET", &[("If-Modified-Since", LM_TEXT)], NotModified);
        check("GET", &[("If-Modified-Since", OLD)], Proceed);
        check("GET", &[("If-Modified-Since", FUTURE)], Proceed);
        check("GET", &[("If-Modified-Since", "garbage")], Proceed);
        check("POST", &[("If-Modified-Since", LM_TEXT)], Proceed);
        // httpd's combinations: a failing date cancels a matching tag...
        check("GET", &[("If-None-Match", ETAG), ("If-Modified-Since", OLD)], Proceed);
        check("GET", &[("If-None-Match", ETAG), ("If-Modified-Since", LM_TEXT)], NotModified);
        check("GET", &[("If-None-Match", "\"other\""), ("If-Modified-Since", LM_TEXT)], Proceed);
        // ... and so does an If-Unmodified-Since that holds.
        check("GET", &[("If-Unmodified-Since", LM_TEXT), ("If-None-Match", ETAG)], Proceed);
        check("GET", &[("If-Match", ETAG), ("If-None-Match", ETAG)], NotModified);
        // Range: strong comparison only; Range with If-Range never gets 304.
        check("GET", &[("Range", "bytes=0-1"), ("If-None-Match", ETAG)], NotModified);
        check("GET", &[("Range", "bytes=0-1"), ("If-None-Match", "W/\"3-660f4cb4f27ba\"")], Proceed);
        check("GET", &[("Range", "bytes=0-1"), ("If-Range", ETAG), ("If-None-Match", ETAG)], Proceed);
        check("GET", &[("If-Range", ETAG), ("If-None-Match", ETAG)], NotModified);
    }

    #[test]
    fn weak_etags_and_recent_files() {
        use Verdict::*;
        let weak = Some("W/\"3-660f4cb4f27ba\"");
        let hour = LM + 3600;
        assert_eq!(verdict("GET", &[("If-None-Match", ETAG)], weak, hour), NotModified);
        assert_eq!(verdict("GET", &[("If-Match", ETAG)], weak, hour), PreconditionFailed);
        assert_eq!(verdict("GET", &[("If-Match", "*")], None, hour), Proceed);
        assert_eq!(verdict("GET", &[("If-Match", ETAG)], None, hour), PreconditionFailed);
        assert_eq!(verdict("GET", &[("If-None-Match", ETAG)], None, hour), Proceed);
        // Modified 10 s before the request: the date match is weak.
        assert_eq!(verdict("GET", &[("If-Modified-Since", LM_TEXT)], Some(ETAG), LM + 10), NotModified);
        let with_range = [("If-Modified-Since", LM_TEXT), ("Range", "bytes=0-0")];
        assert_eq!(verdict("GET", &with_range, Some(ETAG), LM + 10), Proceed);
        assert_eq!(verdict("GET", &with_range, Some(ETAG), LM + 60), NotModified);
        assert_eq!(verdict("GET", &[("If-Unmodified-Since", OLD)], Some(ETAG), LM + 10), PreconditionFailed);
    }

    #[test]
    fn if_range() {
        let check =
            |if_range: Option<&str>, range: Option<&str>, etag: Option<&str>, now: i64, allowed: bool| {
                let c = Conditions { if_range, range, is_get: true, now, ..Conditions::default() };
                let v = Validators { etag, last_modified: LM };
                assert_eq!(c.range_allowed(&v), allowed, "{if_range:?} {etag:?} {now}");
            };
        let r = Some("bytes=0-2");
        let hour = LM + 3600;
        check(None, r, Some(ETAG), hour, true);
        check(Some(ETAG), r, Some(ETAG), hour, true);
        check(Some("\"7d0-xx\""), r, Some(ETAG), hour, false);
        check(Some("W/\"3-660f4cb4f27ba\""), r, Some(ETAG), hour, false);
        check(Some(ETAG), r, Some("W/\"3-660f4cb4f27ba\""), hour, false);
        check(Some(ETAG), r, None, hour, false);
        check(Some(LM_TEXT), r, Some(ETAG), hour, true);
        check(Some("Monday, 23-Nov-26 17:19:19 GMT"), r, Some(ETAG), hour, true);
        check(Some("Mon, 23 Nov 2026 17:19:20 GMT"), r, Some(ETAG), hour, false);
        check(Some(LM_TEXT), r, Some(ETAG), LM + 59, false);
        check(Some("garbage"), r, Some(ETAG), hour, false);
        check(Some("garbage"), None, Some(ETAG), hour, true);
    }

    #[test]
    fn etag_lists() {
        let check = |list: &str, etag: &str, strong: bool, weak: bool| {
            assert_eq!(find_etag(list, etag, Compare::Strong), strong, "strong {list} {etag}");
            assert_eq!(find_etag(list, etag, Compare::Weak), weak, "weak {list} {etag}");
        };
        check("\"a\"", "\"a\"", true, true);
        check("\"a\", \"b\"", "\"b\"", true, true);
        check(" ,\"a\" ,,\"b\"  ", "\"b\"", true, true);
        check("\"A\"", "\"a\"", false, false);
        check("W/\"a\"", "\"a\"", false, true);
        check("\"a\"", "W/\"a\"", false, true);
        check("W/\"x\", \"a\"", "\"a\"", false, true);
        check("\"x,y\", \"a\"", "\"a\"", true, true);
        check("\"x,y\"", "\"x\"", false, false);
        check("a", "\"a\"", false, false);
        check("", "\"a\"", false, false);
        check("\"ab\"", "\"a\"", false, false);
    }
}
