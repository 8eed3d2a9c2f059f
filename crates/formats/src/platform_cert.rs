//! TCG Platform Certificates: X.509 attribute certificates (RFC 5755) whose attributes list a
//! platform's manufacturer, model, serial and components, as the TCG Platform Certificate
//! Profile defines them (v1.0, v1.1 and v2.0 component lists; base and delta certificates).
//!
//! No maintained Rust crate parses attribute certificates (RustCrypto's `x509-cert` has public
//! key certificates only), so the structure is walked here with a bounds-checked DER reader that
//! keeps absolute offsets for errors; names are decoded by `x509-cert` and object identifiers by
//! `der`. The signature is not checked here (see `boardproof_attest::platform_cert`), only
//! located: [`PlatformCert::tbs`] is the exact signed bytes.
//!
//! Variants seen in real certificates are accepted as go-attestation and HIRS accept them: the
//! early v1 component class as a bare OCTET STRING, v2's ComponentClass SEQUENCE, v2.0's
//! components wrapped in traits (2.23.133.5.1.7.3), platform strings in the subject alternative
//! name (TCG OIDs 2.23.133.5.1.x, and the older 2.23.133.2.4-6).

use der::Decode;

use crate::component_class::{self, Category};
use crate::error::{ErrorKind, ParseError};

/// Upper bound on components read from one certificate.
pub const MAX_COMPONENTS: usize = 4096;
/// Upper bound on nesting while walking (attribute certificates nest about 12 deep).
const MAX_DEPTH: usize = 32;

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const BIT_STRING: u8 = 0x03;
const GENERALIZED_TIME: u8 = 0x18;

/// `tcg-at-platformConfiguration-v1` (profile 1.0).
pub const OID_PLATFORM_CONFIG_V1: &str = "2.23.133.5.1.7.1";
/// `tcg-at-platformConfiguration-v2` (profile 1.1).
pub const OID_PLATFORM_CONFIG_V2: &str = "2.23.133.5.1.7.2";
/// `tcg-at-platformConfiguration-v3` (profile 2.0, components as traits).
pub const OID_PLATFORM_CONFIG_V3: &str = "2.23.133.5.1.7.3";
/// `tcg-kp-PlatformAttributeCertificate` (a base certificate).
pub const OID_BASE_CERT: &str = "2.23.133.8.2";
/// `tcg-kp-DeltaPlatformAttributeCertificate`.
pub const OID_DELTA_CERT: &str = "2.23.133.8.5";
/// The TCG component class registry.
pub use crate::component_class::OID_TCG as OID_TCG_REGISTRY;

/// One DER element: tag, where it starts, its whole encoding and its contents.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    offset: usize,
    whole: &'a [u8],
    value: &'a [u8],
    value_offset: usize,
}

fn err(offset: usize, field: &'static str, kind: ErrorKind) -> ParseError {
    ParseError::at(offset, field, kind)
}

/// Reads the element at the start of `data` (absolute offset `base`); returns it and the rest.
fn tlv<'a>(
    data: &'a [u8],
    base: usize,
    field: &'static str,
) -> Result<(Tlv<'a>, &'a [u8]), ParseError> {
    let trunc = |o| err(o, field, ErrorKind::Truncated);
    let (&tag, rest) = data.split_first().ok_or_else(|| trunc(base))?;
    if tag & 0x1f == 0x1f {
        return Err(err(
            base,
            field,
            ErrorKind::Invalid("high tag numbers are not used here"),
        ));
    }
    let (&first, rest) = rest
        .split_first()
        .ok_or_else(|| trunc(base.saturating_add(1)))?;
    let (len, rest, header) = if first < 0x80 {
        (usize::from(first), rest, 2usize)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 {
            return Err(err(
                base,
                field,
                ErrorKind::Invalid("indefinite length is not DER"),
            ));
        }
        if n > 4 {
            return Err(err(base, field, ErrorKind::BadLength(n as u64)));
        }
        let (bytes, rest) = (rest.get(..n), rest.get(n..));
        let (Some(bytes), Some(rest)) = (bytes, rest) else {
            return Err(trunc(base.saturating_add(2)));
        };
        let len = bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
        (len, rest, n.saturating_add(2))
    };
    let value = rest
        .get(..len)
        .ok_or_else(|| trunc(base.saturating_add(header)))?;
    let whole = data
        .get(..header.saturating_add(len))
        .ok_or_else(|| trunc(base))?;
    let after = rest.get(len..).unwrap_or(&[]);
    Ok((
        Tlv {
            tag,
            offset: base,
            whole,
            value,
            value_offset: base.saturating_add(header),
        },
        after,
    ))
}

