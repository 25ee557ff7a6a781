//! Executing the tree, as httpd's `ap_walk_config`: every directive is looked
//! up, checked for its place and its arguments, and read into a value. Values
//! at the top level become [`Contribution`]s to the typed settings; sections
//! and their contents are checked and kept for the handlers.

use figment::value::Value;

use super::directives::{self, Combine, Effect, Place};
use super::error::{ConfigError, Location};
use super::tree::{Node, Origin};
use crate::mpm::MpmKind;

/// One directive line's contribution to a typed setting.
#[derive(Debug, Clone)]
pub(crate) struct Contribution {
    /// The setting's key: the directive's canonical name.
    pub key: &'static str,
    pub value: Value,
    pub at: Location,
    pub origin: Origin,
    pub combine: Combine,
}

/// What the walk found.
#[derive(Debug, Default)]
pub(crate) struct Walked {
    pub contributions: Vec<Contribution>,
    /// Top-level sections (`<Directory>`, `<Location>`, `<VirtualHost>` ...).
    pub sections: Vec<Node>,
    /// Each `<VirtualHost>`, in configuration order.
    pub vhosts: Vec<WalkedVhost>,
    /// Info lines (deprecated names).
    pub notes: Vec<String>,
    /// Notices, which httpd prints whatever the log level (AH00548).
    pub notices: Vec<String>,
}

/// One `<VirtualHost>` section's own directives.
#[derive(Debug)]
pub(crate) struct WalkedVhost {
    /// The section itself (its line and addresses).
    pub node: Node,
    /// Its directive lines, as contributions to its settings.
    pub contributions: Vec<Contribution>,
    /// Its `<Directory>`, `<Location>` and `<Files>` sections.
    pub sections: Vec<Node>,
    /// The main server's port when the section was read (its ServerName's,
    /// 0 for none): the port of an address written without one.
    pub default_port: u16,
}

pub(crate) fn walk(nodes: &[Node], mpm: MpmKind) -> Result<Walked, ConfigError> {
    let mut walked = Walked::default();
    let mut listens: Vec<(String, u16)> = Vec::new();
    let mut main_port = 0;
    for node in nodes {
        let spec = check(node, Place::Main, mpm, &mut walked.notes)?;
        match spec.effect {
            Effect::Section => {
                if node.bare_name().eq_ignore_ascii_case("VirtualHost") {
                    let vhost = walk_vhost(node, mpm, main_port, &mut walked.notices)?;
                    walked.vhosts.push(vhost);
                }
                walked.sections.push(node.clone());
            }
            Effect::Value(parse, combine) => {
                let value = parse(spec.name, &node.args).map_err(|m| directive_error(node, m))?;
                if spec.name == "Listen" {
                    check_listen_unique(node, &value, &mut listens)?;
                }
                if spec.name == "ServerName" {
                    main_port = value.as_str().and_then(crate::logs::server_name_port).unwrap_or(0);
                }
                name_virtual_host_notice(spec.name, node, &mut walked.notices);
                walked.contributions.push(contribution(spec, node, value, combine));
            }
            Effect::ReadTime => unreachable!("the reader consumed {}", spec.name),
        }
    }
    Ok(walked)
}

/// The contents of a `<VirtualHost>` (already checked by `check`).
fn walk_vhost(
    node: &Node,
    mpm: MpmKind,
    default_port: u16,
    notices: &mut Vec<String>,
) -> Result<WalkedVhost, ConfigError> {
    let mut vhost =
        WalkedVhost { node: node.clone(), contributions: Vec::new(), sections: Vec::new(), default_port };
    for child in &node.children {
        let Some(spec) = directives::lookup(&child.name, mpm) else { continue };
        match spec.effect {
            Effect::Section => vhost.sections.push(child.clone()),
            Effect::Value(parse, combine) => {
                let value = parse(spec.name, &child.args).map_err(|m| directive_error(child, m))?;
                name_virtual_host_notice(spec.name, child, notices);
                vhost.contributions.push(contribution(spec, child, value, combine));
            }
            Effect::ReadTime => {}
        }
    }
    Ok(vhost)
}

fn contribution(
    spec: &directives::DirectiveSpec,
    node: &Node,
    value: Value,
    combine: Combine,
) -> Contribution {
    // TransferLog is a CustomLog with the default format, in the same list.
    let key = if spec.name == "TransferLog" { "CustomLog" } else { spec.name };
    Contribution { key, value, at: node.at.clone(), origin: node.origin, combine }
}

