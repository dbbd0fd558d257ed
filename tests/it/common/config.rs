//! The config most tests write: two models, alpha on pane A and beta on pane B, each
//! on its own OpenAI-compatible loopback server; each test adds the keys and settings
//! it is about. And the same pair as a `Config` built in memory, for the tests that
//! drive the state machine without a file.

use duel::config::{Arena, Config, Layout, ModelSpec, Pair, UiConfig};

/// A two-model config under construction; `toml()` gives its text.
pub struct TwoModels {
    a_url: String,
    b_url: String,
    sections: String,
    left: String,
    right: String,
    model_ids: bool,
}

/// alpha on provider `left` at `a_url`, beta on provider `right` at `b_url`.
pub fn two_models(a_url: &str, b_url: &str) -> TwoModels {
    TwoModels {
        a_url: a_url.to_owned(),
        b_url: b_url.to_owned(),
        sections: String::new(),
        left: String::new(),
        right: String::new(),
        model_ids: false,
    }
}

impl TwoModels {
    /// Lines of `[providers.left]` after its base_url: the key, timeouts.
    pub fn left(mut self, lines: &str) -> Self {
        self.left = lines.to_owned();
        self
    }

    /// Lines of `[providers.right]` after its base_url.
    pub fn right(mut self, lines: &str) -> Self {
        self.right = lines.to_owned();
        self
    }

    /// The same lines in both providers.
    pub fn both(self, lines: &str) -> Self {
        self.left(lines).right(lines)
    }

    /// Whole sections (`[arena]`, …) between `[pair]` and the providers.
    pub fn sections(mut self, text: &str) -> Self {
        self.sections = text.to_owned();
        self
    }

    /// The servers are asked for `alpha-1` and `beta-1` rather than the names.
    pub fn model_ids(mut self) -> Self {
        self.model_ids = true;
        self
    }

    pub fn toml(&self) -> String {
        let id = |id: &str| {
            if self.model_ids {
                format!("model = \"{id}\"\n")
            } else {
                String::new()
            }
        };
        format!(
            r#"
[pair]
a = "alpha"
b = "beta"

{sections}
[providers.left]
kind = "openai"
base_url = "{a_url}/v1"
{left}

[providers.right]
kind = "openai"
base_url = "{b_url}/v1"
{right}

[[models]]
name = "alpha"
provider = "left"
{alpha_id}
[[models]]
name = "beta"
provider = "right"
{beta_id}"#,
            sections = self.sections,
            a_url = self.a_url,
            b_url = self.b_url,
            left = self.left,
            right = self.right,
            alpha_id = id("alpha-1"),
            beta_id = id("beta-1"),
        )
    }
}

/// A config held in memory rather than read from a file: the first two of `models` on
/// the panes, `judge` voting, columns, not blind; a test sets what it is about.
pub fn in_memory(models: Vec<ModelSpec>, judge: &str) -> Config {
    Config {
        path: None,
        ui: UiConfig {
            theme: "default".into(),
            layout: Layout::Columns,
            blind: false,
        },
        pair: Pair {
            a: models[0].name.clone(),
            b: models[1].name.clone(),
        },
        arena: Arena {
            judge: judge.into(),
            weights: Default::default(),
        },
        judge: Default::default(),
        check: Default::default(),
        store: Default::default(),
        review: Default::default(),
        money: Default::default(),
        models,
        warnings: Vec::new(),
        set_aside: Vec::new(),
    }
}
