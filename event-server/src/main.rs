//! `event-server`: Apache httpd's event MPM, statically linked. Everything but
//! the choice of MPM lives in httpd-core.

use std::process::ExitCode;

use httpd_core::{Mpm, MpmKind};

struct EventMpm;

impl Mpm for EventMpm {
    const KIND: MpmKind = MpmKind::Event;
}

fn main() -> ExitCode {
    httpd_core::run::<EventMpm>()
}
