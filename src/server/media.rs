//! Server side of the vendor media types (docs/sapi-protocol.md §2.2, §2.3, §3.7), on top of
//! `crate::sapi::media`.
//!
//! Every 2xx JSON response carries the exact vendor type with its version and `; charset=utf-8` (as real
//! SAPI sends). `Accept` is checked per endpoint with `sapi::media::evaluate_accept`: the vendor type with a
//! supported version (or a wildcard) is served; no `Accept`, or the vendor type without a version, is served
//! with the `X-Deprecation: dep-1` header SAPI sends (or 415 when the server runs with `strict_accept`, the
//! behaviour after the announced 2026-03-09 sunset); anything else (another version such as the retired
//! 2.1, another media type, `application/json`) is 415.

pub use crate::sapi::media::Resource;
use crate::sapi::media::{evaluate_accept, AcceptVerdict};

/// The `X-Deprecation` value SAPI documents for a missing or unsupported `Accept` header (DOCS-REST).
pub const DEP_1: &str = "dep-1;message=\"Missing Accept header or unsupported content type in Accept Header. \
Please use the allowed content type for version 3 in Accept header.\";sunset=@1773039600;context=\"api\";\
deprecated=@1757487600;link=\"https://docs.dwavesystems.com/projects/leap_sapi/en/latest/release_notes.html\"";

/// Full `Content-Type` of a 2xx response.
pub fn content_type(r: Resource) -> String {
    format!("{}; charset=utf-8", r.content_type())
}

/// Outcome of checking an `Accept` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Negotiation {
    Ok,
    /// Serve, with the `X-Deprecation: dep-1` header.
    Deprecated,
    /// 415 with this message.
    Unsupported(String),
}

/// Check `accept` for an endpoint serving `r`.
pub fn negotiate(accept: Option<&str>, r: Resource, strict: bool) -> Negotiation {
    let unsupported = || {
        Negotiation::Unsupported(format!(
            "Unsupported or missing Accept header {:?}: this endpoint serves '{}'; send 'Accept: {}'",
            accept.unwrap_or(""),
            r.content_type(),
            r.accept_header()
        ))
    };
    match evaluate_accept(r, accept) {
        AcceptVerdict::Ok => Negotiation::Ok,
        // The Metadata API is asked without a version by the official client (§1.2).
        AcceptVerdict::Deprecated if matches!(r, Resource::Regions | Resource::Region) => {
            Negotiation::Ok
        }
        AcceptVerdict::Deprecated if !strict => Negotiation::Deprecated,
        AcceptVerdict::Deprecated | AcceptVerdict::Unsupported => unsupported(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_sapi() {
        let p = Resource::Problems;
        let v3 = format!("{}; version=3.0.0", p.media_type());
        assert_eq!(negotiate(Some(&v3), p, true), Negotiation::Ok);
        assert_eq!(
            negotiate(Some(&format!("{}; version=3", p.media_type())), p, true),
            Negotiation::Ok
        );
        let v21 = format!("{}; version=2.1.0", p.media_type());
        assert!(matches!(
            negotiate(Some(&v21), p, false),
            Negotiation::Unsupported(_)
        ));
        let other = Resource::Problem.accept_header();
        assert!(matches!(
            negotiate(Some(&other), p, false),
            Negotiation::Unsupported(_)
        ));
        assert_eq!(negotiate(None, p, false), Negotiation::Deprecated);
        assert!(matches!(
            negotiate(None, p, true),
            Negotiation::Unsupported(_)
        ));
        assert!(matches!(
            negotiate(Some("text/html"), p, false),
            Negotiation::Unsupported(_)
        ));
        assert_eq!(
            negotiate(
                Some(Resource::Regions.media_type()),
                Resource::Regions,
                true
            ),
            Negotiation::Ok
        );
        assert_eq!(
            content_type(Resource::Solver),
            "application/vnd.dwave.sapi.solver-definition+json; version=3.0.0; charset=utf-8"
        );
    }
}
