//! CoRIM / CoMID (IETF RATS, draft-ietf-rats-corim): reference values as CBOR, signed as
//! COSE_Sign1, so that boardproof's references work with Veraison-style verifiers.
//!
//! What boardproof reads and writes: the reference-value triples of every CoMID in a CoRIM —
//! an environment (class: vendor, model) and its measurements: named measurements with
//! digests (firmware modules), and integrity registers (PCRs) with digests. Other triples
//! (endorsements, identities, attestation keys) are counted and shown, not used. CBOR is
//! ciborium, COSE is coset (both through coset's re-export); the signature algorithms are
//! ES256 (P-256, raw r‖s as COSE wants) and EdDSA (Ed25519), with this crate's keys.

use std::collections::BTreeMap;

use coset::cbor::value::Value;
use coset::{iana, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use serde::Serialize;

use crate::keys::{PrivateKey, PublicKey};
use crate::Error;

/// CBOR tag of an unsigned CoRIM map.
pub const TAG_CORIM: u64 = 501;
/// CBOR tag of a CoMID inside a CoRIM.
pub const TAG_COMID: u64 = 506;
/// CBOR tag of COSE_Sign1.
pub const TAG_COSE_SIGN1: u64 = 18;
/// Content type of a signed CoRIM's payload.
pub const CONTENT_TYPE: &str = "application/rim+cbor";
/// Upper bound on a CoRIM file (reference values for one platform are kilobytes).
pub const MAX_BYTES: usize = 4 << 20;
/// Upper bound on nesting while reading CBOR.
const MAX_DEPTH: usize = 64;

/// Named Information hash algorithm ids (RFC 6920) used for digests.
pub fn hash_alg_name(id: i128) -> String {
    match id {
        1 => "sha256".into(),
        7 => "sha384".into(),
        8 => "sha512".into(),
        n => format!("alg-{n}"),
    }
}

/// Whether a digest algorithm (`sha256`…) can be written in a CoRIM: CoMID digests name
/// their algorithm from the IANA Named Information Hash Algorithm registry, which has no SHA-1.
pub fn expressible(alg: &str) -> bool {
    hash_alg_id(alg).is_some()
}

fn hash_alg_id(name: &str) -> Option<i64> {
    match name {
        "sha256" => Some(1),
        "sha384" => Some(7),
        "sha512" => Some(8),
        _ => None,
    }
}

fn bad(why: impl Into<String>) -> Error {
    Error::LogMalformed {
        what: "CoRIM",
        why: why.into(),
    }
}

/// A digest: algorithm name and lowercase hex.
pub type Digest = (String, String);

/// One measurement of a reference triple.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Measurement {
    /// The measurement key (`mkey`), as text (uint, text, UUID or OID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The `name` value, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Digests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<Digest>,
    /// Integrity registers (e.g. PCRs): index → digests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub registers: BTreeMap<String, Vec<Digest>>,
    /// Other measurement values present (their keys), for people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

/// One reference-value triple.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ReferenceTriple {
    /// Environment class vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Environment class model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Environment class id (an OID, UUID or bytes, written as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<String>,
    /// Environment class layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Environment class index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Environment instance (a UEID, UUID, bytes or key, written as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Environment group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Measurements.
    pub measurements: Vec<Measurement>,
}

impl ReferenceTriple {
    /// The environment as one line: every field it has, so that two environments that
    /// differ in any of them never read alike.
    pub fn environment(&self) -> String {
        let mut parts = vec![format!(
            "{} {}",
            self.vendor.as_deref().unwrap_or("-"),
            self.model.as_deref().unwrap_or("-")
        )];
        for (name, v) in [
            ("class", &self.class_id),
            ("layer", &self.layer),
            ("index", &self.index),
            ("instance", &self.instance),
            ("group", &self.group),
        ] {
            if let Some(v) = v {
                parts.push(format!("{name} {v}"));
            }
        }
        parts.join(", ")
    }
}

