//! The modules compiled into a binary: what `-l` and `-M` list and what
//! `<IfModule>` and `LoadModule` test against.
//!
//! httpd names a module two ways: its identifier (`status_module`) and the
//! source file that defines it (`mod_status.c`). `<IfModule>` accepts either.
//! There is no `mod_so.c` here: these binaries load no dynamic modules, so
//! `<IfModule so_module>` is false and a configuration can keep the
//! `LoadModule` lines Apache httpd needs inside it.

use crate::mpm::MpmKind;

/// One statically compiled module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Module {
    /// The identifier, as in `LoadModule status_module ...`.
    pub id: &'static str,
    /// The source file name, as `-l` prints it.
    pub source: &'static str,
}

/// The modules every binary has, in httpd's `-l` order; the MPM comes after them.
const COMMON: [Module; 10] = [
    Module { id: "core_module", source: "core.c" },
    Module { id: "http_module", source: "http_core.c" },
    Module { id: "unixd_module", source: "mod_unixd.c" },
    Module { id: "mime_module", source: "mod_mime.c" },
    Module { id: "dir_module", source: "mod_dir.c" },
    Module { id: "log_config_module", source: "mod_log_config.c" },
    Module { id: "status_module", source: "mod_status.c" },
    Module { id: "authz_core_module", source: "mod_authz_core.c" },
    Module { id: "authz_host_module", source: "mod_authz_host.c" },
    // TLS through rustls (crate::tls).
    Module { id: "ssl_module", source: "mod_ssl.c" },
];

/// The modules compiled into the binary that embeds `mpm`, in `-l` order.
pub fn compiled_in(mpm: MpmKind) -> Vec<Module> {
    let mut all = COMMON.to_vec();
    all.push(Module { id: mpm.module_id(), source: mpm.source() });
    all
}

/// Whether `name` (an identifier or a source file name) is compiled in, as
/// `<IfModule name>` asks.
pub fn is_compiled_in(mpm: MpmKind, name: &str) -> bool {
    compiled_in(mpm).iter().any(|m| m.id == name || m.source == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_binary_lists_its_own_mpm_and_no_other() {
        for kind in MpmKind::ALL {
            let mods = compiled_in(kind);
            for other in MpmKind::ALL {
                let listed = mods.iter().any(|m| m.source == other.source());
                assert_eq!(listed, other == kind, "{kind:?} lists {}", other.source());
            }
        }
    }

    #[test]
    fn if_module_accepts_identifier_and_source_name() {
        assert!(is_compiled_in(MpmKind::Event, "mpm_event_module"));
        assert!(is_compiled_in(MpmKind::Event, "event.c"));
        assert!(is_compiled_in(MpmKind::Event, "mod_status.c"));
        assert!(is_compiled_in(MpmKind::Prefork, "ssl_module"));
        assert!(is_compiled_in(MpmKind::Worker, "mod_ssl.c"));
        assert!(!is_compiled_in(MpmKind::Event, "so_module"));
        assert!(!is_compiled_in(MpmKind::Event, "mod_so.c"));
        assert!(!is_compiled_in(MpmKind::Event, "prefork.c"));
    }
}
