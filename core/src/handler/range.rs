//! Byte ranges as httpd's byterange filter (`modules/http/byterange_filter.c`)
//! answers them: the Range header's specs are parsed strictly, clamped to
//! the file, merged when they overlap or touch, and sent as one part
//! (`206` with Content-Range) or as `multipart/byteranges`.

use std::sync::OnceLock;

/// httpd's defaults for MaxRanges, MaxRangeOverlaps and MaxRangeReversals:
/// past any of them the whole file is sent (200), which defuses requests
/// built to make the server copy one file many times.
const MAX_RANGES: usize = 200;
const MAX_OVERLAPS: usize = 20;
const MAX_REVERSALS: usize = 20;

/// What a Range header asks of a representation of `len` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ranges {
    /// No usable Range: send everything (200). Covers an absent header, a
    /// unit other than `bytes`, any syntactically invalid spec (RFC 7233
    /// 3.1: ignore the header), and the limits above.
    Full,
    /// Inclusive `(first, last)` byte positions, in request order after
    /// merging; one range gives Content-Range, several a multipart body.
    Parts(Vec<(u64, u64)>),
    /// Every spec starts past the end: 416.
    Unsatisfiable,
}

/// As `ap_set_byterange`: `header` is the Range value, `len` the size.
pub(super) fn parse(header: &str, len: u64) -> Ranges {
    let Some(specs) =
        header.get(..6).filter(|unit| unit.eq_ignore_ascii_case("bytes=")).map(|_| &header[6..])
    else {
        return Ranges::Full;
    };
    // httpd never ranges an empty body (the filter needs a length > 0).
    if len == 0 {
        return Ranges::Full;
    }
    let mut merged: Vec<(u64, u64)> = Vec::new();
    let (mut overlaps, mut reversals) = (0, 0);
    let mut unsatisfiable = false;
    let mut current: Option<(u64, u64)> = None;
    // ap_getword skips runs of commas, so `0-1,,5-6` is two specs; an empty
    // first spec (`bytes=,0-1`) ends the list before it starts.
    for (i, spec) in specs.split(',').enumerate() {
        if spec.is_empty() {
            if i == 0 {
                break;
            }
            continue;
        }
        let Some((first, last)) = spec.split_once('-') else { return Ranges::Full };
        let (start, end) = if first.is_empty() {
            // `-N`: the last N bytes.
            match strict_number(last) {
                Some(n) if n >= 1 => (len.saturating_sub(n), len - 1),
                _ => return Ranges::Full,
            }
        } else {
            let Some(start) = strict_number(first) else { return Ranges::Full };
            if last.is_empty() {
                if start == 0 {
                    // `0-` is the whole body, whatever else was asked.
                    merged.clear();
                    current = Some((0, len - 1));
                    break;
                }
                (start, len - 1)
            } else {
                let Some(end) = strict_number(last) else { return Ranges::Full };
                if start > end {
                    return Ranges::Full;
                }
                (start, end)
            }
        };
        if start >= len {
            unsatisfiable = true;
            continue;
        }
        let end = end.min(len - 1);
        let Some((ostart, oend)) = current else {
            current = Some((start, end));
            continue;
        };
        // The merge rules of ap_set_byterange, counting what MaxRangeOverlaps
        // and MaxRangeReversals limit.
        let (mut nstart, mut nend, mut merge) = (ostart, oend, start >= ostart && end <= oend);
        if start < ostart && end + 1 >= ostart {
            nstart = start;
            reversals += 1;
            merge = true;
        }
        if end >= oend && start <= oend + 1 {
            nend = end;
            merge = true;
        }
        if merge {
            overlaps += 1;
            current = Some((nstart, nend));
        } else {
            merged.push((ostart, oend));
            current = Some((start, end));
        }
    }
    match current {
        Some(last) => merged.push(last),
        None if unsatisfiable => return Ranges::Unsatisfiable,
        None => return Ranges::Full,
    }
    let total: u64 = merged.iter().map(|(a, b)| b - a + 1).sum();
    if total > len || merged.len() > MAX_RANGES || overlaps > MAX_OVERLAPS || reversals > MAX_REVERSALS {
        return Ranges::Full;
    }
    Ranges::Parts(merged)
}

/// `ap_parse_strict_length`: ASCII digits only (no sign, no blanks).
fn strict_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The boundary of multipart/byteranges bodies: 16 hex digits chosen once
/// per process, as httpd's `ap_multipart_boundary` is chosen at start-up.
pub(super) fn boundary() -> &'static str {
    static BOUNDARY: OnceLock<String> = OnceLock::new();
    BOUNDARY.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(t.as_nanos());
        }
        format!("{:016x}", h.finish())
    })
}

/// The bytes before part `first..=last` of a multipart body: exactly
/// httpd's `bound_head` and range line.
pub(super) fn part_head(
    boundary: &str,
    content_type: Option<&str>,
    first: u64,
    last: u64,
    len: u64,
) -> Vec<u8> {
    let content_type = content_type.map(|t| format!("\r\nContent-type: {t}")).unwrap_or_default();
    format!("\r\n--{boundary}{content_type}\r\nContent-range: bytes {first}-{last}/{len}\r\n\r\n")
        .into_bytes()
}