impl<'a> Tlv<'a> {
    fn want(self, tag: u8, field: &'static str) -> Result<Tlv<'a>, ParseError> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(err(
                self.offset,
                field,
                ErrorKind::Invalid("unexpected DER tag"),
            ))
        }
    }

    /// The elements inside a constructed element.
    fn children(self, field: &'static str) -> Result<Vec<Tlv<'a>>, ParseError> {
        if self.tag & 0x20 == 0 {
            return Err(err(
                self.offset,
                field,
                ErrorKind::Invalid("expected a constructed element"),
            ));
        }
        let mut out = Vec::new();
        let mut rest = self.value;
        let mut at = self.value_offset;
        while !rest.is_empty() {
            if out.len() >= 65_536 {
                return Err(err(at, field, ErrorKind::TooMany(out.len() as u64)));
            }
            let (t, r) = tlv(rest, at, field)?;
            at = at.saturating_add(t.whole.len());
            out.push(t);
            rest = r;
        }
        Ok(out)
    }

    fn oid(self, field: &'static str) -> Result<String, ParseError> {
        let t = self.want(OID, field)?;
        der::asn1::ObjectIdentifier::from_bytes(t.value)
            .map(|o| o.to_string())
            .map_err(|e| err(t.offset, field, ErrorKind::Nested(e.to_string())))
    }

    /// Text of any string type (UTF8String, IA5String, PrintableString, or an implicitly
    /// tagged one): the bytes must be UTF-8.
    fn text(self, field: &'static str) -> Result<String, ParseError> {
        std::str::from_utf8(self.value)
            .map(str::to_owned)
            .map_err(|_| {
                err(
                    self.value_offset,
                    field,
                    ErrorKind::Invalid("not UTF-8 text"),
                )
            })
    }

    fn boolean(self, field: &'static str) -> Result<bool, ParseError> {
        match self.value {
            [0] => Ok(false),
            [_] => Ok(true),
            _ => Err(err(
                self.offset,
                field,
                ErrorKind::Invalid("a BOOLEAN is one byte"),
            )),
        }
    }

    fn uint(self, field: &'static str) -> Result<u64, ParseError> {
        let v = self.value;
        if v.is_empty() || v.len() > 9 || (v.len() == 9 && v.first() != Some(&0)) {
            return Err(err(
                self.offset,
                field,
                ErrorKind::Invalid("integer out of range"),
            ));
        }
        Ok(v.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }

    /// `[n]` context tag number, if this is context-specific.
    fn context(self) -> Option<u8> {
        (self.tag & 0xc0 == 0x80).then_some(self.tag & 0x1f)
    }
}

fn name_text(t: Tlv<'_>, field: &'static str) -> Result<String, ParseError> {
    x509_cert::name::Name::from_der(t.whole)
        .map(|n| n.to_string())
        .map_err(|e| err(t.offset, field, ErrorKind::Nested(e.to_string())))
}

/// The first directoryName ([4]) of GeneralNames, as the DER of the Name and as text.
fn directory_name(t: Tlv<'_>, field: &'static str) -> Result<(Vec<u8>, String), ParseError> {
    for g in t.want(SEQUENCE, field)?.children(field)? {
        if g.tag == 0xa4 {
            let (inner, _) = tlv(g.value, g.value_offset, field)?;
            return Ok((inner.whole.to_vec(), name_text(inner, field)?));
        }
    }
    Err(err(t.offset, field, ErrorKind::Invalid("no directoryName")))
}

/// A component's class.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, schemars::JsonSchema))]
pub struct ComponentClass {
    /// The registry (OID), absent in v1 certificates' bare class.
    pub registry: Option<String>,
    /// The 4-byte class value, hex.
    pub value: String,
}

/// A component address (MAC addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, schemars::JsonSchema))]
pub struct ComponentAddress {
    /// Address type OID (2.23.133.17.1 Ethernet, .2 WLAN, .3 Bluetooth).
    pub kind: String,
    /// The address as written.
    pub value: String,
}

/// A delta certificate's statement about a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, schemars::JsonSchema))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ComponentStatus {
    /// Added since the base certificate.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Removed,
}

