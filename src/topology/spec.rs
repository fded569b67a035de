//! Topology SPEC strings and SAPI `topology` values.
//!
//! SPEC: `chimera:M[,N[,T]]` (N defaults to M, T to 4), `pegasus:M`, `zephyr:M[,T]` (T defaults to 4), or an
//! alias: `2000q` = `chimera:16,16,4`, `advantage` = `pegasus:16`, `advantage2` = `zephyr:12,4`. Case and
//! surrounding spaces are ignored. Valid shapes: M, N, T ≥ 1; Pegasus M ≥ 2; the index space below 2^24
//! qubits. `Display` writes the canonical SPEC with every field (`chimera:16,16,4`, `pegasus:16`,
//! `zephyr:12,4`), which parses back to the same value.

use super::{Topology, TopologyError};

/// Largest accepted index space (2^24 qubits; real QPUs have ≤ 5760).
pub const MAX_INDEX_SPACE: u64 = 1 << 24;

impl Topology {
    /// From a family name and a SAPI shape (`properties.topology`): chimera `[m]`, `[m, n]` or `[m, n, t]`,
    /// pegasus `[m]`, zephyr `[m]` or `[m, t]`; missing entries take the SPEC defaults.
    pub fn from_type_shape(kind: &str, shape: &[u32]) -> Result<Self, TopologyError> {
        let spec = format!(
            "{kind}:{}",
            shape
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        let bad = |reason: String| TopologyError::BadSpec {
            spec: spec.clone(),
            reason,
        };
        let topology = match kind.trim().to_ascii_lowercase().as_str() {
            "chimera" => match *shape {
                [m] => Topology::Chimera { m, n: m, t: 4 },
                [m, n] => Topology::Chimera { m, n, t: 4 },
                [m, n, t] => Topology::Chimera { m, n, t },
                _ => {
                    return Err(bad(format!(
                        "chimera takes 1 to 3 numbers (M[,N[,T]]), got {}",
                        shape.len()
                    )))
                }
            },
            "pegasus" => match *shape {
                [m] => Topology::Pegasus { m },
                _ => {
                    return Err(bad(format!(
                        "pegasus takes 1 number (M), got {}",
                        shape.len()
                    )))
                }
            },
            "zephyr" => match *shape {
                [m] => Topology::Zephyr { m, t: 4 },
                [m, t] => Topology::Zephyr { m, t },
                _ => {
                    return Err(bad(format!(
                        "zephyr takes 1 or 2 numbers (M[,T]), got {}",
                        shape.len()
                    )))
                }
            },
            other => {
                return Err(bad(format!(
                    "unknown topology type {other:?}; expected chimera, pegasus or zephyr"
                )))
            }
        };
        topology.validate().map_err(bad)?;
        Ok(topology)
    }

    /// Checks the shape limits stated in the module docs. Parsing always checks; a `Topology` built
    /// directly from its fields that fails this check behaves as an empty graph (no nodes, no edges).
    pub fn check(&self) -> Result<(), TopologyError> {
        self.validate().map_err(|reason| TopologyError::BadSpec {
            spec: self.to_string(),
            reason,
        })
    }

    pub(crate) fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }

    fn validate(&self) -> Result<(), String> {
        let (fields, min_m): (Vec<(&str, u32)>, u32) = match *self {
            Topology::Chimera { m, n, t } => (vec![("M", m), ("N", n), ("T", t)], 1),
            Topology::Pegasus { m } => (vec![("M", m)], 2),
            Topology::Zephyr { m, t } => (vec![("M", m), ("T", t)], 1),
        };
        for (name, value) in &fields {
            let min = if *name == "M" { min_m } else { 1 };
            if *value < min {
                return Err(format!("{name} must be at least {min}, got {value}"));
            }
        }
        let size = match *self {
            Topology::Chimera { m, n, t } => 2 * u64::from(m) * u64::from(n) * u64::from(t),
            Topology::Pegasus { m } => 24 * u64::from(m) * u64::from(m).saturating_sub(1),
            Topology::Zephyr { m, t } => 4 * u64::from(t) * u64::from(m) * (2 * u64::from(m) + 1),
        };
        if size >= MAX_INDEX_SPACE {
            return Err(format!(
                "index space of {size} qubits is too large (limit {MAX_INDEX_SPACE})"
            ));
        }
        Ok(())
    }
}

