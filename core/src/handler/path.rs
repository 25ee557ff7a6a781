//! From a request-target to a file under DocumentRoot, as httpd's
//! `ap_process_request_internal` (normalize, then unescape) and
//! `ap_directory_walk` (one `lstat` per path segment, symlinks per Options).
//! The hit path skips the walk: one `openat2` beneath DocumentRoot under the
//! same rules, then one `fstat`; what that does not settle is walked.
//!
//! Nothing here can name a file outside DocumentRoot: `..` segments are
//! removed before the path meets the file system (one that would climb above
//! the root is a 400), an encoded `/` or NUL is a 404, and every symbolic
//! link followed must resolve inside the canonical DocumentRoot.

use std::fs::{File, Metadata};
use std::io::ErrorKind;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::LogLine;
use super::etag::FileFacts;
use crate::config::Settings;

/// Linux's PATH_MAX: httpd's `apr_filepath_merge` refuses longer file names
/// (AH00127, 403).
const PATH_MAX: usize = 4096;

/// A request-target split into what the handler needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Target<'a> {
    /// The path, still percent-encoded (`/` for an absolute URI without one).
    pub(super) path: &'a str,
    pub(super) query: Option<&'a str>,
    /// `host[:port]` of an absolute URI (`GET http://host/ HTTP/1.1`), which
    /// takes the place of the Host header, as in httpd.
    pub(super) authority: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub(super) fn parse(target: &'a str) -> Target<'a> {
        let (rest, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        if rest.starts_with('/') {
            return Target { path: rest, query, authority: None };
        }
        match rest.split_once("://") {
            Some((_scheme, after)) => {
                let (authority, path) = match after.find('/') {
                    Some(i) => (&after[..i], &after[i..]),
                    None => (after, "/"),
                };
                let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
                Target { path, query, authority: Some(authority) }
            }
            None => Target { path: rest, query, authority: None },
        }
    }
}

/// Why a path was refused before it reached the file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BadPath {
    /// A bad `%` escape or a `..` above the root: 400 (AH10244).
    Invalid,
    /// An encoded `/` or NUL: 404 (AH00026).
    EncodedSlashOrNul,
}

/// The decoded, normalized path (httpd's `r->uri`), as bytes: it need not
/// be UTF-8. Always starts with `/`. Written into `uri` (cleared first),
/// which the caller reuses from request to request.
pub(super) fn decode_into(path: &str, uri: &mut Vec<u8>) -> Result<(), BadPath> {
    uri.clear();
    uri.extend_from_slice(path.as_bytes());
    if !normalize(uri) {
        return Err(BadPath::Invalid);
    }
    unescape(uri)
}

/// `ap_normalize_path` with DECODE_UNRESERVED, MERGE_SLASHES and
/// NOT_ABOVE_ROOT, in place: decodes `%XX` of unreserved characters (so
/// `%2e%2e` is `..`), collapses `//`, removes `.` and `..` segments. False
/// for a bad escape or a `..` at the root, which httpd answers with 400.
fn normalize(p: &mut Vec<u8>) -> bool {
    if p.first() != Some(&b'/') {
        return false;
    }
    let at = |p: &[u8], i: usize| p.get(i).copied().unwrap_or(0);
    let slash_or_end = |c: u8| c == b'/' || c == 0;
    let mut valid = true;
    let (mut l, mut w) = (1, 1);
    while l < p.len() {
        if p[l] == b'%' {
            match (hex(at(p, l + 1)), hex(at(p, l + 2))) {
                (Some(hi), Some(lo)) => {
                    let c = hi << 4 | lo;
                    if is_unreserved(c) {
                        l += 2;
                        p[l] = c;
                    }
                }
                _ => valid = false,
            }
        }
        if p[w - 1] == b'/' {
            if p[l] == b'/' {
                while l < p.len() && p[l] == b'/' {
                    l += 1;
                }
                continue;
            }
            if p[l] == b'.' {
                if slash_or_end(at(p, l + 1)) {
                    l += if l + 1 < p.len() { 2 } else { 1 };
                    continue;
                }
                let mut n = l + 1;
                let dot_dot = at(p, n) == b'.' || {
                    at(p, n) == b'%' && at(p, n + 1) == b'2' && matches!(at(p, n + 2), b'e' | b'E') && {
                        n += 2;
                        true
                    }
                };
                if dot_dot && slash_or_end(at(p, n + 1)) {
                    if w > 1 {
                        w -= 1;
                        while w > 0 && p[w - 1] != b'/' {
                            w -= 1;
                        }
                    } else {
                        valid = false;
                    }
                    l = n + 1;
                    if l < p.len() {
                        l += 1;
                    }
                    continue;
                }
            }
        }
        p[w] = p[l];
        w += 1;
        l += 1;
    }
    p.truncate(w);
    valid
}

