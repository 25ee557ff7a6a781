//! Plain HTTP sent to a TLS port. mod_ssl notices it (OpenSSL's "http
//! request" error), logs AH01996, and answers a faked `GET / HTTP/1.0` with
//! a 400 in clear text whose page says why, then closes. Here the first
//! byte tells: a TLS record starts with its content type (20 to 24, a
//! handshake 22), an HTTP request with a method's capital letter.

use std::fmt;
use std::io;

/// The reason httpd's 400 page gives (mod_ssl's `error-notes`).
pub const REASON: &str = "Reason: You're speaking plain HTTP to an SSL-enabled server port.<br />\n \
                          Instead use the HTTPS scheme to access this URL, please.<br />\n";

/// The request line httpd fakes and logs for it.
pub const FAKED_REQUEST: &str = "GET / HTTP/1.0";

/// Whether a connection's first byte starts plain HTTP rather than TLS.
pub fn looks_like_http(first: u8) -> bool {
    first.is_ascii_uppercase()
}

/// The error a TLS transport's read returns for plain HTTP; from then on
/// it reads and writes in clear text, so that the 400 can be sent.
#[derive(Debug)]
pub struct PlainHttp;

impl fmt::Display for PlainHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("plain HTTP on a TLS port")
    }
}

impl std::error::Error for PlainHttp {}

pub(crate) fn error() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, PlainHttp)
}

/// Whether a read failed because plain HTTP came to a TLS port.
pub fn is_plain_http(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<PlainHttp>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_records_are_told_apart() {
        for first in [b"GET /"[0], b'P', b'H', b'O', b'C'] {
            assert!(looks_like_http(first));
        }
        for first in [22u8, 21, 23, 0x80, b'g', b'\r', 0] {
            assert!(!looks_like_http(first));
        }
        assert!(is_plain_http(&error()));
        assert!(!is_plain_http(&io::Error::from(io::ErrorKind::InvalidData)));
    }
}