/// The bytes after the last part.
pub(super) fn closing(boundary: &str) -> Vec<u8> {
    format!("\r\n--{boundary}--\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_httpd() {
        // Cases checked against Apache 2.4.71 on a 2000-byte file.
        let check = |header: &str, expected: Ranges| {
            assert_eq!(parse(header, 2000), expected, "{header}");
        };
        let parts = |v: &[(u64, u64)]| Ranges::Parts(v.to_vec());
        use Ranges::{Full, Unsatisfiable};
        check("bytes=0-9", parts(&[(0, 9)]));
        check("Bytes=0-2", parts(&[(0, 2)]));
        check("BYTES=0-2", parts(&[(0, 2)]));
        check("bytes=-5", parts(&[(1995, 1999)]));
        check("bytes=1990-", parts(&[(1990, 1999)]));
        check("bytes=1990-5000", parts(&[(1990, 1999)]));
        check("bytes=-5000", parts(&[(0, 1999)]));
        check("bytes=0-2,10-12", parts(&[(0, 2), (10, 12)]));
        check("bytes=10-12,0-2", parts(&[(10, 12), (0, 2)]));
        check("bytes=0-2,1-5", parts(&[(0, 5)]));
        check("bytes=0-2,3-5", parts(&[(0, 5)]));
        check("bytes=3-5,0-2", parts(&[(0, 5)]));
        check("bytes=0-999,1000-1999,5-7", parts(&[(0, 1999)]));
        check("bytes=0-1,0-", parts(&[(0, 1999)]));
        check("bytes=0-,5-6", parts(&[(0, 1999)]));
        check("bytes=0-2,,5-6", parts(&[(0, 2), (5, 6)]));
        check("bytes=0-1,", parts(&[(0, 1)]));
        check("bytes=5000-,0-1", parts(&[(0, 1)]));
        check("bytes=5000-", Unsatisfiable);
        check("bytes=2000-2001", Unsatisfiable);
        check("bytes=5000-,6000-", Unsatisfiable);
        check("bytes=-0", Full);
        check("bytes=x-y", Full);
        check("bytes=0-2, 5-6", Full);
        check("bytes= 0-2", Full);
        check("bytes=+0-2", Full);
        check("bytes=5-2", Full);
        check("bytes=5", Full);
        check("bytes=0-1,5", Full);
        check("bytes=", Full);
        check("bytes=,", Full);
        check("bytes=,0-1", Full);
        check("items=0-1", Full);
        check("bytes", Full);
        check("", Full);
        check("bytes=0-99999999999999999999999", Full);
        // Overlapping ranges that add up past the length.
        check("bytes=0-1999,0-1999", parts(&[(0, 1999)]));
        check("bytes=0-10,100-200,0-1999", Full);
        check("bytes=10-1999,0-1000", parts(&[(0, 1999)]));
    }

    #[test]
    fn limits() {
        let many = (0..201).map(|i| format!("{}-{}", i * 3, i * 3)).collect::<Vec<_>>().join(",");
        assert_eq!(parse(&format!("bytes={many}"), 2000), Ranges::Full);
        let some = (0..200).map(|i| format!("{}-{}", i * 3, i * 3)).collect::<Vec<_>>().join(",");
        assert!(matches!(parse(&format!("bytes={some}"), 2000), Ranges::Parts(p) if p.len() == 200));
        let overlaps = (0..22).map(|_| "0-1").collect::<Vec<_>>().join(",");
        assert_eq!(parse(&format!("bytes={overlaps}"), 2000), Ranges::Full);
        let reversals = (0..22).map(|i| format!("{}-{}", 100 - i, 100 - i)).collect::<Vec<_>>().join(",");
        assert_eq!(parse(&format!("bytes={reversals}"), 2000), Ranges::Full);
    }

    #[test]
    fn empty_and_tiny() {
        assert_eq!(parse("bytes=0-0", 0), Ranges::Full);
        assert_eq!(parse("bytes=0-0", 1), Ranges::Parts(vec![(0, 0)]));
        assert_eq!(parse("bytes=-1", 1), Ranges::Parts(vec![(0, 0)]));
        assert_eq!(parse("bytes=1-", 1), Ranges::Unsatisfiable);
    }

    #[test]
    fn multipart_pieces() {
        assert_eq!(
            part_head("b0", Some("text/plain"), 0, 2, 2000),
            b"\r\n--b0\r\nContent-type: text/plain\r\nContent-range: bytes 0-2/2000\r\n\r\n"
        );
        assert_eq!(part_head("b0", None, 2, 2, 3), b"\r\n--b0\r\nContent-range: bytes 2-2/3\r\n\r\n");
        assert_eq!(closing("b0"), b"\r\n--b0--\r\n");
        assert_eq!(boundary().len(), 16);
        assert_eq!(boundary(), boundary());
    }
}
