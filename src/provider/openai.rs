//! The `openai` wire kind. (Filled in by the provider work.)
use futures_util::future::BoxFuture;

use super::{ChatRequest, Finish, Provider, ProviderError, Sink};
use crate::config::Endpoint;

pub struct OpenAi {
    _endpoint: Endpoint,
}

impl OpenAi {
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            _endpoint: endpoint,
        }
    }
}

impl Provider for OpenAi {
    fn attempt<'a>(
        &'a self,
        _req: &'a ChatRequest,
        _sink: &'a mut Sink,
    ) -> BoxFuture<'a, Result<Finish, ProviderError>> {
        unimplemented!()
    }
}
