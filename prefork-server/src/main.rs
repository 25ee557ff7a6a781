//! `prefork-server`: Apache httpd's prefork MPM, statically linked. Everything but
//! the choice of MPM lives in httpd-core.

use std::process::ExitCode;

use httpd_core::{Mpm, MpmKind};

struct PreforkMpm;

impl Mpm for PreforkMpm {
    const KIND: MpmKind = MpmKind::Prefork;
}

fn main() -> ExitCode {
    httpd_core::run::<PreforkMpm>()
}
