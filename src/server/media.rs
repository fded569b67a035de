//! Vendor media types and `Accept` negotiation (docs/sapi-protocol.md §2.2, §2.3, §3.7).
//!
//! Every 2xx JSON response carries the exact vendor type with `; version=3.0.0; charset=utf-8` (regions:
//! `version=1.0.0`), as real SAPI does. `Accept` is checked per endpoint:
//! * the endpoint's vendor type with a version in `>=3,<4` (or no version) → served;
//! * the endpoint's vendor type with another version (e.g. the retired `2.1`) → 415;
//! * another vendor type only (e.g. asking the list endpoint for `problem+json`) → 415;
//! * no `Accept`, `*/*`, `application/*` or `application/json` → served with the `X-Deprecation: dep-1`
//!   header SAPI sends for them, or 415 when the server runs with `strict_accept` (the behaviour after the
//!   announced 2026-03-09 sunset).

/// SAPI v3 representation version sent on every response.
pub const SAPI_VERSION: &str = "3.0.0";
/// Metadata API version sent on regions responses.
pub const METADATA_VERSION: &str = "1.0.0";

pub const SOLVER_LIST: &str = "application/vnd.dwave.sapi.solver-definition-list+json";
pub const SOLVER: &str = "application/vnd.dwave.sapi.solver-definition+json";
pub const PROBLEMS: &str = "application/vnd.dwave.sapi.problems+json";
pub const PROBLEM: &str = "application/vnd.dwave.sapi.problem+json";
pub const ANSWER: &str = "application/vnd.dwave.sapi.problem-answer+json";
pub const INFO: &str = "application/vnd.dwave.sapi.problem-data+json";
pub const MESSAGES: &str = "application/vnd.dwave.sapi.problem-message+json";
pub const REGIONS: &str = "application/vnd.dwave.metadata.regions+json";
pub const REGION: &str = "application/vnd.dwave.metadata.region+json";

/// The `X-Deprecation` value SAPI documents for a missing or unsupported `Accept` header (DOCS-REST).
pub const DEP_1: &str = "dep-1;message=\"Missing Accept header or unsupported content type in Accept Header. \
Please use the allowed content type for version 3 in Accept header.\";sunset=@1773039600;context=\"api\";\
deprecated=@1757487600;link=\"https://docs.dwavesystems.com/projects/leap_sapi/en/latest/release_notes.html\"";

/// Full `Content-Type` for a vendor media type.
pub fn content_type(media: &str) -> String {
    let version = if media.starts_with("application/vnd.dwave.metadata") {
        METADATA_VERSION
    } else {
        SAPI_VERSION
    };
    format!("{media}; version={version}; charset=utf-8")
}

/// Outcome of checking an `Accept` header against the endpoint's media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Negotiation {
    /// The vendor type was asked for with a supported version.
    Ok,
    /// Generic or missing `Accept`: serve, with the `X-Deprecation: dep-1` header.
    Deprecated,
    /// 415 with this message.
    Unsupported(String),
}

/// Accepted major version of a media type.
fn major_ok(media: &str, version: &str) -> bool {
    let major = version
        .trim()
        .trim_matches('"')
        .split('.')
        .next()
        .unwrap_or("");
    let want = if media.starts_with("application/vnd.dwave.metadata") {
        "1"
    } else {
        "3"
    };
    major == want
}

/// Check `accept` (the raw header, if any) for an endpoint serving `media`.
pub fn negotiate(accept: Option<&str>, media: &str, strict: bool) -> Negotiation {
    let generic = |strict: bool, what: &str| {
        if strict {
            Negotiation::Unsupported(format!(
                "Missing or unsupported Accept header ({what}); send 'Accept: {media}; version=3.0.0'"
            ))
        } else {
            Negotiation::Deprecated
        }
    };
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return generic(strict, "none sent");
    };
    let mut saw_generic = false;
    let mut wrong_version: Option<String> = None;
    for entry in accept.split(',') {
        let mut params = entry.split(';').map(str::trim);
        let ty = params.next().unwrap_or("").to_ascii_lowercase();
        let mut version = None;
        let mut q_zero = false;
        for p in params {
            if let Some((k, v)) = p.split_once('=') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "version" => version = Some(v.trim().to_string()),
                    "q" => q_zero = v.trim().parse::<f64>().map(|q| q <= 0.0).unwrap_or(false),
                    _ => {}
                }
            }
        }
        if q_zero {
            continue;
        }
        if ty == media {
            match version {
                None => return Negotiation::Ok,
                Some(v) if major_ok(media, &v) => return Negotiation::Ok,
                Some(v) => wrong_version = Some(v),
            }
        } else if ty == "*/*" || ty == "application/*" || ty == "application/json" {
            saw_generic = true;
        }
    }
    if let Some(v) = wrong_version {
        return Negotiation::Unsupported(format!(
            "Unsupported representation version {v} of {media} in Accept header; this server speaks version 3 (send version=3.0.0)"
        ));
    }
    if saw_generic {
        return generic(strict, accept);
    }
    Negotiation::Unsupported(format!(
        "Accept header {accept:?} does not allow {media}; send 'Accept: {media}; version=3.0.0'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_sapi() {
        let v3 = format!("{PROBLEMS}; version=3.0.0");
        assert_eq!(negotiate(Some(&v3), PROBLEMS, true), Negotiation::Ok);
        assert_eq!(
            negotiate(Some(&format!("{PROBLEMS}; version=3")), PROBLEMS, true),
            Negotiation::Ok
        );
        assert_eq!(negotiate(Some(PROBLEMS), PROBLEMS, true), Negotiation::Ok);
        assert!(matches!(
            negotiate(Some(&format!("{PROBLEMS}; version=2.1.0")), PROBLEMS, false),
            Negotiation::Unsupported(_)
        ));
        assert!(matches!(
            negotiate(Some(&format!("{PROBLEM}; version=3.0.0")), PROBLEMS, false),
            Negotiation::Unsupported(_)
        ));
        assert_eq!(negotiate(None, PROBLEMS, false), Negotiation::Deprecated);
        assert_eq!(
            negotiate(Some("*/*"), PROBLEMS, false),
            Negotiation::Deprecated
        );
        assert!(matches!(
            negotiate(Some("application/json"), PROBLEMS, true),
            Negotiation::Unsupported(_)
        ));
        assert!(matches!(
            negotiate(Some("text/html"), PROBLEMS, false),
            Negotiation::Unsupported(_)
        ));
        assert_eq!(negotiate(Some(REGIONS), REGIONS, true), Negotiation::Ok);
        assert_eq!(
            content_type(REGIONS),
            format!("{REGIONS}; version=1.0.0; charset=utf-8")
        );
        assert_eq!(
            content_type(SOLVER),
            format!("{SOLVER}; version=3.0.0; charset=utf-8")
        );
    }
}
