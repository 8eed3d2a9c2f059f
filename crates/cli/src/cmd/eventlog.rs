//! `boardproof eventlog show|replay`: a TCG PC Client event log, event by event, and the PCR
//! values it replays to.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boardproof_evidence::documents::{
    EventLogEvent, EventLogReplay, EventLogShow, EVENTLOG_REPLAY_SCHEMA, EVENTLOG_SCHEMA,
};
use boardproof_formats::eventlog::{self, algorithm_name, event_type_name, EventLog, Format};
use boardproof_formats::tpm2::HashAlg;

use super::Kind;
use crate::output;
use crate::Outcome;

/// Parses a log read from `path`, naming the file (and the offset) in any error.
pub fn parse<'a>(path: &Path, bytes: &'a [u8]) -> anyhow::Result<EventLog<'a>> {
    eventlog::parse(bytes).with_context(|| format!("{}", path.display()))
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Sha1 => "sha1",
        Format::CryptoAgile => "crypto-agile",
    }
}

pub fn show(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let bytes = super::read(path, Kind::EventLog)?;
    let log = parse(path, &bytes)?;
    let events: Vec<EventLogEvent> = log
        .events
        .iter()
        .map(|e| EventLogEvent {
            index: e.index,
            offset: e.offset,
            pcr: e.pcr,
            event_type: event_type_name(e.event_type),
            type_value: e.event_type,
            digests: e
                .digests
                .iter()
                .map(|(a, d)| (algorithm_name(*a), hex::encode(d)))
                .collect(),
            data_size: e.data.len(),
            description: eventlog::describe(e).to_string(),
        })
        .collect();
    if json {
        let v = EventLogShow {
            schema: EVENTLOG_SCHEMA.into(),
            format: format_name(log.format).into(),
            algorithms: log
                .algorithms()
                .iter()
                .map(|a| (algorithm_name(a.id), a.size))
                .collect(),
            startup_locality: log.startup_locality(),
            events,
        };
        output::print(&output::json(&v)?)?;
        return Ok(Outcome::Clean);
    }
    let algs: Vec<String> = log
        .algorithms()
        .iter()
        .map(|a| algorithm_name(a.id))
        .collect();
    // One digest column for people: the strongest bank, shortened; --json has them all.
    let shown_alg =
        log.algorithms()
            .iter()
            .map(|a| a.id)
            .max_by_key(|id| match HashAlg::from_id(*id) {
                Some(HashAlg::Sha256) => 3,
                Some(HashAlg::Sha384 | HashAlg::Sha512) => 2,
                Some(HashAlg::Sha1) => 1,
                _ => 0,
            });
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let d = shown_alg
                .and_then(|a| e.digests.get(&algorithm_name(a)))
                .map(|h| h.get(..16).unwrap_or(h).to_owned() + "…")
                .unwrap_or_else(|| "-".into());
            vec![
                e.index.to_string(),
                e.pcr.to_string(),
                e.event_type.clone(),
                d,
                e.description.clone(),
            ]
        })
        .collect();
    let mut text = format!(
        "{} log, {} events, banks {}{}\n",
        format_name(log.format),
        events.len(),
        algs.join(", "),
        log.startup_locality()
            .map(|l| format!(", startup locality {l}"))
            .unwrap_or_default()
    );
    let digest_header = shown_alg
        .map(algorithm_name)
        .unwrap_or_else(|| "digest".into());
    text.push_str(&output::listing(
        &["#", "pcr", "type", &digest_header, "data"],
        &rows,
    ));
    output::print(&text)?;
    Ok(Outcome::Clean)
}

pub fn replay(path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let bytes = super::read(path, Kind::EventLog)?;
    let log = parse(path, &bytes)?;
    let banks = eventlog::replay(&log).with_context(|| format!("{}", path.display()))?;
    let v = EventLogReplay {
        schema: EVENTLOG_REPLAY_SCHEMA.into(),
        startup_locality: log.startup_locality(),
        banks: banks
            .iter()
            .filter(|b| b.error.is_none())
            .map(|b| {
                (
                    algorithm_name(b.alg),
                    b.pcrs.iter().map(|(i, v)| (*i, hex::encode(v))).collect(),
                )
            })
            .collect(),
        errors: banks
            .iter()
            .filter_map(|b| Some((algorithm_name(b.alg), b.error.clone()?)))
            .collect(),
    };
    if json {
        output::print(&output::json(&v)?)?;
    } else {
        let mut rows = Vec::new();
        for (alg, pcrs) in &v.banks {
            for (i, val) in pcrs {
                rows.push(vec![alg.clone(), i.to_string(), val.clone()]);
            }
        }
        output::print(&output::listing(&["bank", "pcr", "value"], &rows))?;
    }
    // Exit 2 always says why on stderr, with or without --json.
    for (alg, e) in &v.errors {
        eprintln!(
            "boardproof: error: {}: {alg} bank not replayed: {e}",
            path.display()
        );
    }
    // A bank that could not be replayed is not verified.
    Ok(if v.errors.is_empty() {
        Outcome::Clean
    } else {
        Outcome::CouldNotVerify
    })
}

// The arguments of `boardproof eventlog show`.
#[derive(clap::Args, Debug)]
pub struct Show {
    /// Event log file.
    pub file: PathBuf,
}

impl Show {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { file } = self;
        show(&file, json)
    }
}

// The arguments of `boardproof eventlog replay`.
#[derive(clap::Args, Debug)]
pub struct Replay {
    /// Event log file.
    pub file: PathBuf,
}

impl Replay {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        let Self { file } = self;
        {
            replay(&file, json)
        }
    }
}

// The `boardproof eventlog` commands.
#[derive(clap::Subcommand, Debug)]
pub enum EventlogCommand {
    /// Every event: PCR, type, digests, decoded data.
    Show(Show),
    /// The PCR values the log replays to, per bank.
    Replay(Replay),
}

impl EventlogCommand {
    /// Runs the command.
    pub fn run(self, json: bool) -> anyhow::Result<Outcome> {
        match self {
            EventlogCommand::Show(a) => a.run(json),
            EventlogCommand::Replay(a) => a.run(json),
        }
    }
}