/// One listed component.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, schemars::JsonSchema))]
pub struct Component {
    /// Class (TCG registry, or the v1 bare value).
    pub class: Option<ComponentClass>,
    /// Manufacturer.
    pub manufacturer: String,
    /// Model.
    pub model: String,
    /// Serial.
    pub serial: Option<String>,
    /// Revision.
    pub revision: Option<String>,
    /// Manufacturer id ([2]): the raw content bytes, hex (an enterprise OID by the profile;
    /// some certificates put an INTEGER there).
    pub manufacturer_id: Option<String>,
    /// Field replaceable.
    pub field_replaceable: Option<bool>,
    /// Addresses.
    pub addresses: Vec<ComponentAddress>,
    /// Delta status.
    pub status: Option<ComponentStatus>,
}

/// A platform certificate, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, schemars::JsonSchema))]
pub struct PlatformCert {
    /// The signed bytes (AttributeCertificateInfo).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub tbs: Vec<u8>,
    /// Signature algorithm OID.
    pub signature_algorithm: String,
    /// Signature bytes.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub signature: Vec<u8>,
    /// Serial number, hex.
    pub serial: String,
    /// The holder's EK certificate: issuer and serial (hex).
    pub holder: Option<(String, String)>,
    /// Issuer name, as text.
    pub issuer: String,
    /// Issuer name, DER (matched against CA subjects).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub issuer_der: Vec<u8>,
    /// Not before / not after (GeneralizedTime as written, `YYYYMMDDHHMMSSZ`).
    pub not_before: String,
    /// See `not_before`.
    pub not_after: String,
    /// `not_before` in seconds since the epoch.
    pub not_before_unix: u64,
    /// `not_after` in seconds since the epoch.
    pub not_after_unix: u64,
    /// Base or delta: the credential type OID, when present.
    pub credential_type: Option<String>,
    /// Platform manufacturer.
    pub manufacturer: Option<String>,
    /// Platform model.
    pub model: Option<String>,
    /// Platform version.
    pub version: Option<String>,
    /// Platform serial.
    pub platform_serial: Option<String>,
    /// TCG platform specification version (major, minor, revision).
    pub spec_version: Option<(u64, u64, u64)>,
    /// Which component list form: 1, 2 or 3.
    pub config_version: Option<u8>,
    /// Components.
    pub components: Vec<Component>,
    /// Platform properties (name, value).
    pub properties: Vec<(String, String)>,
}

impl PlatformCert {
    /// Whether this is a delta certificate.
    pub fn is_delta(&self) -> bool {
        self.credential_type.as_deref() == Some(OID_DELTA_CERT)
    }
}

