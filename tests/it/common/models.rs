//! Endpoints and models pointed at loopback servers.

use std::time::Duration;

use duel::config::{Endpoint, ModelSpec, WireKind};

/// Every wire format duel speaks.
pub const KINDS: [WireKind; 5] = [
    WireKind::OpenAi,
    WireKind::Anthropic,
    WireKind::Gemini,
    WireKind::Ollama,
    WireKind::Ernie,
];

/// An endpoint of `kind` at `base_url` with `key` written in the config, and timeouts
/// short enough for tests: 2 s to connect, 5 s without a byte.
pub fn endpoint(kind: WireKind, base_url: impl Into<String>, key: Option<&str>) -> Endpoint {
    Endpoint {
        api_key: key.map(str::to_owned),
        connect_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(5),
        ..Endpoint::new(kind, base_url)
    }
}

/// A model named `name` with the id `model_id`, from a provider named "mock".
pub fn model(name: &str, model_id: &str, endpoint: Endpoint) -> ModelSpec {
    ModelSpec::new(name, "mock", model_id, endpoint)
}
