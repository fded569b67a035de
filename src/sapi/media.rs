//! SAPI vendor media types and version checks (`docs/sapi-protocol.md` §2.2).
//!
//! Every SAPI endpoint has its own vendor media type. A client sends `Accept: <type>; version=3.0.0` and
//! rejects a 2xx response whose `Content-Type` is not that type with a `version` parameter inside the
//! accepted range (`~=3.0` = `>=3.0,<4`; answers and messages `>=2.1,<4`; Metadata regions `~=1.0`).
//! Extra parameters such as `; charset=utf-8` are allowed. The server emits [`Resource::content_type`].

use std::fmt;

/// A SAPI (or Metadata API) resource, which fixes its media type and accepted version range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `GET solvers/remote/`
    SolverList,
    /// `GET solvers/remote/{name}`
    Solver,
    /// `POST problems/`, `GET problems/?…`, `DELETE problems/`
    Problems,
    /// `GET problems/{id}/`, `DELETE problems/{id}`
    Problem,
    /// `GET problems/{id}/answer`
    ProblemAnswer,
    /// `GET problems/{id}/info`
    ProblemData,
    /// `GET problems/{id}/messages`
    ProblemMessages,
    /// `GET metadata/v1/regions/`
    Regions,
    /// `GET metadata/v1/regions/{code}`
    Region,
}