/// `ap_unescape_url_ex` with FORBID_SLASHES and KEEP_UNRESERVED (unreserved
/// escapes are gone already), in place (the result is never longer): every
/// other `%XX` is decoded; `%2f` or `%00` make the path a 404.
fn unescape(p: &mut Vec<u8>) -> Result<(), BadPath> {
    let (mut bad_escape, mut bad_path) = (false, false);
    let (mut i, mut w) = (0, 0);
    while i < p.len() {
        let c = p[i];
        if c != b'%' {
            p[w] = c;
            w += 1;
            i += 1;
            continue;
        }
        match (p.get(i + 1).and_then(|&b| hex(b)), p.get(i + 2).and_then(|&b| hex(b))) {
            (Some(hi), Some(lo)) => {
                let decoded = hi << 4 | lo;
                if decoded == 0 || decoded == b'/' {
                    bad_path = true;
                    p[w] = decoded;
                    w += 1;
                } else if is_unreserved(decoded) {
                    p.copy_within(i..i + 3, w);
                    w += 3;
                } else {
                    p[w] = decoded;
                    w += 1;
                }
                i += 3;
            }
            _ => {
                bad_escape = true;
                p[w] = b'%';
                w += 1;
                i += 1;
            }
        }
    }
    p.truncate(w);
    if bad_escape {
        Err(BadPath::Invalid)
    } else if bad_path {
        Err(BadPath::EncodedSlashOrNul)
    } else {
        Ok(())
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// RFC 3986 section 2.3: ALPHA, DIGIT, `-`, `.`, `_`, `~`.
fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Whether any segment of `uri` starts with `.ht`. httpd's shipped
/// configuration denies `<Files ".ht*">`, which matches the last segment
/// only; denying every segment also keeps `.htpasswd` directories private.
pub(super) fn has_ht_segment(uri: &[u8]) -> bool {
    uri.split(|&b| b == b'/').any(|seg| seg.starts_with(b".ht"))
}

/// DocumentRoot joined with a decoded path (httpd's `r->filename`).
pub(super) fn filename(docroot: &Path, uri: &[u8]) -> PathBuf {
    let root = docroot.as_os_str().as_bytes();
    let root = root.strip_suffix(b"/").unwrap_or(root);
    let mut bytes = Vec::with_capacity(root.len() + uri.len());
    bytes.extend_from_slice(root);
    bytes.extend_from_slice(uri);
    PathBuf::from(std::ffi::OsStr::from_bytes(&bytes))
}

/// What Options says about symbolic links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Options {
    pub(super) follow_symlinks: bool,
    pub(super) symlinks_if_owner_match: bool,
    /// Accepted, but directory listings are not implemented: a directory
    /// without an index is a 403 either way.
    pub(super) indexes: bool,
}

impl Options {
    /// As core's `set_options`: a word without `+`/`-` first clears the
    /// default (`FollowSymlinks`), `+`/`-` words modify it; names in any case.
    pub(super) fn from_settings(settings: &Settings) -> Options {
        let mut o = Options { follow_symlinks: true, ..Options::default() };
        let mut first_absolute = true;
        for word in &settings.options {
            let (action, name) = match word.as_bytes().first() {
                Some(b'+') | Some(b'-') => (Some(word.as_bytes()[0]), &word[1..]),
                _ => (None, word.as_str()),
            };
            if action.is_none() && first_absolute {
                o = Options::default();
                first_absolute = false;
            }
            let on = action != Some(b'-');
            let mut buf = [0u8; 32];
            match super::lowercase_keyword(name, &mut buf) {
                "followsymlinks" => o.follow_symlinks = on,
                "symlinksifownermatch" => o.symlinks_if_owner_match = on,
                "indexes" => o.indexes = on,
                "all" => {
                    o.follow_symlinks = on;
                    o.indexes = on;
                }
                "none" => o = Options::default(),
                _ => {}
            }
        }
        o
    }
}

/// Where a decoded path leads.
#[derive(Debug)]
pub(super) enum Mapped {
    /// A regular file, opened by the lookup beneath DocumentRoot; `facts`
    /// are from the open file, so they describe the bytes sent.
    Opened {
        file: File,
        facts: FileFacts,
    },
    /// A regular file the walk found (its metadata, through any symlink),
    /// not opened yet.
    File {
        path: PathBuf,
        meta: Metadata,
    },
    Dir,
    /// Nothing there. `filename` stops at the first missing segment (or at a
    /// regular file followed by more segments: `path_info`); `full` is the
    /// whole path, as httpd's "File does not exist" prints it.
    Missing {
        filename: PathBuf,
        full: PathBuf,
        path_info: bool,
    },
}

/// A refusal while mapping: the status and the error-log line httpd writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refused {
    pub(super) status: u16,
    pub(super) log: LogLine,
}

