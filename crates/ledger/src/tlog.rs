//! The transparency log: an append-only Merkle tree (RFC 6962 / RFC 9162 hashing) of what
//! boardproof records — manifests, policies, verdicts — kept in the embedded store, with signed
//! checkpoints in the C2SP tlog-checkpoint / signed-note formats, inclusion and consistency
//! proofs, and an audit that replays the whole log against every checkpoint it published.
//!
//! The tree math and the note format are Cloudflare's `tlog_tiles` and `signed_note` (ports of
//! Go's golang.org/x/mod/sumdb, the reference for both formats); this module stores the tree's
//! hashes in SQLite the way Go's tlog stores them (one row per stored hash index, written with
//! the leaf in one transaction, so a kill during an append leaves the log as it was) and signs
//! checkpoints with the store's Ed25519 log key.
//!
//! What a third party needs to check a verdict was logged: the log's verifier key (`name+id+key`,
//! public), a checkpoint, the leaf and its inclusion proof — see [`verify_inclusion`]; no store.

use std::collections::BTreeMap;

use crate::Error;
use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension};
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::{
    check_record, check_tree, prove_record, prove_tree, record_hash, stored_hash_index,
    stored_hashes, tree_hash, Checkpoint, Hash, HashReader,
};

/// Tables of the log (created with the store's other tables).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tlog_leaves(
    idx INTEGER PRIMARY KEY,
    data BLOB NOT NULL,
    appended_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_hashes(
    idx INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_checkpoints(
    size INTEGER PRIMARY KEY,
    note BLOB NOT NULL
);
";

/// The log's signing identity: a name (the checkpoint's origin) and an Ed25519 key.
pub struct LogKey {
    signer: StandardSigner,
    /// The verifier key (`name+id+base64`): public, what third parties check checkpoints with.
    pub verifier: String,
    /// The origin line of every checkpoint.
    pub origin: String,
}

impl LogKey {
    /// The log key of `origin` signed with `key`. The origin must be a valid note key name (no
    /// spaces, no `+`), e.g. `boardproof.example/factory-log`.
    pub fn new(origin: &str, key: &ed25519_dalek::SigningKey) -> Result<LogKey, Error> {
        let verifier = signed_note::new_ed25519_verifier_key(origin, &key.verifying_key());
        let id = verifier
            .split('+')
            .nth(1)
            .ok_or_else(|| malformed("log key", "verifier key without an id"))?;
        let mut private = vec![1u8];
        private.extend_from_slice(&key.to_bytes());
        let skey = format!(
            "PRIVATE+KEY+{origin}+{id}+{}",
            base64::engine::general_purpose::STANDARD.encode(&private)
        );
        let signer =
            StandardSigner::new(&skey).map_err(|e| malformed("log origin", e.to_string()))?;
        Ok(LogKey {
            signer,
            verifier,
            origin: origin.to_owned(),
        })
    }
}

impl LogKey {
    /// Signs `text` (which must end in a newline) as a C2SP signed note: the text, a blank
    /// line, and one signature line for this key.
    pub fn sign_note(&self, text: &[u8]) -> Result<Vec<u8>, Error> {
        let mut note = Note::new(text, &[]).map_err(|e| malformed("note text", e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| malformed("note signature", e.to_string()))?;
        Ok(note.to_bytes())
    }
}

fn malformed(what: &'static str, why: impl Into<String>) -> Error {
    Error::LogMalformed {
        what,
        why: why.into(),
    }
}

/// Reads stored hashes from the store; a missing or damaged row is an error, never a panic in
/// the tree code (which asserts on a short answer).
struct Reader<'a>(&'a Connection);

impl HashReader for Reader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT hash FROM tlog_hashes WHERE idx = ?1")
            .map_err(|_| tlog_tiles::Error::InvalidInput("store unreadable".into()))?;
        indexes
            .iter()
            .map(|i| {
                let blob: Option<Vec<u8>> = i64::try_from(*i)
                    .ok()
                    .and_then(|k| stmt.query_row([k], |r| r.get(0)).optional().ok().flatten());
                blob.and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .map(Hash)
                    .ok_or_else(|| tlog_tiles::Error::InvalidInput(format!("stored hash {i}")))
            })
            .collect()
    }
}

/// Stored hashes recomputed in memory, for the audit.
struct Memory<'a>(&'a [Hash]);

impl HashReader for Memory<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                usize::try_from(*i)
                    .ok()
                    .and_then(|i| self.0.get(i).copied())
                    .ok_or_else(|| tlog_tiles::Error::InvalidInput(format!("stored hash {i}")))
            })
            .collect()
    }
}

