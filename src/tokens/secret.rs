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

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Characters of a platform token's random part: 43 base62 characters carry 256 bits.
pub const TOKEN_RANDOM_CHARS: usize = 43;
/// Characters of a platform token's checksum: CRC32 in base62.
pub const TOKEN_CHECKSUM_CHARS: usize = 6;

/// `n` random characters of `[0-9A-Za-z]`, uniformly drawn (bytes of 248 and above
/// are rejected, so that no character is likelier than another).
pub fn random_alphanumeric(rng: &SystemRandom, n: usize) -> Result<String, ring::error::Unspecified> {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for byte in random_bytes::<64>(rng)? {
            if byte < 248 && out.len() < n {
                out.push(char::from(BASE62[usize::from(byte % 62)]));
            }
        }
    }
    Ok(out)
}

/// A platform token: `prefix`, 43 random base62 characters (256 bits), then a
/// checksum (CRC32 of everything before it, six base62 characters), so that a
/// secret scanner can tell a real token from noise without asking the server.
pub fn generate_token(rng: &SystemRandom, prefix: &str) -> Result<Secret, ring::error::Unspecified> {
    let mut value = String::with_capacity(prefix.len() + TOKEN_RANDOM_CHARS + TOKEN_CHECKSUM_CHARS);
    value.push_str(prefix);
    value.push_str(&random_alphanumeric(rng, TOKEN_RANDOM_CHARS)?);
    let checksum = base62_fixed(crc32(value.as_bytes()));
    value.push_str(&checksum);
    Ok(Secret(value))
}

/// Why a string is not a well-formed platform token.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    #[error("it is {0} characters long; a token after its prefix has 49")]
    Length(usize),
    #[error("it holds characters other than 0-9, A-Z and a-z after its prefix")]
    Alphabet,
    #[error("its checksum does not match: a character is missing, extra or mistyped")]
    Checksum,
}

/// Checks the random part and checksum after `prefix` (which the caller matched).
pub fn check_token_format(prefix: &str, token: &str) -> Result<(), TokenFormatError> {
    let rest = token.strip_prefix(prefix).unwrap_or(token);
    let expected = TOKEN_RANDOM_CHARS + TOKEN_CHECKSUM_CHARS;
    if rest.chars().count() != expected {
        return Err(TokenFormatError::Length(rest.chars().count()));
    }
    if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(TokenFormatError::Alphabet);
    }
    let (body, checksum) = token.split_at(token.len() - TOKEN_CHECKSUM_CHARS);
    if base62_fixed(crc32(body.as_bytes())) != checksum {
        return Err(TokenFormatError::Checksum);
    }
    Ok(())
}

/// `n` in base62, left-padded with `0` to six characters (62^6 > 2^32).
fn base62_fixed(mut n: u32) -> String {
    let mut out = [b'0'; TOKEN_CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// CRC-32 (IEEE 802.3, reflected, as zlib and GitHub's token checksums use it).
/// Bitwise: it runs over a few dozen bytes per token, where a table buys nothing.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
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

/// Whether `a` and `b` are equal, compared in constant time (for equal lengths).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn tokens_carry_a_checksum_that_catches_a_typo() {
        let rng = SystemRandom::new();
        let token = generate_token(&rng, "tsa_").unwrap();
        let value = token.expose();
        assert_eq!(value.len(), 4 + 43 + 6);
        assert_eq!(check_token_format("tsa_", value), Ok(()));
        // One character changed in the random part.
        let mut typo = value.to_owned().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(check_token_format("tsa_", &typo), Err(TokenFormatError::Checksum));
        assert_eq!(check_token_format("tsa_", &value[..50]), Err(TokenFormatError::Length(46)));
        let dashed = format!("{}-{}", &value[..20], &value[21..]);
        assert_eq!(check_token_format("tsa_", &dashed), Err(TokenFormatError::Alphabet));
    }

    #[test]
    fn alphanumerics_are_drawn_from_all_62_characters() {
        let rng = SystemRandom::new();
        let sample = random_alphanumeric(&rng, 6200).unwrap();
        assert!(sample.bytes().all(|b| b.is_ascii_alphanumeric()));
        for c in BASE62 {
            assert!(sample.as_bytes().contains(c), "{} never drawn", char::from(*c));
        }
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
