//! ErrorLog and the access logs (mod_log_config).
//!
//! [`error_log`] starts env_logger with httpd's error-log lines; the `log`
//! macros feed it. [`AccessLog`] writes one [`LogFormat`] line per request
//! ([`LogEntry`]) to each CustomLog. Both write each line with one `write(2)`
//! on an O_APPEND file or a pipe (see `sink`), and both show local time
//! ([`LogZone`]). [`panics`] writes a panic to the error log before anything
//! else happens.

mod access;
pub mod entry;
pub mod error_log;
mod format;
pub mod panics;
mod sink;
mod time;

pub use access::AccessLog;
pub use entry::{ConnStatus, LogEntry};
pub use format::LogFormat;
pub(crate) use format::server_name_port;
pub(crate) use sink::os_error;
pub use time::LogZone;
