//! `ApiJson<T>`: the admin API's JSON body. It reads the body as actix's `Json`
//! does (size limit, content type, timeout, all answered as problem+json by the
//! scope's `JsonConfig`), then refuses any string holding a control character
//! before the typed body is built, so that no handler or store ever sees a NUL
//! (which Postgres cannot store) in a name or an id.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<T> ApiJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ApiJson<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<ApiJson<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let value = body.await?.into_inner();
            if let Some(path) = control_character(&value, String::new()) {
                return Err(ApiError::BadRequest(format!(
                    "`{path}` contains a control character; names and ids cannot hold one"
                ))
                .into());
            }
            serde_json::from_value(value)
                .map(ApiJson)
                .map_err(|e| ApiError::BadRequest(format!("the JSON body is not valid: {e}")).into())
        })
    }
}

/// The JSON path of the first string (member name or value) with a control
/// character, if any.
fn control_character(value: &Value, at: String) -> Option<String> {
    let bad = |s: &str| s.chars().any(char::is_control);
    match value {
        Value::String(s) if bad(s) => Some(if at.is_empty() { "body".into() } else { at }),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| control_character(item, format!("{at}[{i}]")))
        }
        Value::Object(members) => members.iter().find_map(|(name, item)| {
            let here = if at.is_empty() { name.clone() } else { format!("{at}.{name}") };
            if bad(name) {
                Some(here.escape_default().to_string())
            } else {
                control_character(item, here)
            }
        }),
        _ => None,
    }
}

/// Tells a field set to null (`Some(None)`) from a field left out (`None`), for
/// `#[serde(default, deserialize_with = "present")]` on `Option<Option<String>>`.
pub fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    <Option<String> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::control_character;
    use serde_json::json;

    #[test]
    fn control_characters_are_found_in_names_values_and_arrays() {
        assert_eq!(control_character(&json!({ "name": "a\u{0}b" }), String::new()), Some("name".into()));
        assert_eq!(
            control_character(&json!({ "ids": ["ok", "x\ny"] }), String::new()),
            Some("ids[1]".into())
        );
        assert!(control_character(&json!({ "a\u{0}": 1 }), String::new()).is_some());
        assert_eq!(control_character(&json!({ "name": "ä ok", "n": 1 }), String::new()), None);
    }
}