fn tree_error(e: tlog_tiles::Error) -> Error {
    match e {
        tlog_tiles::Error::InvalidInput(what) if what.starts_with("stored hash ") => what
            .trim_start_matches("stored hash ")
            .parse()
            .map_or_else(|_| Error::LogProof(what.clone()), Error::LogHash),
        e => Error::LogProof(e.to_string()),
    }
}

fn index(n: u64) -> Result<i64, Error> {
    i64::try_from(n).map_err(|_| Error::LogRange(format!("index {n} too large")))
}

/// The number of leaves: one past the last index (a lookup in the primary key, where COUNT(*)
/// would scan the table on every append; a gap in the indexes is the audit's to report).
pub fn size(conn: &Connection) -> Result<u64, Error> {
    let n: i64 = conn.query_row(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM tlog_leaves",
        [],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Appends `leaves` in one transaction and signs a checkpoint of the new size: either every
/// leaf, its hashes and the checkpoint are stored, or nothing is. Returns the first new index
/// and the checkpoint.
pub fn append(
    conn: &mut Connection,
    key: &LogKey,
    leaves: &[Vec<u8>],
    now: &str,
) -> Result<(u64, Vec<u8>), Error> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let out = append_in(&tx, key, leaves, now)?;
    tx.commit()?;
    Ok(out)
}

/// [`append`] inside a transaction the caller commits, so that a log entry and the record it
/// stands for (a scan, a verdict) are stored together or not at all.
pub fn append_in(
    tx: &rusqlite::Transaction<'_>,
    key: &LogKey,
    leaves: &[Vec<u8>],
    now: &str,
) -> Result<(u64, Vec<u8>), Error> {
    let first = size(tx)?;
    {
        let mut put_hash =
            tx.prepare_cached("INSERT INTO tlog_hashes(idx, hash) VALUES (?1, ?2)")?;
        let mut put_leaf = tx.prepare_cached(
            "INSERT INTO tlog_leaves(idx, data, appended_at) VALUES (?1, ?2, ?3)",
        )?;
        for (i, data) in leaves.iter().enumerate() {
            let n = first.saturating_add(i as u64);
            let hashes = stored_hashes(n, data, &Reader(tx)).map_err(tree_error)?;
            let base = stored_hash_index(0, n);
            for (k, h) in hashes.iter().enumerate() {
                put_hash.execute(params![
                    index(base.saturating_add(k as u64))?,
                    h.0.as_slice()
                ])?;
            }
            put_leaf.execute(params![index(n)?, data, now])?;
        }
    }
    let new_size = first.saturating_add(leaves.len() as u64);
    let note = sign_checkpoint(tx, key, new_size)?;
    tx.execute(
        "INSERT OR REPLACE INTO tlog_checkpoints(size, note) VALUES (?1, ?2)",
        params![index(new_size)?, note],
    )?;
    Ok((first, note))
}

fn sign_checkpoint(conn: &Connection, key: &LogKey, n: u64) -> Result<Vec<u8>, Error> {
    let root = tree_hash(n, &Reader(conn)).map_err(tree_error)?;
    let cp = Checkpoint::new(&key.origin, n, root, "")
        .map_err(|e| malformed("checkpoint", e.to_string()))?;
    key.sign_note(&cp.to_bytes())
}

/// The root hash of the first `n` leaves.
pub fn root(conn: &Connection, n: u64) -> Result<[u8; 32], Error> {
    if n > size(conn)? {
        return Err(Error::LogRange(format!(
            "the log has fewer than {n} leaves"
        )));
    }
    Ok(tree_hash(n, &Reader(conn)).map_err(tree_error)?.0)
}

/// The leaf at `n`.
pub fn leaf(conn: &Connection, n: u64) -> Result<Vec<u8>, Error> {
    conn.query_row(
        "SELECT data FROM tlog_leaves WHERE idx = ?1",
        [index(n)?],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::LogRange(format!("no entry {n}")))
}

/// The inclusion proof of leaf `n` in the tree of size `t`.
pub fn prove_inclusion(conn: &Connection, n: u64, t: u64) -> Result<Vec<[u8; 32]>, Error> {
    if t > size(conn)? || n >= t {
        return Err(Error::LogRange(format!(
            "entry {n} is not in a tree of {t} leaves of this log"
        )));
    }
    Ok(prove_record(t, n, &Reader(conn))
        .map_err(tree_error)?
        .into_iter()
        .map(|h| h.0)
        .collect())
}

/// The consistency proof of the tree of size `old` within the tree of size `new`.
pub fn prove_consistency(conn: &Connection, old: u64, new: u64) -> Result<Vec<[u8; 32]>, Error> {
    if new > size(conn)? || old == 0 || old > new {
        return Err(Error::LogRange(format!(
            "no consistency proof from {old} to {new} leaves in this log"
        )));
    }
    Ok(prove_tree(new, old, &Reader(conn))
        .map_err(tree_error)?
        .into_iter()
        .map(|h| h.0)
        .collect())
}

/// A checkpoint verifier whose signature check is the one stack's (`boardproof-signature`),
/// like every other signature boardproof checks; `signed_note` still parses the key and the
/// note.
struct LogVerifier {
    name: String,
    id: u32,
    key: [u8; 32],
}

impl LogVerifier {
    /// Parses `name+id+base64(0x01 ‖ key)`; `signed_note` checks the name, the id (a hash of
    /// name and key) and the algorithm first.
    fn new(verifier: &str) -> Result<LogVerifier, Error> {
        let bad = |e: String| malformed("verifier key", e);
        let parsed = StandardVerifier::new(verifier).map_err(|e| bad(e.to_string()))?;
        // The name has no '+' (signed_note checked); the base64 part may well have some.
        let encoded = verifier.splitn(3, '+').nth(2).unwrap_or_default();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| bad(e.to_string()))?;
        let key = raw
            .get(1..)
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .ok_or_else(|| bad("not an Ed25519 verifier key".into()))?;
        Ok(LogVerifier {
            name: signed_note::Verifier::name(&parsed).to_owned(),
            id: signed_note::Verifier::key_id(&parsed),
            key,
        })
    }
}

