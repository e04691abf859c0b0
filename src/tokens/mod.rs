//! Cryptography: JWT minting and verification, signing keys and the JWKS, and
//! opaque secrets. No HTTP and no database here.

pub mod jwt;
pub mod keys;
pub mod sealed;
pub mod secret;
