//! Channel secrets at rest: sealed with the service's key (XChaCha20-Poly1305, a fresh nonce
//! each time) so the database alone never holds a webhook signing secret or a portal access key.

use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::config::SecretKey;

const NONCE: usize = 24;
/// Bound to what it seals: a sealed secret copied elsewhere does not open as something else.
const CONTEXT: &[u8] = b"kenshu channel secret v1";

pub fn seal(key: &SecretKey, plain: &str) -> String {
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(&nonce, chacha20poly1305::aead::Payload { msg: plain.as_bytes(), aad: CONTEXT })
        .expect("sealing a short secret does not fail");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// The secret, or `None` when it was sealed with another key or tampered with.
pub fn open(key: &SecretKey, sealed: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).ok()?;
    if bytes.len() <= NONCE {
        return None;
    }
    let (nonce, body) = bytes.split_at(NONCE);
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let plain = cipher
        .decrypt(XNonce::from_slice(nonce), chacha20poly1305::aead::Payload { msg: body, aad: CONTEXT })
        .ok()?;
    String::from_utf8(plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_never_reads_as_itself() {
        let key = SecretKey([7; 32]);
        let sealed = seal(&key, "whsec_abc");
        assert!(!sealed.contains("whsec_abc"));
        assert_ne!(sealed, seal(&key, "whsec_abc"), "a fresh nonce each time");
        assert_eq!(open(&key, &sealed).as_deref(), Some("whsec_abc"));
        assert_eq!(open(&SecretKey([8; 32]), &sealed), None);
        let mut tampered = base64::engine::general_purpose::STANDARD.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(open(&key, &base64::engine::general_purpose::STANDARD.encode(tampered)), None);
    }
}
