//! Opaque, tamper-evident page cursors.
//!
//! A cursor is `base64url(json(position, query fingerprint)) "." base64url(hmac)`. The
//! HMAC-SHA256 key comes from configuration (`KUBERNAUT_CONTEXT_CURSOR_KEY`; all Lambda
//! functions of one deployment must share it). A cursor that was altered, was made for
//! other filters, or is not a cursor at all is rejected, and the API answers 400.
//!
//! The filters are carried as a SHA-256 digest, not verbatim, so a cursor's length does not
//! grow with the filters: the worst case (longest ids, names and signature, and a DynamoDB
//! continuation key over the widest index) stays under [`MAX_CURSOR_LEN`]; the DynamoDB
//! adapter's tests assert that bound.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::store::PagePosition;

/// Longest cursor string accepted. The longest cursor the stores can produce is about
/// 2.5 KB (a DynamoDB continuation key over the resource index with 253-character kind and
/// name, a 256-character signature and a 128-character action id, base64-encoded twice).
pub const MAX_CURSOR_LEN: usize = 4096;

#[derive(Serialize, Deserialize)]
struct Payload {
    p: PagePosition,
    /// SHA-256 (base64url) of the fingerprint of the filters the cursor belongs to.
    q: String,
}

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor: {0}")]
pub struct CursorError(pub &'static str);

fn digest(fingerprint: &str) -> String {
    use sha2::Digest as _;
    B64.encode(Sha256::digest(fingerprint.as_bytes()))
}

/// Signs and checks cursors.
#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(..)")
    }
}

impl CursorCodec {
    pub fn new(key: impl AsRef<[u8]>) -> Self {
        CursorCodec {
            key: key.as_ref().to_vec(),
        }
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }

    /// Encodes a position for the filters described by `query_fingerprint`.
    pub fn encode(&self, pos: &PagePosition, query_fingerprint: &str) -> String {
        let payload = Payload {
            p: pos.clone(),
            q: digest(query_fingerprint),
        };
        let json = serde_json::to_vec(&payload).expect("payload serializes");
        let body = B64.encode(&json);
        let sig = B64.encode(self.mac(body.as_bytes()));
        format!("{body}.{sig}")
    }

    /// Decodes a cursor made by [`CursorCodec::encode`] for the same filters.
    pub fn decode(
        &self,
        cursor: &str,
        query_fingerprint: &str,
    ) -> Result<PagePosition, CursorError> {
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(CursorError("too long"));
        }
        let (body, sig) = cursor.split_once('.').ok_or(CursorError("malformed"))?;
        let sig = B64.decode(sig).map_err(|_| CursorError("malformed"))?;
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(body.as_bytes());
        m.verify_slice(&sig)
            .map_err(|_| CursorError("signature mismatch (altered or from another deployment)"))?;
        let json = B64.decode(body).map_err(|_| CursorError("malformed"))?;
        let payload: Payload =
            serde_json::from_slice(&json).map_err(|_| CursorError("malformed"))?;
        if payload.q != digest(query_fingerprint) {
            return Err(CursorError("made for different filters"));
        }
        Ok(payload.p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn pos() -> PagePosition {
        PagePosition {
            ts: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            id: "a-1".into(),
            token: Some("tok".into()),
        }
    }

    #[test]
    fn round_trips() {
        let c = CursorCodec::new("k");
        let s = c.encode(&pos(), "q1");
        assert_eq!(c.decode(&s, "q1").unwrap(), pos());
    }

    #[test]
    fn length_does_not_grow_with_the_filters() {
        let c = CursorCodec::new("k");
        let short = c.encode(&pos(), "q");
        let long_q = "f".repeat(10_000);
        let long = c.encode(&pos(), &long_q);
        assert_eq!(short.len(), long.len());
        assert_eq!(c.decode(&long, &long_q).unwrap(), pos());
        assert!(c.decode(&long, "q").is_err());
    }

    #[test]
    fn rejects_tampering_other_filters_other_keys_and_garbage() {
        let c = CursorCodec::new("k");
        let s = c.encode(&pos(), "q1");
        assert!(c.decode(&s, "q2").is_err());
        assert!(CursorCodec::new("other").decode(&s, "q1").is_err());
        let mut t = s.clone().into_bytes();
        t[3] = if t[3] == b'A' { b'B' } else { b'A' };
        assert!(c.decode(std::str::from_utf8(&t).unwrap(), "q1").is_err());
        for g in ["", ".", "abc", "a.b", &"x".repeat(MAX_CURSOR_LEN + 1)] {
            assert!(c.decode(g, "q1").is_err(), "{g}");
        }
    }
}
