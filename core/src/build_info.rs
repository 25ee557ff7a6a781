//! Compile-time facts `-v` and `-V` print, and the defaults they name.
//!
//! Like httpd's `-D HTTPD_ROOT=...` compile flags, the defaults can be set
//! when building: `HTTPD_ROOT` and `SERVER_CONFIG_FILE` in the build
//! environment (packagers set them; see README).

use std::path::PathBuf;

use crate::clock::Civil;
use crate::mpm::MpmKind;

/// The product version token, as ServerTokens Full would send it.
pub fn server_version(mpm: MpmKind) -> String {
    format!("{}/{} (Unix)", mpm.binary(), env!("CARGO_PKG_VERSION"))
}

/// When the binary was built.
pub fn built() -> String {
    let epoch: i64 = env!("HTTPD_BUILT_EPOCH").parse().unwrap_or(0);
    Civil::from_unix(epoch).iso8601()
}

/// The initial ServerRoot when `-d` is not given.
pub fn default_server_root(mpm: MpmKind) -> PathBuf {
    match option_env!("HTTPD_ROOT") {
        Some(root) => PathBuf::from(root),
        None => PathBuf::from(format!("/etc/{}", mpm.binary())),
    }
}

/// The configuration file when `-f` is not given (ServerRoot-relative).
pub fn default_config_file() -> PathBuf {
    PathBuf::from(option_env!("SERVER_CONFIG_FILE").unwrap_or("httpd.conf"))
}
