//! Random secrets: generation, SHA-256 lookup hashes, constant-time checks, and a
//! newtype that never shows its value in `Debug` or `Display`.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

/// A secret value (client secret, token, password). Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value itself, for the one place that must show or send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// `n` random bytes from the system generator.
pub fn random_bytes<const N: usize>(rng: &SystemRandom) -> Result<[u8; N], ring::error::Unspecified> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}

/// A 256-bit random secret, base64url without padding (43 characters), after `prefix`.
pub fn generate(rng: &SystemRandom, prefix: &str) -> Result<Secret, ring::error::Unspecified> {
    let bytes = random_bytes::<32>(rng)?;
    let mut value = String::with_capacity(prefix.len() + 43);
    value.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut value);
    Ok(Secret(value))
}

/// A random identifier (not a secret): 128 bits, base64url (22 characters), never
/// starting with `-` or `_`, so that it can follow a flag on a command line
/// (`--app <id>`) without being read as one.
pub fn generate_id(rng: &SystemRandom) -> Result<String, ring::error::Unspecified> {
    loop {
        let id = URL_SAFE_NO_PAD.encode(random_bytes::<16>(rng)?);
        if id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Ok(id);
        }
    }
}

/// The SHA-256 of a secret, the only form in which secrets are stored.
pub fn hash(secret: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Whether `presented` hashes to `stored`, compared in constant time.
pub fn verify(presented: &[u8], stored: &[u8]) -> bool {
    let presented = hash(presented);
    constant_time_eq(&presented, stored)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // `subtle` guards against the optimiser turning this into an early-exit loop.
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_prefixed_and_unique() {
        let rng = SystemRandom::new();
        let a = generate(&rng, "tsm_").unwrap();
        let b = generate(&rng, "tsm_").unwrap();
        assert!(a.expose().starts_with("tsm_"));
        assert_eq!(a.expose().len(), 4 + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn ids_never_look_like_command_line_flags() {
        let rng = SystemRandom::new();
        for _ in 0..2000 {
            let id = generate_id(&rng).unwrap();
            assert_eq!(id.len(), 22);
            assert!(id.starts_with(|c: char| c.is_ascii_alphanumeric()), "{id}");
        }
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn verify_accepts_only_the_right_secret() {
        let stored = hash(b"right");
        assert!(verify(b"right", &stored));
        assert!(!verify(b"wrong", &stored));
        assert!(!verify(b"right", &stored[..31]));
    }
}
