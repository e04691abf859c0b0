//! Reading an OAuth form request: method, content type, size, and parameters that
//! appear at most once (RFC 6749 §3.2).

use actix_web::http::header;
use actix_web::{web, HttpRequest};

use super::error::OAuthError;

/// The parameters of a form-encoded POST, each name at most once. Parameters sent
/// without a value are treated as omitted (RFC 6749 §3.1).
#[derive(Debug)]
pub struct FormRequest {
    params: Vec<(String, String)>,
}

impl FormRequest {
    /// The body of a request to an endpoint that takes no query parameters.
    pub async fn read(
        req: &HttpRequest,
        payload: web::Payload,
        limit: usize,
    ) -> Result<FormRequest, OAuthError> {
        if !req.query_string().is_empty() {
            // RFC 6749 §2.3.1 and §3.2: credentials and parameters go in the body.
            return Err(OAuthError::invalid_request("send parameters in the request body, not in the URL"));
        }
        Self::read_body(req, payload, limit).await
    }

    /// The form-encoded body, at most `limit` bytes.
    pub async fn read_body(
        req: &HttpRequest,
        payload: web::Payload,
        limit: usize,
    ) -> Result<FormRequest, OAuthError> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"));
        }
        let body = match payload.to_bytes_limited(limit).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => return Err(OAuthError::invalid_request("the request body could not be read")),
            Err(_) => {
                return Err(OAuthError::invalid_request(format!(
                    "the request body is larger than {limit} bytes"
                )))
            }
        };
        FormRequest::parse(&body)
    }

    pub fn parse(body: &[u8]) -> Result<FormRequest, OAuthError> {
        let mut params: Vec<(String, String)> = Vec::with_capacity(4);
        // Most bodies are plain ASCII with nothing escaped (a token, a client id):
        // they are split in place, without decoding every value byte by byte.
        let plain = body.is_ascii() && !body.iter().any(|b| matches!(b, b'%' | b'+'));
        if plain {
            // ASCII, so valid UTF-8.
            let text = std::str::from_utf8(body)
                .map_err(|_| OAuthError::invalid_request("the body is not UTF-8"))?;
            for pair in text.split('&').filter(|pair| !pair.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                Self::push(&mut params, name, value)?;
            }
        } else {
            for (name, value) in url::form_urlencoded::parse(body) {
                Self::push(&mut params, &name, &value)?;
            }
        }
        Ok(FormRequest { params })
    }

    fn push(params: &mut Vec<(String, String)>, name: &str, value: &str) -> Result<(), OAuthError> {
        if params.iter().any(|(n, _)| n == name) {
            return Err(OAuthError::invalid_request(format!("parameter `{name}` is repeated")));
        }
        // A password may hold any printable text, but no NUL; every other
        // parameter is an identifier, a URI or a scope: no control characters.
        let bad_value = if name == "password" { value.contains('\0') } else { has_control(value) };
        if has_control(name) || bad_value {
            return Err(OAuthError::invalid_request(format!(
                "parameter `{}` contains a control character",
                name.escape_default()
            )));
        }
        params.push((name.to_owned(), value.to_owned()));
        Ok(())
    }

    /// The value of `name`, or `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The value of `name`, or `invalid_request` naming the missing parameter.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("missing parameter `{name}`")))
    }
}

/// Whether `text` holds a control character (`char::is_control`), by bytes when
/// it is ASCII.
fn has_control(text: &str) -> bool {
    if text.is_ascii() {
        text.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        text.chars().any(char::is_control)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        let err = FormRequest::parse(b"grant_type=a&scope=x&scope=y").unwrap_err();
        assert_eq!(err.code(), "invalid_request");
        assert!(err.to_string().contains("`scope` is repeated"));
    }

    #[test]
    fn empty_values_count_as_omitted() {
        let form = FormRequest::parse(b"grant_type=client_credentials&scope=").unwrap();
        assert_eq!(form.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.get("scope"), None);
        assert!(form.require("scope").is_err());
    }

    #[test]
    fn control_characters_are_refused_outside_passwords() {
        let err = FormRequest::parse(b"client_id=a%00b").unwrap_err();
        assert_eq!(err.code(), "invalid_request");
        assert!(FormRequest::parse(b"scope=a%0Ab").is_err());
        assert!(FormRequest::parse(b"password=a%00b").is_err());
        assert!(FormRequest::parse(b"password=tab%09ok").is_ok());
    }

    #[test]
    fn values_are_percent_decoded() {
        let form = FormRequest::parse(b"scope=places%3Aread+events%3Aread").unwrap();
        assert_eq!(form.get("scope"), Some("places:read events:read"));
    }

    #[test]
    fn plain_bodies_read_as_the_decoder_reads_them() {
        let bodies: [&[u8]; 7] = [
            b"grant_type=client_credentials&scope=places:read",
            b"token=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln&token_type_hint=access_token",
            b"a=&b&&c=1=2",
            b"scope=a%20b&x=y",
            b"scope=a+b",
            b"name=caf\xc3\xa9",
            b"",
        ];
        for body in bodies {
            let ours = FormRequest::parse(body).unwrap().params;
            let decoded: Vec<(String, String)> =
                url::form_urlencoded::parse(body).map(|(n, v)| (n.into_owned(), v.into_owned())).collect();
            assert_eq!(ours, decoded, "{}", String::from_utf8_lossy(body));
        }
        for bad in [&b"a=x\x01y"[..], b"a=x\x7fy", b"a\x1f=x", b"a=%01", b"a=\xc2\x85"] {
            let err = FormRequest::parse(bad).unwrap_err();
            assert!(err.to_string().contains("control character"), "{err}");
        }
    }
}