impl signed_note::Verifier for LogVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        boardproof_signature::verify(
            boardproof_signature::PublicKey::Ed25519(&self.key),
            boardproof_signature::Scheme::Ed25519,
            msg,
            sig,
        )
        .is_ok()
    }
}

/// Opens a signed checkpoint with the log's verifier key: its size and root. A note signed by
/// another key, a damaged signature or text that is no checkpoint is an error.
pub fn open_checkpoint(note: &[u8], verifier: &str) -> Result<(String, u64, [u8; 32]), Error> {
    let v = LogVerifier::new(verifier)?;
    let n = Note::from_bytes(note).map_err(|e| malformed("checkpoint note", e.to_string()))?;
    n.verify(&VerifierList::new(vec![Box::new(v)]))
        .map_err(|e| Error::LogSignature(format!("{verifier}: {e}")))?;
    let cp =
        Checkpoint::from_bytes(n.text()).map_err(|e| malformed("checkpoint", e.to_string()))?;
    Ok((cp.origin().to_owned(), cp.size(), cp.hash().0))
}

/// Offline: `leaf` is entry `n` of the log whose checkpoint `note` the holder of `verifier`
/// signed, by `proof`. Needs nothing but these.
pub fn verify_inclusion(
    note: &[u8],
    verifier: &str,
    leaf: &[u8],
    n: u64,
    proof: &[[u8; 32]],
) -> Result<(), Error> {
    let (_, t, root) = open_checkpoint(note, verifier)?;
    verify_inclusion_in(&root, t, leaf, n, proof)
}

/// The hash part of [`verify_inclusion`]: `leaf` is entry `n` of the tree of `t` leaves whose
/// root is `root`. Only meaningful with a root from a checkpoint whose signature was checked.
pub fn verify_inclusion_in(
    root: &[u8; 32],
    t: u64,
    leaf: &[u8],
    n: u64,
    proof: &[[u8; 32]],
) -> Result<(), Error> {
    let p: Vec<Hash> = proof.iter().copied().map(Hash).collect();
    check_record(&p, t, Hash(*root), n, record_hash(leaf)).map_err(|e| {
        Error::LogProof(format!(
            "entry {n} is not proven in the checkpoint of {t} leaves: {e}"
        ))
    })
}

/// Offline: the checkpoint `new` extends the checkpoint `old` (same key) by `proof`.
pub fn verify_consistency(
    old: &[u8],
    new: &[u8],
    verifier: &str,
    proof: &[[u8; 32]],
) -> Result<(), Error> {
    let (o1, n1, r1) = open_checkpoint(old, verifier)?;
    let (o2, n2, r2) = open_checkpoint(new, verifier)?;
    if o1 != o2 {
        return Err(Error::LogProof(format!(
            "checkpoints of two logs: {o1} and {o2}"
        )));
    }
    let p: Vec<Hash> = proof.iter().copied().map(Hash).collect();
    check_tree(&p, n2, Hash(r2), n1, Hash(r1)).map_err(|e| {
        Error::LogProof(format!(
            "the checkpoint of {n2} leaves does not extend the one of {n1}: {e}"
        ))
    })
}