/// One CoMID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Comid {
    /// Tag id.
    pub tag_id: String,
    /// Reference-value triples.
    pub reference_values: Vec<ReferenceTriple>,
    /// Other triples present (their names), counted, not used.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other_triples: BTreeMap<String, usize>,
}

/// A CoRIM (or a bare CoMID, as one CoMID without a CoRIM id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Corim {
    /// CoRIM id (absent for a bare CoMID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The COSE_Sign1 wrapping, when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<Signed>,
    /// The CoMIDs.
    pub comids: Vec<Comid>,
    /// Tags other than CoMIDs (CoSWID, CoTS), counted.
    pub other_tags: usize,
}

/// Facts of a COSE_Sign1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Signed {
    /// Algorithm (`ES256`, `EdDSA`, or the number).
    pub algorithm: String,
    /// Key id, hex.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key_id: String,
    /// Whether the signature was checked with a given key (and held).
    pub verified: bool,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t.clone()),
        Value::Integer(i) => Some(i128::from(*i).to_string()),
        Value::Bytes(b) if b.len() == 16 => Some(uuid_text(b)),
        Value::Bytes(b) => Some(hex::encode(b)),
        Value::Tag(37, inner) => text(inner),
        Value::Tag(111, inner) => match inner.as_ref() {
            Value::Bytes(b) => Some(der::asn1::ObjectIdentifier::from_bytes(b).map_or_else(
                |_| format!("oid:{}", hex::encode(b)),
                |o| format!("oid:{o}"),
            )),
            other => text(other),
        },
        Value::Tag(_, inner) => text(inner),
        _ => None,
    }
}

fn uuid_text(b: &[u8]) -> String {
    let h = hex::encode(b);
    let part = |a: usize, z: usize| h.get(a..z).unwrap_or("");
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

fn map_get(m: &[(Value, Value)], key: i64) -> Option<&Value> {
    m.iter()
        .find(|(k, _)| matches!(k, Value::Integer(i) if i128::from(*i) == i128::from(key)))
        .map(|(_, v)| v)
}

fn as_map(v: &Value, what: &str) -> Result<Vec<(Value, Value)>, Error> {
    match v {
        Value::Map(m) => Ok(m.clone()),
        Value::Tag(_, inner) => as_map(inner, what),
        _ => Err(bad(format!("{what} is not a map"))),
    }
}

fn as_array<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], Error> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(bad(format!("{what} is not an array"))),
    }
}

fn digests(v: &Value) -> Result<Vec<Digest>, Error> {
    let mut out = Vec::new();
    for d in as_array(v, "digests")? {
        let pair = as_array(d, "digest")?;
        let (Some(alg), Some(Value::Bytes(val))) = (pair.first(), pair.get(1)) else {
            return Err(bad("a digest is not [alg, bytes]"));
        };
        let alg = match alg {
            Value::Integer(i) => hash_alg_name(i128::from(*i)),
            Value::Text(t) => t.clone(),
            _ => return Err(bad("a digest algorithm is neither a number nor text")),
        };
        out.push((alg, hex::encode(val)));
    }
    Ok(out)
}

fn measurement(v: &Value) -> Result<Measurement, Error> {
    let m = as_map(v, "measurement")?;
    let mut out = Measurement {
        key: map_get(&m, 0).and_then(text),
        ..Measurement::default()
    };
    let vals = as_map(
        map_get(&m, 1).ok_or_else(|| bad("a measurement without values"))?,
        "measurement values",
    )?;
    for (k, v) in &vals {
        let Value::Integer(k) = k else {
            out.other.push(format!("{k:?}"));
            continue;
        };
        match i128::from(*k) {
            2 => out.digests = digests(v)?,
            11 => out.name = text(v),
            14 => {
                for (idx, d) in as_map(v, "integrity registers")? {
                    let idx = text(&idx).ok_or_else(|| bad("an integrity register index"))?;
                    out.registers.insert(idx, digests(&d)?);
                }
            }
            n => out.other.push(n.to_string()),
        }
    }
    Ok(out)
}