/// Maps `uri` under `docroot`: the lookup beneath `root_dir` (DocumentRoot
/// opened, when it could be) answers the hit path; whatever it does not
/// settle goes to the walk, which gives every refusal httpd's status and
/// log line. `request_line` is for AH00127's wording.
pub(super) fn map(
    docroot: &Path,
    root_dir: Option<BorrowedFd<'_>>,
    uri: &[u8],
    opts: Options,
    request_line: &str,
) -> Result<Mapped, Refused> {
    let root = docroot.as_os_str().as_bytes();
    // The length of `filename(docroot, uri)`, without building it.
    if root.strip_suffix(b"/").unwrap_or(root).len() + uri.len() >= PATH_MAX {
        let log = LogLine::error("core", format!("AH00127: Cannot map {request_line} to file"))
            .with_errno(nix::libc::ENAMETOOLONG);
        return Err(Refused { status: 403, log });
    }
    if let Some(found) = root_dir.and_then(|dir| open_beneath(dir, uri, opts)) {
        return Ok(found);
    }
    walk(docroot, uri, opts)
}

/// The hit path's lookup: one `openat2` relative to DocumentRoot's
/// descriptor, which resolves the whole path in the kernel under the rules
/// the walk applies segment by segment, then one `fstat` of what it opened.
/// A regular file is served from this descriptor (no second open, so
/// nothing can change between the check and the use); a directory goes to
/// mod_dir.
///
/// `None` leaves the request to the walk: anything else opened (a FIFO, a
/// device: `O_NONBLOCK` keeps a FIFO from blocking the open), and every
/// error: a missing file, `path_info` (ENOTDIR), a link the rules may
/// refuse (ELOOP, EXDEV), permissions (EACCES), a kernel without `openat2`
/// (ENOSYS). The walk then decides exactly as it always has.
///
/// Links: with FollowSymLinks, RESOLVE_BENEATH follows relative links that
/// stay beneath the root, which is our rule (a followed link must resolve
/// inside the canonical DocumentRoot); absolute links and links that leave
/// and re-enter the root fail here and are judged by the walk.
/// SymLinksIfOwnerMatch compares owners, which `openat2` cannot: with it,
/// as without FollowSymLinks, no link is followed here (a path without
/// links passes under any Options).
fn open_beneath(root_dir: BorrowedFd<'_>, uri: &[u8], opts: Options) -> Option<Mapped> {
    use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
    use nix::sys::stat::SFlag;

    let relative = uri.strip_prefix(b"/").unwrap_or(uri);
    if relative.is_empty() {
        // The root itself, which the walk never looks at either.
        return Some(Mapped::Dir);
    }
    let links = if opts.follow_symlinks && !opts.symlinks_if_owner_match {
        ResolveFlag::RESOLVE_NO_MAGICLINKS
    } else {
        ResolveFlag::RESOLVE_NO_SYMLINKS
    };
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK | OFlag::O_NOCTTY)
        .resolve(ResolveFlag::RESOLVE_BENEATH | links);
    let fd = openat2(root_dir, relative, how).ok()?;
    let stat = nix::sys::stat::fstat(&fd).ok()?;
    match SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFREG => {
            let mtime_us = stat.st_mtime.saturating_mul(1_000_000).saturating_add(stat.st_mtime_nsec / 1000);
            let facts = FileFacts { inode: stat.st_ino, size: stat.st_size as u64, mtime_us };
            Some(Mapped::Opened { file: File::from(fd), facts })
        }
        SFlag::S_IFDIR => Some(Mapped::Dir),
        _ => None,
    }
}

