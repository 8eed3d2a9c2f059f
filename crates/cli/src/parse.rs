//! Flag parsing that builds only the clap tree of the command asked for.
//!
//! clap's derive builds the tree of every command, with every argument of every subcommand,
//! before it reads one argument: 414,000 of the 831,000 instructions `boardproof --version`
//! executed, more than decoding a small SMBIOS table, and the page faults of touching each
//! command's code. So when the first argument names a command, only that command's tree is
//! built and parsed. Whatever that narrow tree does not accept as a whole — help, version, an
//! error, a flag before the command — is parsed again by the whole tree, so every message and
//! help text is clap's own. A narrow tree is the whole tree minus the other commands: what it
//! accepts, the whole tree accepts with the same result (the tests compare both).

use std::ffi::OsString;

use clap::{Args, Command as ClapCommand, FromArgMatches, Parser, Subcommand};

use crate::{cmd, Cli, Command, Globals};

/// How one command's derive adds its arguments (or its subcommands) to a clap command.
type Augment = fn(ClapCommand) -> ClapCommand;

/// Every variant of [`Command`] by its command name, in declaration order (a test checks
/// this table against the derive's).
const COMMANDS: &[(&str, Augment)] = &[
    ("collect", <cmd::collect::Collect as Args>::augment_args),
    ("show", <cmd::show::Show as Args>::augment_args),
    ("smbios", nested::<cmd::smbios::SmbiosCommand>),
    ("keygen", <cmd::manifest::Keygen as Args>::augment_args),
    ("manifest", nested::<cmd::manifest::ManifestCommand>),
    ("corim", nested::<cmd::corim::CorimCommand>),
    (
        "platform-cert",
        nested::<cmd::platform_cert::PlatformCertCommand>,
    ),
    ("policy", nested::<cmd::policy::PolicyCommand>),
    ("verify", <cmd::verify::Verify as Args>::augment_args),
    ("scan", <cmd::scan::Scan as Args>::augment_args),
    ("history", <cmd::scan::History as Args>::augment_args),
    ("eventlog", nested::<cmd::eventlog::EventlogCommand>),
    ("attest", nested::<cmd::attest::AttestCommand>),
    ("firmware", nested::<cmd::firmware::FirmwareCommand>),
    ("bundle", nested::<cmd::bundle::BundleCommand>),
    ("log", nested::<cmd::log::LogCommand>),
    ("lab", nested::<cmd::lab::LabCommand>),
];

/// A `#[command(subcommand)]` variant, as the derive builds it.
fn nested<S: Subcommand>(c: ClapCommand) -> ClapCommand {
    S::augment_subcommands(c)
        .subcommand_required(true)
        .arg_required_else_help(true)
}

/// The top-level command with only the named command under it.
fn narrow(name: &str) -> Option<ClapCommand> {
    let &(name, augment) = COMMANDS.iter().find(|(n, _)| *n == name)?;
    let top = Globals::augment_args(ClapCommand::new("boardproof"));
    Some(top.subcommand(augment(ClapCommand::new(name))))
}

/// The parse by the narrow tree of the command `args[1]` names; `None` for anything it does
/// not accept.
fn parse_narrow(args: &[OsString]) -> Option<Cli> {
    let tree = narrow(args.get(1)?.to_str()?)?;
    let mut matches = tree.try_get_matches_from(args).ok()?;
    let globals = Globals::from_arg_matches_mut(&mut matches).ok()?;
    let command = Command::from_arg_matches_mut(&mut matches).ok()?;
    Some(Cli { globals, command })
}

/// Parses the process's arguments.
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os().collect())
}

fn parse_from(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    match parse_narrow(&args) {
        Some(cli) => Ok(cli),
        None => Cli::try_parse_from(args),
    }
}

/// The whole tree, for the tests.
#[cfg(test)]
fn whole() -> ClapCommand {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument of a tree and of its subcommands, as clap describes it, by path.
    fn describe(c: &ClapCommand, path: &str, out: &mut Vec<String>) {
        for a in c.get_arguments() {
            out.push(format!("{path}: {a:?}"));
        }
        let mut subs: Vec<_> = c.get_subcommands().collect();
        subs.sort_by_key(|s| s.get_name().to_owned());
        for s in subs {
            out.push(format!("{path} > {}", s.get_name()));
            describe(s, &format!("{path} {}", s.get_name()), out);
        }
    }

    #[test]
    fn the_table_names_every_command_in_order() {
        let derive: Vec<String> = whole()
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        let table: Vec<String> = COMMANDS.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(table, derive);
    }

    #[test]
    fn each_narrow_tree_is_the_whole_trees_command() {
        let mut whole = whole();
        whole.build();
        for (name, _) in COMMANDS {
            let mut tree = narrow(name).expect("in the table");
            tree.build();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            describe(
                tree.find_subcommand(name).expect("narrow has it"),
                name,
                &mut a,
            );
            describe(
                whole.find_subcommand(name).expect("whole has it"),
                name,
                &mut b,
            );
            assert!(!a.is_empty(), "{name}: no arguments described");
            assert_eq!(a, b, "{name}");
            // The whole tree's own --help and --version are left out: asked for, the narrow
            // tree refuses them and the whole tree answers.
            let top = |c: &ClapCommand| -> Vec<String> {
                c.get_arguments()
                    .filter(|a| a.get_id() != "version" && a.get_id() != "help")
                    .map(|a| format!("{a:?}"))
                    .collect()
            };
            assert_eq!(top(&tree), top(&whole), "{name}: top-level arguments");
        }
    }

    fn argv(line: &str) -> Vec<OsString> {
        std::iter::once("boardproof")
            .chain(line.split_whitespace())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn the_narrow_parse_is_the_whole_parse() {
        let accepted = [
            "collect --out ev.json",
            "show ev.json --json",
            "smbios decode table.bin",
            "keygen --out k",
            "verify ev.json --manifest m.json --pubkey k.pub --json",
            "scan --json",
            "history --json",
            "eventlog replay log.bin",
            "firmware inspect --json fw.fd",
            "lab list --json",
            "log show",
        ];
        for line in accepted {
            let args = argv(line);
            let fast = parse_narrow(&args);
            let slow = Cli::try_parse_from(args.clone());
            let (Some(fast), Ok(slow)) = (fast, slow) else {
                panic!("{line}: both trees must accept it");
            };
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
        }
        // Refused by the narrow tree, so the whole tree answers: help, version, flags before
        // the command, errors, unknown commands.
        for line in [
            "--help",
            "--json scan",
            "scan --help",
            "smbios",
            "smbios decode",
            "verify --no-such-flag",
            "help scan",
            "nonsense",
        ] {
            assert!(parse_narrow(&argv(line)).is_none(), "{line}");
        }
        assert_eq!(
            parse_from(argv("smbios decode"))
                .map(|_| ())
                .map_err(|e| e.kind()),
            Cli::try_parse_from(argv("smbios decode"))
                .map(|_| ())
                .map_err(|e| e.kind()),
        );
    }
}
