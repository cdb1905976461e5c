//! Bearer-token authentication.
//!
//! Writes always need a configured token; reads only when `require_read_auth` is set.
//! Tokens are compared in constant time.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::ApiConfig;
use crate::error::ApiError;

/// Checks `Authorization: Bearer <token>` against the configured tokens.
fn token_matches(config: &ApiConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "missing Authorization header; send Authorization: Bearer <token>",
        ));
    };
    let value = value.as_bytes();
    let token = match value.split_first_chunk::<7>() {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case(b"bearer ") => rest,
        _ => {
            return Err(ApiError::unauthorized(
                "the Authorization header must use the Bearer scheme",
            ));
        }
    };
    let token = token.trim_ascii();
    // Check every token (no early exit) so timing does not reveal which one matched.
    let mut ok = subtle::Choice::from(0u8);
    // (slices of different lengths compare unequal; only the length leaks).
    for t in &config.write_tokens {
        ok |= t.expose_secret().as_bytes().ct_eq(token);
    }
    if bool::from(ok) && !token.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unauthorized("invalid bearer token"))
    }
}

/// A write needs a valid token; with none configured every write is refused.
pub fn require_write(config: &ApiConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    if config.write_tokens.is_empty() {
        return Err(ApiError::unauthorized(
            "writes are disabled: no API tokens are configured. Set KUBERNAUT_CONTEXT_TOKENS \
             (comma-separated) or pass --token to the server, then send Authorization: Bearer <token>",
        ));
    }
    token_matches(config, headers)
}

/// A read needs a valid token only when `require_read_auth` is set.
pub fn require_read(config: &ApiConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    if !config.require_read_auth {
        return Ok(());
    }
    if config.write_tokens.is_empty() {
        return Err(ApiError::unauthorized(
            "reads require authentication but no API tokens are configured; set KUBERNAUT_CONTEXT_TOKENS",
        ));
    }
    token_matches(config, headers)
}