/// Parses a DER attribute certificate.
pub fn parse(der: &[u8]) -> Result<PlatformCert, ParseError> {
    let (outer, rest) = tlv(der, 0, "AttributeCertificate")?;
    if !rest.is_empty() {
        return Err(err(
            outer.whole.len(),
            "AttributeCertificate",
            ErrorKind::TrailingData,
        ));
    }
    let parts = outer
        .want(SEQUENCE, "AttributeCertificate")?
        .children("AttributeCertificate")?;
    let [acinfo, alg, sig] = parts.as_slice() else {
        return Err(err(
            0,
            "AttributeCertificate",
            ErrorKind::Invalid("expected 3 elements"),
        ));
    };
    let signature_algorithm = alg
        .want(SEQUENCE, "signatureAlgorithm")?
        .children("signatureAlgorithm")?
        .first()
        .ok_or_else(|| err(alg.offset, "signatureAlgorithm", ErrorKind::Truncated))?
        .oid("signatureAlgorithm")?;
    let sig = sig.want(BIT_STRING, "signatureValue")?;
    let signature = match sig.value.split_first() {
        Some((0, bits)) => bits.to_vec(),
        _ => {
            return Err(err(
                sig.offset,
                "signatureValue",
                ErrorKind::Invalid("unused bits in signature"),
            ))
        }
    };
    let f = acinfo.want(SEQUENCE, "acinfo")?.children("acinfo")?;
    let mut it = f.iter().copied();
    let mut next = |field: &'static str| {
        it.next()
            .ok_or_else(|| err(acinfo.offset, field, ErrorKind::Truncated))
    };
    let version = next("version")?.want(INTEGER, "version")?.uint("version")?;
    if version != 1 {
        return Err(err(
            acinfo.value_offset,
            "version",
            ErrorKind::Invalid("not a v2 attribute certificate"),
        ));
    }
    let holder_t = next("holder")?.want(SEQUENCE, "holder")?;
    let holder = holder_of(holder_t)?;
    let issuer_t = next("issuer")?;
    // v2Form [0] IMPLICIT V2Form { issuerName GeneralNames, ... }; v1Form is bare GeneralNames.
    let names = if issuer_t.tag == 0xa0 {
        let (first, _) = tlv(issuer_t.value, issuer_t.value_offset, "issuer")?;
        first
    } else {
        issuer_t
    };
    let (issuer_der, issuer) = directory_name(names, "issuer")?;
    let _sig_alg = next("signature")?.want(SEQUENCE, "signature")?;
    let serial_t = next("serialNumber")?.want(INTEGER, "serialNumber")?;
    let serial = hex::encode(serial_t.value);
    let validity = next("attrCertValidityPeriod")?
        .want(SEQUENCE, "attrCertValidityPeriod")?
        .children("attrCertValidityPeriod")?;
    let [nb, na] = validity.as_slice() else {
        return Err(err(
            acinfo.offset,
            "attrCertValidityPeriod",
            ErrorKind::Invalid("expected 2 times"),
        ));
    };
    let not_before = nb.want(GENERALIZED_TIME, "notBefore")?.text("notBefore")?;
    let not_after = na.want(GENERALIZED_TIME, "notAfter")?.text("notAfter")?;
    let unix = |t: &Tlv<'_>, field: &'static str| {
        der::asn1::GeneralizedTime::from_der(t.whole)
            .map(|g| g.to_unix_duration().as_secs())
            .map_err(|e| err(t.offset, field, ErrorKind::Nested(e.to_string())))
    };
    let (not_before_unix, not_after_unix) = (unix(nb, "notBefore")?, unix(na, "notAfter")?);
    let mut out = PlatformCert {
        tbs: acinfo.whole.to_vec(),
        signature_algorithm,
        signature,
        serial,
        holder,
        issuer,
        issuer_der,
        not_before,
        not_after,
        not_before_unix,
        not_after_unix,
        credential_type: None,
        manufacturer: None,
        model: None,
        version: None,
        platform_serial: None,
        spec_version: None,
        config_version: None,
        components: Vec::new(),
        properties: Vec::new(),
    };
    let attributes = next("attributes")?.want(SEQUENCE, "attributes")?;
    for a in attributes.children("attributes")? {
        attribute(a, &mut out)?;
    }
    for rest in it {
        // issuerUniqueID (BIT STRING) or extensions (SEQUENCE).
        if rest.tag == SEQUENCE {
            for e in rest.children("extensions")? {
                extension(e, &mut out)?;
            }
        }
    }
    Ok(out)
}

fn holder_of(h: Tlv<'_>) -> Result<Option<(String, String)>, ParseError> {
    for c in h.children("holder")? {
        // baseCertificateID [0] IMPLICIT IssuerSerial { issuer GeneralNames, serial, uid? }
        if c.tag == 0xa0 {
            let mut parts = Vec::new();
            let mut rest = c.value;
            let mut at = c.value_offset;
            while !rest.is_empty() && parts.len() < 3 {
                let (t, r) = tlv(rest, at, "holder")?;
                at = at.saturating_add(t.whole.len());
                parts.push(t);
                rest = r;
            }
            let (Some(names), Some(serial)) = (parts.first(), parts.get(1)) else {
                return Err(err(c.offset, "holder", ErrorKind::Truncated));
            };
            let (_, issuer) = directory_name(*names, "holder issuer")?;
            let serial = serial.want(INTEGER, "holder serial")?;
            return Ok(Some((issuer, hex::encode(serial.value))));
        }
    }
    Ok(None)
}

fn first_value<'a>(a: &[Tlv<'a>], at: usize, field: &'static str) -> Result<Tlv<'a>, ParseError> {
    let set = a
        .get(1)
        .ok_or_else(|| err(at, field, ErrorKind::Truncated))?
        .want(SET, field)?;
    set.children(field)?
        .first()
        .copied()
        .ok_or_else(|| err(set.offset, field, ErrorKind::Truncated))
}

