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
