//! The lookup beneath DocumentRoot (`open_beneath`) against the walk: a
//! path the lookup settles, it settles as the walk does; every other path
//! it leaves to the walk, whose statuses and log lines stay httpd's.

use super::*;
use crate::handler::tests::Site;
use std::os::fd::AsFd;

/// What a mapping says, comparable across the two ways of finding it.
fn summary(mapped: &Result<Mapped, Refused>) -> String {
    match mapped {
        Ok(Mapped::Opened { facts, .. }) => format!("file {} {}", facts.inode, facts.size),
        Ok(Mapped::File { meta, .. }) => format!("file {} {}", meta.ino(), meta.size()),
        Ok(Mapped::Dir) => "dir".to_string(),
        Ok(Mapped::Missing { filename, path_info, .. }) => {
            format!("missing {} path_info={path_info}", filename.display())
        }
        Err(refused) => format!("{} {}", refused.status, refused.log.text),
    }
}

#[test]
fn the_lookup_settles_what_it_can_as_the_walk_does() {
    let site = Site::new();
    let root = site.root.path();
    let dir = site.ctx.main().document_root_dir().expect("DocumentRoot opens");
    let dir = dir.as_fd();
    let none = Options::default();
    let follow = Options { follow_symlinks: true, ..none };
    let owner = Options { symlinks_if_owner_match: true, ..none };
    let both = Options { follow_symlinks: true, symlinks_if_owner_match: true, ..none };
    // (path, Options, whether the lookup settles it)
    let cases = [
        ("/a.json", follow, true),
        ("/a.json", none, true),
        ("/a.json", owner, true),
        ("/dir", follow, true),
        ("/dir/", none, true),
        ("/", none, true),
        ("/dir/index.html", none, true),
        ("/missing", follow, false),
        ("/dir/missing", follow, false),
        // path_info: a file with more segments (ENOTDIR).
        ("/a.json/extra", follow, false),
        // A link inside, followed by the kernel only under FollowSymLinks
        // alone: SymLinksIfOwnerMatch compares owners, which the walk does.
        ("/link_in", follow, true),
        ("/link_in", none, false),
        ("/link_in", owner, false),
        ("/link_in", both, false),
        ("/dirlink/index.html", follow, true),
        // linkdir/index.html -> ../a.json: `..` that stays beneath the root.
        ("/linkdir/index.html", follow, true),
        // Links out of the root (absolute ones among them) and dangling ones.
        ("/link_out", follow, false),
        ("/outdir/secret.txt", follow, false),
        ("/passwd", follow, false),
        ("/dangling", follow, false),
        ("/dangling", none, false),
        // Opened without blocking, then left to the walk (AH00038).
        ("/fifo", follow, false),
    ];
    for (uri, opts, settled) in cases {
        let walked = walk(root, uri.as_bytes(), opts);
        let looked = open_beneath(dir, uri.as_bytes(), opts);
        assert_eq!(looked.is_some(), settled, "{uri} {opts:?}: the walk says {}", summary(&walked));
        if let Some(found) = looked {
            assert_eq!(summary(&Ok(found)), summary(&walked), "{uri} {opts:?}");
        }
        // map tries the lookup, then walks: always the walk's answer.
        let mapped = map(root, Some(dir), uri.as_bytes(), opts, "GET x HTTP/1.1");
        assert_eq!(summary(&mapped), summary(&walked), "{uri} {opts:?}");
    }
}

#[test]
fn the_walk_answers_what_the_lookup_leaves() {
    let site = Site::new();
    let root = site.root.path();
    let dir = site.ctx.main().document_root_dir().expect("DocumentRoot opens");
    let dir = dir.as_fd();
    let follow = Options { follow_symlinks: true, ..Options::default() };
    let check = |uri: &str, expected: &str| {
        let mapped = map(root, Some(dir), uri.as_bytes(), follow, "GET x HTTP/1.1");
        let expected = expected.replace("{root}", &root.display().to_string());
        assert_eq!(summary(&mapped), expected, "{uri}");
    };
    check("/missing", "missing {root}/missing path_info=false");
    check("/a.json/extra", "missing {root}/a.json path_info=true");
    check(
        "/link_out",
        "403 AH00037: Symbolic link not allowed or link target not accessible: {root}/link_out",
    );
    check("/passwd", "403 AH00037: Symbolic link not allowed or link target not accessible: {root}/passwd");
    check(
        "/dangling",
        "403 AH00037: Symbolic link not allowed or link target not accessible: {root}/dangling",
    );
    check("/fifo", "403 AH00038: Forbidden: {root}/fifo doesn't point to a file or directory");
}

#[test]
fn a_file_is_served_from_the_descriptor_the_lookup_opened() {
    use std::io::Read;
    let site = Site::new();
    let dir = site.ctx.main().document_root_dir().expect("DocumentRoot opens");
    let dir = dir.as_fd();
    let Some(Mapped::Opened { mut file, facts }) =
        open_beneath(dir, b"/linkdir/index.html", Options { follow_symlinks: true, ..Options::default() })
    else {
        panic!("not opened");
    };
    let mut body = String::new();
    file.read_to_string(&mut body).unwrap();
    assert_eq!((body.as_str(), facts.size), ("{}\n", 3));
    assert_eq!(facts.mtime_us, 1_700_000_000_123_456);
}

#[test]
fn without_a_root_descriptor_every_path_is_walked() {
    let site = Site::new();
    let root = site.root.path();
    let follow = Options { follow_symlinks: true, ..Options::default() };
    for uri in ["/a.json", "/dir/", "/missing", "/link_in", "/link_out"] {
        let walked = summary(&walk(root, uri.as_bytes(), follow));
        assert_eq!(summary(&map(root, None, uri.as_bytes(), follow, "GET x HTTP/1.1")), walked);
    }
}
