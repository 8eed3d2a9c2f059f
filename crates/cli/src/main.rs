//! `boardproof`: is this server exactly what its manufacturer built and certified?
//!
//! This binary only parses flags, runs one command and maps its outcome to an exit code:
//! 0 verified / nothing found, 1 findings, 2 could not verify (bad input, missing source,
//! usage). Errors are printed as one line naming the file.
#![warn(missing_docs)]

mod cmd;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Collect evidence from this host (or from a snapshot under --root).
    Collect(CollectArgs),
    /// Show an evidence file.
    Show {
        /// Evidence JSON file.
        evidence: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// SMBIOS tools.
    #[command(subcommand)]
    Smbios(SmbiosCommand),
    /// Generate a key pair (PREFIX.key, PKCS#8 PEM, mode 0600, and PREFIX.pub, SPKI PEM).
    Keygen {
        /// Path prefix of the two files.
        #[arg(long)]
        out: PathBuf,
        /// `ed25519` or `ecdsa-p256`.
        #[arg(long, default_value = "ed25519", value_parser = parse_algorithm)]
        algorithm: boardproof_ledger::keys::Algorithm,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        /// Print what was written as JSON (schemas/written-v1.json).
        #[arg(long)]
        json: bool,
    },
    /// Signed manifests.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Reference values as CoRIM/CoMID (CBOR, COSE_Sign1): show, export, verify evidence.
    #[command(subcommand)]
    Corim(CorimCommand),
    /// TCG Platform Certificates: show one, check its signature, compare its components with
    /// evidence.
    #[command(subcommand)]
    PlatformCert(PlatformCertCommand),
    /// Vendor trust policies: which contract manufacturers may certify which products.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Verify evidence against a signed manifest.
    Verify {
        /// Evidence JSON file.
        evidence: PathBuf,
        /// Manifest (DSSE envelope).
        #[arg(long)]
        manifest: PathBuf,
        /// Public key of the manifest's signer (PEM).
        #[arg(long, required_unless_present = "policy", conflicts_with = "policy")]
        pubkey: Option<PathBuf>,
        /// Trust the manifest under this vendor trust policy (`policy sign`) instead of one
        /// key: its signer must be a manufacturer the policy allows for this product and date.
        #[arg(long, requires = "vendor_key")]
        policy: Option<PathBuf>,
        /// The vendor's root public key, which signed --policy.
        #[arg(long, requires = "policy")]
        vendor_key: Option<PathBuf>,
        /// The secret `attest challenge` kept: the evidence's quote must be over it.
        #[arg(long)]
        challenge_secret: Option<PathBuf>,
        /// CA certificates (PEM or DER) the EK certificate must chain to; repeatable.
        #[arg(long)]
        ek_ca: Vec<PathBuf>,
        /// Judge IMA-measured files against this list (`sha256sum` format) instead of the
        /// manifest's IMA list.
        #[arg(long)]
        ima_allowlist: Option<PathBuf>,
        /// A measured-boot change you expect (`pcr=4,type=EV_EFI_BOOT_SERVICES_APPLICATION,
        /// text=grubx64.efi`; any subset, text last): matching eventlog-event-changed findings
        /// become notes naming the declaration. Repeatable. See docs/verify.md.
        #[arg(long)]
        expect_change: Vec<String>,
        /// Sources the evidence must have (`smbios,tpm,pci`…; repeatable): each one that is
        /// not `ok` is a `source-missing` finding, whatever the reference had.
        #[arg(long, value_delimiter = ',', value_name = "SOURCE")]
        require: Vec<boardproof_evidence::Source>,
        /// Store the verdict (an in-toto statement naming the evidence and the manifest by
        /// digest) and append it to the store's transparency log.
        #[arg(long)]
        record: bool,
        /// Store directory for --record.
        #[arg(long, requires = "record")]
        store: Option<PathBuf>,
        /// Sign the verdict with this private key (the customer's or auditor's).
        #[arg(long)]
        sign_key: Option<PathBuf>,
        /// Write the signed verdict (DSSE envelope) here.
        #[arg(long, requires = "sign_key")]
        verdict_out: Option<PathBuf>,
        /// Who decides, in the verdict (default: user@hostname).
        #[arg(long)]
        decided_by: Option<String>,
        /// Replace an existing --verdict-out file.
        #[arg(long)]
        force: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Main job: collect this host and compare it with its stored baseline (and a manifest).
    Scan(ScanArgs),
    /// List stored scans.
    History {
        /// Store directory.
        #[arg(long)]
        store: Option<PathBuf>,
        /// Only this host key.
        #[arg(long)]
        host: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// TCG PC Client event logs (binary_bios_measurements).
    #[command(subcommand)]
    Eventlog(EventlogCommand),
    /// TPM attestation: the server's keys, and the verifier's challenge.
    #[command(subcommand)]
    Attest(AttestCommand),
    /// UEFI firmware images: the tree of volumes, files and sections.
    #[command(subcommand)]
    Firmware(FirmwareCommand),
    /// Bundles: evidence, manifest, policy, signed verdict and log proofs in one file, checked
    /// elsewhere with public keys only.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// The transparency log in the store: append, show, prove, and check proofs offline.
    #[command(subcommand)]
    Log(LogCommand),
    /// The virtual lab server: boot it, run one scenario, or the whole detection matrix.
    #[command(subcommand)]
    Lab(LabCommand),
}

#[derive(Subcommand, Debug)]
enum BundleCommand {
    /// Put a signed verdict (`verify --sign-key --verdict-out`) and everything it names into
    /// one file, with inclusion proofs of the verdict (required) and of the manifest and policy.
    Create {
        /// The evidence the verdict names.
        #[arg(long)]
        evidence: PathBuf,
        /// The manifest the verdict names.
        #[arg(long)]
        manifest: PathBuf,
        /// The trust policy, when the verdict was judged under one.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The signed verdict.
        #[arg(long)]
        verdict: PathBuf,
        /// Inclusion proof files (`log prove`); repeatable.
        #[arg(long)]
        proof: Vec<PathBuf>,
        /// Also add proofs from this store's log for every bundled file it holds.
        #[arg(long)]
        store: Option<PathBuf>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
        /// Print what was written as JSON (schemas/written-v1.json).
        #[arg(long)]
        json: bool,
    },
    /// Re-check a bundle with public keys only: the verdict's signature and subjects, the
    /// manifest's trust, the evidence against it (as of the verdict's time), every log proof.
    /// Exit 0 verified, 1 a check failed, 2 unreadable.
    Verify {
        /// Bundle file.
        bundle: PathBuf,
        /// The manifest signer's public key (bundles without a policy).
        #[arg(long, conflicts_with = "vendor_key")]
        pubkey: Option<PathBuf>,
        /// The vendor's root public key (bundles with a policy).
        #[arg(long)]
        vendor_key: Option<PathBuf>,
        /// The public key of whoever signed the verdict.
        #[arg(long)]
        verdict_key: PathBuf,
        /// Verifier keys of the logs whose proofs are in the bundle (key or file); repeatable.
        #[arg(long, required = true)]
        log_key: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum CorimCommand {
    /// Decode a CoRIM (signed or not) or a bare CoMID: environments and measurements.
    Show {
        /// CoRIM file.
        corim: PathBuf,
        /// Check the COSE_Sign1 signature with this public key.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export evidence's PCR values and firmware item digests as a signed CoRIM.
    Export {
        /// Evidence file.
        evidence: PathBuf,
        /// Signing key (Ed25519: EdDSA; P-256: ES256).
        #[arg(long)]
        key: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// PCRs to include (boot-time ones by default).
        #[arg(long, value_delimiter = ',', default_value = "0,1,2,3,4,5,6,7")]
        pcrs: Vec<u32>,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
        /// Print what was written as JSON (schemas/written-v1.json).
        #[arg(long)]
        json: bool,
    },
    /// Compare evidence with a signed CoRIM's reference values (PCRs, firmware digests).
    /// Exit 0 all match, 1 findings, 2 unreadable or the signature does not verify.
    Verify {
        /// Evidence file.
        evidence: PathBuf,
        /// CoRIM file.
        #[arg(long)]
        corim: PathBuf,
        /// Public key of the CoRIM's signer.
        #[arg(long)]
        key: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum PlatformCertCommand {
    /// Decode a platform certificate (PEM or DER): platform, holder, issuer, components.
    Show {
        /// Certificate file.
        cert: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a base certificate's signature (and each delta's) against the issuing CA, and
    /// with --evidence compare its platform and components with the evidence. Exit 0 valid and
    /// matching, 1 not, 2 unreadable.
    Verify {
        /// Base platform certificate.
        cert: PathBuf,
        /// CA certificates (PEM or DER), each a trust anchor; repeatable.
        #[arg(long, required = true)]
        ca: Vec<PathBuf>,
        /// Delta certificates, applied in order; repeatable.
        #[arg(long)]
        delta: Vec<PathBuf>,
        /// Evidence to compare the listed components with.
        #[arg(long)]
        evidence: Option<PathBuf>,
        /// Check validity at this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write an inventory (evidence, or a signed manifest's reference) as a paccor component
    /// list, the JSON a platform certificate is made from.
    Components {
        /// Evidence file.
        evidence: Option<PathBuf>,
        /// A signed manifest instead of evidence.
        #[arg(long, requires = "pubkey", conflicts_with = "evidence")]
        manifest: Option<PathBuf>,
        /// The manifest signer's public key.
        #[arg(long, requires = "manifest")]
        pubkey: Option<PathBuf>,
        /// Write here (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
        /// Print what was written as JSON (schemas/written-v1.json); needs --out.
        #[arg(long, requires = "out")]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Sign a policy written as JSON (see docs/chain-of-custody.md) with the vendor's root
    /// key; the keys it names (PEM files, relative to it) are embedded. The policy is
    /// appended to the store's log.
    Sign {
        /// The policy input (JSON).
        input: PathBuf,
        /// The vendor's private key.
        #[arg(long)]
        key: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Store whose log records the policy.
        #[arg(long)]
        store: Option<PathBuf>,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
        /// Print what was written as JSON (schemas/written-v1.json).
        #[arg(long)]
        json: bool,
    },
    /// Show a policy; checks its signature when --vendor-key is given.
    Show {
        /// Policy file.
        policy: PathBuf,
        /// The vendor's public key.
        #[arg(long)]
        vendor_key: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum LogCommand {
    /// Start the store's log: its name (origin) and Ed25519 key. Without this, the first
    /// append starts it as `boardproof.local/HOSTNAME` with a new key.
    Init {
        /// Store directory.
        #[arg(long)]
        store: Option<PathBuf>,
        /// The log's name, on every checkpoint (e.g. `factory.example.com/boardproof`).
        #[arg(long)]
        origin: Option<String>,
        /// Use this Ed25519 private key (PKCS#8 PEM) instead of a new one.
        #[arg(long, requires = "origin")]
        key: Option<PathBuf>,
        /// Print what was written as JSON (schemas/written-v1.json).
        #[arg(long)]
        json: bool,
    },
    /// Append files: a signed file (DSSE: manifest, policy, verdict) by the SHA-256 of its
    /// payload, anything else by the SHA-256 of its bytes. All or none are appended.
    Append {
        /// Files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Store directory.
        #[arg(long)]
        store: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Size, root, verifier key, latest checkpoint and the last entries.
    Show {
        /// Store directory.
        #[arg(long)]
        store: Option<PathBuf>,
        /// How many of the last entries to list.
        #[arg(long, default_value_t = 20)]
        last: u64,
        /// Print only the verifier key (to hand to auditors).
        #[arg(long)]
        verifier: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the inclusion proof of ENTRY (an index, or a file that was appended) in the
    /// latest checkpoint (or the one of --size).
    Prove {
        /// Entry index, or a file.
        entry: String,
        /// Prove in the checkpoint of this size instead of the latest.
        #[arg(long)]
        size: Option<u64>,
        /// Store directory.
        #[arg(long)]
        store: Option<PathBuf>,
        /// Write the proof here (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
        /// Print what was written as JSON (schemas/written-v1.json); needs --out.
        #[arg(long, requires = "out")]
        json: bool,
    },
    /// Offline, no store: check a proof file with the log's verifier key. Exit 0 proven,
    /// 1 not proven, 2 unreadable.
    VerifyProof {
        /// Proof file (`log prove` or `log consistency --out`).
        proof: PathBuf,
        /// The log's verifier key, or a file holding it (`log show --verifier`).
        #[arg(long)]
        verifier: String,
        /// For an inclusion proof: the file that must be the proven entry.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Prove that the log's checkpoint NEW (default: latest) extends OLD. Each is a size of
    /// this log or a checkpoint file someone kept. Exit 1 when it does not.
    Consistency {
        /// Older checkpoint: a size or a file.
        old: String,
        /// Newer checkpoint: a size or a file (default: the latest).
        new: Option<String>,
        /// Store directory.
        #[arg(long)]
        store: Option<PathBuf>,
        /// Write the proof file here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replay every entry, recompute every stored hash and check every checkpoint the log
    /// published (and each --checkpoint kept elsewhere). Exit 1 on any problem.
    Audit {
        /// Store directory.
        #[arg(long)]
        store: Option<PathBuf>,
        /// A checkpoint a monitor or customer kept; repeatable.
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AttestCommand {
    /// On the server: this TPM's EK (with its certificate from NV) and AK, as JSON.
    Keys {
        /// The TPM device or swtpm socket.
        #[arg(long, default_value = cmd::attest::DEFAULT_TPM)]
        tpm: PathBuf,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
        /// Print what was written as JSON (schemas/written-v1.json); needs --out.
        #[arg(long, requires = "out")]
        json: bool,
    },
    /// On the verifier: check the keys and encrypt a fresh secret to the EK for the AK.
    Challenge {
        /// The server's `attest keys` output.
        keys: PathBuf,
        /// CA certificates the EK certificate must chain to; repeatable.
        #[arg(long)]
        ek_ca: Vec<PathBuf>,
        /// The challenge to send to the server.
        #[arg(long)]
        out: PathBuf,
        /// The secret to keep (mode 0600) for `verify --challenge-secret`.
        #[arg(long)]
        secret_out: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        /// Print what was written as JSON (schemas/written-v1.json).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum EventlogCommand {
    /// Every event: PCR, type, digests, decoded data.
    Show {
        /// Event log file.
        file: PathBuf,
        /// Print JSON (every digest in full).
        #[arg(long)]
        json: bool,
    },
    /// The PCR values the log replays to, per bank.
    Replay {
        /// Event log file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum FirmwareCommand {
    /// Every volume, file and section of an image (a flash dump, an OVMF CODE or VARS file, a
    /// bare volume), with GUIDs, UI names, types, sizes and the SHA-256 of each body.
    Inspect {
        /// Firmware image file.
        image: PathBuf,
        /// Print JSON (the whole tree, every digest in full).
        #[arg(long)]
        json: bool,
    },
    /// Module by module: which files (GUID, UI name) were added, removed or changed from image
    /// A to image B, and any other changed bytes (volume headers, pads, free space, gaps).
    /// Exit 1 when anything differs.
    Diff {
        /// The reference image.
        a: PathBuf,
        /// The image compared with it.
        b: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum LabCommand {
    /// List the scenarios and the findings each must produce.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Boot the golden server (reference), then SCENARIO, and judge its findings.
    Run {
        /// Scenario name (see `lab list`; `golden` is a clean reboot).
        scenario: String,
        #[command(flatten)]
        common: LabCommon,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Boot golden 1 + N times and every scenario; print and write the coverage table.
    ///
    /// Exit 0: every row passed. 1: a detection was missed, or a finding was unexpected or
    /// appeared in a golden reboot. 2: a boot failed, timed out or sent no evidence.
    Matrix {
        /// Only these scenarios (default: all).
        scenarios: Vec<String>,
        /// Boots at once (default: CPUs, limited by free memory).
        #[arg(long)]
        jobs: Option<usize>,
        /// Golden reboots verified after the reference boot.
        #[arg(long, default_value_t = 2)]
        golden_reboots: usize,
        /// Write the coverage document here.
        #[arg(long, default_value = "docs/detection-coverage.md")]
        doc: PathBuf,
        /// Do not write the coverage document.
        #[arg(long, conflicts_with = "doc")]
        no_doc: bool,
        #[command(flatten)]
        common: LabCommon,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
struct LabCommon {
    /// Cache of kernel, firmware and CA (default: $XDG_CACHE_HOME/boardproof/lab).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// The boardproof binary run inside the guest (default: this program).
    #[arg(long)]
    guest_binary: Option<PathBuf>,
    /// Stop a boot after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Keep each boot's evidence, guest files, console and report in this folder.
    #[arg(long)]
    keep: Option<PathBuf>,
}

impl From<LabCommon> for cmd::lab::Common {
    fn from(c: LabCommon) -> Self {
        cmd::lab::Common {
            cache: c.cache,
            guest_binary: c.guest_binary,
            timeout: c.timeout,
            keep: c.keep,
        }
    }
}

#[derive(Args, Debug)]
struct CollectArgs {
    /// Directory the sources read below.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// Write the evidence to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Actively scan every I2C/SMBus adapter through /dev/i2c-N for chips no driver declared
    /// (i2cdetect's safety rules; never writes data). Opt-in: see docs/evidence.md for the
    /// risk on real hardware. Compare only with references collected the same way.
    #[arg(long)]
    probe_i2c: bool,
    /// Read every PCI device's option ROM (sys/bus/pci/devices/*/rom). Opt-in: the kernel
    /// turns on each device's ROM decoding while it reads; see docs/evidence.md.
    #[arg(long)]
    option_roms: bool,

    /// Answer a verifier's challenge (`attest challenge`): the evidence then carries a TPM
    /// quote over the challenge's secret: PCRs 0-9 (and 10 when IMA keeps a list), SHA-256.
    #[arg(long)]
    challenge: Option<PathBuf>,
    /// The TPM: the kernel's resource manager device, or a Unix socket speaking raw TPM
    /// commands (swtpm).
    #[arg(long, default_value = cmd::attest::DEFAULT_TPM)]
    tpm: PathBuf,

    /// Add a firmware image's module inventory to the evidence: `LABEL=PATH`, or `PATH`
    /// (labelled by its file name). Images are compared with the reference label by label.
    /// A flash dump (flashrom -r), an OVMF CODE or VARS file; repeat for several.
    #[arg(long, value_name = "[LABEL=]IMAGE")]
    firmware: Vec<String>,

    /// Print the evidence JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum SmbiosCommand {
    /// Decode a `dmidecode --dump-bin` file, or the sysfs DMI table (or its folder).
    Decode {
        /// File or folder.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ManifestCommand {
    /// Sign the identity fields of an evidence file as a manifest.
    Create {
        /// Evidence JSON file.
        evidence: PathBuf,
        /// Private key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Who makes it (default: user@hostname).
        #[arg(long)]
        creator: Option<String>,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
        /// Store whose transparency log records the manifest (default: the default store).
        #[arg(long)]
        store: Option<PathBuf>,
        /// Print what was written as JSON (schemas/written-v1.json).
        #[arg(long)]
        json: bool,
    },
    /// Add a co-signature (e.g. the vendor's) to a manifest, in place or to --out. The payload
    /// is unchanged, so its log entry stays the same.
    Cosign {
        /// Manifest file.
        manifest: PathBuf,
        /// The co-signer's private key.
        #[arg(long)]
        key: PathBuf,
        /// Write here instead of replacing the manifest.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print what was written as JSON (schemas/written-v1.json).
        #[arg(long)]
        json: bool,
    },
    /// Show a manifest; checks its signature when --pubkey is given.
    Show {
        /// Manifest file.
        manifest: PathBuf,
        /// Public key to check the signature with.
        #[arg(long)]
        pubkey: Option<PathBuf>,
        /// Print the payload as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
struct ScanArgs {
    /// Store directory (default: $XDG_DATA_HOME/boardproof, else ~/.local/share/boardproof).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Directory the sources read below.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// Actively scan every I2C/SMBus adapter through /dev/i2c-N for chips no driver declared
    /// (i2cdetect's safety rules; never writes data). Opt-in: see docs/evidence.md for the
    /// risk on real hardware. Compare only with references collected the same way.
    #[arg(long)]
    probe_i2c: bool,
    /// Read every PCI device's option ROM (sys/bus/pci/devices/*/rom). Opt-in: the kernel
    /// turns on each device's ROM decoding while it reads; see docs/evidence.md.
    #[arg(long)]
    option_roms: bool,
    /// Also verify against this signed manifest.
    #[arg(long, requires = "pubkey")]
    manifest: Option<PathBuf>,
    /// Public key of the manifest's signer.
    #[arg(long, requires = "manifest")]
    pubkey: Option<PathBuf>,
    /// Record this scan as the new baseline (after review).
    #[arg(long, requires = "reason")]
    accept: bool,
    /// Why the new baseline is accepted (kept in history); only with --accept.
    #[arg(long, requires = "accept")]
    reason: Option<String>,
    /// Add a firmware image's module inventory (`LABEL=PATH` or `PATH`), as collect does.
    #[arg(long, value_name = "[LABEL=]IMAGE")]
    firmware: Vec<String>,
    /// Sources this scan must have (`smbios,tpm,pci`…; repeatable): each one that is not
    /// `ok` is a `source-missing` finding, on the first scan too.
    #[arg(long, value_delimiter = ',', value_name = "SOURCE")]
    require: Vec<boardproof_evidence::Source>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_algorithm(s: &str) -> Result<boardproof_ledger::keys::Algorithm, String> {
    use boardproof_ledger::keys::Algorithm;
    [Algorithm::Ed25519, Algorithm::EcdsaP256]
        .into_iter()
        .find(|a| a.as_str() == s)
        .ok_or_else(|| format!("{s:?}: expected ed25519 or ecdsa-p256"))
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Collect(a) => cmd::collect::run(
            &a.root,
            a.out.as_deref(),
            a.json,
            a.probe_i2c,
            a.option_roms,
            a.challenge.as_deref().map(|c| (a.tpm.as_path(), c)),
            &a.firmware,
        ),
        Command::Attest(AttestCommand::Keys {
            tpm,
            out,
            force,
            json,
        }) => cmd::attest::keys(&tpm, out.as_deref(), force, json),
        Command::Attest(AttestCommand::Challenge {
            keys,
            ek_ca,
            out,
            secret_out,
            force,
            json,
        }) => cmd::attest::challenge(&keys, &ek_ca, &out, &secret_out, force, json),
        Command::Show { evidence, json } => cmd::show::run(&evidence, json),
        Command::Smbios(SmbiosCommand::Decode { file, json }) => cmd::smbios::decode(&file, json),
        Command::Keygen {
            out,
            algorithm,
            force,
            json,
        } => cmd::manifest::keygen(&out, algorithm, force, json),
        Command::Manifest(ManifestCommand::Create {
            evidence,
            key,
            out,
            creator,
            force,
            store,
            json,
        }) => cmd::manifest::create(&evidence, &key, &out, creator, force, store, json),
        Command::Manifest(ManifestCommand::Cosign {
            manifest,
            key,
            out,
            json,
        }) => cmd::manifest::cosign(&manifest, &key, out.as_deref(), json),
        Command::Corim(CorimCommand::Show { corim, key, json }) => {
            cmd::corim::show(&corim, key.as_deref(), json)
        }
        Command::Corim(CorimCommand::Export {
            evidence,
            key,
            out,
            pcrs,
            force,
            json,
        }) => cmd::corim::export(&evidence, &key, &out, &pcrs, force, json),
        Command::Corim(CorimCommand::Verify {
            evidence,
            corim,
            key,
            json,
        }) => cmd::corim::verify(&evidence, &corim, &key, json),
        Command::PlatformCert(PlatformCertCommand::Show { cert, json }) => {
            cmd::platform_cert::show(&cert, json)
        }
        Command::PlatformCert(PlatformCertCommand::Verify {
            cert,
            ca,
            delta,
            evidence,
            at,
            json,
        }) => cmd::platform_cert::verify(&cmd::platform_cert::VerifyArgs {
            cert: &cert,
            cas: &ca,
            deltas: &delta,
            evidence: evidence.as_deref(),
            at: at.as_deref(),
            json,
        }),
        Command::PlatformCert(PlatformCertCommand::Components {
            evidence,
            manifest,
            pubkey,
            out,
            force,
            json,
        }) => cmd::platform_cert::components(
            evidence.as_deref(),
            manifest.as_deref().zip(pubkey.as_deref()),
            out.as_deref(),
            force,
            json,
        ),
        Command::Policy(PolicyCommand::Sign {
            input,
            key,
            out,
            store,
            force,
            json,
        }) => cmd::policy::sign(&input, &key, &out, store, force, json),
        Command::Policy(PolicyCommand::Show {
            policy,
            vendor_key,
            json,
        }) => cmd::policy::show(&policy, vendor_key.as_deref(), json),
        Command::Manifest(ManifestCommand::Show {
            manifest,
            pubkey,
            json,
        }) => cmd::manifest::show(&manifest, pubkey.as_deref(), json),
        Command::Verify {
            evidence,
            manifest,
            pubkey,
            policy,
            vendor_key,
            challenge_secret,
            ek_ca,
            ima_allowlist,
            expect_change,
            require,
            record,
            store,
            sign_key,
            verdict_out,
            decided_by,
            force,
            json,
        } => cmd::verify::run(
            &evidence,
            &manifest,
            &match (&pubkey, &policy, &vendor_key) {
                (Some(k), _, _) => cmd::verify::Trust::Key(k),
                (None, Some(policy), Some(vendor_key)) => {
                    cmd::verify::Trust::Policy { policy, vendor_key }
                }
                _ => anyhow::bail!("give --pubkey, or --policy with --vendor-key"),
            },
            &cmd::verify::Record {
                record,
                store,
                sign_key,
                verdict_out,
                decided_by,
                force,
            },
            &boardproof_verify::Options {
                quote: cmd::attest::quote_check(challenge_secret.as_deref(), &ek_ca)?,
                ima_allowlist: ima_allowlist
                    .as_deref()
                    .map(cmd::verify::read_allowlist)
                    .transpose()?,
                expected_changes: expect_change
                    .iter()
                    .map(|s| {
                        boardproof_verify::ExpectedChange::parse(s)
                            .map_err(|e| anyhow::anyhow!("--expect-change {e}"))
                    })
                    .collect::<anyhow::Result<_>>()?,
                required: require,
            },
            json,
        ),
        Command::Scan(a) => cmd::scan::run(cmd::scan::ScanOptions {
            store: a.store,
            root: a.root,
            probe_i2c: a.probe_i2c,
            option_roms: a.option_roms,
            manifest: a.manifest.zip(a.pubkey),
            accept: a.accept.then_some(a.reason.unwrap_or_default()),
            firmware: a.firmware,
            require: a.require,
            json: a.json,
        }),
        Command::History {
            store,
            host,
            limit,
            json,
        } => cmd::scan::history(store, host.as_deref(), limit, json),
        Command::Eventlog(EventlogCommand::Show { file, json }) => cmd::eventlog::show(&file, json),
        Command::Eventlog(EventlogCommand::Replay { file, json }) => {
            cmd::eventlog::replay(&file, json)
        }
        Command::Firmware(FirmwareCommand::Inspect { image, json }) => {
            cmd::firmware::inspect(&image, json)
        }
        Command::Firmware(FirmwareCommand::Diff { a, b, json }) => {
            cmd::firmware::diff(&a, &b, json)
        }
        Command::Bundle(BundleCommand::Create {
            evidence,
            manifest,
            policy,
            verdict,
            proof,
            store,
            out,
            force,
            json,
        }) => cmd::bundle::create(&cmd::bundle::CreateArgs {
            evidence: &evidence,
            manifest: &manifest,
            policy: policy.as_deref(),
            verdict: &verdict,
            proofs: &proof,
            store,
            out: &out,
            force,
            json,
        }),
        Command::Bundle(BundleCommand::Verify {
            bundle,
            pubkey,
            vendor_key,
            verdict_key,
            log_key,
            json,
        }) => cmd::bundle::verify(&cmd::bundle::VerifyArgs {
            bundle: &bundle,
            pubkey: pubkey.as_deref(),
            vendor_key: vendor_key.as_deref(),
            verdict_key: &verdict_key,
            log_keys: &log_key,
            json,
        }),
        Command::Log(c) => match c {
            LogCommand::Init {
                store,
                origin,
                key,
                json,
            } => cmd::log::init(store, origin, key.as_deref(), json),
            LogCommand::Append { files, store, json } => cmd::log::append(store, &files, json),
            LogCommand::Show {
                store,
                last,
                verifier,
                json,
            } => cmd::log::show(store, last, verifier, json),
            LogCommand::Prove {
                entry,
                size,
                store,
                out,
                force,
                json,
            } => cmd::log::prove(store, &entry, size, out.as_deref(), force, json),
            LogCommand::VerifyProof {
                proof,
                verifier,
                file,
                json,
            } => cmd::log::verify_proof(&proof, &verifier, file.as_deref(), json),
            LogCommand::Consistency {
                old,
                new,
                store,
                out,
                force,
                json,
            } => cmd::log::consistency(store, &old, new.as_deref(), out.as_deref(), force, json),
            LogCommand::Audit {
                store,
                checkpoint,
                json,
            } => cmd::log::audit(store, &checkpoint, json),
        },
        Command::Lab(LabCommand::List { json }) => cmd::lab::list(json),
        Command::Lab(LabCommand::Run {
            scenario,
            common,
            json,
        }) => cmd::lab::run(&scenario, &common.into(), json),
        Command::Lab(LabCommand::Matrix {
            scenarios,
            jobs,
            golden_reboots,
            doc,
            no_doc,
            common,
            json,
        }) => cmd::lab::run_matrix(
            &cmd::lab::MatrixArgs {
                only: &scenarios,
                jobs,
                golden_reboots,
                doc: (!no_doc).then_some(doc.as_path()),
                json,
            },
            &common.into(),
        ),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
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
    e.chain()
        .find_map(|c| match c.downcast_ref::<boardproof_ledger::Error>()? {
            boardproof_ledger::Error::NoStore(_) => Some("check --store"),
            boardproof_ledger::Error::Exists(_) => Some("pass --force to replace it"),
            _ => None,
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
