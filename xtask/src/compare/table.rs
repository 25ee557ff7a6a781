//! A table rendered as aligned text for the terminal, or as Markdown for report.md.

pub(crate) struct Table {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(title: String, headers: &[&str]) -> Table {
        Table { title, headers: headers.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    /// A row; missing cells at its end are left blank.
    pub(crate) fn row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.headers.len().max(cells.len()), String::new());
        self.rows.push(cells);
    }

    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            // A row cut short (a failed server) spills its message over the columns it skips.
            if self.headers.len() > 2 && row.iter().skip(2).all(String::is_empty) {
                continue;
            }
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        widths
    }

    /// The first column left-aligned, the others right-aligned.
    pub(crate) fn to_text(&self) -> String {
        let widths = self.widths();
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let pad = w.saturating_sub(cell.chars().count());
                if i == 0 {
                    s += &format!("{cell}{}", " ".repeat(pad));
                } else {
                    s += &format!("  {}{cell}", " ".repeat(pad));
                }
            }
            s.trim_end().to_owned() + "\n"
        };
        let mut out = format!("{}\n", self.title);
        out += &line(&self.headers);
        out += &line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
        for row in &self.rows {
            out += &line(row);
        }
        out
    }

    pub(crate) fn to_markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = line(&self.headers);
        let align: Vec<String> =
            (0..self.headers.len()).map(|i| if i == 0 { "---".into() } else { "---:".into() }).collect();
        out += &line(&align);
        for row in &self.rows {
            out += &line(row);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_text_and_markdown() {
        let mut t = Table::new("t".into(), &["server", "req/s"]);
        t.row(vec!["a".into(), "1".into()]);
        t.row(vec!["bb".into(), "1000".into()]);
        assert_eq!(t.to_text(), "t\nserver  req/s\n------  -----\na           1\nbb       1000\n");
        assert_eq!(t.to_markdown(), "| server | req/s |\n| --- | ---: |\n| a | 1 |\n| bb | 1000 |\n");
        // Two columns, the second wider than its header (one scenario's summary).
        let mut t = Table::new("t".into(), &["server", "x"]);
        t.row(vec!["event-server".into(), "10 / 2 ms".into()]);
        assert_eq!(
            t.to_text(),
            "t\nserver                x\n------------  ---------\nevent-server  10 / 2 ms\n"
        );
    }
}