fn attribute(a: Tlv<'_>, out: &mut PlatformCert) -> Result<(), ParseError> {
    let parts = a.want(SEQUENCE, "attribute")?.children("attribute")?;
    let oid = parts
        .first()
        .ok_or_else(|| err(a.offset, "attribute", ErrorKind::Truncated))?
        .oid("attribute type")?;
    match oid.as_str() {
        OID_PLATFORM_CONFIG_V1 | OID_PLATFORM_CONFIG_V2 | OID_PLATFORM_CONFIG_V3 => {
            let v = first_value(&parts, a.offset, "platformConfiguration")?;
            let version = match oid.as_str() {
                OID_PLATFORM_CONFIG_V1 => 1,
                OID_PLATFORM_CONFIG_V2 => 2,
                _ => 3,
            };
            out.config_version = Some(version);
            platform_configuration(v, version, out)
        }
        // tcg-at-tcgPlatformSpecification: { TCGSpecificationVersion { major, minor, rev }, class }
        "2.23.133.2.17" => {
            let v = first_value(&parts, a.offset, "tcgPlatformSpecification")?;
            out.spec_version = spec_version(v).ok();
            Ok(())
        }
        // tcg-at-tcgCredentialType: { certificateType OID }
        "2.23.133.2.25" => {
            let v = first_value(&parts, a.offset, "tcgCredentialType")?;
            let c = v
                .want(SEQUENCE, "tcgCredentialType")?
                .children("tcgCredentialType")?;
            if let Some(t) = c.first() {
                out.credential_type = Some(t.oid("tcgCredentialType")?);
            }
            Ok(())
        }
        // Platform strings as attributes (early certificates).
        "2.23.133.2.4" | "2.23.133.5.1.1" => set_text(&parts, a.offset, &mut out.manufacturer),
        "2.23.133.2.5" | "2.23.133.5.1.4" => set_text(&parts, a.offset, &mut out.model),
        "2.23.133.2.6" | "2.23.133.5.1.5" => set_text(&parts, a.offset, &mut out.version),
        "2.23.133.5.1.6" => set_text(&parts, a.offset, &mut out.platform_serial),
        // Other attributes (security assertions, URIs, user notices) are not used to decide.
        _ => Ok(()),
    }
}

