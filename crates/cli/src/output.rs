//! Printing for people: tables (colour only on a terminal) and progress bars on stderr.

use std::io::{IsTerminal, Write};

use boardproof_evidence::{Finding, Report, Severity, SourceReport, SourceStatus};
use comfy_table::{presets, Cell, Color, ContentArrangement, Table};

/// A table with the house style.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    let preset = if colour() {
        presets::UTF8_FULL_CONDENSED
    } else {
        presets::ASCII_BORDERS_ONLY_CONDENSED
    };
    // Wrapping to the terminal's width only makes sense on a terminal; piped output keeps
    // whole lines (and skips comfy-table's costly width search, most of `smbios decode`'s time).
    let arrangement = if std::io::stdout().is_terminal() {
        ContentArrangement::Dynamic
    } else {
        ContentArrangement::Disabled
    };
    t.load_preset(preset)
        .set_content_arrangement(arrangement)
        .set_header(header.iter().copied());
    if !colour() {
        t.force_no_tty();
    }
    t
}

/// A long listing as aligned columns under a header line.
///
/// Written here rather than with comfy-table because a table of a few hundred rows costs
/// comfy-table ~10 million instructions (per-cell wrapping and alignment), which made
/// `smbios decode` slower than dmidecode; plain padding is all a listing needs.
pub fn listing(header: &[&str], rows: &[Vec<String>]) -> String {
    fn width(s: &str) -> usize {
        if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        }
    }
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let last = widths.len().saturating_sub(1);
    let mut out =
        String::with_capacity(rows.len().saturating_add(1) * widths.iter().sum::<usize>());
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            out.push_str(cell);
            if i < last {
                // Two spaces between columns; the last column is not padded.
                let pad = w.saturating_sub(width(cell)) + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// Colour only on a terminal, and never with NO_COLOR set.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Writes text to stdout; a closed pipe ends quietly (the caller's exit code stands).
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Prints what a writing command wrote: `text` for people, or the [`Written`] document with
/// `--json`.
///
/// [`Written`]: boardproof_evidence::Written
pub fn written(w: &boardproof_evidence::Written, json_out: bool, text: &str) -> anyhow::Result<()> {
    if json_out {
        print(&json(w)?)
    } else {
        print(text)
    }
}

/// Pretty JSON of a value, with a trailing newline.
pub fn json<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

fn severity_cell(s: Severity) -> Cell {
    let c = Cell::new(s.as_str());
    match s {
        Severity::Critical => c.fg(Color::Red).add_attribute(comfy_table::Attribute::Bold),
        Severity::High => c.fg(Color::Red),
        Severity::Medium => c.fg(Color::Yellow),
        Severity::Low => c.fg(Color::Cyan),
    }
}

/// Prints a report (JSON or text) and gives its outcome: findings, or clean.
pub fn report(r: &Report, json_out: bool) -> anyhow::Result<crate::Outcome> {
    if json_out {
        print(&json(r)?)?;
    } else {
        print(&report_text(r))?;
    }
    Ok(if r.findings.is_empty() {
        crate::Outcome::Clean
    } else {
        crate::Outcome::Findings
    })
}

/// The findings table, grouped by severity (findings arrive sorted most severe first): what
/// and where, one short line each. Expected and observed values can be hundreds of characters
/// (a component's whole identity); they follow the table, one finding at a time, so that no
/// table is wider than its subjects.
pub fn findings_table(findings: &[Finding]) -> String {
    let mut t = table(&["severity", "kind", "subject"]);
    for f in findings {
        t.add_row(vec![
            severity_cell(f.severity),
            Cell::new(f.kind.as_str()),
            Cell::new(&f.subject),
        ]);
    }
    t.to_string()
}

/// A whole report for people.
pub fn report_text(r: &Report) -> String {
    let mut s = format!("Compared with {}\n", r.reference);
    // How much was seen: a verdict over half the sources is not one over all of them.
    let unseen = if r.unavailable.is_empty() {
        String::new()
    } else {
        format!(
            "{} of {} sources unavailable: {}",
            r.unavailable.len(),
            r.sources,
            r.unavailable
                .iter()
                .map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if r.findings.is_empty() {
        if unseen.is_empty() {
            s.push_str("VERIFIED: no difference from the reference in anything compared.\n");
        } else {
            s.push_str(&format!(
                "VERIFIED — {unseen}; no difference from the reference in what the others show \
                 (require sources with --require).\n"
            ));
        }
    } else {
        if !unseen.is_empty() {
            s.push_str(&format!("{unseen}.\n"));
        }
        let count = |sev| r.findings.iter().filter(|f| f.severity == sev).count();
        s.push_str(&format!(
            "FINDINGS: {} ({} critical, {} high, {} medium, {} low)\n",
            r.findings.len(),
            count(Severity::Critical),
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low)
        ));
        s.push_str(&findings_table(&r.findings));
        s.push('\n');
        for f in &r.findings {
            s.push_str(&format!("- [{}] {}\n", f.kind.as_str(), f.message));
            if let Some(e) = &f.expected {
                s.push_str(&format!("    expected: {e}\n"));
            }
            if let Some(o) = &f.observed {
                s.push_str(&format!("    observed: {o}\n"));
            }
        }
    }
    for n in &r.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}

/// The sources table.
pub fn sources_table(sources: &[SourceReport]) -> String {
    let mut t = table(&["source", "status", "items", "details"]);
    for s in sources {
        let status = Cell::new(s.status.as_str());
        let status = match s.status {
            SourceStatus::Ok => status.fg(Color::Green),
            SourceStatus::Unavailable => status.fg(Color::Yellow),
            SourceStatus::Error => status.fg(Color::Red),
        };
        let mut details: Vec<String> = s.reason.iter().cloned().collect();
        details.extend(s.notes.iter().cloned());
        t.add_row(vec![
            Cell::new(s.name),
            status,
            Cell::new(s.items),
            Cell::new(details.join("\n")),
        ]);
    }
    t.to_string()
}

/// Warns once on stderr when collecting from this host without root: root-only files (PCIe
/// extended config space with device serial numbers, ACPI tables, the TPM event log) are
/// then missing, and evidence compared with a reference made as root shows differences that
/// are only about privilege.
pub fn warn_if_not_root(root: &std::path::Path) {
    use std::os::unix::fs::MetadataExt;
    if root != std::path::Path::new("/") {
        return;
    }
    if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() != 0) {
        eprintln!(
            "boardproof: warning: not running as root: PCIe serial numbers, ACPI tables and the \
             TPM event log cannot be read; compare this evidence only with references made \
             the same way"
        );
    }
}

/// A progress bar over the collection sources, on stderr, shown only on a terminal.
pub fn source_progress() -> impl FnMut(&str, usize, usize) {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(boardproof_collect::SOURCES.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} collecting [{bar:20}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    move |name: &str, i: usize, total: usize| {
        bar.set_position(i as u64);
        bar.set_message(name.to_owned());
        if i >= total {
            bar.finish_and_clear();
        }
    }
}
