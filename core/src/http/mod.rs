//! HTTP/1.1 as httpd speaks it: request heads, bodies, responses, error
//! pages, and the connection engine that drives them over a transport.

pub mod body;
pub mod conn;
pub mod date;
pub mod driver;
pub mod file_map;
mod headers;
mod host;
pub mod input;
mod message;
pub mod output;
pub mod parse;
mod pool;
mod short;
pub mod status;

pub use conn::{Connection, Outcome};
pub use headers::Headers;
pub use message::{Body, ConnInfo, Request, Response, TlsInfo, Version};
pub use output::Transport;

#[cfg(test)]
mod tests;
