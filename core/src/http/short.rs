//! Short texts made on the stack, for the scoreboard's fixed-size fields.

/// Text for one of the scoreboard's fixed-size fields, made on the stack so
/// that ExtendedStatus costs no allocation per request: what does not fit
/// is cut (at a character boundary), as the field would cut it.
pub(super) struct Short<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Short<N> {
    fn default() -> Self {
        Short { bytes: [0; N], len: 0 }
    }
}

impl<const N: usize> Short<N> {
    pub(super) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    pub(super) fn make_ascii_lowercase(&mut self) {
        self.bytes[..self.len].make_ascii_lowercase();
    }
}

impl<const N: usize> std::fmt::Write for Short<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let mut take = s.len().min(N - self.len);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Short;
    use std::fmt::Write as _;

    #[test]
    fn scoreboard_text_is_cut_at_a_character() {
        let name = "héllo";
        let mut s = Short::<8>::default();
        let _ = write!(s, "{name}:{}", 8080);
        assert_eq!(s.as_str(), "héllo:8");
        let mut s = Short::<5>::default();
        let _ = s.write_str(name);
        assert_eq!(s.as_str(), "héll");
        let mut s = Short::<5>::default();
        let _ = s.write_str("aaaa");
        let _ = s.write_str("é");
        assert_eq!(s.as_str(), "aaaa");
        let mut s = Short::<16>::default();
        let _ = s.write_str("HTTP/1.1");
        s.make_ascii_lowercase();
        assert_eq!(s.as_str(), "http/1.1");
    }
}