/// What [`audit`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    /// Leaves replayed.
    pub leaves: u64,
    /// Checkpoints checked (signature, and root against the replayed leaves).
    pub checkpoints: u64,
    /// Everything that does not add up, one sentence each; empty when the log is sound.
    pub problems: Vec<String>,
}

/// Replays every leaf from its stored bytes (not from the stored hashes), and checks every
/// checkpoint ever published: its signature, and its root against the replay at its size. A
/// leaf edited in storage, a hash row edited, a checkpoint that no replay gives: each is a
/// problem named by index or size.
pub fn audit(conn: &Connection, verifier: &str) -> Result<Audit, Error> {
    let mut out = Audit::default();
    let mut cps: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    {
        let mut stmt = conn.prepare("SELECT size, note FROM tlog_checkpoints ORDER BY size")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        for row in rows {
            let (s, note) = row?;
            cps.insert(u64::try_from(s).unwrap_or(0), note);
        }
    }
    // The replay: RFC 6962's tree over record hashes, kept as the stack of complete subtrees.
    let mut stack: Vec<(u64, Hash)> = Vec::new();
    let mut stmt = conn.prepare("SELECT idx, data FROM tlog_leaves ORDER BY idx")?;
    let mut rows = stmt.query([])?;
    let mut n = 0u64;
    let check = |n: u64, stack: &[(u64, Hash)], out: &mut Audit| {
        let Some(note) = cps.get(&n) else { return };
        out.checkpoints = out.checkpoints.saturating_add(1);
        match open_checkpoint(note, verifier) {
            Ok((_, size, root)) if size == n && Hash(root) == fold(stack) => {}
            Ok((_, size, _)) => out.problems.push(format!(
                "checkpoint of {size} leaves (stored as size {n}) does not match the replayed leaves"
            )),
            Err(e) => out.problems.push(format!("checkpoint of size {n}: {e}")),
        }
    };
    check(0, &stack, &mut out);
    // Every stored hash is recomputed from the leaves too: a row edited or deleted is found
    // even where no checkpoint's root would show it.
    let mut mem: Vec<Hash> = Vec::new();
    let mut bad_rows = 0usize;
    while let Some(row) = rows.next()? {
        let idx: i64 = row.get(0)?;
        let data: Vec<u8> = row.get(1)?;
        if u64::try_from(idx).ok() != Some(n) {
            out.problems
                .push(format!("entry {n} is missing (next stored is {idx})"));
            break;
        }
        let mut h = record_hash(&data);
        let mut level = 0u64;
        while stack.last().is_some_and(|(l, _)| *l == level) {
            let Some((_, left)) = stack.pop() else { break };
            h = tlog_tiles::node_hash(left, h);
            level = level.saturating_add(1);
        }
        stack.push((level, h));
        let expected = stored_hashes(n, &data, &Memory(&mem)).map_err(tree_error)?;
        let base = stored_hash_index(0, n);
        let stored = Reader(conn)
            .read_hashes(&(base..base.saturating_add(expected.len() as u64)).collect::<Vec<_>>());
        match stored {
            Ok(s) if s == expected => {}
            Ok(_) | Err(_) => {
                bad_rows = bad_rows.saturating_add(1);
                if bad_rows <= 10 {
                    out.problems.push(format!(
                        "the stored tree hashes written with entry {n} (from index {base}) are \
                         missing or differ from what the leaves give"
                    ));
                }
            }
        }
        mem.extend(expected);
        n = n.saturating_add(1);
        check(n, &stack, &mut out);
    }
    if bad_rows > 10 {
        out.problems.push(format!(
            "{} more entries with bad stored hashes",
            bad_rows - 10
        ));
    }
    out.leaves = n;
    for s in cps.keys().filter(|s| **s > n) {
        out.problems.push(format!(
            "a checkpoint of {s} leaves exists but the log holds {n}"
        ));
    }
    Ok(out)
}

/// The root of a tree from its stack of complete subtrees (largest first).
fn fold(stack: &[(u64, Hash)]) -> Hash {
    let mut it = stack.iter().rev();
    let Some((_, mut h)) = it.next().copied() else {
        return tlog_tiles::EMPTY_HASH;
    };
    for (_, left) in it {
        h = tlog_tiles::node_hash(*left, h);
    }
    h
}
