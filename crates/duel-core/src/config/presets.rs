//! The built-in provider presets of SPEC §3: the user only sets the env var.

use super::{Endpoint, WireKind};

/// Every preset name, in the order the SPEC lists them (and error messages show them).
pub(crate) const PRESET_NAMES: &[&str] = &[
    "dashscope",
    "dashscope-intl",
    "qianfan",
    "ernie",
    "deepseek",
    "moonshot",
    "zhipu",
    "openai",
    "anthropic",
    "gemini",
    "ollama",
];

/// The endpoint of a built-in preset, or `None` when `name` is not one.
pub(crate) fn preset(name: &str) -> Option<Endpoint> {
    let (kind, base_url, key_env) = match name {
        "dashscope" => (
            WireKind::OpenAi,
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            Some("DASHSCOPE_API_KEY"),
        ),
        "dashscope-intl" => (
            WireKind::OpenAi,
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            Some("DASHSCOPE_API_KEY"),
        ),
        "qianfan" => (
            WireKind::OpenAi,
            "https://qianfan.baidubce.com/v2",
            Some("QIANFAN_API_KEY"),
        ),
        "ernie" => (
            WireKind::Ernie,
            "https://aip.baidubce.com",
            Some("QIANFAN_AK"),
        ),
        "deepseek" => (
            WireKind::OpenAi,
            "https://api.deepseek.com",
            Some("DEEPSEEK_API_KEY"),
        ),
        "moonshot" => (
            WireKind::OpenAi,
            "https://api.moonshot.cn/v1",
            Some("MOONSHOT_API_KEY"),
        ),
        "zhipu" => (
            WireKind::OpenAi,
            "https://open.bigmodel.cn/api/paas/v4",
            Some("ZHIPUAI_API_KEY"),
        ),
        "openai" => (
            WireKind::OpenAi,
            "https://api.openai.com/v1",
            Some("OPENAI_API_KEY"),
        ),
        "anthropic" => (
            WireKind::Anthropic,
            "https://api.anthropic.com",
            Some("ANTHROPIC_API_KEY"),
        ),
        "gemini" => (
            WireKind::Gemini,
            "https://generativelanguage.googleapis.com",
            Some("GEMINI_API_KEY"),
        ),
        "ollama" => (WireKind::Ollama, "http://127.0.0.1:11434", None),
        _ => return None,
    };
    Some(Endpoint {
        api_key_env: key_env.map(str::to_owned),
        // The legacy ERNIE API trades an API key plus a secret key for a token.
        secret_key_env: (kind == WireKind::Ernie).then(|| "QIANFAN_SK".to_owned()),
        ..Endpoint::new(kind, base_url)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT};

    #[test]
    fn every_listed_name_is_a_preset_and_nothing_else_is() {
        for name in PRESET_NAMES {
            let ep = preset(name).unwrap_or_else(|| panic!("{name} is listed but not a preset"));
            assert!(!ep.base_url.ends_with('/'), "{name}: trailing slash");
            assert!(ep.base_url.starts_with("http"), "{name}: {}", ep.base_url);
            assert_eq!(ep.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
            assert_eq!(ep.idle_timeout, DEFAULT_IDLE_TIMEOUT);
            assert!(ep.api_key.is_none() && ep.headers.is_empty());
        }
        assert!(preset("dashscop").is_none());
        assert!(preset("demo").is_none());
    }

    #[test]
    fn the_table_of_the_spec() {
        let row = |name: &str| {
            let ep = preset(name).unwrap();
            (ep.kind, ep.base_url, ep.api_key_env, ep.secret_key_env)
        };
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            row("dashscope"),
            (
                WireKind::OpenAi,
                "https://dashscope.aliyuncs.com/compatible-mode/v1".into(),
                s("DASHSCOPE_API_KEY"),
                None
            )
        );
        assert_eq!(
            row("dashscope-intl").1,
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
        );
        assert_eq!(row("dashscope-intl").2, s("DASHSCOPE_API_KEY"));
        assert_eq!(
            row("qianfan"),
            (
                WireKind::OpenAi,
                "https://qianfan.baidubce.com/v2".into(),
                s("QIANFAN_API_KEY"),
                None
            )
        );
        assert_eq!(
            row("ernie"),
            (
                WireKind::Ernie,
                "https://aip.baidubce.com".into(),
                s("QIANFAN_AK"),
                s("QIANFAN_SK")
            )
        );
        assert_eq!(row("deepseek").1, "https://api.deepseek.com");
        assert_eq!(row("deepseek").2, s("DEEPSEEK_API_KEY"));
        assert_eq!(row("moonshot").1, "https://api.moonshot.cn/v1");
        assert_eq!(row("moonshot").2, s("MOONSHOT_API_KEY"));
        assert_eq!(row("zhipu").1, "https://open.bigmodel.cn/api/paas/v4");
        assert_eq!(row("zhipu").2, s("ZHIPUAI_API_KEY"));
        assert_eq!(row("openai").1, "https://api.openai.com/v1");
        assert_eq!(row("openai").2, s("OPENAI_API_KEY"));
        assert_eq!(
            row("anthropic"),
            (
                WireKind::Anthropic,
                "https://api.anthropic.com".into(),
                s("ANTHROPIC_API_KEY"),
                None
            )
        );
        assert_eq!(
            row("gemini"),
            (
                WireKind::Gemini,
                "https://generativelanguage.googleapis.com".into(),
                s("GEMINI_API_KEY"),
                None
            )
        );
        assert_eq!(
            row("ollama"),
            (
                WireKind::Ollama,
                "http://127.0.0.1:11434".into(),
                None,
                None
            )
        );
    }
}