fn set_text(parts: &[Tlv<'_>], at: usize, slot: &mut Option<String>) -> Result<(), ParseError> {
    let v = first_value(parts, at, "platform string")?;
    *slot = Some(v.text("platform string")?);
    Ok(())
}

fn spec_version(v: Tlv<'_>) -> Result<(u64, u64, u64), ParseError> {
    let c = v
        .want(SEQUENCE, "tcgPlatformSpecification")?
        .children("tcgPlatformSpecification")?;
    let ver = c
        .first()
        .ok_or_else(|| err(v.offset, "tcgPlatformSpecification", ErrorKind::Truncated))?
        .want(SEQUENCE, "version")?
        .children("version")?;
    match ver.as_slice() {
        [a, b, r] => Ok((a.uint("major")?, b.uint("minor")?, r.uint("revision")?)),
        _ => Err(err(
            v.offset,
            "version",
            ErrorKind::Invalid("expected major, minor, revision"),
        )),
    }
}

fn platform_configuration(
    v: Tlv<'_>,
    version: u8,
    out: &mut PlatformCert,
) -> Result<(), ParseError> {
    for part in v
        .want(SEQUENCE, "platformConfiguration")?
        .children("platformConfiguration")?
    {
        match (part.context(), version) {
            (Some(0), _) => {
                for c in part.children("componentIdentifiers")? {
                    if out.components.len() >= MAX_COMPONENTS {
                        return Err(err(
                            c.offset,
                            "componentIdentifiers",
                            ErrorKind::TooMany(out.components.len() as u64),
                        ));
                    }
                    let comp = if version == 3 {
                        component_v3(c, 0)?
                    } else {
                        component(c)?
                    };
                    out.components.push(comp);
                }
            }
            // platformProperties: [1] in v1, [2] in v2 and later.
            (Some(1), 1) | (Some(2), 2..) => {
                for p in part.children("platformProperties")? {
                    let kv = p.want(SEQUENCE, "property")?.children("property")?;
                    if let [k, val, ..] = kv.as_slice() {
                        out.properties
                            .push((k.text("property name")?, val.text("property value")?));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A v2.0 component: a SEQUENCE of traits, one of which holds a ComponentIdentifier.
fn component_v3(c: Tlv<'_>, depth: usize) -> Result<Component, ParseError> {
    if depth > MAX_DEPTH {
        return Err(err(
            c.offset,
            "component",
            ErrorKind::Invalid("nested too deep"),
        ));
    }
    for trait_t in c.want(SEQUENCE, "component")?.children("component")? {
        if trait_t.tag != SEQUENCE {
            continue;
        }
        // trait: { traitId OID, traitCategory OID, traitRegistry OID, ..., traitValue }
        for v in trait_t.children("component trait")? {
            if v.tag == SEQUENCE {
                if let Ok(comp) = component(v) {
                    return Ok(comp);
                }
            }
        }
    }
    Err(err(
        c.offset,
        "component",
        ErrorKind::Invalid("no component identifier among its traits"),
    ))
}

fn component(c: Tlv<'_>) -> Result<Component, ParseError> {
    let f = c
        .want(SEQUENCE, "componentIdentifier")?
        .children("componentIdentifier")?;
    let mut i = 0usize;
    let class = match f.first() {
        Some(t) if t.tag == SEQUENCE => {
            let cc = t.children("componentClass")?;
            let [reg, val] = cc.as_slice() else {
                return Err(err(
                    t.offset,
                    "componentClass",
                    ErrorKind::Invalid("expected registry and value"),
                ));
            };
            i = 1;
            Some(ComponentClass {
                registry: Some(reg.oid("componentClassRegistry")?),
                value: hex::encode(val.want(OCTET_STRING, "componentClassValue")?.value),
            })
        }
        Some(t) if t.tag == OCTET_STRING => {
            i = 1;
            Some(ComponentClass {
                registry: None,
                value: hex::encode(t.value),
            })
        }
        _ => None,
    };
    let text_at = |k: usize, field: &'static str| -> Result<String, ParseError> {
        f.get(k)
            .ok_or_else(|| err(c.offset, field, ErrorKind::Truncated))?
            .text(field)
    };
    let manufacturer = text_at(i, "componentManufacturer")?;
    let model = text_at(i.saturating_add(1), "componentModel")?;
    let mut comp = Component {
        class,
        manufacturer,
        model,
        serial: None,
        revision: None,
        manufacturer_id: None,
        field_replaceable: None,
        addresses: Vec::new(),
        status: None,
    };
    for t in f.iter().skip(i.saturating_add(2)) {
        match t.context() {
            Some(0) => comp.serial = Some(t.text("componentSerial")?),
            Some(1) => comp.revision = Some(t.text("componentRevision")?),
            Some(2) => comp.manufacturer_id = Some(hex::encode(t.value)),
            Some(3) => comp.field_replaceable = Some(t.boolean("fieldReplaceable")?),
            Some(4) => {
                for a in t.children("componentAddresses")? {
                    let kv = a
                        .want(SEQUENCE, "componentAddress")?
                        .children("componentAddress")?;
                    let [k, v] = kv.as_slice() else {
                        return Err(err(
                            a.offset,
                            "componentAddress",
                            ErrorKind::Invalid("expected type and value"),
                        ));
                    };
                    comp.addresses.push(ComponentAddress {
                        kind: k.oid("addressType")?,
                        value: v.text("addressValue")?,
                    });
                }
            }
            Some(7) => {
                comp.status = Some(match t.uint("status")? {
                    0 => ComponentStatus::Added,
                    1 => ComponentStatus::Modified,
                    2 => ComponentStatus::Removed,
                    _ => {
                        return Err(err(
                            t.offset,
                            "status",
                            ErrorKind::Invalid("unknown component status"),
                        ))
                    }
                })
            }
            _ => {}
        }
    }
    Ok(comp)
}

fn extension(e: Tlv<'_>, out: &mut PlatformCert) -> Result<(), ParseError> {
    let parts = e.want(SEQUENCE, "extension")?.children("extension")?;
    let oid = parts
        .first()
        .ok_or_else(|| err(e.offset, "extension", ErrorKind::Truncated))?
        .oid("extension id")?;
    let Some(value) = parts.iter().rev().find(|t| t.tag == OCTET_STRING) else {
        return Ok(());
    };
    match oid.as_str() {
        // subjectAltName: directoryName(s) with the TCG platform strings.
        "2.5.29.17" => {
            let (names, _) = tlv(value.value, value.value_offset, "subjectAltName")?;
            for g in names
                .want(SEQUENCE, "subjectAltName")?
                .children("subjectAltName")?
            {
                // GeneralNames' directoryName [4] holds a Name (RDNs); some certificates put
                // the RDNs (SETs) directly in the SEQUENCE instead, as go-attestation accepts.
                let inner: Vec<Tlv<'_>> = match g.tag {
                    0xa4 => {
                        let (n, _) = tlv(g.value, g.value_offset, "subjectAltName")?;
                        n.children("subjectAltName")?
                    }
                    SET => vec![g],
                    _ => continue,
                };
                for rdn in inner {
                    for atv in rdn.children("subjectAltName RDN")? {
                        let kv = atv.children("subjectAltName attribute")?;
                        let [k, v] = kv.as_slice() else { continue };
                        let slot = match k.oid("attribute type")?.as_str() {
                            "2.23.133.5.1.1" | "2.23.133.2.4" => &mut out.manufacturer,
                            "2.23.133.5.1.4" | "2.23.133.2.5" => &mut out.model,
                            "2.23.133.5.1.5" | "2.23.133.2.6" => &mut out.version,
                            // 2.23.133.2.23 holds the serial in some early certificates
                            // (as go-attestation reads them).
                            "2.23.133.5.1.6" | "2.23.133.2.23" => &mut out.platform_serial,
                            _ => continue,
                        };
                        *slot = Some(v.text("platform string")?);
                    }
                }
            }
            Ok(())
        }
        // subjectDirectoryAttributes: the platform specification in some certificates.
        "2.5.29.9" => {
            let (attrs, _) = tlv(
                value.value,
                value.value_offset,
                "subjectDirectoryAttributes",
            )?;
            for a in attrs.children("subjectDirectoryAttributes")? {
                let kv = a.children("subjectDirectoryAttribute")?;
                if let (Some(k), Some(set)) = (kv.first(), kv.get(1)) {
                    if k.oid("attribute type")? == "2.23.133.2.17" {
                        if let Some(v) = set.children("tcgPlatformSpecification")?.first() {
                            out.spec_version = spec_version(*v).ok();
                        }
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Reads PEM (any label: certificates are published as CERTIFICATE and as ATTRIBUTE
/// CERTIFICATE) or DER. Lenient on purpose: `der`'s RFC 7468 decoder refuses published
/// certificates whose base64 lines are longer than 64 characters (paccor's are one long line).
pub fn decode_pem_or_der(bytes: &[u8]) -> Result<Vec<u8>, ParseError> {
    let Some(start) = find(bytes, b"-----BEGIN ") else {
        return Ok(bytes.to_vec());
    };
    let body = bytes.get(start..).unwrap_or(&[]);
    let line_end = body
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| err(start, "PEM", ErrorKind::Truncated))?;
    let after = body.get(line_end.saturating_add(1)..).unwrap_or(&[]);
    let end = find(after, b"-----END ").ok_or_else(|| err(start, "PEM", ErrorKind::Truncated))?;
    let b64: Vec<u8> = after
        .get(..end)
        .unwrap_or(&[])
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .map_err(|_| err(start, "PEM", ErrorKind::Invalid("not base64")))
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

impl ComponentClass {
    /// The category of a TCG-registry class (its upper 16 bits), as the TCG Component Class
    /// Registry names it; `None` for other registries and unknown categories.
    pub fn category_name(&self) -> Option<&'static str> {
        if self
            .registry
            .as_deref()
            .is_some_and(|r| r != OID_TCG_REGISTRY)
        {
            return None;
        }
        let v = component_class::parse_hex(&self.value)?;
        Category::from_code(u16::try_from(v >> 16).ok()?).map(Category::name)
    }

    /// What kind of thing the class names, in whichever registry it is from.
    pub fn meaning(&self) -> Option<component_class::Meaning> {
        component_class::meaning(
            self.registry.as_deref(),
            component_class::parse_hex(&self.value)?,
        )
    }
}
