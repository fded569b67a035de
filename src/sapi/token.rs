//! The SAPI API token, wrapped so it can never leak into logs, errors or files.
//!
//! `Debug` and `Display` print `<redacted>`; the only way to read the secret is [`Token::expose`], used by
//! the HTTP layer to set the `X-Auth-Token` header (`docs/sapi-protocol.md` §2.1).

use std::fmt;

/// A SAPI token (secret). Not `Serialize`: it must never be written to a file.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; surrounding whitespace is trimmed. `None` for an empty string (empty never overrides,
    /// sapi-protocol.md §7).
    pub fn new(s: impl Into<String>) -> Option<Token> {
        let s = s.into();
        let t = s.trim();
        if t.is_empty() {
            None
        } else {
            Some(Token(t.to_string()))
        }
    }

    /// The secret, for the `X-Auth-Token` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let t = Token::new(" DEV-abc123secret ").unwrap();
        assert_eq!(t.expose(), "DEV-abc123secret");
        assert!(!format!("{t:?}").contains("abc123"));
        assert!(!format!("{t}").contains("abc123"));
        assert!(!format!("{:?}", Some(&t)).contains("abc123"));
        assert!(Token::new("  ").is_none());
    }
}
