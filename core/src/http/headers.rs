//! Header fields as received or to be sent: an ordered list with
//! case-insensitive lookup. Small enough that a linear scan beats hashing, and
//! reused across the requests of a connection (`clear` keeps the capacity).

/// An ordered list of header fields. `Default` is an empty list that holds
/// no memory; `new` reuses a dropped list's.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    /// `fields[..len]` are live; the rest keep their strings' capacity for
    /// the next request, so a connection's steady state allocates nothing.
    fields: Vec<(String, String)>,
    len: usize,
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.live() == other.live()
    }
}

impl Eq for Headers {}

impl Drop for Headers {
    /// The list's storage goes back to this thread's pool for the next
    /// list: whichever way a request or response ends (sent, replaced by an
    /// ErrorDocument, dropped by a caller), its strings are reused.
    fn drop(&mut self) {
        super::pool::give_fields(std::mem::take(&mut self.fields));
    }
}

impl Headers {
    /// An empty list, reusing the storage of one dropped on this thread if
    /// there is one.
    pub fn new() -> Self {
        Headers { fields: super::pool::take_fields(), len: 0 }
    }

    /// Appends a field whose value is formatted in place (no temporary String).
    pub fn push_fmt(&mut self, name: &str, value: std::fmt::Arguments<'_>) {
        use std::fmt::Write as _;
        if self.len == self.fields.len() {
            self.fields.push((String::new(), String::new()));
        }
        let (n, v) = &mut self.fields[self.len];
        n.clear();
        n.push_str(name);
        v.clear();
        let _ = v.write_fmt(value);
        self.len += 1;
    }

    /// Bytes the list's strings hold, live or kept for reuse.
    pub(super) fn retained_bytes(&self) -> usize {
        retained_bytes(&self.fields)
    }

    fn live(&self) -> &[(String, String)] {
        &self.fields[..self.len]
    }

    /// Removes every field, keeping the allocations.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn push(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        if self.len == self.fields.len() {
            self.fields.push((String::new(), String::new()));
        }
        let (n, v) = &mut self.fields[self.len];
        n.clear();
        n.push_str(name.as_ref());
        v.clear();
        v.push_str(value.as_ref());
        self.len += 1;
    }

    /// The first field named `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.live().iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every field named `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.live().iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Replaces every field named `name` by one with `value`.
    pub fn set(&mut self, name: &str, value: impl AsRef<str>) {
        self.remove(name);
        self.push(name, value);
    }

    pub fn remove(&mut self, name: &str) {
        let mut i = 0;
        while i < self.len {
            if self.fields[i].0.eq_ignore_ascii_case(name) {
                // Keep the removed strings' capacity beyond the live part.
                self.fields[i..self.len].rotate_left(1);
                self.len -= 1;
            } else {
                i += 1;
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.live().iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a comma-separated field named `name` lists `token` (any case),
    /// as in `Connection: keep-alive, Upgrade`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name).flat_map(|v| v.split(',')).any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// Bytes the strings of `fields` hold.
pub(super) fn retained_bytes(fields: &[(String, String)]) -> usize {
    fields.iter().map(|(n, v)| n.capacity() + v.capacity()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_and_keeps_order() {
        let mut h = Headers::new();
        h.push("Host", "a");
        h.push("accept", "x");
        h.push("ACCEPT", "y");
        assert_eq!(h.get("host"), Some("a"));
        assert_eq!(h.get_all("Accept").collect::<Vec<_>>(), ["x", "y"]);
        h.set("accept", "z");
        assert_eq!(h.get_all("accept").collect::<Vec<_>>(), ["z"]);
        assert!(!h.contains("Range"));
    }

    #[test]
    fn tokens() {
        let mut h = Headers::new();
        h.push("Connection", "Keep-Alive, Upgrade");
        assert!(h.has_token("connection", "keep-alive"));
        assert!(h.has_token("connection", "upgrade"));
        assert!(!h.has_token("connection", "close"));
    }
}