fn comid(v: &Value) -> Result<Comid, Error> {
    let m = as_map(v, "CoMID")?;
    let ident = as_map(
        map_get(&m, 1).ok_or_else(|| bad("a CoMID without tag-identity"))?,
        "tag-identity",
    )?;
    let mut out = Comid {
        tag_id: map_get(&ident, 0).and_then(text).unwrap_or_default(),
        ..Comid::default()
    };
    let triples = as_map(
        map_get(&m, 4).ok_or_else(|| bad("a CoMID without triples"))?,
        "triples",
    )?;
    for (k, v) in &triples {
        let key = match k {
            Value::Integer(i) => i128::from(*i),
            _ => -1,
        };
        if key != 0 {
            let name = match key {
                1 => "endorsed-values".to_owned(),
                2 => "identity".to_owned(),
                3 => "attest-key".to_owned(),
                n => format!("triples-{n}"),
            };
            let n = as_array(v, "triples").map_or(0, <[Value]>::len);
            *out.other_triples.entry(name).or_default() += n;
            continue;
        }
        for t in as_array(v, "reference triples")? {
            let rec = as_array(t, "reference triple")?;
            let (Some(env), Some(ms)) = (rec.first(), rec.get(1)) else {
                return Err(bad("a reference triple is not [environment, measurements]"));
            };
            let env = as_map(env, "environment")?;
            let class = map_get(&env, 0).map(|c| as_map(c, "class")).transpose()?;
            let field = |k| class.as_ref().and_then(|c| map_get(c, k)).and_then(text);
            let mut rt = ReferenceTriple {
                class_id: field(0),
                vendor: field(1),
                model: field(2),
                layer: field(3),
                index: field(4),
                instance: map_get(&env, 1).and_then(text),
                group: map_get(&env, 2).and_then(text),
                measurements: Vec::new(),
            };
            for mm in as_array(ms, "measurements")? {
                rt.measurements.push(measurement(mm)?);
            }
            out.reference_values.push(rt);
        }
    }
    Ok(out)
}

fn read_cbor(bytes: &[u8]) -> Result<Value, Error> {
    if bytes.len() > MAX_BYTES {
        return Err(bad(format!(
            "{} bytes (at most {MAX_BYTES} are read)",
            bytes.len()
        )));
    }
    let mut r = bytes;
    let v: Value = coset::cbor::de::from_reader_with_recursion_limit(&mut r, MAX_DEPTH)
        .map_err(|e| bad(format!("not CBOR: {e}")))?;
    if !r.is_empty() {
        return Err(bad(format!("{} bytes after the CBOR item", r.len())));
    }
    Ok(v)
}

fn unsigned(v: &Value) -> Result<Corim, Error> {
    let inner = match v {
        Value::Tag(TAG_CORIM, inner) => inner.as_ref(),
        Value::Tag(TAG_COMID, inner) => {
            return Ok(Corim {
                comids: vec![comid(inner)?],
                ..Corim::default()
            })
        }
        other => other,
    };
    let m = as_map(inner, "CoRIM")?;
    // A bare CoMID has tag-identity (1) as a map and triples (4).
    if map_get(&m, 4).is_some() {
        return Ok(Corim {
            comids: vec![comid(inner)?],
            ..Corim::default()
        });
    }
    let mut out = Corim {
        id: map_get(&m, 0).and_then(text),
        ..Corim::default()
    };
    for tag in as_array(
        map_get(&m, 1).ok_or_else(|| bad("a CoRIM without tags"))?,
        "tags",
    )? {
        match tag {
            Value::Tag(TAG_COMID, b) => {
                let Value::Bytes(b) = b.as_ref() else {
                    return Err(bad("a CoMID tag does not hold bytes"));
                };
                out.comids.push(comid(&read_cbor(b)?)?);
            }
            _ => out.other_tags = out.other_tags.saturating_add(1),
        }
    }
    Ok(out)
}

