//! ErrorDocument: what replaces httpd's error page for a status.
//!
//! httpd tells text from a path by a leading quote in the raw line; the
//! configuration reader has removed quotes by then, so the form is read
//! from the value: `default` restores httpd's page, a value with `://` is a
//! redirect (302), one starting with `/` a local document served in place
//! of the page with the error's status kept, anything else text sent as is.

use crate::http::{Body, ConnInfo, Request, Response};
use crate::server::{Server, ServerContext};

/// Applies the ErrorDocument for `response`'s status, if one is configured.
/// `local_ok` is false when the request could not be read whole: then a
/// local document is not fetched (its own request would be built on a
/// broken one) and httpd's page stays.
pub fn apply(
    ctx: &ServerContext,
    server: &Server,
    conn: &ConnInfo,
    req: &Request,
    response: Response,
    local_ok: bool,
) -> Response {
    if response.status < 400 {
        return response;
    }
    let Some(action) = server.settings.error_document.get(&response.status.to_string()) else {
        return response;
    };
    let mut custom = if action.eq_ignore_ascii_case("default") {
        return response;
    } else if action.contains("://") {
        // A redirect cannot carry 401's challenge, so httpd keeps its page.
        if response.status == 401 {
            return response;
        }
        let mut r = Response::new(302);
        r.headers.push("Location", action);
        r
    } else if action.starts_with('/') {
        if !local_ok {
            return response;
        }
        let mut inner = req.clone();
        inner.method.clear();
        inner.method.push_str("GET");
        inner.target.clear();
        inner.target.push_str(action);
        inner.headers.remove("range");
        inner.headers.remove("if-match");
        inner.headers.remove("if-none-match");
        inner.headers.remove("if-modified-since");
        inner.headers.remove("if-unmodified-since");
        let mut doc = super::handle(ctx, server, conn, &inner);
        if doc.status != 200 {
            log::info!(target: "core", "[client {}] ErrorDocument {action} answered {}; httpd's page is sent", conn.remote, doc.status);
            return response;
        }
        doc.status = response.status;
        doc.headers.remove("accept-ranges");
        doc
    } else {
        Response::with_body(response.status, "text/html", Body::Bytes(action.clone().into_bytes()))
    };
    // Headers that belong to the error (Allow, Content-Range) stay.
    for name in ["Allow", "Content-Range"] {
        if let Some(v) = response.headers.get(name) {
            custom.headers.set(name, v);
        }
    }
    custom.close = response.close;
    custom
}