/// Walks `uri` under `docroot` segment by segment, as `ap_directory_walk`:
/// one `lstat` per segment, links judged by [`follow`].
fn walk(docroot: &Path, uri: &[u8], opts: Options) -> Result<Mapped, Refused> {
    let full = filename(docroot, uri);
    let shown = || String::from_utf8_lossy(uri).into_owned();
    let mut cur = docroot.to_path_buf();
    let mut canonical_root: Option<PathBuf> = None;
    let mut segments = uri.split(|&b| b == b'/').skip(1).peekable();
    while let Some(seg) = segments.next() {
        if seg.is_empty() {
            break; // the trailing slash of a directory
        }
        cur.push(std::ffi::OsStr::from_bytes(seg));
        let mut meta = match std::fs::symlink_metadata(&cur) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Ok(Mapped::Missing { filename: cur, full, path_info: false });
            }
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                let text = format!(
                    "AH00035: access to {} denied (filesystem path '{}') because search permissions are \
                     missing on a component of the path",
                    shown(),
                    cur.display()
                );
                let log = LogLine::error("core", text).with_errno(e.raw_os_error().unwrap_or(0));
                return Err(Refused { status: 403, log });
            }
            Err(e) => {
                let text =
                    format!("AH00036: access to {} failed (filesystem path '{}')", shown(), cur.display());
                let log = LogLine::error("core", text).with_errno(e.raw_os_error().unwrap_or(0));
                return Err(Refused { status: 403, log });
            }
        };
        if meta.file_type().is_symlink() {
            meta = follow(&cur, &meta, opts, docroot, &mut canonical_root).ok_or_else(|| Refused {
                status: 403,
                log: LogLine::error(
                    "core",
                    format!(
                        "AH00037: Symbolic link not allowed or link target not accessible: {}",
                        cur.display()
                    ),
                ),
            })?;
        }
        if meta.is_file() {
            if segments.peek().is_some() {
                return Ok(Mapped::Missing { filename: cur, full, path_info: true });
            }
            return Ok(Mapped::File { path: cur, meta });
        }
        if !meta.is_dir() {
            let text = format!("AH00038: Forbidden: {} doesn't point to a file or directory", cur.display());
            return Err(Refused { status: 403, log: LogLine::error("core", text) });
        }
    }
    Ok(Mapped::Dir)
}

/// httpd's `resolve_symlink`, plus one rule of ours. The link is followed
/// with FollowSymLinks, or with SymLinksIfOwnerMatch when the link and its
/// target have the same owner (SymLinksIfOwnerMatch checks owners even next
/// to FollowSymLinks, as httpd); a dangling link is refused.
///
/// Deliberately beyond httpd: the target must also lie inside the canonical
/// DocumentRoot. httpd with FollowSymLinks serves `htdocs/link ->
/// /etc/passwd`; we answer 403 with httpd's AH00037 line instead, so that a
/// link planted in the document tree never publishes the rest of the disk.
fn follow(
    link: &Path,
    link_meta: &Metadata,
    opts: Options,
    docroot: &Path,
    canonical_root: &mut Option<PathBuf>,
) -> Option<Metadata> {
    if !opts.follow_symlinks && !opts.symlinks_if_owner_match {
        return None;
    }
    let target = std::fs::metadata(link).ok()?;
    if opts.symlinks_if_owner_match && target.uid() != link_meta.uid() {
        return None;
    }
    if canonical_root.is_none() {
        *canonical_root = Some(docroot.canonicalize().ok()?);
    }
    let resolved = link.canonicalize().ok()?;
    resolved.starts_with(canonical_root.as_ref()?).then_some(target)
}

