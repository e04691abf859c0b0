//! Token status lists (draft-ietf-oauth-status-list-20): every access token
//! carries `status.status_list = {idx, uri}`; the list at `uri` is a
//! `statuslist+jwt` whose bit `idx` is set once the token is revoked, so
//! resource servers that verify offline learn of revocations within its `ttl`.
//!
//! Invariants: an index is handed out once (blocks taken from the database by
//! one conditional update, then counted out in memory, never returned); a list
//! is signed from the database's revocations and served from memory, rebuilt
//! when the `status` change counter moves, the signing key changes, or half its
//! validity has passed.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::config::Config;
use crate::store::{ChangeCounter, StatusBlock, Store, StoreError};
use crate::tokens::jwt::{JwtError, JwtSigner};

/// Where a token's bit is: list id and index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusIndex {
    pub list_id: i64,
    pub idx: i64,
}

/// The address of list `list_id`.
pub fn list_uri(issuer: &str, list_id: i64) -> String {
    format!("{issuer}/statuslists/{list_id}")
}

/// The list id an address of this issuer names, if it names one.
pub fn list_of_uri(issuer: &str, uri: &str) -> Option<i64> {
    uri.strip_prefix(issuer)?.strip_prefix("/statuslists/")?.parse().ok()
}

/// A signed list, ready to serve.
#[derive(Clone, Debug)]
pub struct SignedList {
    pub jwt: bytes::Bytes,
    pub ttl: u64,
}

/// This instance's status lists: the block it hands indexes out of, and the
/// signed lists it serves.
pub struct StatusLists {
    block: Mutex<Option<StatusBlock>>,
    served: ArcSwap<HashMap<i64, SignedList>>,
    version: AtomicI64,
    signed_at: AtomicI64,
    signed_kid: Mutex<String>,
    rebuild: tokio::sync::Mutex<()>,
    refill: tokio::sync::Mutex<()>,
    /// The `jti`s of live access tokens revoked before their expiry, so that
    /// checking a JWT reads no database; reloaded when the `status` counter moves.
    revoked: ArcSwap<HashSet<String>>,
    revoked_version: AtomicI64,
}

impl Default for StatusLists {
    fn default() -> Self {
        StatusLists {
            block: Mutex::new(None),
            served: ArcSwap::from_pointee(HashMap::new()),
            version: AtomicI64::new(i64::MIN),
            signed_at: AtomicI64::new(0),
            signed_kid: Mutex::new(String::new()),
            rebuild: tokio::sync::Mutex::new(()),
            refill: tokio::sync::Mutex::new(()),
            revoked: ArcSwap::from_pointee(HashSet::new()),
            revoked_version: AtomicI64::new(i64::MIN),
        }
    }
}

#[derive(Serialize)]
struct StatusListClaims<'a> {
    sub: &'a str,
    iat: i64,
    exp: i64,
    ttl: u64,
    status_list: ListClaim,
}

