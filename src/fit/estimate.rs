//! Per-parameter statistics of a fit, keyed by [`Param`].
//!
//! Every statistic of one parameter lives in one [`Estimate`]; a fit holds one per parameter in a
//! [`ByParam`]. The files keep their flat form (`beta`, `beta_se`, `b_se`, …): a [`ByParam`] is written
//! and read as flat keys `{param}{suffix}` (serde `flatten`), in the order of its layout (groups of
//! statistics, each group over all parameters). Adding a statistic means adding it to [`Stat`] (its
//! field, suffix and accessor below) and to the layouts that carry it.

use crate::model::Param;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The statistics of one parameter (units of the parameter; `None` when not available).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Estimate {
    /// The estimate (β, b, |γ|, |η|).
    pub value: Option<f64>,
    /// Robust standard error (the fit's error method: cluster-robust sandwich over calls, or robust over
    /// h values without per-call blocks). `None` for γ, η on their bound (see the interval).
    pub se: Option<f64>,
    /// Model-based standard error: inverse observed information of the fitted likelihood.
    pub se_model: Option<f64>,
    /// Model-based standard error × sqrt(dispersion) (quasi-likelihood).
    pub se_scaled: Option<f64>,
    /// Lower end of the robust 95 % interval.
    pub lo: Option<f64>,
    /// Upper end of the robust 95 % interval.
    pub hi: Option<f64>,
    /// Lower end of the 95 % profile-likelihood interval of the fitted likelihood (when asked).
    pub profile_lo: Option<f64>,
    /// Upper end of the 95 % profile-likelihood interval.
    pub profile_hi: Option<f64>,
}

/// One statistic of an [`Estimate`]; the key in the files is `{param}{suffix}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    Value,
    Se,
    SeModel,
    SeScaled,
    Lo,
    Hi,
    ProfileLo,
    ProfileHi,
}

impl Stat {
    /// Suffix of the key in fit.json (and of the CSV column).
    pub fn suffix(self) -> &'static str {
        match self {
            Stat::Value => "",
            Stat::Se => "_se",
            Stat::SeModel => "_se_model",
            Stat::SeScaled => "_se_scaled",
            Stat::Lo => "_lo",
            Stat::Hi => "_hi",
            Stat::ProfileLo => "_profile_lo",
            Stat::ProfileHi => "_profile_hi",
        }
    }
    pub fn get(self, e: &Estimate) -> Option<f64> {
        match self {
            Stat::Value => e.value,
            Stat::Se => e.se,
            Stat::SeModel => e.se_model,
            Stat::SeScaled => e.se_scaled,
            Stat::Lo => e.lo,
            Stat::Hi => e.hi,
            Stat::ProfileLo => e.profile_lo,
            Stat::ProfileHi => e.profile_hi,
        }
    }
    pub fn slot(self, e: &mut Estimate) -> &mut Option<f64> {
        match self {
            Stat::Value => &mut e.value,
            Stat::Se => &mut e.se,
            Stat::SeModel => &mut e.se_model,
            Stat::SeScaled => &mut e.se_scaled,
            Stat::Lo => &mut e.lo,
            Stat::Hi => &mut e.hi,
            Stat::ProfileLo => &mut e.profile_lo,
            Stat::ProfileHi => &mut e.profile_hi,
        }
    }
}

/// Layout of a [`QubitFit`](super::QubitFit): values, robust SEs, model SEs, scaled SEs, robust
/// `lo, hi`, profile `lo, hi`.
pub const FIT_LAYOUT: usize = 0;
/// Layout of a [`BootstrapFit`](super::BootstrapFit): SEs, then `lo, hi` per parameter.
pub const BOOTSTRAP_LAYOUT: usize = 1;

/// The layouts, by index: groups of statistics, each written for every parameter in turn.
const LAYOUTS: [&[&[Stat]]; 2] = [
    &[
        &[Stat::Value],
        &[Stat::Se],
        &[Stat::SeModel],
        &[Stat::SeScaled],
        &[Stat::Lo, Stat::Hi],
        &[Stat::ProfileLo, Stat::ProfileHi],
    ],
    &[&[Stat::Se], &[Stat::Lo, Stat::Hi]],
];

/// One [`Estimate`] per parameter, written flat with layout `L` ([`FIT_LAYOUT`], [`BOOTSTRAP_LAYOUT`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ByParam<const L: usize>(pub [Estimate; 4]);

impl<const L: usize> ByParam<L> {
    /// The keys and statistics of this layout in file order.
    pub fn keys() -> impl Iterator<Item = (String, Param, Stat)> {
        LAYOUTS[L].iter().flat_map(|group| {
            Param::ALL.into_iter().flat_map(move |p| {
                group
                    .iter()
                    .map(move |&s| (format!("{}{}", p.name(), s.suffix()), p, s))
            })
        })
    }
}

impl<const L: usize> std::ops::Index<Param> for ByParam<L> {
    type Output = Estimate;
    fn index(&self, p: Param) -> &Estimate {
        &self.0[p.index()]
    }
}

impl<const L: usize> std::ops::IndexMut<Param> for ByParam<L> {
    fn index_mut(&mut self, p: Param) -> &mut Estimate {
        &mut self.0[p.index()]
    }
}

impl<const L: usize> Serialize for ByParam<L> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, p, s) in Self::keys() {
            map.serialize_entry(&key, &s.get(&self[p]))?;
        }
        map.end()
    }
}

impl<'de, const L: usize> Deserialize<'de> for ByParam<L> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<const L: usize>;
        impl<'de, const L: usize> Visitor<'de> for V<L> {
            type Value = ByParam<L>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("per-parameter statistics such as beta, beta_se, beta_lo")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ByParam<L>, A::Error> {
                let keys: Vec<(String, Param, Stat)> = ByParam::<L>::keys().collect();
                let mut out = ByParam::<L>::default();
                while let Some(key) = map.next_key::<String>()? {
                    match keys.iter().find(|k| k.0 == key) {
                        Some(&(_, p, s)) => *s.slot(&mut out[p]) = map.next_value()?,
                        None => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(V::<L>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_keys_round_trip_in_layout_order() {
        let mut e = ByParam::<BOOTSTRAP_LAYOUT>::default();
        e[Param::B].se = Some(0.5);
        e[Param::Eta].hi = Some(2.0);
        let v = serde_json::to_string(&e).unwrap();
        assert!(v.starts_with(r#"{"beta_se":null,"b_se":0.5,"gamma_se":null,"eta_se":null,"beta_lo":null,"beta_hi":null,"b_lo""#), "{v}");
        let back: ByParam<BOOTSTRAP_LAYOUT> = serde_json::from_str(&v).unwrap();
        assert_eq!(back, e);
        assert_eq!(ByParam::<FIT_LAYOUT>::keys().count(), 32);
    }
}
