//! `<VirtualHost>` sections, loaded: addresses, settings (the main
//! server's with the section's own lines on top, through the same figment
//! layers), sections and names, as httpd's `virtualhost_section`,
//! `ap_fixup_virtual_hosts` and `ap_fini_vhost_config` make them.

use figment::Figment;

use super::error::{ConfigError, Location};
use super::provider;
use super::settings::Settings;
use super::tree::Node;
use super::walk::WalkedVhost;
use crate::vhost::{self, AddressError, Identity};

/// One `<VirtualHost>` section.
#[derive(Debug)]
pub struct VirtualHostConfig {
    /// Its names, addresses and line.
    pub identity: Identity,
    /// The main server's settings with the section's own lines on top.
    pub settings: Settings,
    /// Its own `<Directory>`, `<Location>` and `<Files>` sections (the main
    /// server's apply too, before these).
    pub sections: Vec<Node>,
    /// The directives the section itself sets (canonical names; TransferLog
    /// counts as CustomLog).
    own: Vec<&'static str>,
    figment: Figment,
}

impl VirtualHostConfig {
    /// Whether the section has lines of `directive` itself, rather than
    /// inheriting the main server's value.
    pub fn sets(&self, directive: &str) -> bool {
        self.own.iter().any(|d| d.eq_ignore_ascii_case(directive))
    }

    /// Where the value in force for `directive` was written: in the
    /// section, or for the main server; `None` for a built-in default.
    pub fn provenance(&self, directive: &str) -> Option<String> {
        let metadata = self.figment.find_metadata(directive)?;
        (metadata.name != std::any::type_name::<Settings>()).then(|| metadata.name.to_string())
    }

    /// The metadata of a tag from this section's layers.
    pub(crate) fn metadata(&self, tag: figment::value::Tag) -> Option<&figment::Metadata> {
        self.figment.get_metadata(tag)
    }

    /// Where the section starts (`<VirtualHost` line).
    pub fn at(&self) -> &Location {
        self.identity.defined_at.as_ref().expect("a vhost has its line")
    }
}

/// What loading a section needs from the main server.
pub(crate) struct MainServer<'a> {
    pub figment: &'a Figment,
    /// The main server's name (httpd's `server_hostname`), computed only
    /// if a vhost needs it.
    pub name: &'a dyn Fn() -> String,
    pub check_document_root: bool,
}

/// Loads one walked `<VirtualHost>`; warnings (AH00547, AH00112) are added
/// to `warnings`.
pub(crate) fn load(
    walked: WalkedVhost,
    main: &MainServer<'_>,
    warnings: &mut Vec<String>,
) -> Result<VirtualHostConfig, ConfigError> {
    let node = &walked.node;
    let mut addresses = Vec::new();
    for word in &node.args {
        match vhost::parse_address(word, walked.default_port) {
            Ok(found) => addresses.extend(found),
            Err(AddressError::Unresolved(message)) => warnings.push(message),
            Err(AddressError::Invalid(message)) => {
                return Err(ConfigError::Directive {
                    at: node.at.clone(),
                    directive: node.name.clone(),
                    message: message.to_string(),
                });
            }
        }
    }
    let figment = provider::layer_vhost(main.figment.clone(), &walked.contributions);
    let mut settings: Settings = figment.extract().map_err(|e| ConfigError::Directive {
        at: node.at.clone(),
        directive: node.name.clone(),
        message: format!("invalid configuration: {e}"),
    })?;
    settings.finish();
    let own: Vec<&'static str> = walked.contributions.iter().map(|c| c.key).collect();
    let sets = |d: &str| own.contains(&d);

    // As ap_fini_vhost_config names a vhost without ServerName.
    let name = match settings.server_host() {
        Some(host) if sets("ServerName") => host.to_string(),
        _ if addresses.iter().any(|a| a.is_wildcard()) => (main.name)(),
        _ => match addresses.first() {
            Some(first) => vhost::reverse_name(first.ip),
            None => "bogus_host_without_forward_dns".into(),
        },
    };
    let mut identity = Identity { name, addresses, defined_at: Some(node.at.clone()), ..Identity::default() };
    identity.set_aliases(&settings.server_alias);

    // httpd refuses a main server's DocumentRoot that is no directory, but
    // only warns for a vhost's (core.c's set_document_root, AH00112); we
    // add where it was written.
    if main.check_document_root && sets("DocumentRoot") && !settings.document_root.is_dir() {
        let at = walked.contributions.iter().rev().find(|c| c.key == "DocumentRoot").map(|c| &c.at);
        warnings.push(format!(
            "AH00112: Warning: DocumentRoot [{}] does not exist{}",
            settings.document_root.display(),
            at.map_or(String::new(), |at| format!(" (DocumentRoot at {at})"))
        ));
    }
    Ok(VirtualHostConfig { identity, settings, sections: walked.sections, own, figment })
}
