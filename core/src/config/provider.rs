//! figment providers: the evaluated directives and `HTTPD_*` variables as
//! layers of the typed settings.
//!
//! Each directive line is a provider of its own, whose metadata names its file
//! and line, so `Figment::find_metadata("Timeout")` tells where the value in
//! force was written. Layers, lowest first: built-in defaults, the files,
//! `HTTPD_*` variables, `-C` directives, `-c` directives.

use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};

use super::directives::{self, Combine, Context, Effect};
use super::error::{ConfigError, Location};
use super::lexer;
use super::tree::Origin;
use super::walk::Contribution;
use crate::mpm::MpmKind;

/// The prefix of environment variables that set directives.
pub const ENV_PREFIX: &str = "HTTPD_";

impl Provider for Contribution {
    /// `file:line`; a command-line directive also says whether it was `-C`
    /// or `-c`, since both share httpd's pseudo-file name.
    fn metadata(&self) -> Metadata {
        Metadata::named(match self.origin {
            Origin::PreCommand => format!("{} (-C)", self.at),
            Origin::PostCommand => format!("{} (-c)", self.at),
            Origin::File => self.at.to_string(),
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        dict.insert(self.key.to_string(), self.value.clone());
        Ok(Profile::Default.collect(dict))
    }
}

/// Adds the layers above `base` in their order of precedence.
pub(crate) fn layer(base: Figment, directives: &[Contribution], environment: &[Contribution]) -> Figment {
    let by_origin = |origin: Origin| directives.iter().filter(move |c| c.origin == origin);
    let mut figment = base;
    for c in by_origin(Origin::File) {
        figment = add(figment, c, c.combine);
    }
    // A variable replaces what the files say, lists included: HTTPD_LISTEN
    // moves the server, it does not add a port.
    for c in environment {
        figment = add(figment, c, Combine::Replace);
    }
    for c in by_origin(Origin::PreCommand).chain(by_origin(Origin::PostCommand)) {
        figment = add(figment, c, c.combine);
    }
    figment
}

/// Directives whose lines add up within one server, but whose list a
/// `<VirtualHost>` replaces when it has lines of its own, as httpd merges
/// them: mod_dir keeps a vhost's DirectoryIndex whole, and mod_log_config
/// logs a vhost's requests to its own CustomLog/TransferLog only.
/// A vhost's SSLCertificateFile and SSLCertificateKeyFile lines are its
/// certificates, not more of the main server's (mod_ssl's merge lets a
/// vhost's n-th line knock out the main server's n-th).
const REPLACED_BY_VHOST: [&str; 4] =
    ["DirectoryIndex", "CustomLog", "SSLCertificateFile", "SSLCertificateKeyFile"];

/// A `<VirtualHost>`'s settings: its own lines above everything the main
/// server's settings are made of (so a vhost's Timeout wins over a `-c`
/// one, as any vhost line wins over the main server's in httpd). Lines that
/// add up add to the main server's, except those of `REPLACED_BY_VHOST`,
/// whose first line in the vhost starts the list anew.
pub(crate) fn layer_vhost(main: Figment, own: &[Contribution]) -> Figment {
    let mut started: Vec<&str> = Vec::new();
    own.iter().fold(main, |figment, c| {
        let combine = if REPLACED_BY_VHOST.contains(&c.key) && !started.contains(&c.key) {
            started.push(c.key);
            Combine::Replace
        } else {
            c.combine
        };
        add(figment, c, combine)
    })
}

fn add(figment: Figment, c: &Contribution, combine: Combine) -> Figment {
    match combine {
        Combine::Replace => figment.merge(c.clone()),
        Combine::Append => figment.admerge(c.clone()),
    }
}

/// Reads `HTTPD_<DIRECTIVE>` variables: the name after the prefix matches a
/// directive's name case-insensitively, underscores ignored
/// (`HTTPD_MAX_REQUEST_WORKERS` and `HTTPD_MaxRequestWorkers` both work); the
/// value is read as that directive's arguments.
pub(crate) fn environment(
    vars: impl IntoIterator<Item = (String, String)>,
    mpm: MpmKind,
    warnings: &mut Vec<String>,
) -> Result<Vec<Contribution>, ConfigError> {
    let mut out = Vec::new();
    let mut vars: Vec<(String, String)> =
        vars.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
    vars.sort();
    for (variable, raw) in vars {
        let wanted: String = variable[ENV_PREFIX.len()..].chars().filter(|c| *c != '_').collect();
        let spec = directives::TABLE.iter().find(|d| {
            d.exists_in(mpm)
                && d.name.eq_ignore_ascii_case(&wanted)
                && matches!(d.effect, Effect::Value(..))
                && d.context != Context::DirOnly
                && d.context != Context::VhostOnly
        });
        let Some(spec) = spec else {
            warnings.push(format!(
                "environment variable {variable} names no directive of {}; ignored",
                mpm.binary()
            ));
            continue;
        };
        let Effect::Value(parse, _) = spec.effect else { unreachable!("filtered on Effect::Value") };
        let args = lexer::words(&raw);
        let env_error = |message: String| ConfigError::Environment {
            variable: variable.clone(),
            directive: spec.name.to_string(),
            message,
        };
        spec.args.check(spec.name, spec.description, &args).map_err(env_error)?;
        let value = parse(spec.name, &args).map_err(env_error)?;
        out.push(Contribution {
            key: spec.name,
            value,
            at: Location { file: format!("environment variable {variable}"), line: 0 },
            origin: Origin::File,
            combine: Combine::Replace,
        });
    }
    Ok(out)
}
