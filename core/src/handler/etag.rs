//! ETags as httpd's `ap_make_etag_ex` (`modules/http/http_etag.c`) builds
//! them for files: `"inode-size-mtime"` in lower-case hex (mtime in
//! microseconds), the parts FileETag selects, `W/` when the file changed
//! less than a second before the request; or, with `FileETag Digest`, the
//! base64 SHA-1 of the contents.

use std::fs::File;

use crate::config::Settings;

/// The parts of an ETag, from FileETag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ETagParts {
    inode: bool,
    size: bool,
    mtime: bool,
    digest: bool,
    none: bool,
}

impl ETagParts {
    /// FileETag as its documentation describes it: absolute keywords
    /// replace the default (`MTime Size`), `+`/`-` keywords modify it.
    ///
    /// Deliberately not httpd's behaviour at server level, where a relative
    /// keyword modifies an unset value instead: Apache 2.4.71 with `FileETag
    /// -MTime` still sends `"size-mtime"`, and with `FileETag +INode` sends
    /// the inode alone.
    pub(super) fn from_settings(settings: &Settings) -> ETagParts {
        let default = ETagParts { inode: false, size: true, mtime: true, digest: false, none: false };
        let empty = ETagParts { size: false, mtime: false, ..default };
        let mut parts = default;
        let mut first_absolute = true;
        for word in &settings.file_etag {
            let (action, name) = match word.as_bytes().first() {
                Some(b'+') | Some(b'-') => (Some(word.as_bytes()[0]), &word[1..]),
                _ => (None, word.as_str()),
            };
            if action.is_none() && first_absolute {
                parts = empty;
                first_absolute = false;
            }
            let on = action != Some(b'-');
            let mut buf = [0u8; 32];
            match super::lowercase_keyword(name, &mut buf) {
                "inode" => parts.inode = on,
                "size" => parts.size = on,
                "mtime" | "lmtime" | "lastmodified" => parts.mtime = on,
                "digest" => parts.digest = on,
                "all" => parts = ETagParts { inode: true, size: true, mtime: true, ..empty },
                "none" => parts = ETagParts { none: true, ..empty },
                _ => {}
            }
        }
        // httpd: a setting with no part left falls back to the default.
        if !parts.none && !parts.digest && !parts.inode && !parts.size && !parts.mtime {
            return default;
        }
        parts
    }
}

/// What an ETag is made of.
#[derive(Debug, Clone, Copy)]
pub(super) struct FileFacts {
    pub(super) inode: u64,
    pub(super) size: u64,
    /// Microseconds since the epoch, as APR's `apr_time_t`.
    pub(super) mtime_us: i64,
}