impl std::str::FromStr for Topology {
    type Err = TopologyError;
    /// SPEC: `chimera:M[,N[,T]]`, `pegasus:M`, `zephyr:M[,T]`, or `2000q`, `advantage`, `advantage2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let spec = s.trim().to_ascii_lowercase();
        match spec.as_str() {
            "2000q" => return Ok(Topology::Chimera { m: 16, n: 16, t: 4 }),
            "advantage" => return Ok(Topology::Pegasus { m: 16 }),
            "advantage2" => return Ok(Topology::Zephyr { m: 12, t: 4 }),
            _ => {}
        }
        let bad = |reason: String| TopologyError::BadSpec {
            spec: s.to_string(),
            reason,
        };
        let Some((kind, numbers)) = spec.split_once(':') else {
            return Err(bad(
                "expected chimera:M[,N[,T]], pegasus:M, zephyr:M[,T], 2000q, advantage or advantage2".into(),
            ));
        };
        let shape = numbers
            .split(',')
            .map(|x| parse_shape_number(x.trim()).map_err(bad))
            .collect::<Result<Vec<u32>, _>>()?;
        Topology::from_type_shape(kind.trim(), &shape).map_err(|e| match e {
            TopologyError::BadSpec { reason, .. } => bad(reason),
            other => other,
        })
    }
}

/// One number of a SPEC's shape, with the accepted range in the error.
fn parse_shape_number(x: &str) -> Result<u32, String> {
    if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{x:?} is not a whole number: shape numbers are whole numbers of at least 1 (e.g. zephyr:6,4)"
        ));
    }
    x.parse::<u32>().map_err(|_| {
        format!("{x} is too large: the index space must stay below {MAX_INDEX_SPACE} qubits")
    })
}

impl std::fmt::Display for Topology {
    /// Canonical SPEC: `chimera:16,16,4`, `pegasus:16`, `zephyr:12,4`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shape: Vec<String> = self.shape().iter().map(u32::to_string).collect();
        write!(f, "{}:{}", self.family(), shape.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Topology, TopologyError> {
        s.parse()
    }

    #[test]
    fn defaults_and_aliases() {
        assert_eq!(
            parse("chimera:16").unwrap(),
            Topology::Chimera { m: 16, n: 16, t: 4 }
        );
        assert_eq!(
            parse("chimera:2,3").unwrap(),
            Topology::Chimera { m: 2, n: 3, t: 4 }
        );
        assert_eq!(
            parse("chimera:2,3,2").unwrap(),
            Topology::Chimera { m: 2, n: 3, t: 2 }
        );
        assert_eq!(parse("pegasus:16").unwrap(), Topology::Pegasus { m: 16 });
        assert_eq!(parse("zephyr:6").unwrap(), Topology::Zephyr { m: 6, t: 4 });
        assert_eq!(
            parse("Zephyr: 6, 2").unwrap(),
            Topology::Zephyr { m: 6, t: 2 }
        );
        assert_eq!(parse("2000q").unwrap(), parse("chimera:16,16,4").unwrap());
        assert_eq!(parse("advantage").unwrap(), parse("pegasus:16").unwrap());
        assert_eq!(parse("ADVANTAGE2").unwrap(), parse("zephyr:12,4").unwrap());
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        for (s, canon) in [
            ("2000q", "chimera:16,16,4"),
            ("advantage", "pegasus:16"),
            ("zephyr:12", "zephyr:12,4"),
        ] {
            let t = parse(s).unwrap();
            assert_eq!(t.to_string(), canon);
            assert_eq!(parse(canon).unwrap(), t);
        }
    }

    #[test]
    fn bad_specs_say_why() {
        let cases = [
            ("pegasus:1", "M must be at least 2"),
            ("chimera:0", "M must be at least 1"),
            ("chimera:2,2,0", "T must be at least 1"),
            ("zephyr:2,0", "T must be at least 1"),
            ("torus:3", "unknown topology type \"torus\""),
            ("pegasus:16,4", "pegasus takes 1 number"),
            ("chimera:1,2,3,4", "chimera takes 1 to 3 numbers"),
            ("zephyr:x", "\"x\" is not a whole number"),
            ("zephyr:-1", "\"-1\" is not a whole number"),
            (
                "zephyr:4294967296",
                "4294967296 is too large: the index space must stay below",
            ),
            ("chimera", "expected chimera:M"),
            ("chimera:100000", "too large"),
            ("", "expected chimera:M"),
        ];
        for (spec, want) in cases {
            let msg = parse(spec).unwrap_err().to_string();
            assert!(msg.contains(want), "{spec}: {msg}");
            assert!(
                msg.starts_with(&format!("bad topology spec {spec:?}")),
                "{msg}"
            );
        }
    }

    #[test]
    fn from_type_shape_accepts_sapi_shapes() {
        assert_eq!(
            Topology::from_type_shape("chimera", &[16, 16, 4]).unwrap(),
            parse("2000q").unwrap()
        );
        assert_eq!(
            Topology::from_type_shape("pegasus", &[16]).unwrap(),
            parse("advantage").unwrap()
        );
        assert_eq!(
            Topology::from_type_shape("zephyr", &[6, 4]).unwrap(),
            parse("zephyr:6,4").unwrap()
        );
        assert!(Topology::from_type_shape("zephyr", &[]).is_err());
    }
}
