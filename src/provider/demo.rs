//! The `demo` wire kind. (Filled in by the provider work.)
use futures_util::future::BoxFuture;

use super::{ChatRequest, Finish, Provider, ProviderError, Sink};

pub struct Demo {
    _name: String,
}

impl Demo {
    pub fn new(name: &str) -> Self {
        Self {
            _name: name.to_owned(),
        }
    }
}

impl Provider for Demo {
    fn attempt<'a>(
        &'a self,
        _req: &'a ChatRequest,
        _sink: &'a mut Sink,
    ) -> BoxFuture<'a, Result<Finish, ProviderError>> {
        unimplemented!()
    }
}
