//! TCG Platform Certificates: the signature and the issuer, checked against given CAs.
//!
//! The certificate is parsed by `boardproof_formats::platform_cert`; here its signature over the
//! AttributeCertificateInfo is checked with the key of the CA whose subject is the issuer
//! name, and both are checked to be within their validity at the given time. From that CA the
//! chain is followed up through the other certificates given (each link's signature and
//! validity checked) to a self-signed root or to the last issuer given. As for EK certificates,
//! every CA given is trusted: give the issuing CA and, to check the chain above it, its
//! issuers up to the root you trust.

use boardproof_formats::platform_cert::PlatformCert;
use der::Encode;
use x509_cert::Certificate;

use crate::ekcert::verify_signature;
use crate::Error;

/// What a verified platform certificate chains to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Subject of the CA whose key signed it.
    pub signer: String,
    /// Subjects from the signer up the chain of given certificates.
    pub path: Vec<String>,
}

/// Up to how many certificates above the signer are followed.
const MAX_CHAIN: usize = 8;

/// Follows `ca` up through `cas` while an issuer is given; every link must verify.
fn chain_up(ca: &Certificate, cas: &[Certificate], now: u64) -> Result<Vec<String>, Error> {
    let mut path = vec![ca.tbs_certificate.subject.to_string()];
    let mut cur = ca;
    for _ in 0..MAX_CHAIN {
        let tbs = &cur.tbs_certificate;
        if tbs.issuer == tbs.subject {
            break;
        }
        let parents: Vec<&Certificate> = cas
            .iter()
            .filter(|p| p.tbs_certificate.subject == tbs.issuer)
            .collect();
        if parents.is_empty() {
            break;
        }
        let Some(parent) = parents
            .iter()
            .copied()
            .find(|p| crate::ekcert::signed_by(cur, p).is_ok())
        else {
            return Err(Error::Certificate(format!(
                "{} names {} as its issuer, but the certificate given with that subject did not sign it",
                tbs.subject, tbs.issuer
            )));
        };
        crate::ekcert::in_validity(parent, now)?;
        path.push(parent.tbs_certificate.subject.to_string());
        cur = parent;
    }
    Ok(path)
}

/// Verifies `cert`'s signature with one of `cas` (the one whose subject is its issuer) and
/// that the certificate and that CA are valid at `now` (seconds since the epoch).
pub fn verify(cert: &PlatformCert, cas: &[Certificate], now: u64) -> Result<Verified, Error> {
    if now < cert.not_before_unix || now > cert.not_after_unix {
        return Err(Error::Certificate(format!(
            "the platform certificate is valid from {} to {}, not at the time checked",
            cert.not_before, cert.not_after
        )));
    }
    let mut tried = Vec::new();
    for ca in cas {
        let subject = ca
            .tbs_certificate
            .subject
            .to_der()
            .map_err(|e| Error::Certificate(e.to_string()))?;
        // Same DER, or the same names once decoded (RFC 5280 7.1: a CA may write the same
        // name with PrintableString where the certificate has UTF8String).
        let same = subject == cert.issuer_der
            || ca
                .tbs_certificate
                .subject
                .to_string()
                .eq_ignore_ascii_case(&cert.issuer);
        if !same {
            continue;
        }
        match verify_signature(&cert.signature_algorithm, &cert.tbs, &cert.signature, ca) {
            Ok(()) => {
                let v = &ca.tbs_certificate.validity;
                let (a, b) = (
                    v.not_before.to_unix_duration().as_secs(),
                    v.not_after.to_unix_duration().as_secs(),
                );
                if now < a || now > b {
                    return Err(Error::Certificate(format!(
                        "the issuing CA {} is valid from {} to {}, not at the time checked",
                        ca.tbs_certificate.subject, v.not_before, v.not_after
                    )));
                }
                return Ok(Verified {
                    signer: ca.tbs_certificate.subject.to_string(),
                    path: chain_up(ca, cas, now)?,
                });
            }
            Err(e) => tried.push(e.to_string()),
        }
    }
    Err(Error::Certificate(if tried.is_empty() {
        format!("no CA given is its issuer ({})", cert.issuer)
    } else {
        format!(
            "the CA {} did not sign it: {}",
            cert.issuer,
            tried.join("; ")
        )
    }))
}
