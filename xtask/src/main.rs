//! Developer tasks, run as `cargo xtask <task>` (alias in .cargo/config.toml).
//!
//! Depends on no workspace crate, so it compiles in seconds.

mod compare;
mod dist;
mod faults;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
Usage: cargo xtask <task> [options]

Tasks:
  tidy     check project conventions: every `unsafe` carries a `// SAFETY:`
           comment and sits in a module listed in ARCHITECTURE.md; no Rust
           file grows past 800 lines
  compare  build the three servers in release mode and measure them side by
           side, with Apache httpd and nginx when installed
           (`cargo xtask compare --help` for its options)
  dist     build the three release binaries and a Debian package of each
           (cargo-deb), and list them with their sizes
           (`cargo xtask dist --help` for its options)
  faults   build the three servers in release mode and time what the fault
           suite only counts: graceful and hard restarts, a SIGKILL storm
           and a soak under a closed-loop client
           (`cargo xtask faults --help` for its options)
  help     this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("tidy") => tidy::run(&project_root()),
        Some("compare") => compare::run(&project_root(), &args[1..]),
        Some("dist") => dist::run(&project_root(), &args[1..]),
        Some("faults") => faults::run(&project_root(), &args[1..]),
        Some("help" | "-h" | "--help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown task '{other}'\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace root").to_path_buf()
}
