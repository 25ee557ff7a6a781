//! Sending one file (or the embedded default page) as core's
//! `default_handler` does: Last-Modified, ETag and Accept-Ranges, then the
//! conditionals (304 or 412 with an empty body), then Range (206, one part
//! or multipart/byteranges, or 416), then the body.

use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use super::conditional::{Conditions, Validators, Verdict};
use super::etag::{self, Contents, ETag, ETagParts, FileFacts};
use super::range::{self, Ranges};
use super::{Exchange, LogLine, Outcome, joined};
use crate::http::{Body, Request, Response, Version};

/// Where the bytes come from.
#[derive(Debug)]
pub(super) enum Content {
    /// Opened once per request; its `fstat` made the validators, so the
    /// ETag always describes the bytes sent.
    File(File),
    Shared(Arc<[u8]>),
}

/// A representation ready to send.
#[derive(Debug)]
pub(super) struct Resource<'a> {
    pub(super) content: Content,
    pub(super) facts: FileFacts,
    pub(super) content_type: Option<&'a str>,
}

/// Opens the file the walk found and checks, on the open descriptor, that
/// it is still that regular file (the walk and the open are two system
/// calls apart). `Err` carries the status and the log line.
pub(super) fn open(path: &Path, walked: &Metadata) -> Result<(File, FileFacts), (u16, LogLine)> {
    let file = File::open(path).map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(0);
        if crate::shortage::is_shortage(&e) {
            // Not the file's fault: 503 and Retry-After, never 403 for a
            // file the client may well read a moment later.
            let text = format!("out of file descriptors opening {}; answered 503", path.display());
            let mut log = LogLine::error("core", text).with_errno(errno);
            if !crate::shortage::log_now() {
                log.level = log::Level::Debug;
            }
            return (503, log);
        }
        let text = format!("AH00132: file permissions deny server access: {}", path.display());
        (403, LogLine::error("core", text).with_errno(errno))
    })?;
    let meta =
        file.metadata().ok().filter(|m| m.is_file() && m.dev() == walked.dev() && m.ino() == walked.ino());
    let Some(meta) = meta else {
        return Err((
            404,
            LogLine::info("core", format!("AH00128: File does not exist: {}", path.display())),
        ));
    };
    let mtime_us = meta.mtime().saturating_mul(1_000_000).saturating_add(meta.mtime_nsec() / 1000);
    Ok((file, FileFacts { inode: meta.ino(), size: meta.size(), mtime_us }))
}

