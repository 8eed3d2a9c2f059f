//! `boardproof`: is this server exactly what its manufacturer built and certified?
//!
//! This binary only parses flags, runs one command and maps its outcome to an exit code:
//! 0 verified / nothing found, 1 findings, 2 could not verify (bad input, missing source,
//! usage). Errors are printed as one line naming the file.
#![warn(missing_docs)]

mod cmd;
mod output;
mod parse;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use boardproof_workflow::Outcome;

#[derive(Parser, Debug)]
#[command(
    name = "boardproof",
    version,
    about = "Is this server exactly what its manufacturer built and certified?",
    long_about = "Collects the identity of a server (SMBIOS, PCI, USB, I2C, disks, NICs, CPUs, \
        kernel modules, ACPI tables, TPM), signs it as a reference, and proves later that \
        nothing was added, removed or swapped.\n\nExit codes: 0 verified / nothing found, \
        1 findings, 2 could not verify (bad input, missing source, usage)."
)]
struct Cli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: Command,
}

/// The flags every command takes.
#[derive(clap::Args, Debug)]
struct Globals {
    /// Print JSON instead of text: the report, the document, or what was written (JSON Schemas
    /// in schemas/).
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Collect evidence from this host (or from a snapshot under --root).
    Collect(cmd::collect::Collect),
    /// Show an evidence file.
    Show(cmd::show::Show),
    /// SMBIOS tools.
    #[command(subcommand)]
    Smbios(cmd::smbios::SmbiosCommand),
    /// Generate a key pair (PREFIX.key, PKCS#8 PEM, mode 0600, and PREFIX.pub, SPKI PEM).
    Keygen(cmd::manifest::Keygen),
    /// Signed manifests.
    #[command(subcommand)]
    Manifest(cmd::manifest::ManifestCommand),
    /// Reference values as CoRIM/CoMID (CBOR, COSE_Sign1): show, export, verify evidence.
    #[command(subcommand)]
    Corim(cmd::corim::CorimCommand),
    /// TCG Platform Certificates: show one, check its signature, compare its components with
    /// evidence.
    #[command(subcommand)]
    PlatformCert(cmd::platform_cert::PlatformCertCommand),
    /// Vendor trust policies: which contract manufacturers may certify which products.
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
    /// Verify evidence against a signed manifest.
    Verify(cmd::verify::Verify),
    /// Main job: collect this host and compare it with its stored baseline (and a manifest).
    Scan(cmd::scan::Scan),
    /// List stored scans.
    History(cmd::scan::History),
    /// TCG PC Client event logs (binary_bios_measurements).
    #[command(subcommand)]
    Eventlog(cmd::eventlog::EventlogCommand),
    /// TPM attestation: the server's keys, and the verifier's challenge.
    #[command(subcommand)]
    Attest(cmd::attest::AttestCommand),
    /// UEFI firmware images: the tree of volumes, files and sections.
    #[command(subcommand)]
    Firmware(cmd::firmware::FirmwareCommand),
    /// Bundles: evidence, manifest, policy, signed verdict and log proofs in one file, checked
    /// elsewhere with public keys only.
    #[command(subcommand)]
    Bundle(cmd::bundle::BundleCommand),
    /// The transparency log in the store: append, show, prove, and check proofs offline.
    #[command(subcommand)]
    Log(cmd::log::LogCommand),
    /// The virtual lab server: boot it, run one scenario, or the whole detection matrix.
    #[command(subcommand)]
    Lab(cmd::lab::LabCommand),
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let json = cli.globals.json;
    match cli.command {
        Command::Collect(a) => a.run(json),
        Command::Show(a) => a.run(json),
        Command::Smbios(a) => a.run(json),
        Command::Keygen(a) => a.run(json),
        Command::Manifest(a) => a.run(json),
        Command::Corim(a) => a.run(json),
        Command::PlatformCert(a) => a.run(json),
        Command::Policy(a) => a.run(json),
        Command::Verify(a) => a.run(json),
        Command::Scan(a) => a.run(json),
        Command::History(a) => a.run(json),
        Command::Eventlog(a) => a.run(json),
        Command::Attest(a) => a.run(json),
        Command::Firmware(a) => a.run(json),
        Command::Bundle(a) => a.run(json),
        Command::Log(a) => a.run(json),
        Command::Lab(a) => a.run(json),
    }
}

fn main() -> ExitCode {
    let cli = match parse::parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Ok(Outcome::CouldNotVerify) => ExitCode::from(2),
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::from(2);
            }
            eprintln!("boardproof: error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// `--help` and `--version` print as clap renders them (exit 0); any other flag error is one
/// line on stderr and exit 2, like every other error.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("boardproof: usage: {}", usage_line(e));
            ExitCode::from(2)
        }
    }
}

/// The first line of clap's message, without its `error: ` prefix, with a pointer to help.
fn usage_line(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "a command is missing (try `boardproof --help`)".to_owned();
    }
    let text = e.render().to_string();
    // The first paragraph: the message and what it lists (missing arguments, valid values).
    let first = text
        .trim_start()
        .split("\n\n")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let first = first.strip_prefix("error: ").unwrap_or(&first);
    let first = if first.is_empty() {
        "bad arguments"
    } else {
        first
    };
    format!("{first} (try `--help`)")
}

/// An error and its causes on one line, each cause once: a cause whose text its wrapper
/// already shows (`{path}: {source}`) is not repeated, and line breaks inside a message
/// become spaces.
/// What to do about a library error, in this binary's terms (the libraries name no flag: a
/// service calls them too).
fn hint(e: &anyhow::Error) -> Option<&'static str> {
    e.chain().find_map(|c| {
        // The workflow's store errors are transparent: the ledger error is inside them.
        let ledger = c.downcast_ref::<boardproof_ledger::Error>().or_else(|| {
            match c.downcast_ref::<boardproof_workflow::Error>()? {
                boardproof_workflow::Error::Store(l) => Some(l),
                _ => None,
            }
        })?;
        match ledger {
            boardproof_ledger::Error::NoStore(_) => Some("check --store"),
            boardproof_ledger::Error::Exists(_) => Some("pass --force to replace it"),
            _ => None,
        }
    })
}

fn one_line(e: &anyhow::Error) -> String {
    let text = one_line_of(e);
    match hint(e) {
        Some(h) => format!("{text} ({h})"),
        None => text,
    }
}

fn one_line_of(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
