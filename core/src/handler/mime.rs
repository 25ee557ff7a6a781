//! mod_mime's part of a static server: [`MimeTypes`] maps a file name's
//! extensions to a media type, from TypesConfig (`mime.types`) and AddType.
//!
//! As mod_mime's `find_ct`: the base name (everything up to the first dot
//! after any leading dots) is never an extension, each further dot-separated
//! part is looked up case-insensitively, and the last part with a known type
//! wins (`a.html.gz` is `application/gzip`, `a.html.zz` is `text/html`). A
//! file with no known extension gets no type at all, and httpd then sends no
//! Content-Type header.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::config::Settings;

/// Extensions (lower case, no dot) to media types.
#[derive(Debug, Clone, Default)]
pub struct MimeTypes {
    types: HashMap<String, String>,
}

impl MimeTypes {
    /// Reads `settings.types_config`, then applies AddType (which wins over
    /// the file, as mod_mime's `forced_type`). A missing file falls back to
    /// the embedded copy when the configuration itself is the embedded one.
    pub fn load(settings: &Settings, embedded: bool) -> Result<MimeTypes, String> {
        Ok(MimeTypes::types_config(settings, embedded)?.with_add_type(&settings.add_type))
    }

    /// TypesConfig alone (read once for every server: it may only be set
    /// for the main server).
    pub fn types_config(settings: &Settings, embedded: bool) -> Result<MimeTypes, String> {
        let path = &settings.types_config;
        let text = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && embedded => {
                shared_conf::MIME_TYPES.to_string()
            }
            // mime_post_config's AH01597, with the module name httpd prefixes.
            Err(_) => {
                return Err(format!("mod_mime: could not open mime types config file {}.", path.display()));
            }
        };
        Ok(MimeTypes::parse(&text))
    }

    /// This table with a server's AddType lines applied.
    pub fn with_add_type(&self, add_type: &BTreeMap<String, String>) -> MimeTypes {
        let mut mime = self.clone();
        for (ext, media_type) in add_type {
            mime.types.insert(ext.to_ascii_lowercase(), media_type.clone());
        }
        mime
    }

    /// Parses mime.types text: `type ext...` per line, `#` starts a comment
    /// line; a later line wins for an extension listed twice (httpd fills a
    /// hash in file order). Types are kept as written, as httpd does.
    pub fn parse(text: &str) -> MimeTypes {
        let mut types = HashMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let mut words = line.split_ascii_whitespace();
            let Some(media_type) = words.next() else { continue };
            for ext in words {
                types.insert(ext.to_ascii_lowercase(), media_type.to_string());
            }
        }
        MimeTypes { types }
    }

    /// The media type of `path` by its file name's extensions, or `None`.
    pub fn lookup(&self, path: &Path) -> Option<&str> {
        let name = path.file_name()?.as_bytes();
        let mut found = None;
        for ext in extensions(name) {
            if let Some(t) = self.get(ext) {
                found = Some(t);
            }
        }
        found
    }

    /// The type of one extension, compared without regard to case. Short
    /// extensions are lower-cased on the stack, so a lookup allocates nothing.
    fn get(&self, ext: &[u8]) -> Option<&str> {
        let mut buf = [0u8; 32];
        let lowered;
        let key: &[u8] = if ext.len() <= buf.len() {
            buf[..ext.len()].copy_from_slice(ext);
            buf[..ext.len()].make_ascii_lowercase();
            &buf[..ext.len()]
        } else {
            lowered = ext.to_ascii_lowercase();
            &lowered
        };
        let key = std::str::from_utf8(key).ok()?;
        self.types.get(key).map(String::as_str)
    }
}

/// The parts of a file name mod_mime treats as extensions: after the base
/// name (leading dots belong to it: `.png` is a hidden file, not a PNG),
/// every non-empty dot-separated part.
fn extensions(name: &[u8]) -> impl Iterator<Item = &[u8]> {
    let leading = name.iter().take_while(|&&b| b == b'.').count();
    let rest = match name[leading..].iter().position(|&b| b == b'.') {
        Some(dot) => &name[leading + dot + 1..],
        None => &[][..],
    };
    rest.split(|&b| b == b'.').filter(|part| !part.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn table() -> MimeTypes {
        let mut settings =
            Settings { types_config: PathBuf::from("/nonexistent/mime.types"), ..Settings::default() };
        settings.add_type.insert("json".into(), "text/x-forced".into());
        settings.add_type.insert("foo".into(), "application/x-foo".into());
        MimeTypes::load(&settings, true).unwrap()
    }

    #[test]
    fn lookup_by_extension() {
        let mime = table();
        let check = |name: &str, expected: Option<&str>| {
            assert_eq!(mime.lookup(Path::new(name)), expected, "{name}");
        };
        check("/d/index.html", Some("text/html"));
        check("/d/INDEX.HTML", Some("text/html"));
        check("big.txt", Some("text/plain"));
        check("noext", None);
        check(".png", None);
        check("..png", None);
        check(".hidden.png", Some("image/png"));
        check("a.html.gz", Some("application/gzip"));
        check("a.html.unknown", Some("text/html"));
        check("bad..html", Some("text/html"));
        check("html", None);
        check("a.", None);
        // AddType wins over TypesConfig, and adds extensions.
        check("a.json", Some("text/x-forced"));
        check("a.FOO", Some("application/x-foo"));
        check("a.averyveryveryveryveryveryverylongextensionname", None);
    }

    #[test]
    fn parse_rules() {
        let mime = MimeTypes::parse("# c\n  # indented comment\nText/X-A a b\n\ntext/x-b B\ntext/x-c a\n");
        assert_eq!(mime.lookup(Path::new("f.a")), Some("text/x-c"));
        assert_eq!(mime.lookup(Path::new("f.b")), Some("text/x-b"));
        assert_eq!(mime.lookup(Path::new("f.comment")), None);
    }

    #[test]
    fn missing_file() {
        let settings =
            Settings { types_config: PathBuf::from("/nonexistent/mime.types"), ..Settings::default() };
        assert_eq!(
            MimeTypes::load(&settings, false).unwrap_err(),
            "mod_mime: could not open mime types config file /nonexistent/mime.types."
        );
        assert_eq!(MimeTypes::load(&settings, true).unwrap().lookup(Path::new("a.css")), Some("text/css"));
    }

    #[test]
    fn reads_the_file() {
        let dir = std::env::temp_dir().join(format!("httpd-core-mime-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mime.types");
        std::fs::write(&path, "text/x-mine mine\n").unwrap();
        let settings = Settings { types_config: path, ..Settings::default() };
        let mime = MimeTypes::load(&settings, false).unwrap();
        assert_eq!(mime.lookup(Path::new("a.mine")), Some("text/x-mine"));
        assert_eq!(mime.lookup(Path::new("a.html")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
