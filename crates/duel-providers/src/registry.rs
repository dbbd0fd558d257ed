//! The providers of a running app, built once and kept: every turn of a conversation
//! goes out on the connections of the turns before it, and ERNIE's access token is
//! fetched once per expiry instead of once per turn.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{Provider, with_client};
use duel_core::config::{Endpoint, ModelSpec};

/// One provider per model, built on first use, and the HTTP clients they share.
///
/// reqwest sets the connect timeout per client, and each endpoint names its own, so
/// there is one client per distinct connect timeout: endpoints that agree on it (all
/// of them, by default) share one connection pool, which keeps idle connections
/// per host. A per-request timeout would not do: it bounds the whole streamed answer,
/// not the connect.
#[derive(Default)]
pub struct Providers {
    clients: HashMap<Duration, reqwest::Client>,
    /// By model name, with the endpoint and model id it was built for: a model whose
    /// settings changed gets a new provider.
    providers: HashMap<String, Built>,
}

struct Built {
    endpoint: Endpoint,
    model_id: String,
    provider: Arc<dyn Provider>,
}

impl Providers {
    pub fn new() -> Self {
        Self::default()
    }

    /// The provider for `model`, built the first time it is asked for.
    pub fn get(&mut self, model: &ModelSpec) -> Arc<dyn Provider> {
        if let Some(built) = self.providers.get(&model.name)
            && built.endpoint == model.endpoint
            && built.model_id == model.model_id
        {
            return Arc::clone(&built.provider);
        }
        let client = self
            .clients
            .entry(model.endpoint.connect_timeout)
            .or_insert_with(|| super::http_client(&model.endpoint))
            .clone();
        let provider = with_client(model, client);
        self.providers.insert(
            model.name.clone(),
            Built {
                endpoint: model.endpoint.clone(),
                model_id: model.model_id.clone(),
                provider: Arc::clone(&provider),
            },
        );
        provider
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duel_core::config::WireKind;

    #[test]
    fn one_provider_per_model_kept_and_a_changed_one_rebuilt() {
        let model = ModelSpec::new(
            "m",
            "local",
            "m-1",
            Endpoint::new(WireKind::OpenAi, "http://127.0.0.1:9/v1"),
        );
        let mut providers = Providers::new();
        let first = providers.get(&model);
        assert!(Arc::ptr_eq(&first, &providers.get(&model)));
        let mut other = model.clone();
        other.name = "other".into();
        assert!(!Arc::ptr_eq(&first, &providers.get(&other)));
        let mut moved = model.clone();
        moved.endpoint.base_url = "http://127.0.0.1:9/v2".into();
        assert!(!Arc::ptr_eq(&first, &providers.get(&moved)));
    }
}
