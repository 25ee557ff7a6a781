//! `-S` and `-D DUMP_VHOSTS`: the address table in the shape of vhost.c's
//! `dump_vhost_config` and `dump_a_vhost`.

use std::fmt::Write;

use super::{Chain, VirtualHosts};

/// `VirtualHost configuration:` then each address: specific addresses in
/// httpd's hash order, then the wildcard ones.
pub fn dump(table: &VirtualHosts) -> String {
    let mut out = String::from("VirtualHost configuration:\n");
    for chain in table.exact.iter().chain(&table.defaults) {
        dump_a_vhost(&mut out, table, chain);
    }
    out
}

fn dump_a_vhost(out: &mut String, table: &VirtualHosts, chain: &Chain) {
    let label = chain.address.label();
    let described = |server: usize| {
        let identity = &table.identities[server];
        let at = identity.defined_at.as_ref().map_or(String::new(), ToString::to_string);
        format!("{} ({at})", identity.name)
    };
    if chain.names.is_empty() {
        let _ = writeln!(out, "{label:<22} {}", described(chain.server));
        return;
    }
    let _ = writeln!(out, "{label:<22} is a NameVirtualHost");
    let _ = writeln!(out, "{:8} default server {}", "", described(chain.server));
    for entry in &chain.names {
        match entry.port {
            0 => {
                let _ = write!(out, "{:8} port * ", "");
            }
            port => {
                let _ = write!(out, "{:8} port {port} ", "");
            }
        }
        let _ = writeln!(out, "namevhost {}", described(entry.server));
        let identity = &table.identities[entry.server];
        for alias in &identity.aliases {
            let _ = writeln!(out, "{:16} alias {alias}", "");
        }
        for alias in &identity.wild_aliases {
            let _ = writeln!(out, "{:16} wild alias {alias}", "");
        }
    }
}
