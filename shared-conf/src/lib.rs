//! The default configuration shared by `prefork-server`, `worker-server`
//! and `event-server`, and accepted unchanged by Apache httpd 2.4.
//!
//! The files live beside this crate's `Cargo.toml` and are laid out as a
//! ServerRoot: `httpd.conf`, `mime.types`, `htdocs/index.html` and an empty
//! `logs/`. Every relative path in `httpd.conf` is ServerRoot-relative, so
//! `-d <dir()>` runs a server (or `apache2 -d <dir> -f <dir>/httpd.conf`)
//! straight from the source tree. The binaries also embed the files through
//! the constants below, so one started with no files on disk still has a
//! configuration.
//!
//! `httpd.conf` keeps every `LoadModule` inside `<IfModule so_module>`
//! (false in the binaries, which link their modules statically) and every
//! MPM directive inside `<IfModule mpm_*_module>` for the MPM it belongs to.

use std::path::Path;

/// File name of the main configuration file, relative to [`dir()`].
pub const HTTPD_CONF_NAME: &str = "httpd.conf";

/// File name of the media type table named by `TypesConfig`, relative to [`dir()`].
pub const MIME_TYPES_NAME: &str = "mime.types";

/// Contents of `httpd.conf`.
pub const HTTPD_CONF: &str = include_str!("../httpd.conf");

/// Contents of `mime.types` (Apache format: `type ext ext...`, `#` comments).
pub const MIME_TYPES: &str = include_str!("../mime.types");

/// Contents of `htdocs/index.html`, the default page.
pub const INDEX_HTML: &str = include_str!("../htdocs/index.html");

/// The directory holding the files above (this crate's source directory),
/// usable as a ServerRoot. It is the path at build time: valid on the
/// machine that built the binary, as long as the source tree stays.
pub fn dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
