//! ERNIE's access token: the API key and the secret key traded for it, kept until it
//! expires (or is refused), and cut out of any error that might echo it.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::Ernie;
use crate::http;
use crate::{ErrorKind, ProviderError};

/// The longest a token is trusted, whatever `expires_in` says (aichat used a day too).
const TOKEN_LIFETIME_CAP: Duration = Duration::from_secs(24 * 60 * 60);

pub(super) struct Token {
    value: String,
    expires: Instant,
}

pub(super) struct Keys {
    api_key: String,
    secret_key: String,
}

impl Ernie {
    /// The API key and the secret key; `MissingKey` naming every var that is unset.
    pub(super) fn keys(&self) -> Result<Keys, ProviderError> {
        let api_key = self.endpoint.api_key();
        let secret_key = std::env::var(self.sk_env())
            .ok()
            .filter(|v| !v.trim().is_empty());
        match (api_key, secret_key) {
            (Some(api_key), Some(secret_key)) => Ok(Keys {
                api_key,
                secret_key,
            }),
            (api_key, secret_key) => {
                let missing: Vec<&str> = [
                    api_key.is_none().then(|| self.ak_env()),
                    secret_key.is_none().then(|| self.sk_env()),
                ]
                .into_iter()
                .flatten()
                .collect();
                let exports: Vec<String> =
                    missing.iter().map(|v| format!("export {v}=…")).collect();
                Err(ProviderError::new(
                    ErrorKind::MissingKey,
                    format!("set {}", missing.join(" and ")),
                )
                .with_hint(format!(
                    "{} (the legacy ERNIE API trades the API key and the secret key for a token; or try `duel --demo`)",
                    exports.join("; ")
                )))
            }
        }
    }

    /// The cached token, or a new one when there is none or it expired.
    pub(super) async fn token(&self, keys: &Keys) -> Result<String, ProviderError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.expires > Instant::now()) {
            return Ok(token.value.clone());
        }
        let token = self.fetch_token(keys).await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    /// Drops the cached token if it is still the one the server refused.
    pub(super) async fn forget_token(&self, refused: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == refused) {
            *cached = None;
        }
    }

    async fn fetch_token(&self, keys: &Keys) -> Result<Token, ProviderError> {
        let url = self.url(
            "/oauth/2.0/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", keys.api_key.as_str()),
                ("client_secret", keys.secret_key.as_str()),
            ],
        )?;
        let request = http::with_endpoint_headers(self.client.post(url), &self.endpoint);
        let response = http::send(&self.endpoint, request, true).await?;
        let status = response.status().as_u16();
        let retry_after = http::retry_after(response.headers());
        let body = http::read_error_body(response, self.endpoint.idle_timeout).await;
        let value: Option<Value> = serde_json::from_str(&body).ok();
        let field = |name: &str| {
            value
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };

        if let Some(error) = field("error") {
            let description = field("error_description").unwrap_or(error);
            return Err(ProviderError::new(
                ErrorKind::Auth,
                format!("the token endpoint refused the keys: {description} ({error})"),
            )
            .with_status(status)
            .with_hint(self.token_hint(description)));
        }
        if !(200..300).contains(&status) {
            let kind = http::status_kind(status);
            let err = ProviderError::new(kind, http::body_message(status, &body))
                .with_status(status)
                .with_retry_after(retry_after);
            return Err(match kind {
                ErrorKind::Auth => err.with_hint(self.token_hint("")),
                _ => err,
            });
        }
        let Some(access_token) = field("access_token") else {
            return Err(ProviderError::new(
                ErrorKind::Malformed,
                "the token endpoint answered without an access_token",
            )
            .with_hint(format!(
                "is {} Baidu's AI platform (https://aip.baidubce.com)?",
                self.endpoint.base_url
            )));
        };
        let lifetime = value
            .as_ref()
            .and_then(|v| v.get("expires_in"))
            .and_then(Value::as_u64)
            .map_or(TOKEN_LIFETIME_CAP, |secs| {
                Duration::from_secs(secs).min(TOKEN_LIFETIME_CAP)
            });
        Ok(Token {
            value: access_token.to_owned(),
            expires: Instant::now() + lifetime,
        })
    }

    /// Which key to check, from Baidu's own words when they tell.
    fn token_hint(&self, description: &str) -> String {
        let (ak, sk) = (self.ak_env(), self.sk_env());
        let ak = match self.endpoint.api_key {
            Some(_) => "the api_key in the config file",
            None => ak,
        };
        let lower = description.to_ascii_lowercase();
        if lower.contains("unknown client id") {
            format!("check {ak} (the API Key of the Qianfan app)")
        } else if lower.contains("client authentication failed") {
            format!("check {sk} (the Secret Key of the Qianfan app)")
        } else {
            format!("check {ak} (API Key) and {sk} (Secret Key)")
        }
    }

    /// The error with every key and token value cut out, in case a server echoed one.
    pub(super) async fn redact(&self, mut err: ProviderError) -> ProviderError {
        let mut secrets = Vec::new();
        if let Ok(keys) = self.keys() {
            secrets.push(keys.api_key);
            secrets.push(keys.secret_key);
        }
        if let Some(token) = self.token.lock().await.as_ref() {
            secrets.push(token.value.clone());
        }
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            err.message = err.message.replace(secret.as_str(), "…");
            if let Some(hint) = &mut err.hint {
                *hint = hint.replace(secret.as_str(), "…");
            }
        }
        err
    }
}