#[derive(Serialize)]
struct ListClaim {
    bits: u8,
    lst: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sign(#[from] JwtError),
    #[error("cannot compress a status list: {0}")]
    Compress(#[from] std::io::Error),
}

impl StatusLists {
    /// A fresh index for a token about to be signed: from this instance's block,
    /// or a new block from the database when it is used up.
    pub async fn allocate(
        &self,
        store: &Store,
        config: &Config,
        now: i64,
    ) -> Result<StatusIndex, StoreError> {
        if let Some(index) = self.take() {
            return Ok(index);
        }
        // One refill at a time: the requests that found the block used up wait
        // for it and take from the new block.
        let _one = self.refill.lock().await;
        if let Some(index) = self.take() {
            return Ok(index);
        }
        let size = config.status.list_size as i64;
        let fresh = store.allocate_status_block(size, config.status.block as i64, now).await?;
        *self.block.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(StatusBlock { start: fresh.start + 1, ..fresh });
        Ok(StatusIndex { list_id: fresh.list_id, idx: fresh.start })
    }

    /// Whether the access token `jti` was revoked (as this instance last read).
    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.load().contains(jti)
    }

    /// A revocation made here counts here at once; other instances read it
    /// within one poll.
    pub fn note_revoked(&self, jti: &str) {
        self.revoked.rcu(|set| {
            let mut set = HashSet::clone(set);
            set.insert(jti.to_owned());
            set
        });
    }

    /// Reads the revoked `jti`s (those not yet past their expiry), as of the
    /// `status` counter at `version`.
    pub async fn load_revoked(&self, store: &Store, now: i64, version: i64) -> Result<(), StoreError> {
        let jtis: HashSet<String> = store.revoked_jtis(now).await?.into_iter().collect();
        self.revoked.store(Arc::new(jtis));
        self.revoked_version.store(version, Ordering::Release);
        Ok(())
    }

    /// One poll: one read of the `status` counter serves both the revoked `jti`s
    /// and the signed lists, each done again only when it is out of date.
    pub async fn refresh(
        &self,
        store: &Store,
        config: &Config,
        signer: &JwtSigner,
        now: i64,
    ) -> Result<(), StatusError> {
        // The version first: a revocation after it moves the counter past it.
        let version = store.change_version(ChangeCounter::Status).await?;
        if version != self.revoked_version.load(Ordering::Acquire) {
            self.load_revoked(store, now, version).await?;
        }
        self.rebuild_at(store, config, signer, now, version, false).await?;
        Ok(())
    }

    fn take(&self) -> Option<StatusIndex> {
        let mut guard = self.block.lock().unwrap_or_else(|e| e.into_inner());
        let block = guard.as_mut()?;
        if block.start >= block.end {
            return None;
        }
        let index = StatusIndex { list_id: block.list_id, idx: block.start };
        block.start += 1;
        Some(index)
    }

    /// The signed list `list_id`, signing the lists again first when they are
    /// missing it (a list opened since) or out of date.
    pub async fn get(
        &self,
        store: &Store,
        config: &Config,
        signer: &JwtSigner,
        list_id: i64,
        now: i64,
    ) -> Result<Option<SignedList>, StatusError> {
        if let Some(list) = self.served.load().get(&list_id) {
            return Ok(Some(list.clone()));
        }
        let version = store.change_version(ChangeCounter::Status).await?;
        self.rebuild_at(store, config, signer, now, version, true).await?;
        Ok(self.served.load().get(&list_id).cloned())
    }

    /// Signs every live list again when a bit may have changed (the `status`
    /// counter moved past `version`), the key changed, half the validity has
    /// passed, or `force`.
    async fn rebuild_at(
        &self,
        store: &Store,
        config: &Config,
        signer: &JwtSigner,
        now: i64,
        version: i64,
        force: bool,
    ) -> Result<bool, StatusError> {
        let _one = self.rebuild.lock().await;
        let kid = signer.keys().active().kid.as_str();
        let stale = now - self.signed_at.load(Ordering::Acquire) > (config.status.validity / 2) as i64;
        let same_key = *self.signed_kid.lock().unwrap_or_else(|e| e.into_inner()) == kid;
        if !force && !stale && same_key && version == self.version.load(Ordering::Acquire) {
            return Ok(false);
        }
        let lifetime = config.tokens.access_token_ttl as i64;
        let mut served = HashMap::new();
        for (list_id, size) in store.live_status_lists(now, lifetime).await? {
            let revoked = store.revoked_indexes(list_id).await?;
            let lst = compress(&bit_array(size, &revoked))?;
            let uri = list_uri(&config.issuer, list_id);
            let claims = StatusListClaims {
                sub: &uri,
                iat: now,
                exp: now + config.status.validity as i64,
                ttl: config.status.ttl,
                status_list: ListClaim { bits: 1, lst: URL_SAFE_NO_PAD.encode(lst) },
            };
            let jwt = signer.sign_status_list(&claims)?;
            served.insert(list_id, SignedList { jwt: jwt.into_bytes().into(), ttl: config.status.ttl });
        }
        self.served.store(Arc::new(served));
        self.version.store(version, Ordering::Release);
        self.signed_at.store(now, Ordering::Release);
        *self.signed_kid.lock().unwrap_or_else(|e| e.into_inner()) = kid.to_owned();
        Ok(true)
    }
}

/// `size` one-bit statuses with `revoked` set: index `i` is bit `i % 8` (the
/// least significant first) of byte `i / 8` (draft §4.1).
pub fn bit_array(size: i64, revoked: &[i64]) -> Vec<u8> {
    let mut bytes = vec![0u8; (size as usize).div_ceil(8)];
    for &i in revoked {
        if let Some(byte) = usize::try_from(i).ok().and_then(|i| bytes.get_mut(i / 8)) {
            *byte |= 1 << (i % 8);
        }
    }
    bytes
}

/// zlib (RFC 1950) at the best compression: lists are signed rarely and fetched often.
fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_least_significant_first() {
        // The draft's own example: statuses 1,0,0,1,1,1,0,1 | 1,1,0,0,0,1,0,1 at indexes 0..16.
        let set = [0, 3, 4, 5, 7, 8, 9, 13, 15];
        assert_eq!(bit_array(16, &set), vec![0xB9, 0xA3]);
        assert_eq!(bit_array(9, &[]), vec![0, 0]);
        assert_eq!(bit_array(8, &[100]), vec![0], "an index outside the list sets nothing");
    }

    #[test]
    fn an_empty_list_of_four_million_compresses_to_a_few_hundred_bytes() {
        let lst = compress(&bit_array(4_194_304, &[])).unwrap();
        assert!(lst.len() < 1024, "{}", lst.len());
        let with_some =
            compress(&bit_array(4_194_304, &(0..1000).map(|i| i * 3001).collect::<Vec<_>>())).unwrap();
        assert!(with_some.len() < 8 * 1024, "{}", with_some.len());
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&lst[..]), &mut back).unwrap();
        assert_eq!(back.len(), 524_288);
    }

    #[test]
    fn uris_name_their_list() {
        let uri = list_uri("https://auth.example", 7);
        assert_eq!(uri, "https://auth.example/statuslists/7");
        assert_eq!(list_of_uri("https://auth.example", &uri), Some(7));
        assert_eq!(list_of_uri("https://other.example", &uri), None);
    }
}
