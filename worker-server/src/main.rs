//! `worker-server`: Apache httpd's worker MPM, statically linked. Everything but
//! the choice of MPM lives in httpd-core.

use std::process::ExitCode;

use httpd_core::{Mpm, MpmKind};

struct WorkerMpm;

impl Mpm for WorkerMpm {
    const KIND: MpmKind = MpmKind::Worker;
}

fn main() -> ExitCode {
    httpd_core::run::<WorkerMpm>()
}