/// Parses a CoRIM file: signed (COSE_Sign1, tag 18), unsigned (tag 501 or a bare map) or a bare
/// CoMID. A signed one's signature is checked only when `key` is given (else `verified` is
/// false); a signature that does not verify with the key given is an error.
pub fn parse(bytes: &[u8], key: Option<&PublicKey>) -> Result<Corim, Error> {
    let v = read_cbor(bytes)?;
    if !matches!(v, Value::Tag(TAG_COSE_SIGN1, _)) {
        if key.is_some() {
            return Err(bad(
                "unsigned: there is no signature to check the key against",
            ));
        }
        return unsigned(&v);
    }
    let s = CoseSign1::from_tagged_slice(bytes).map_err(|e| bad(format!("COSE_Sign1: {e}")))?;
    let alg = match &s.protected.header.alg {
        Some(coset::RegisteredLabelWithPrivate::Assigned(a)) => format!("{a:?}"),
        Some(other) => format!("{other:?}"),
        None => "none".into(),
    };
    let mut signed = Signed {
        algorithm: alg,
        key_id: hex::encode(&s.protected.header.key_id),
        verified: false,
    };
    if let Some(k) = key {
        s.verify_signature(b"", |sig, data| {
            if verify_cose(k, &s.protected.header.alg, data, sig) {
                Ok(())
            } else {
                Err(Error::BadSignature { key_id: k.key_id() })
            }
        })?;
        signed.verified = true;
    }
    let payload = s
        .payload
        .as_deref()
        .ok_or_else(|| bad("COSE_Sign1 without a payload"))?;
    let mut out = unsigned(&read_cbor(payload)?)?;
    out.signed = Some(signed);
    Ok(out)
}

fn verify_cose(k: &PublicKey, alg: &Option<coset::Algorithm>, data: &[u8], sig: &[u8]) -> bool {
    use coset::RegisteredLabelWithPrivate::Assigned;
    match (k, alg) {
        (PublicKey::Ed25519(_), Some(Assigned(iana::Algorithm::EdDSA))) => k.verify(data, sig),
        (PublicKey::EcdsaP256(_), Some(Assigned(iana::Algorithm::ES256))) => {
            k.verify_p256_fixed(data, sig)
        }
        _ => false,
    }
}

/// What boardproof exports: one environment with PCR registers and named digests.
#[derive(Debug, Clone, Default)]
pub struct Export {
    /// CoRIM id.
    pub id: String,
    /// Environment vendor (SMBIOS manufacturer).
    pub vendor: Option<String>,
    /// Environment model (SMBIOS product).
    pub model: Option<String>,
    /// PCR index → (algorithm, hex).
    pub pcrs: BTreeMap<u32, Vec<Digest>>,
    /// (measurement key, name, digests).
    pub named: Vec<(String, Option<String>, Vec<Digest>)>,
}

fn digest_values(ds: &[Digest]) -> Result<Value, Error> {
    let mut out = Vec::with_capacity(ds.len());
    for (alg, h) in ds {
        let id = hash_alg_id(alg)
            .ok_or_else(|| bad(format!("no CoRIM id for digest algorithm {alg}")))?;
        let b = hex::decode(h).map_err(|e| bad(format!("digest {h}: {e}")))?;
        out.push(Value::Array(vec![
            Value::Integer(id.into()),
            Value::Bytes(b),
        ]));
    }
    Ok(Value::Array(out))
}