#[cfg(test)]
#[path = "tests_lookup.rs"]
mod tests_lookup;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let check = |target: &str, path: &str, query: Option<&str>, authority: Option<&str>| {
            assert_eq!(Target::parse(target), Target { path, query, authority }, "{target}");
        };
        check("/a%20b?x=1", "/a%20b", Some("x=1"), None);
        check("/", "/", None, None);
        check("/?", "/", Some(""), None);
        check("http://Host:8080/dir?q", "/dir", Some("q"), Some("Host:8080"));
        check("http://host", "/", None, Some("host"));
        check("http://host?q=/x", "/", Some("q=/x"), Some("host"));
        check("https://user:pw@host/p", "/p", None, Some("host"));
        check("*", "*", None, None);
    }

    #[test]
    fn decoding() {
        let decode = |path: &str| {
            let mut uri = b"left over".to_vec();
            decode_into(path, &mut uri).map(|()| uri)
        };
        let check = |path: &str, expected: Result<&str, BadPath>| {
            let got = decode(path).map(|v| String::from_utf8_lossy(&v).into_owned());
            assert_eq!(got.as_deref().map_err(|e| *e), expected, "{path}");
        };
        use BadPath::*;
        check("/", Ok("/"));
        check("/a.json", Ok("/a.json"));
        check("//a.json", Ok("/a.json"));
        check("/dir//index.html", Ok("/dir/index.html"));
        check("/./a.json", Ok("/a.json"));
        check("/dir/.", Ok("/dir/"));
        check("/dir/..", Ok("/"));
        check("/dir/../a.json", Ok("/a.json"));
        check("/dir/./../dir", Ok("/dir"));
        check("/dir/%2e%2e/a.json", Ok("/a.json"));
        check("/dir/.%2E/a.json", Ok("/a.json"));
        check("/dir/%2E./a.json", Ok("/a.json"));
        check("/a/b/c/../../d", Ok("/a/d"));
        check("/a/...", Ok("/a/..."));
        check("/a/..b/.c", Ok("/a/..b/.c"));
        check("/a%2ejson", Ok("/a.json"));
        check("/d%69r", Ok("/dir"));
        check("/a%20b", Ok("/a b"));
        check("/a%25zz", Ok("/a%zz"));
        check("/a%252e", Ok("/a%2e"));
        check("/%7e%41", Ok("/~A"));
        check("/dir\\index.html", Ok("/dir\\index.html"));
        check("/a.json%5c", Ok("/a.json\\"));
        check("/..", Err(Invalid));
        check("/../../etc/passwd", Err(Invalid));
        check("/%2e%2e/%2e%2e/etc/passwd", Err(Invalid));
        check("/dir/../../x", Err(Invalid));
        check("/a%zz", Err(Invalid));
        check("/a%2", Err(Invalid));
        check("/a%", Err(Invalid));
        check("a.json", Err(Invalid));
        check("/dir%2findex.html", Err(EncodedSlashOrNul));
        check("/dir%2Findex.html", Err(EncodedSlashOrNul));
        check("/a.json%00", Err(EncodedSlashOrNul));
        assert_eq!(decode("/%ff%fe").unwrap(), b"/\xff\xfe");
    }

    #[test]
    fn ht_segments() {
        assert!(has_ht_segment(b"/.htaccess"));
        assert!(has_ht_segment(b"/.htpasswd/x"));
        assert!(has_ht_segment(b"/a/.htx/"));
        assert!(!has_ht_segment(b"/.HTaccess"));
        assert!(!has_ht_segment(b"/a.htaccess"));
        assert!(!has_ht_segment(b"/.h"));
    }

    #[test]
    fn options() {
        let check = |words: &[&str], follow: bool, owner: bool, indexes: bool| {
            let settings =
                Settings { options: words.iter().map(|w| w.to_string()).collect(), ..Settings::default() };
            let o = Options::from_settings(&settings);
            assert_eq!(
                (o.follow_symlinks, o.symlinks_if_owner_match, o.indexes),
                (follow, owner, indexes),
                "{words:?}"
            );
        };
        check(&["FollowSymlinks"], true, false, false);
        check(&["followsymlinks"], true, false, false);
        check(&[], true, false, false);
        check(&["None"], false, false, false);
        check(&["Indexes"], false, false, true);
        check(&["+Indexes"], true, false, true);
        check(&["-FollowSymLinks"], false, false, false);
        check(&["SymLinksIfOwnerMatch"], false, true, false);
        check(&["All"], true, false, true);
        check(&["Indexes", "FollowSymLinks"], true, false, true);
    }
}
