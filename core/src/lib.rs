//! The shared core of `prefork-server`, `worker-server` and `event-server`.
//!
//! A binary embeds one MPM ([`mpm::Mpm`]) and hands it to [`run`], which
//! parses the command line ([`cli`]), loads the configuration ([`config`]),
//! sizes the MPM ([`limits`]) and acts on what was asked.

pub mod accept;
pub mod build_info;
pub mod cli;
pub mod clock;
pub mod config;
pub mod docroot;
pub mod dump;
pub mod handler;
pub mod http;
pub mod limits;
pub mod listen;
pub mod logs;
pub mod modules;
pub mod mpm;
pub mod pod;
pub mod process;
pub mod rlimit;
mod run;
pub mod scoreboard;
pub mod serve;
pub mod server;
pub mod spare_threads;
pub mod supervisor;
pub mod tls;
pub mod vhost;

pub use mpm::{Mpm, MpmKind, ProcessModel};
pub use run::{Starter, run, run_supervised, run_with};