/// The response for GET, HEAD or POST of `res`; `Err(416)` when no range
/// can be satisfied (the caller makes the error page).
pub(super) fn serve(
    req: &Request,
    parts: ETagParts,
    res: Resource<'_>,
    now_us: i64,
) -> Result<Response, u16> {
    let facts = res.facts;
    // ap_rationalize_mtime: a file dated in the future is said to be as
    // old as the request.
    let last_modified = facts.mtime_us.min(now_us).div_euclid(1_000_000);
    let contents = match &res.content {
        Content::File(f) => Contents::File(f),
        Content::Shared(bytes) => Contents::Bytes(bytes),
    };
    let etag = etag::make(parts, facts, now_us, contents);

    let mut r = Response::new(200);
    match crate::http::date::fixdate(last_modified) {
        Some(text) => r.headers.push("Last-Modified", std::str::from_utf8(&text).unwrap_or_default()),
        None => r
            .headers
            .push_fmt("Last-Modified", format_args!("{}", crate::http::date::HttpDate(last_modified))),
    }
    if let Some(etag) = &etag {
        r.headers.push("ETag", etag.as_str());
    }
    r.headers.push("Accept-Ranges", "bytes");

    let (if_match, if_unmodified_since, if_none_match, if_modified_since, if_range, range_header) = (
        joined(req, "If-Match"),
        joined(req, "If-Unmodified-Since"),
        joined(req, "If-None-Match"),
        joined(req, "If-Modified-Since"),
        joined(req, "If-Range"),
        joined(req, "Range"),
    );
    let conditions = Conditions {
        if_match: if_match.as_deref(),
        if_unmodified_since: if_unmodified_since.as_deref(),
        if_none_match: if_none_match.as_deref(),
        if_modified_since: if_modified_since.as_deref(),
        if_range: if_range.as_deref(),
        range: range_header.as_deref(),
        is_get: req.method == "GET" || req.method == "HEAD",
        now: now_us.div_euclid(1_000_000),
    };
    let validators = Validators { etag: etag.as_ref().map(ETag::as_str), last_modified };
    match conditions.evaluate(&validators) {
        Verdict::Proceed => {}
        // As httpd: Last-Modified, ETag and Accept-Ranges; no Content-Type
        // and no body (the engine must send no Content-Length with a 304).
        Verdict::NotModified => {
            r.status = 304;
            return Ok(r);
        }
        // As httpd: the same headers, Content-Type included, empty body.
        Verdict::PreconditionFailed => {
            r.status = 412;
            if let Some(t) = res.content_type {
                r.headers.push("Content-Type", t);
            }
            return Ok(r);
        }
    }

    let size = facts.size;
    // HTTP/0.9 has no headers to carry a range (httpd: `r->assbackwards`).
    let ranges = match &range_header {
        Some(h) if req.version != Version::Http09 && conditions.range_allowed(&validators) => {
            range::parse(h, size)
        }
        _ => Ranges::Full,
    };
    match ranges {
        Ranges::Full => {
            if let Some(t) = res.content_type {
                r.headers.push("Content-Type", t);
            }
            r.body = into_body(res.content, 0, size);
        }
        Ranges::Unsatisfiable => return Err(416),
        Ranges::Parts(parts) if parts.len() == 1 => {
            let (first, last) = parts[0];
            r.status = 206;
            r.headers.push_fmt("Content-Range", format_args!("bytes {first}-{last}/{size}"));
            if let Some(t) = res.content_type {
                r.headers.push("Content-Type", t);
            }
            r.body = into_body(res.content, first, last - first + 1);
        }
        Ranges::Parts(parts) => {
            let boundary = range::boundary();
            r.status = 206;
            r.headers.push("Content-Type", format!("multipart/byteranges; boundary={boundary}"));
            let mut pieces = Vec::with_capacity(parts.len() * 2 + 1);
            for &(first, last) in &parts {
                pieces.push(Body::Bytes(range::part_head(boundary, res.content_type, first, last, size)));
                pieces.push(part_body(&res.content, first, last - first + 1).map_err(|_| 500u16)?);
            }
            pieces.push(Body::Bytes(range::closing(boundary)));
            r.body = Body::Parts(pieces);
        }
    }
    Ok(r)
}

/// `len` bytes of `content` from `offset`, taking the content (the
/// descriptor moves into the body).
fn into_body(content: Content, offset: u64, len: u64) -> Body {
    match content {
        Content::File(file) => Body::File { file, offset, len },
        Content::Shared(bytes) if offset == 0 && len == bytes.len() as u64 => Body::Shared(bytes),
        Content::Shared(bytes) => Body::Bytes(bytes[offset as usize..(offset + len) as usize].to_vec()),
    }
}

/// One part of a multipart body: each file part gets its own handle, as
/// the engine may send them one after another with sendfile.
fn part_body(content: &Content, offset: u64, len: u64) -> std::io::Result<Body> {
    Ok(match content {
        Content::File(file) => Body::File { file: file.try_clone()?, offset, len },
        Content::Shared(bytes) => Body::Bytes(bytes[offset as usize..(offset + len) as usize].to_vec()),
    })
}

impl Exchange<'_> {
    /// 503 with Retry-After (out of descriptors), and its log line.
    pub(super) fn unavailable(&self, log: LogLine) -> Outcome {
        let mut outcome = self.error_logged(503, log);
        outcome.response.headers.push("Retry-After", crate::shortage::RETRY_AFTER);
        outcome
    }
}
