//! Request bodies: how long they are (RFC 9112 §6.3, refusing the ambiguous
//! cases), and a decoder that reads them to their end so that the next
//! request on the connection starts where it should.
//!
//! No handler here reads a request body, so the decoder discards it; it still
//! checks every byte of chunked framing, because a body misread is a request
//! smuggled.

use super::headers::Headers;
use super::message::Version;
use super::parse::RequestError;

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// Longest chunk-size line (size and extensions) accepted.
const MAX_CHUNK_LINE: usize = 1024;

/// Decides the framing from the headers, refusing what is ambiguous:
/// Content-Length with Transfer-Encoding (httpd 2.4 drops the length and
/// reads chunked; we refuse, since a front proxy may have read it otherwise),
/// several Content-Length fields, a non-numeric length, a Transfer-Encoding
/// not ending in `chunked` (httpd's AH02539).
pub fn framing(headers: &Headers, version: Version) -> Result<Framing, RequestError> {
    let mut lengths = headers.get_all("content-length");
    let length = lengths.next();
    if lengths.next().is_some() {
        return Err(RequestError::new(400, "AH00588: several Content-Length headers"));
    }
    let te: Vec<&str> = headers.get_all("transfer-encoding").collect();
    if !te.is_empty() {
        if length.is_some() {
            return Err(RequestError::new(400, "both Content-Length and Transfer-Encoding (refused)"));
        }
        let last = te.iter().flat_map(|v| v.split(',')).map(str::trim).rfind(|t| !t.is_empty());
        if version < Version::Http11 || !last.is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
            return Err(RequestError::new(
                400,
                format!("AH02539: client sent unknown Transfer-Encoding ({})", te.join(", ")),
            ));
        }
        return Ok(Framing::Chunked);
    }
    match length {
        None => Ok(Framing::None),
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => match v.parse::<u64>() {
            Ok(0) => Ok(Framing::None),
            Ok(n) => Ok(Framing::Length(n)),
            Err(_) => Err(RequestError::new(400, format!("AH01587: Invalid Content-Length {v}"))),
        },
        Some(v) => Err(RequestError::new(400, format!("AH01587: Invalid Content-Length {v}"))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// In a chunk-size line: the size so far, whether extensions started,
    /// the line's length.
    Size {
        size: u64,
        digits: usize,
        in_ext: bool,
        len: usize,
    },
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// In the trailer section: the current line's length, fields so far.
    Trailer {
        len: usize,
        fields: usize,
    },
    TrailerLf {
        empty: bool,
        fields: usize,
    },
    Done,
}

/// Reads (and discards) one body, checking LimitRequestBody.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    framing: Framing,
    /// Content-Length bytes left, for `Framing::Length`.
    left: u64,
    chunk: Chunk,
    received: u64,
    limit: u64,
    field_size: usize,
    max_fields: usize,
}

impl BodyDecoder {
    /// `limit` is LimitRequestBody (0 = unlimited); `field_size` and
    /// `max_fields` bound the chunked trailer as the head's fields are bound.
    pub fn new(
        framing: Framing,
        limit: u64,
        field_size: usize,
        max_fields: usize,
    ) -> Result<Self, RequestError> {
        if let Framing::Length(n) = framing {
            if limit != 0 && n > limit {
                return Err(too_large(limit));
            }
        }
        Ok(BodyDecoder {
            framing,
            left: if let Framing::Length(n) = framing { n } else { 0 },
            chunk: Chunk::Size { size: 0, digits: 0, in_ext: false, len: 0 },
            received: 0,
            limit,
            field_size,
            max_fields,
        })
    }

    pub fn is_done(&self) -> bool {
        match self.framing {
            Framing::None => true,
            Framing::Length(_) => self.left == 0,
            Framing::Chunked => self.chunk == Chunk::Done,
        }
    }

    /// Consumes body bytes at the start of `buf`; returns how many it took.
    /// Bytes after the body's end are left alone (the next request).
    pub fn consume(&mut self, buf: &[u8]) -> Result<usize, RequestError> {
        match self.framing {
            Framing::None => Ok(0),
            Framing::Length(_) => {
                let n = (buf.len() as u64).min(self.left);
                self.left -= n;
                Ok(n as usize)
            }
            Framing::Chunked => self.consume_chunked(buf),
        }
    }

