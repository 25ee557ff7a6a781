//! `cargo xtask tidy`: project conventions, checked as rust-analyzer's tidy is.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Longest a module may grow before it is split along a seam of state.
const MAX_LINES: usize = 800;

pub(crate) fn run(root: &Path) -> Result<()> {
    let architecture =
        std::fs::read_to_string(root.join("ARCHITECTURE.md")).context("reading ARCHITECTURE.md")?;
    let mut problems = Vec::new();
    for file in rust_files(root)? {
        let rel = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {rel}"))?;
        problems.extend(check_file(&rel, &text, &architecture));
    }
    if problems.is_empty() {
        println!("tidy: ok");
        Ok(())
    } else {
        bail!("{} problem(s):\n{}", problems.len(), problems.join("\n"))
    }
}

/// The conventions one file breaks.
fn check_file(rel: &str, text: &str, architecture: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > MAX_LINES {
        problems.push(format!("{rel}: {} lines (more than {MAX_LINES}): split it", lines.len()));
    }
    let is_test_code = rel.contains("/tests/") || rel.starts_with("xtask/");
    for (i, line) in lines.iter().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        // Spelled in pieces so this checker's own patterns do not look like `unsafe` code.
        let opens_unsafe = [concat!("unsafe", " {"), concat!("unsafe", " fn"), concat!("unsafe", " impl")]
            .iter()
            .any(|p| code.contains(p));
        if !opens_unsafe || is_test_code {
            continue;
        }
        let above = &lines[i.saturating_sub(3)..i];
        if !above.iter().chain(std::iter::once(line)).any(|l| l.contains("SAFETY:") || l.contains("# Safety"))
        {
            problems.push(format!("{rel}:{}: `unsafe` without a `// SAFETY:` comment", i + 1));
        }
        if !architecture.contains(rel) {
            problems.push(format!("{rel}:{}: `unsafe` in a module ARCHITECTURE.md does not list", i + 1));
        }
    }
    problems
}

fn rust_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_needs_a_safety_comment_and_a_listed_module() {
        let arch = "core/src/scoreboard.rs";
        let bare = concat!("fn f() {\n    unsafe", " { g() }\n}\n");
        assert_eq!(
            check_file("core/src/scoreboard.rs", bare, arch),
            ["core/src/scoreboard.rs:2: `unsafe` without a `// SAFETY:` comment"]
        );
        let commented = "fn f() {\n    // SAFETY: g has no preconditions.\n    unsafe { g() }\n}\n";
        assert!(check_file("core/src/scoreboard.rs", commented, arch).is_empty());
        assert_eq!(
            check_file("core/src/conn.rs", commented, arch),
            ["core/src/conn.rs:3: `unsafe` in a module ARCHITECTURE.md does not list"]
        );
    }

    #[test]
    fn long_files_are_reported() {
        let long = "//\n".repeat(MAX_LINES + 1);
        assert_eq!(check_file("a.rs", &long, "").len(), 1);
    }

    #[test]
    fn the_project_is_tidy() {
        run(&crate::project_root()).unwrap();
    }
}