/// The source of the bytes a Digest ETag hashes.
pub(super) enum Contents<'a> {
    File(&'a File),
    Bytes(&'a [u8]),
}

/// An ETag value, made on the stack: the longest, `W/"` and three fields
/// of 16 hex digits, is 55 bytes.
#[derive(Clone, Copy)]
pub(super) struct ETag {
    bytes: [u8; 64],
    len: usize,
}

impl ETag {
    const EMPTY: ETag = ETag { bytes: [0; 64], len: 0 };

    pub(super) fn as_str(&self) -> &str {
        // Only `str`s are ever written in.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    // Every value fits (see the type), so these writes cannot fail.
    fn push(&mut self, c: char) {
        let _ = std::fmt::Write::write_char(self, c);
    }

    fn push_str(&mut self, s: &str) {
        let _ = std::fmt::Write::write_str(self, s);
    }
}

impl std::fmt::Write for ETag {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl std::fmt::Debug for ETag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

/// The ETag header's value, or `None` for FileETag None (no header).
pub(super) fn make(
    parts: ETagParts,
    facts: FileFacts,
    request_us: i64,
    contents: Contents<'_>,
) -> Option<ETag> {
    use std::fmt::Write as _;
    let mut out = ETag::EMPTY;
    if parts.digest {
        let digest = match contents {
            Contents::Bytes(bytes) => sha1(bytes),
            Contents::File(file) => sha1_of(file)?,
        };
        out.push('"');
        base64(&digest, &mut out);
        out.push('"');
        return Some(out);
    }
    if parts.none {
        return None;
    }
    if request_us - facts.mtime_us < 1_000_000 {
        out.push_str("W/");
    }
    out.push('"');
    let mut sep = "";
    for (on, value) in
        [(parts.inode, facts.inode), (parts.size, facts.size), (parts.mtime, facts.mtime_us as u64)]
    {
        if on {
            let _ = write!(out, "{sep}{value:x}");
            sep = "-";
        }
    }
    out.push('"');
    Some(out)
}

/// SHA-1 of a whole file, read from its start without moving its offset
/// (the body is sent from the same descriptor).
fn sha1_of(file: &File) -> Option<[u8; 20]> {
    use std::os::unix::fs::FileExt;
    let mut hasher = Sha1::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    loop {
        let n = file.read_at(&mut buf, offset).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        offset += n as u64;
    }
    Some(hasher.finish())
}

fn sha1(bytes: &[u8]) -> [u8; 20] {
    let mut hasher = Sha1::new();
    hasher.update(bytes);
    hasher.finish()
}

/// SHA-1 (FIPS 180-4), for FileETag Digest only: not a security use, and
/// small enough not to warrant a crate.
struct Sha1 {
    state: [u32; 5],
    block: [u8; 64],
    filled: usize,
    total: u64,
}

impl Sha1 {
    fn new() -> Sha1 {
        Sha1 {
            state: [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0],
            block: [0; 64],
            filled: 0,
            total: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        while !data.is_empty() {
            let take = (64 - self.filled).min(data.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled == 64 {
                self.compress();
                self.filled = 0;
            }
        }
    }

    fn finish(mut self) -> [u8; 20] {
        let bits = self.total.wrapping_mul(8);
        // 0x80, zeros up to 56 mod 64, the length in bits: at most 72 bytes.
        let mut pad = [0u8; 72];
        pad[0] = 0x80;
        let zeros = (119 - self.filled) % 64;
        pad[1 + zeros..9 + zeros].copy_from_slice(&bits.to_be_bytes());
        let total = self.total;
        self.update(&pad[..9 + zeros]);
        self.total = total;
        let mut out = [0u8; 20];
        for (chunk, word) in out.chunks_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    fn compress(&mut self) {
        let mut w = [0u32; 80];
        for (i, chunk) in self.block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = self.state;
        for (i, &word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (s, v) in self.state.iter_mut().zip([a, b, c, d, e]) {
            *s = s.wrapping_add(v);
        }
    }
}

/// Standard base64 with padding, as `apr_base64_encode_binary`.
fn base64(bytes: &[u8], out: &mut ETag) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = u32::from(chunk[0]) << 16
            | u32::from(*chunk.get(1).unwrap_or(&0)) << 8
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(words: &[&str]) -> ETagParts {
        let settings =
            Settings { file_etag: words.iter().map(|w| w.to_string()).collect(), ..Settings::default() };
        ETagParts::from_settings(&settings)
    }

    #[test]
    fn etag_formats() {
        let facts = FileFacts { inode: 0x98c1f3, size: 3, mtime_us: 0x660f4cb4f27ba };
        let old = facts.mtime_us + 3_600_000_000;
        let check = |words: &[&str], request_us: i64, expected: Option<&str>| {
            let got = make(parts(words), facts, request_us, Contents::Bytes(b"{}\n"));
            assert_eq!(got.as_ref().map(ETag::as_str), expected, "{words:?}");
        };
        // Observed from Apache 2.4.71 for a.json.
        check(&["MTime", "Size"], old, Some("\"3-660f4cb4f27ba\""));
        check(&[], old, Some("\"3-660f4cb4f27ba\""));
        check(&["INode", "MTime", "Size"], old, Some("\"98c1f3-3-660f4cb4f27ba\""));
        check(&["All"], old, Some("\"98c1f3-3-660f4cb4f27ba\""));
        check(&["+INode"], old, Some("\"98c1f3-3-660f4cb4f27ba\""));
        check(&["-MTime"], old, Some("\"3\""));
        check(&["Size"], old, Some("\"3\""));
        check(&["MTime"], old, Some("\"660f4cb4f27ba\""));
        check(&["INode"], old, Some("\"98c1f3\""));
        check(&["All", "-INode"], old, Some("\"3-660f4cb4f27ba\""));
        check(&["-MTime", "-Size"], old, Some("\"3-660f4cb4f27ba\""));
        check(&["None"], old, None);
        check(&["none"], old, None);
        // Changed less than a second before the request: weak.
        check(&["MTime", "Size"], facts.mtime_us + 999_999, Some("W/\"3-660f4cb4f27ba\""));
        check(&["MTime", "Size"], facts.mtime_us + 1_000_000, Some("\"3-660f4cb4f27ba\""));
        check(&["MTime", "Size"], facts.mtime_us - 5_000_000, Some("W/\"3-660f4cb4f27ba\""));
        // Digest: base64 SHA-1 of the contents, never weak.
        check(&["Digest"], facts.mtime_us, Some("\"Xzay6ikGRe402UMiChS1TuXqW+U=\""));
    }

    #[test]
    fn sha1_vectors() {
        let hex = |d: [u8; 20]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(hex(sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(hex(sha1(long)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
        assert_eq!(hex(sha1(&[b'a'; 1_000_000])), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
        let mut split = Sha1::new();
        for piece in long.chunks(7) {
            split.update(piece);
        }
        assert_eq!(hex(split.finish()), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    }

    #[test]
    fn base64_padding() {
        let base64 = |bytes: &[u8]| {
            let mut out = ETag::EMPTY;
            super::base64(bytes, &mut out);
            out.as_str().to_string()
        };
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
