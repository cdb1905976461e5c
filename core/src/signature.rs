//! Alert signatures: the key pattern analysis groups actions by.
//!
//! When a client records a trace without a `signature`, it is derived exactly like
//! Kubernaut's gateway computes an alert fingerprint:
//! `lowercase_hex(sha256("<alert_name>:<namespace>:<kind>:<name>"))`.
//! Example: `KubePodCrashLooping:default:Deployment:nginx` →
//! `sha256_hex` of that string (64 hex characters).

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `alert:namespace:kind:name`.
pub fn alert_signature(alert_name: &str, namespace: &str, kind: &str, name: &str) -> String {
    let mut h = Sha256::new();
    h.update(alert_name.as_bytes());
    h.update(b":");
    h.update(namespace.as_bytes());
    h.update(b":");
    h.update(kind.as_bytes());
    h.update(b":");
    h.update(name.as_bytes());
    to_hex(&h.finalize())
}

/// Lowercase hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_gateway_formula() {
        // printf '%s' 'KubePodCrashLooping:default:Deployment:nginx' | sha256sum
        assert_eq!(
            alert_signature("KubePodCrashLooping", "default", "Deployment", "nginx"),
            "43bd622e26817255b1b20fa9aa1942df1ccdf3c95d58c6090dc477889cd77948"
        );
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xab]), "000fab");
    }
}
