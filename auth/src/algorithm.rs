//! The one vocabulary of signature algorithms: only the asymmetric ones we verify exist, so
//! `none` and `HS*` cannot be written down anywhere in the workspace.

use std::fmt;
use std::str::FromStr;

/// A JWS signature algorithm that tokens may be verified with (RFC 7518 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// ECDSA on P-521 with SHA-512.
    ES512,
    /// EdDSA; here Ed25519 alone, the only curve verified.
    EdDSA,
    /// Ed25519 by its fully specified name (RFC 9864).
    Ed25519,
}

impl Algorithm {
    /// Every algorithm, in the order the README lists them.
    pub const ALL: [Self; 11] = [
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::ES512,
        Self::EdDSA,
        Self::Ed25519,
    ];

    /// The name, exactly as RFC 7518 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
            Self::EdDSA => "EdDSA",
            Self::Ed25519 => "Ed25519",
        }
    }

    /// Whether this is an RSA algorithm (PKCS#1 v1.5 or PSS).
    pub fn is_rsa(self) -> bool {
        matches!(
            self,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512
        )
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Algorithm::ALL`]. Its message lists the choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a supported algorithm; choose from {}", choices())]
pub struct UnknownAlgorithm {
    /// The name as given.
    pub name: String,
}

fn choices() -> String {
    Algorithm::ALL.map(Algorithm::as_str).join(", ")
}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Parses a name exactly as RFC 7518 spells it (case-sensitive, as `alg` is).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str() == name)
            .ok_or_else(|| UnknownAlgorithm {
                name: name.to_owned(),
            })
    }
}

impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_through_its_exact_name() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.to_string().parse::<Algorithm>(), Ok(alg));
        }
    }

    #[test]
    fn none_symmetric_and_misspelled_names_are_refused_with_the_choices() {
        for name in [
            "none", "HS256", "HS384", "HS512", "rs256", "es512", "EDDSA", "Ed448", "",
        ] {
            let error = name.parse::<Algorithm>().unwrap_err();
            assert!(error.to_string().contains("RS256, RS384"), "{error}");
            assert!(error.to_string().contains("EdDSA"), "{error}");
        }
    }
}
