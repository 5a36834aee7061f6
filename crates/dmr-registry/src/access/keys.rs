//! Tenant API keys as strings: their format, how they are made, how they are hashed.
//!
//! A key is `dmr_` followed by 32 random bytes in unpadded base64url (47 characters): the
//! prefix makes a leaked key easy to find (grep, secret scanners). The store keeps only
//! the SHA-256 of the whole string. A fast hash is enough: with 256 bits of entropy no
//! guess, fast or slow, ever lands, so a slow KDF (bcrypt, argon2) would only add latency
//! to every request. Keys are compared by hash lookup, never character by character.

use sha2::{Digest as _, Sha256};

pub const KEY_PREFIX: &str = "dmr_";
const KEY_BYTES: usize = 32;
/// Unpadded base64 of 32 bytes.
const ENCODED_LEN: usize = 43;
/// The length of every tenant key.
pub const KEY_LEN: usize = KEY_PREFIX.len() + ENCODED_LEN;
/// Longest label an operator may give a key.
pub const MAX_LABEL_CHARS: usize = 100;

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// SHA-256 of a presented key: the cache key and, in hex, the store's.
pub(crate) type KeyDigest = [u8; 32];

pub(crate) fn digest(key: &str) -> KeyDigest {
    Sha256::digest(key.as_bytes()).into()
}

/// Lowercase hex, as the store keeps hashes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Equality whose running time does not depend on where the inputs differ. Used for the
/// admin key (compared as digests, so the length of the configured key does not show
/// either).
pub(crate) fn constant_time_eq(a: &KeyDigest, b: &KeyDigest) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Whether a string has the shape of a tenant key. Anything else is refused before any
/// cache or store is asked.
pub(crate) fn is_tenant_key_shaped(key: &str) -> bool {
    key.len() == KEY_LEN
        && key.starts_with(KEY_PREFIX)
        && key.as_bytes()[KEY_PREFIX.len()..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(BASE64URL[((n >> (18 - 6 * i)) & 0x3f) as usize] as char);
        }
    }
    out
}

/// A new tenant key, from the operating system's random source.
pub(crate) fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{KEY_PREFIX}{}", base64url(&bytes)))
}

/// A new public key id: 64 random bits in hex. Ids are unique per tenant in the store.
pub(crate) fn new_key_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// A label is for people reading the key list: 1-100 characters, no control characters.
pub(crate) fn check_label(label: &str) -> Result<(), String> {
    let chars = label.chars().count();
    if label.trim().is_empty() {
        return Err("a key label must not be blank (leave it out instead)".to_owned());
    }
    if chars > MAX_LABEL_CHARS {
        return Err(format!(
            "a key label is {chars} characters long; the limit is {MAX_LABEL_CHARS}"
        ));
    }
    if label.chars().any(char::is_control) {
        return Err("a key label must not contain control characters".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape_and_differ() {
        let keys: std::collections::HashSet<String> =
            (0..200).map(|_| generate().unwrap()).collect();
        assert_eq!(keys.len(), 200);
        for key in &keys {
            assert_eq!(key.len(), 47, "{key}");
            assert!(key.starts_with("dmr_"), "{key}");
            assert!(is_tenant_key_shaped(key), "{key}");
        }
    }

    #[test]
    fn base64url_matches_the_rfc_4648_vectors() {
        // RFC 4648 section 10, without padding, in the URL alphabet.
        for (input, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()), encoded);
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8", "the URL-safe characters");
        assert_eq!(base64url(&[0u8; 32]).len(), ENCODED_LEN);
    }

    #[test]
    fn the_hash_is_lowercase_hex_sha256_of_the_whole_key() {
        // echo -n abc | sha256sum
        assert_eq!(
            hex(&digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn misshapen_keys_are_recognised() {
        let good = format!("dmr_{}", "A".repeat(43));
        assert!(is_tenant_key_shaped(&good));
        for bad in [
            String::new(),
            "dmr_".to_owned(),
            format!("dmr_{}", "A".repeat(42)),
            format!("dmr_{}", "A".repeat(44)),
            format!("xyz_{}", "A".repeat(43)),
            format!("dmr_{}+", "A".repeat(42)),
            format!("dmr_{}=", "A".repeat(42)),
            format!("dmr_{}é", "A".repeat(41)),
        ] {
            assert!(!is_tenant_key_shaped(&bad), "{bad:?}");
        }
    }

    #[test]
    fn constant_time_eq_is_equality() {
        let a = digest("one");
        assert!(constant_time_eq(&a, &digest("one")));
        assert!(!constant_time_eq(&a, &digest("two")));
        let mut last_bit = a;
        last_bit[31] ^= 1;
        assert!(!constant_time_eq(&a, &last_bit));
    }

    #[test]
    fn labels_are_short_printable_text() {
        assert!(check_label("ci deploy (prod)").is_ok());
        assert!(check_label(&"é".repeat(100)).is_ok());
        assert!(check_label(&"x".repeat(101)).unwrap_err().contains("101"));
        assert!(check_label("  ").is_err());
        assert!(check_label("a\nb").is_err());
    }

    #[test]
    fn key_ids_are_16_hex_digits() {
        let id = new_key_id().unwrap();
        assert_eq!(id.len(), 16);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
}