fn to_cbor(v: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    coset::cbor::ser::into_writer(v, &mut out).map_err(|e| bad(format!("encoding: {e}")))?;
    Ok(out)
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

/// Encodes `e` as a tagged unsigned CoRIM (tag 501) holding one CoMID.
pub fn encode(e: &Export) -> Result<Vec<u8>, Error> {
    let mut class = Vec::new();
    if let Some(v) = &e.vendor {
        class.push((int(1), Value::Text(v.clone())));
    }
    if let Some(m) = &e.model {
        class.push((int(2), Value::Text(m.clone())));
    }
    let env = Value::Map(vec![(int(0), Value::Map(class))]);
    let mut ms = Vec::new();
    if !e.pcrs.is_empty() {
        let mut regs = Vec::new();
        for (i, ds) in &e.pcrs {
            regs.push((int(i64::from(*i)), digest_values(ds)?));
        }
        ms.push(Value::Map(vec![(
            int(1),
            Value::Map(vec![(int(14), Value::Map(regs))]),
        )]));
    }
    for (key, name, ds) in &e.named {
        let mut vals = vec![(int(2), digest_values(ds)?)];
        if let Some(n) = name {
            vals.push((int(11), Value::Text(n.clone())));
        }
        ms.push(Value::Map(vec![
            (int(0), Value::Text(key.clone())),
            (int(1), Value::Map(vals)),
        ]));
    }
    let comid = Value::Map(vec![
        (
            int(1),
            Value::Map(vec![(int(0), Value::Text(format!("{}/comid", e.id)))]),
        ),
        (
            int(4),
            Value::Map(vec![(
                int(0),
                Value::Array(vec![Value::Array(vec![env, Value::Array(ms)])]),
            )]),
        ),
    ]);
    let corim = Value::Tag(
        TAG_CORIM,
        Box::new(Value::Map(vec![
            (int(0), Value::Text(e.id.clone())),
            (
                int(1),
                Value::Array(vec![Value::Tag(
                    TAG_COMID,
                    Box::new(Value::Bytes(to_cbor(&comid)?)),
                )]),
            ),
        ])),
    );
    to_cbor(&corim)
}

/// Signs a tagged CoRIM as COSE_Sign1 (tag 18), content type `application/rim+cbor`, key id
/// = this crate's key id, ES256 for P-256 keys and EdDSA for Ed25519.
pub fn sign(corim: &[u8], key: &PrivateKey) -> Result<Vec<u8>, Error> {
    let alg = match key {
        PrivateKey::Ed25519(_) => iana::Algorithm::EdDSA,
        PrivateKey::EcdsaP256(_) => iana::Algorithm::ES256,
    };
    let header = HeaderBuilder::new()
        .algorithm(alg)
        .content_type(CONTENT_TYPE.into())
        .key_id(hex::decode(key.public().key_id()).unwrap_or_default())
        .build();
    let s = CoseSign1Builder::new()
        .protected(header)
        .payload(corim.to_vec())
        .create_signature(b"", |data| match key {
            PrivateKey::Ed25519(_) => key.sign(data),
            PrivateKey::EcdsaP256(k) => {
                let s: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, data);
                s.to_bytes().to_vec()
            }
        })
        .build();
    s.to_tagged_vec()
        .map_err(|e| bad(format!("COSE_Sign1: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Algorithm;

    #[test]
    fn truncations_and_flips_never_verify_or_panic() {
        let e = Export {
            id: "t".into(),
            vendor: Some("V".into()),
            model: Some("M".into()),
            pcrs: BTreeMap::from([(0, vec![("sha256".into(), "00".repeat(32))])]),
            named: vec![(
                "firmware:f:x".into(),
                Some("n".into()),
                vec![("sha256".into(), "11".repeat(32))],
            )],
        };
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let k = PrivateKey::generate(alg);
            let signed = sign(&encode(&e).unwrap(), &k).unwrap();
            let c = parse(&signed, Some(&k.public())).unwrap();
            assert_eq!(c.comids[0].reference_values[0].measurements.len(), 2);
            for n in 0..signed.len() {
                assert!(
                    parse(&signed[..n], Some(&k.public())).is_err(),
                    "truncated to {n}"
                );
                let _ = parse(&signed[..n], None);
            }
            for i in 0..signed.len() {
                let mut b = signed.clone();
                b[i] ^= 0x01;
                assert!(parse(&b, Some(&k.public())).is_err(), "byte {i}");
            }
            // Deeply nested input is refused, not recursed into.
            let deep: Vec<u8> = std::iter::repeat_n(0x81u8, 10_000).chain([0x00]).collect();
            assert!(parse(&deep, None).is_err());
        }
    }
}
