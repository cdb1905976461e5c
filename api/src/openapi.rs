//! `GET /api/v1/openapi.json` (document built in [`document`]).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::ApiState;

pub fn document(_state: &ApiState) -> Value {
    json!({"openapi": "3.0.3", "info": {"title": "Kubernaut Context API", "version": env!("CARGO_PKG_VERSION")}, "paths": {}})
}

/// `GET /api/v1/openapi.json`
pub async fn serve(State(state): State<ApiState>) -> Json<Value> {
    Json(document(&state))
}