/// vhost.c's AH00548, once per configuration: NameVirtualHost is accepted
/// and does nothing since 2.4.
fn name_virtual_host_notice(name: &str, node: &Node, notices: &mut Vec<String>) {
    const NOTICE: &str = "AH00548: NameVirtualHost has no effect and will be removed in the next release";
    if name == "NameVirtualHost" && !notices.iter().any(|n| n.starts_with(NOTICE)) {
        notices.push(format!("{NOTICE} {}", node.at));
    }
}

/// Checks one directive (and a section's contents) where it stands.
fn check(
    node: &Node,
    place: Place,
    mpm: MpmKind,
    notes: &mut Vec<String>,
) -> Result<&'static directives::DirectiveSpec, ConfigError> {
    let Some(spec) = directives::lookup(&node.name, mpm) else {
        return Err(directive_error(node, invalid_command(&node.name, mpm)));
    };
    if let Some((old, new)) = directives::ALIASES.iter().find(|(old, _)| old.eq_ignore_ascii_case(&node.name))
    {
        notes.push(format!("{old} is deprecated, use {new} instead."));
    }
    spec.context.check(spec.name, place).map_err(|m| directive_error(node, m))?;
    match spec.effect {
        Effect::Section => {
            check_section_args(node)?;
            let inner = match node.bare_name().to_ascii_lowercase().as_str() {
                "virtualhost" => Place::VirtualHost,
                _ => Place::Directory,
            };
            for child in &node.children {
                let child_spec = check(child, inner, mpm, notes)?;
                if let Effect::Value(parse, _) = child_spec.effect {
                    parse(child_spec.name, &child.args).map_err(|m| directive_error(child, m))?;
                }
            }
        }
        _ => {
            spec.args.check(spec.name, spec.description, &node.args).map_err(|m| directive_error(node, m))?
        }
    }
    Ok(spec)
}

fn check_section_args(node: &Node) -> Result<(), ConfigError> {
    let name = node.bare_name();
    let lower = name.to_ascii_lowercase();
    let ok = match lower.as_str() {
        "virtualhost" => !node.args.is_empty(),
        "requireall" | "requireany" | "requirenone" => true,
        _ => node.args.len() == 1,
    };
    if ok {
        Ok(())
    } else {
        Err(directive_error(node, format!("<{name}> takes one argument, {}", section_description(node))))
    }
}

fn section_description(node: &Node) -> &'static str {
    directives::TABLE.iter().find(|d| d.name.eq_ignore_ascii_case(&node.name)).map_or("", |d| d.description)
}

fn check_listen_unique(node: &Node, value: &Value, seen: &mut Vec<(String, u16)>) -> Result<(), ConfigError> {
    let entry = value.as_array().and_then(|a| a.first()).and_then(Value::as_dict);
    let host = entry.and_then(|d| d.get("host")).and_then(Value::as_str).unwrap_or_default().to_string();
    let port = entry.and_then(|d| d.get("port")).and_then(Value::to_u128).unwrap_or(0) as u16;
    if port != 0 && seen.contains(&(host.clone(), port)) {
        return Err(directive_error(node, "Cannot define multiple Listeners on the same IP:port".into()));
    }
    seen.push((host, port));
    Ok(())
}

/// httpd's message for an unknown directive; for another MPM's directive we
/// add which binary has it, since that is what the user needs to know.
fn invalid_command(name: &str, mpm: MpmKind) -> String {
    let base = format!(
        "Invalid command '{name}', perhaps misspelled or defined by a module not included in the server configuration"
    );
    let owners: Vec<MpmKind> =
        MpmKind::ALL.into_iter().filter(|k| *k != mpm && directives::lookup(name, *k).is_some()).collect();
    if owners.is_empty() {
        return base;
    }
    let binaries: Vec<&str> = owners.iter().map(|k| k.binary()).collect();
    format!(
        "{base} ({name} belongs to another MPM, provided by {}; this server embeds the {} MPM: \
         put it inside <IfModule {}> or remove it)",
        binaries.join(" and "),
        mpm.name(),
        owners[0].module_id()
    )
}

fn directive_error(node: &Node, message: String) -> ConfigError {
    ConfigError::Directive { at: node.at.clone(), directive: node.name.clone(), message }
}
