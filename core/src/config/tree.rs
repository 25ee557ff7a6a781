//! The configuration tree: every directive with its file and line; sections
//! hold their contents. Conditionals (`<IfModule>`, `<IfDefine>` ...) and
//! read-time directives (`Include`, `Define` ...) are gone by the time a tree
//! exists: the reader has already acted on them.

use super::error::Location;

/// Which part of the command line or files a directive came from. `-C` lines
/// are read before the files and `-c` lines after them, as httpd does; for the
/// typed settings both rank above the files and `HTTPD_*` variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A `-C` directive (or a file it included).
    PreCommand,
    /// The configuration file (or a file it included).
    File,
    /// A `-c` directive (or a file it included).
    PostCommand,
}

/// One directive or section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The name as written (`listen`, `<Directory`); sections keep their `<`.
    pub name: String,
    /// The words of the arguments (for a section, those inside `<... >`).
    pub args: Vec<String>,
    pub at: Location,
    pub origin: Origin,
    /// A section's contents; empty for a plain directive.
    pub children: Vec<Node>,
}

impl Node {
    pub fn is_section(&self) -> bool {
        self.name.starts_with('<')
    }

    /// The section name without `<` (`Directory`), or the directive name.
    pub fn bare_name(&self) -> &str {
        self.name.trim_start_matches('<')
    }
}

/// One file read through `Include`/`IncludeOptional`, for `-D DUMP_INCLUDES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedFile {
    /// 0 for the main configuration file, 1 for what it includes, ...
    pub depth: usize,
    /// The line of the `Include` that read it (0 for the main file).
    pub line: usize,
    pub path: String,
}