/// A version as `major.minor.patch` (missing parts are 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Parses `3`, `3.0`, `3.0.0` (surrounding quotes allowed); `None` if not numeric.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_matches('"');
        let mut parts = s.split('.');
        let major = parts.next()?.trim().parse().ok()?;
        let minor = match parts.next() {
            Some(p) => p.trim().parse().ok()?,
            None => 0,
        };
        let patch = match parts.next() {
            Some(p) => p.trim().parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Version(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Half-open version range `[min, max_exclusive)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionRange {
    pub min: Version,
    pub max_exclusive: Version,
    /// How the official client writes it, for messages (`~=3.0`).
    pub spec: &'static str,
}

impl VersionRange {
    pub fn contains(&self, v: Version) -> bool {
        v >= self.min && v < self.max_exclusive
    }
}

const V3: VersionRange = VersionRange {
    min: Version(3, 0, 0),
    max_exclusive: Version(4, 0, 0),
    spec: "~=3.0",
};
const V21_4: VersionRange = VersionRange {
    min: Version(2, 1, 0),
    max_exclusive: Version(4, 0, 0),
    spec: ">=2.1,<4",
};
const V1: VersionRange = VersionRange {
    min: Version(1, 0, 0),
    max_exclusive: Version(2, 0, 0),
    spec: "~=1.0",
};

impl Resource {
    /// The bare vendor media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Resource::SolverList => "application/vnd.dwave.sapi.solver-definition-list+json",
            Resource::Solver => "application/vnd.dwave.sapi.solver-definition+json",
            Resource::Problems => "application/vnd.dwave.sapi.problems+json",
            Resource::Problem => "application/vnd.dwave.sapi.problem+json",
            Resource::ProblemAnswer => "application/vnd.dwave.sapi.problem-answer+json",
            Resource::ProblemData => "application/vnd.dwave.sapi.problem-data+json",
            Resource::ProblemMessages => "application/vnd.dwave.sapi.problem-message+json",
            Resource::Regions => "application/vnd.dwave.metadata.regions+json",
            Resource::Region => "application/vnd.dwave.metadata.region+json",
        }
    }

    /// Response versions a client accepts.
    pub fn accepted_versions(self) -> VersionRange {
        match self {
            Resource::ProblemAnswer | Resource::ProblemMessages => V21_4,
            Resource::Regions | Resource::Region => V1,
            _ => V3,
        }
    }

    /// The `Accept` header the official client sends (Metadata API: no version parameter).
    pub fn accept_header(self) -> String {
        match self {
            Resource::Regions | Resource::Region => self.media_type().to_string(),
            _ => format!("{}; version=3.0.0", self.media_type()),
        }
    }

    /// The `Content-Type` a SAPI-compatible server sends on a 2xx response.
    pub fn content_type(self) -> String {
        match self {
            Resource::Regions | Resource::Region => format!("{}; version=1.0.0", self.media_type()),
            _ => format!("{}; version=3.0.0", self.media_type()),
        }
    }
}

/// A response media type that the client must reject. Messages match the official client's (S10–S12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("Received media type '{received}' while expecting '{expected}'")]
    WrongType {
        received: String,
        expected: &'static str,
    },
    #[error("API response format version undefined in the response.")]
    NoVersion,
    #[error(
        "API response format version '{received}' not compliant with supported version '{spec}'."
    )]
    BadVersion {
        received: String,
        spec: &'static str,
    },
}

/// A parsed media type: lower-cased `type/subtype` plus parameters (names lower-cased, values unquoted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaType {
    pub essence: String,
    pub params: Vec<(String, String)>,
}

impl MediaType {
    pub fn parse(s: &str) -> MediaType {
        let mut parts = s.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let params = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                Some((
                    k.trim().to_ascii_lowercase(),
                    v.trim().trim_matches('"').to_string(),
                ))
            })
            .collect();
        MediaType { essence, params }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Checks a 2xx response's `Content-Type` against the resource (§2.2). Returns the version found.
pub fn check_content_type(
    resource: Resource,
    content_type: Option<&str>,
) -> Result<Version, MediaError> {
    let expected = resource.media_type();
    let mt = MediaType::parse(content_type.unwrap_or(""));
    if mt.essence != expected {
        return Err(MediaError::WrongType {
            received: mt.essence,
            expected,
        });
    }
    let raw = mt.param("version").ok_or(MediaError::NoVersion)?;
    let range = resource.accepted_versions();
    match Version::parse(raw) {
        Some(v) if range.contains(v) => Ok(v),
        _ => Err(MediaError::BadVersion {
            received: raw.to_string(),
            spec: range.spec,
        }),
    }
}

/// What a server should do with a request's `Accept` header (§2.2, §2.3 `dep-1`, §3.7 415).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptVerdict {
    /// The vendor type with a supported version (or a wildcard) was asked for.
    Ok,
    /// No `Accept` header, or no version given: serve it, but SAPI adds an `X-Deprecation: dep-1` header.
    Deprecated,
    /// Only unsupported versions / unrelated types were asked for: SAPI answers 415.
    Unsupported,
}

/// Evaluates an `Accept` header for a resource. `*/*`, `application/*` and the vendor type with a version
/// whose major matches the resource's range are accepted; the vendor type without a version is deprecated.
pub fn evaluate_accept(resource: Resource, accept: Option<&str>) -> AcceptVerdict {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return AcceptVerdict::Deprecated;
    };
    let range = resource.accepted_versions();
    let mut verdict = AcceptVerdict::Unsupported;
    for item in accept.split(',') {
        let mt = MediaType::parse(item);
        if mt.essence == resource.media_type() {
            match mt.param("version").map(Version::parse) {
                None => verdict = AcceptVerdict::Deprecated,
                // A client asking for `version=3` means any 3.x.
                Some(Some(v))
                    if range.contains(v)
                        || (v.0 == range.min.0 && v.0 + 1 == range.max_exclusive.0) =>
                {
                    return AcceptVerdict::Ok
                }
                Some(_) => {}
            }
        } else if (mt.essence == "*/*" || mt.essence == "application/*")
            && verdict == AcceptVerdict::Unsupported
        {
            verdict = AcceptVerdict::Deprecated;
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_client_checks() {
        let r = Resource::Solver;
        assert_eq!(
            check_content_type(
                r,
                Some("application/vnd.dwave.sapi.solver-definition+json; version=3.0.0")
            ),
            Ok(Version(3, 0, 0))
        );
        assert!(check_content_type(
            r,
            Some("application/vnd.dwave.sapi.solver-definition+json; version=3.0.0; charset=utf-8")
        )
        .is_ok());
        assert_eq!(
            check_content_type(r, Some("application/json")).unwrap_err().to_string(),
            "Received media type 'application/json' while expecting 'application/vnd.dwave.sapi.solver-definition+json'"
        );
        assert_eq!(
            check_content_type(r, Some(r.media_type())),
            Err(MediaError::NoVersion)
        );
        assert_eq!(
            check_content_type(
                r,
                Some("application/vnd.dwave.sapi.solver-definition+json; version=2.1.0")
            )
            .unwrap_err()
            .to_string(),
            "API response format version '2.1.0' not compliant with supported version '~=3.0'."
        );
        assert!(check_content_type(r, None).is_err());
        assert!(check_content_type(
            Resource::ProblemAnswer,
            Some("application/vnd.dwave.sapi.problem-answer+json; version=2.1")
        )
        .is_ok());
        assert!(check_content_type(
            Resource::Regions,
            Some("application/vnd.dwave.metadata.regions+json; version=1.0.0")
        )
        .is_ok());
        assert!(check_content_type(
            Resource::Regions,
            Some("application/vnd.dwave.metadata.regions+json; version=2.0")
        )
        .is_err());
        for res in [
            Resource::SolverList,
            Resource::Problems,
            Resource::Problem,
            Resource::Regions,
        ] {
            assert!(check_content_type(res, Some(&res.content_type())).is_ok());
        }
    }

    #[test]
    fn accept_headers() {
        assert_eq!(
            Resource::Problems.accept_header(),
            "application/vnd.dwave.sapi.problems+json; version=3.0.0"
        );
        assert_eq!(
            Resource::Regions.accept_header(),
            "application/vnd.dwave.metadata.regions+json"
        );
        assert_eq!(
            evaluate_accept(
                Resource::Problems,
                Some(&Resource::Problems.accept_header())
            ),
            AcceptVerdict::Ok
        );
        assert_eq!(
            evaluate_accept(
                Resource::Problems,
                Some("application/vnd.dwave.sapi.problems+json; version=3")
            ),
            AcceptVerdict::Ok
        );
        assert_eq!(
            evaluate_accept(Resource::Problems, None),
            AcceptVerdict::Deprecated
        );
        assert_eq!(
            evaluate_accept(Resource::Problems, Some("*/*")),
            AcceptVerdict::Deprecated
        );
        assert_eq!(
            evaluate_accept(
                Resource::Problems,
                Some("application/vnd.dwave.sapi.problems+json; version=2.1")
            ),
            AcceptVerdict::Unsupported
        );
    }
}
