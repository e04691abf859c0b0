//! Secrets an administrator may read again (API tokens), sealed with AES-256-GCM
//! under the configured data keys: the first key seals, every key opens, so a key
//! can be rotated by putting a new one first and keeping the old one after it.
//!
//! A sealed value is `version (1) | key id (4) | nonce (12) | ciphertext | tag`,
//! where the key id is the start of the key's SHA-256 (it names the key, it does
//! not reveal it), and the caller's context (the row it belongs to) is the
//! associated data, so a ciphertext moved to another row does not open.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no data key is configured (security.data_keys)")]
    NoKey,
    #[error("the value was sealed with a data key that is no longer configured")]
    UnknownKey,
    #[error("the sealed value is corrupt or was moved")]
    Corrupt,
    #[error("the system random generator failed")]
    Random,
}

struct DataKey {
    id: [u8; KEY_ID_LEN],
    key: LessSafeKey,
}

/// The configured data keys.
pub struct DataKeys {
    keys: Vec<DataKey>,
    rng: SystemRandom,
}

impl std::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKeys({} keys)", self.keys.len())
    }
}

impl DataKeys {
    /// Keys in order: the first seals.
    pub fn new(keys: &[[u8; 32]]) -> DataKeys {
        let keys = keys
            .iter()
            .filter_map(|bytes| {
                let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
                let mut id = [0u8; KEY_ID_LEN];
                id.copy_from_slice(&digest.as_ref()[..KEY_ID_LEN]);
                let key = UnboundKey::new(&AES_256_GCM, bytes).ok()?;
                Some(DataKey { id, key: LessSafeKey::new(key) })
            })
            .collect();
        DataKeys { keys, rng: SystemRandom::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn seal(&self, plain: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        let key = self.keys.first().ok_or(SealError::NoKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut body = plain.to_vec();
        key.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut body)
            .map_err(|_| SealError::Corrupt)?;
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + body.len());
        out.push(VERSION);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + KEY_ID_LEN + NONCE_LEN || sealed[0] != VERSION {
            return Err(SealError::Corrupt);
        }
        let (id, rest) = sealed[1..].split_at(KEY_ID_LEN);
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let key = self.keys.iter().find(|k| k.id == id).ok_or(SealError::UnknownKey)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Corrupt)?;
        let mut body = body.to_vec();
        let plain =
            key.key.open_in_place(nonce, Aad::from(context), &mut body).map_err(|_| SealError::Corrupt)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_any_configured_key_and_only_in_their_context() {
        let old = DataKeys::new(&[[1u8; 32]]);
        let sealed = old.seal(b"tsa_value", b"row-1").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"tsa_value"));
        assert_eq!(old.open(&sealed, b"row-1").unwrap(), b"tsa_value");
        assert!(matches!(old.open(&sealed, b"row-2"), Err(SealError::Corrupt)));
        // Rotated: a new key seals, the old one still opens.
        let rotated = DataKeys::new(&[[2u8; 32], [1u8; 32]]);
        assert_eq!(rotated.open(&sealed, b"row-1").unwrap(), b"tsa_value");
        let resealed = rotated.seal(b"x", b"c").unwrap();
        assert!(matches!(old.open(&resealed, b"c"), Err(SealError::UnknownKey)));
        assert!(matches!(DataKeys::new(&[]).seal(b"x", b"c"), Err(SealError::NoKey)));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(old.open(&tampered, b"row-1"), Err(SealError::Corrupt)));
    }
}
