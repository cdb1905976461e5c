//! The extractors every handler uses: each rejects with an [`ApiError`], so a bad
//! query, path or body answers in the API's error shape without per-handler code.
//!
//! Handlers take [`Read`] or [`Write`] first: extractors run in argument order, so a
//! missing token answers 401 before any parameter is looked at.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::{ApiState, auth};

/// The query string, deserialized (unknown parameters named, see [`ApiError`]).
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(t) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ValidQuery(t))
    }
}

/// The path parameters, decoded.
#[derive(Debug)]
pub struct ValidPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ValidPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(t) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(ValidPath(t))
    }
}

/// A JSON body (content type, size and syntax checked).
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(t) = Json::<T>::from_request(req, state).await?;
        Ok(ValidJson(t))
    }
}

/// A read: a valid bearer token when reads require one.
#[derive(Debug)]
pub struct Read;

impl FromRequestParts<ApiState> for Read {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        auth::require_read(&state.config, &parts.headers).map(|()| Read)
    }
}

/// A write: always a valid bearer token.
#[derive(Debug)]
pub struct Write;

impl FromRequestParts<ApiState> for Write {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        auth::require_write(&state.config, &parts.headers).map(|()| Write)
    }
}
