//! Who is calling: the POS token (headers `Lognex-Pos-Auth-Token` +
//! `Lognex-Pos-Auth-Cashier-Uid`, Basic `uid:token`, or the cookie
//! `Lognex-Pos-Auth=uid:token`, all three as the seed allows) for the store
//! resources, and Basic login/password for `/admin/*`. Pure: reads headers,
//! compares with the configured secrets, never echoes them.

use axum::http::{HeaderMap, header};

use super::api_error::ApiError;

/// Credentials presented with a request.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Presented {
    pub uid: Option<String>,
    pub token: Option<String>,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("uid", &self.uid)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Authorization: Basic base64(user:password)` split in two.
pub fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64_lite::decode;
    let value = header_str(headers, header::AUTHORIZATION.as_str())?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(decode(rest.trim())?).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// The POS credentials in any of the seed's three forms.
pub fn pos_credentials(headers: &HeaderMap) -> Presented {
    let token = header_str(headers, "lognex-pos-auth-token");
    let uid = header_str(headers, "lognex-pos-auth-cashier-uid");
    if token.is_some() || uid.is_some() {
        return Presented {
            uid: uid.map(str::to_string),
            token: token.map(str::to_string),
        };
    }
    if let Some((uid, token)) = basic(headers) {
        return Presented {
            uid: Some(uid),
            token: Some(token),
        };
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == "Lognex-Pos-Auth")
        .and_then(|(_, v)| v.split_once(':'));
    match cookie {
        Some((uid, token)) => Presented {
            uid: Some(uid.to_string()),
            token: Some(token.to_string()),
        },
        None => Presented::default(),
    }
}

/// Compares two secrets without an early exit on the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// 401 for missing credentials.
pub fn no_credentials() -> ApiError {
    ApiError::unauthorized("не указаны данные для аутентификации")
}

/// 401 for a wrong token (seed code 12017).
pub fn bad_token() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        12017,
        "Неправильный или просроченный ключ доступа",
    )
}

/// 401 for a wrong admin login or password (seed code 12025).
pub fn bad_password() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        12025,
        "Ошибка аутентификации: Неправильный пароль или имя пользователя",
    )
}

/// A tiny standard-alphabet base64 decoder (Basic auth is the only user).
mod base64_lite {
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        let s = s.trim_end_matches('=');
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let mut acc = 0u32;
        let mut bits = 0;
        for c in s.bytes() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            };
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Some(out)
    }

    /// Encoding, for tests and the CLI's examples.
    pub fn encode(data: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

/// `Basic base64(user:password)`, for clients of the fake (tests).
pub fn basic_header(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64_lite::encode(format!("{user}:{password}").as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    #[test]
    fn seed_basic_example_decodes() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWRtaW5AcmVxd3k6MTIzMTIz"),
        );
        assert_eq!(basic(&h), Some(("admin@reqwy".into(), "123123".into())));
        assert_eq!(
            basic_header("admin@reqwy", "123123"),
            "Basic YWRtaW5AcmVxd3k6MTIzMTIz"
        );
    }

    #[test]
    fn three_credential_forms() {
        let mut h = HeaderMap::new();
        h.insert("Lognex-Pos-Auth-Token", HeaderValue::from_static("t"));
        h.insert(
            "Lognex-Pos-Auth-Cashier-Uid",
            HeaderValue::from_static("u@x"),
        );
        assert_eq!(pos_credentials(&h).token.as_deref(), Some("t"));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; Lognex-Pos-Auth=u@x:S3CRET"),
        );
        let p = pos_credentials(&h);
        assert_eq!(
            (p.uid.as_deref(), p.token.as_deref()),
            (Some("u@x"), Some("S3CRET"))
        );
        assert!(!format!("{p:?}").contains("S3CRET"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("a", "ab"));
    }

    proptest! {
        #[test]
        fn base64_roundtrip(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(base64_lite::decode(&base64_lite::encode(&data)), Some(data));
        }

        #[test]
        fn decode_never_panics(s in ".{0,64}") {
            let _ = base64_lite::decode(&s);
        }
    }
}