    fn consume_chunked(&mut self, buf: &[u8]) -> Result<usize, RequestError> {
        let mut i = 0;
        while i < buf.len() {
            let b = buf[i];
            self.chunk = match self.chunk {
                Chunk::Done => return Ok(i),
                Chunk::Data { left } => {
                    let n = ((buf.len() - i) as u64).min(left);
                    i += n as usize;
                    let left = left - n;
                    self.chunk = if left == 0 { Chunk::DataCr } else { Chunk::Data { left } };
                    continue;
                }
                Chunk::Size { size, digits, in_ext, len } => {
                    let len = len + 1;
                    if len > MAX_CHUNK_LINE {
                        return Err(bad_chunk("chunk-size line too long"));
                    }
                    match b {
                        b'\r' if digits > 0 => Chunk::SizeLf { size },
                        _ if in_ext => {
                            if b < b' ' && b != b'\t' {
                                return Err(bad_chunk("control character in a chunk extension"));
                            }
                            Chunk::Size { size, digits, in_ext, len }
                        }
                        b';' | b' ' | b'\t' if digits > 0 => Chunk::Size { size, digits, in_ext: true, len },
                        _ => {
                            let digit =
                                (b as char).to_digit(16).ok_or_else(|| bad_chunk("invalid chunk size"))?;
                            if digits >= 16 {
                                return Err(bad_chunk("chunk size overflows"));
                            }
                            Chunk::Size {
                                size: size * 16 + u64::from(digit),
                                digits: digits + 1,
                                in_ext,
                                len,
                            }
                        }
                    }
                }
                Chunk::SizeLf { size } => {
                    if b != b'\n' {
                        return Err(bad_chunk("chunk size not followed by CRLF"));
                    }
                    if size == 0 {
                        Chunk::Trailer { len: 0, fields: 0 }
                    } else {
                        self.received = self.received.saturating_add(size);
                        if self.limit != 0 && self.received > self.limit {
                            return Err(too_large(self.limit));
                        }
                        Chunk::Data { left: size }
                    }
                }
                Chunk::DataCr if b == b'\r' => Chunk::DataLf,
                Chunk::DataLf if b == b'\n' => Chunk::Size { size: 0, digits: 0, in_ext: false, len: 0 },
                Chunk::DataCr | Chunk::DataLf => return Err(bad_chunk("chunk data not followed by CRLF")),
                Chunk::Trailer { len, fields } => match b {
                    b'\r' => Chunk::TrailerLf { empty: len == 0, fields },
                    b'\n' => return Err(bad_chunk("bare LF in the trailer")),
                    _ if len + 1 > self.field_size + 1 => return Err(bad_chunk("trailer field too long")),
                    _ => Chunk::Trailer { len: len + 1, fields },
                },
                Chunk::TrailerLf { empty, fields } => {
                    if b != b'\n' {
                        return Err(bad_chunk("bare CR in the trailer"));
                    }
                    if empty {
                        i += 1;
                        self.chunk = Chunk::Done;
                        return Ok(i);
                    }
                    let fields = fields + 1;
                    if self.max_fields != 0 && fields > self.max_fields {
                        return Err(bad_chunk("too many trailer fields"));
                    }
                    Chunk::Trailer { len: 0, fields }
                }
            };
            i += 1;
        }
        Ok(i)
    }
}

fn bad_chunk(why: &str) -> RequestError {
    RequestError::new(400, format!("AH02555: chunked request body: {why}"))
}

fn too_large(limit: u64) -> RequestError {
    RequestError::new(413, format!("AH01588: request body exceeds LimitRequestBody ({limit})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in fields {
            h.push(*n, *v);
        }
        h
    }

    #[test]
    fn framing_rules() {
        let f = |fields: &[(&str, &str)]| framing(&headers(fields), Version::Http11).map_err(|e| e.status);
        assert_eq!(f(&[]), Ok(Framing::None));
        assert_eq!(f(&[("Content-Length", "0")]), Ok(Framing::None));
        assert_eq!(f(&[("Content-Length", "12")]), Ok(Framing::Length(12)));
        assert_eq!(f(&[("Transfer-Encoding", "chunked")]), Ok(Framing::Chunked));
        assert_eq!(f(&[("Transfer-Encoding", "gzip, chunked")]), Ok(Framing::Chunked));
        for bad in [
            &[("Content-Length", "-1")][..],
            &[("Content-Length", "1x")],
            &[("Content-Length", "")],
            &[("Content-Length", "+5")],
            &[("Content-Length", "99999999999999999999999")],
            &[("Content-Length", "3"), ("Content-Length", "3")],
            &[("Content-Length", "3"), ("Transfer-Encoding", "chunked")],
            &[("Transfer-Encoding", "gzip")],
            &[("Transfer-Encoding", "chunked, gzip")],
        ] {
            assert_eq!(f(bad), Err(400), "{bad:?}");
        }
        let h = headers(&[("Transfer-Encoding", "chunked")]);
        assert!(framing(&h, Version::Http10).is_err());
    }

    fn decode(body: &[u8], limit: u64) -> Result<(usize, bool), u16> {
        let mut d = BodyDecoder::new(Framing::Chunked, limit, 8190, 100).map_err(|e| e.status)?;
        let n = d.consume(body).map_err(|e| e.status)?;
        Ok((n, d.is_done()))
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(decode(b"3\r\nabc\r\n0\r\n\r\nNEXT", 0), Ok((13, true)));
        assert_eq!(decode(b"3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", 0), Ok((42, true)));
        assert_eq!(decode(b"3\r\nab", 0), Ok((5, false)));
        for bad in
            [&b"zz\r\nabc\r\n"[..], b"3\r\nabcd", b"3\nabc", b"\r\n", b"11111111111111111\r\n", b"0\r\nX\n"]
        {
            assert_eq!(decode(bad, 0), Err(400), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(decode(b"8\r\n12345678\r\n", 4), Err(413));
    }

    #[test]
    fn chunked_split_anywhere_decodes_the_same() {
        let body = b"4;a=b\r\nWiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n";
        for cut in 0..body.len() {
            let mut d = BodyDecoder::new(Framing::Chunked, 0, 8190, 100).unwrap();
            let a = d.consume(&body[..cut]).unwrap();
            assert_eq!(a, cut);
            let b = d.consume(&body[cut..]).unwrap();
            assert_eq!(a + b, body.len());
            assert!(d.is_done());
        }
    }

    #[test]
    fn content_length_bodies() {
        let mut d = BodyDecoder::new(Framing::Length(5), 0, 8190, 100).unwrap();
        assert_eq!(d.consume(b"abc").unwrap(), 3);
        assert!(!d.is_done());
        assert_eq!(d.consume(b"deGET").unwrap(), 2);
        assert!(d.is_done());
        assert_eq!(BodyDecoder::new(Framing::Length(5000), 1000, 8190, 100).unwrap_err().status, 413);
    }
}
