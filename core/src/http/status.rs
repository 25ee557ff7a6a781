//! Status codes: reason phrases and httpd's error pages.
//!
//! The page texts are httpd 2.4's (`get_canned_error_string` in
//! http_protocol.c), checked against Debian's Apache 2.4.71.

use super::message::{Body, Response};

/// The reason phrase httpd sends for `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown Reason",
    }
}

/// What an error page may mention about the request that caused it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorContext<'a> {
    pub method: &'a str,
    /// The request path (for 413's wording and redirects).
    pub path: &'a str,
    /// A redirect target (3xx).
    pub location: &'a str,
    /// The Expect header's value (417).
    pub expect: &'a str,
    /// A second sentence httpd adds to some 400 pages ("Size of a request
    /// header field exceeds server limit.").
    pub note: &'a str,
    /// `<address>...</address>` per ServerSignature, or empty.
    pub signature: &'a str,
    /// ServerAdmin, for 500.
    pub admin: &'a str,
}

/// The HTML body httpd sends with `status`.
pub fn error_page(status: u16, cx: &ErrorContext<'_>) -> String {
    let reason = reason(status);
    let sentence = match status {
        301 | 302 | 303 | 307 | 308 => {
            format!("<p>The document has moved <a href=\"{}\">here</a>.</p>\n", escape_html(cx.location))
        }
        400 => format!(
            "<p>Your browser sent a request that this server could not understand.<br />\n{}</p>\n",
            cx.note
        ),
        403 => "<p>You don't have permission to access this resource.</p>\n".to_string(),
        404 => "<p>The requested URL was not found on this server.</p>\n".to_string(),
        405 => {
            format!("<p>The requested method {} is not allowed for this URL.</p>\n", escape_html(cx.method))
        }
        408 => "<p>Server timeout waiting for the HTTP request from the client.</p>\n".to_string(),
        411 => format!(
            "<p>A request of the requested method {} requires a valid Content-length.<br />\n</p>\n",
            escape_html(cx.method)
        ),
        412 => "<p>The precondition on the request for this URL evaluated to false.</p>\n".to_string(),
        413 => format!(
            "The requested resource does not allow request data with {} requests, or the amount of \
             data provided in\nthe request exceeds the capacity limit.\n",
            escape_html(cx.method)
        ),
        414 => "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>\n"
            .to_string(),
        416 => "<p>None of the range-specifier values in the Range\nrequest-header field overlap the \
                current extent\nof the selected resource.</p>\n"
            .to_string(),
        417 => format!(
            "<p>The expectation given in the Expect request-header\nfield could not be met by this \
             server.\nThe client sent<pre>\n    Expect: {}\n</pre>\n",
            escape_html(cx.expect)
        ),
        500 => format!(
            "<p>The server encountered an internal error or\nmisconfiguration and was unable to \
             complete\nyour request.</p>\n<p>Please contact the server administrator at \n {} to \
             inform them of the time this error occurred,\n and the actions you performed just \
             before this error.</p>\n<p>More information about this error may be available\nin the \
             server error log.</p>\n",
            escape_html(cx.admin)
        ),
        501 => format!("<p>{} not supported for current URL.<br />\n</p>\n", escape_html(cx.method)),
        503 => "<p>The server is temporarily unable to service your\nrequest due to maintenance \
                downtime or capacity\nproblems. Please try again later.</p>\n"
            .to_string(),
        _ => String::new(),
    };
    let footer = if cx.signature.is_empty() { String::new() } else { format!("<hr>\n{}\n", cx.signature) };
    format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n\
         <html><head>\n<title>{status} {reason}</title>\n</head><body>\n<h1>{reason}</h1>\n\
         {sentence}{footer}</body></html>\n"
    )
}

/// An error response with httpd's page; the engine closes the connection
/// after the statuses httpd closes after.
pub fn error_response(status: u16, cx: &ErrorContext<'_>) -> Response {
    let mut r = Response::with_body(
        status,
        "text/html; charset=iso-8859-1",
        Body::Bytes(error_page(status, cx).into_bytes()),
    );
    r.close = closes_connection(status);
    r
}

/// The statuses after which httpd drops the connection (the request could
/// not be read to its end, so the stream is out of step).
pub fn closes_connection(status: u16) -> bool {
    matches!(status, 400 | 408 | 411 | 413 | 414 | 417 | 500 | 501 | 503)
}

/// Escapes text for HTML, as `ap_escape_html`.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_page_is_httpds() {
        let cx =
            ErrorContext { signature: "<address>Apache Server at x Port 80</address>", ..Default::default() };
        assert_eq!(
            error_page(404, &cx),
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n\
             <html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n\
             <p>The requested URL was not found on this server.</p>\n<hr>\n\
             <address>Apache Server at x Port 80</address>\n</body></html>\n"
        );
    }

    #[test]
    fn bad_request_with_note() {
        let cx = ErrorContext {
            note: "Size of a request header field exceeds server limit.",
            ..Default::default()
        };
        let page = error_page(400, &cx);
        assert!(page.contains(
            "<p>Your browser sent a request that this server could not understand.<br />\n\
             Size of a request header field exceeds server limit.</p>\n</body>"
        ));
    }

    #[test]
    fn method_is_escaped() {
        let cx = ErrorContext { method: "<script>", ..Default::default() };
        assert!(error_page(501, &cx).contains("<p>&lt;script&gt; not supported for current URL.<br />"));
    }
}
