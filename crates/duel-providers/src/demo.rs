//! The `demo` wire kind: two offline stand-ins for `duel --demo`. They answer from
//! the prompt itself, at a human reading pace, without touching the network.

use std::time::Duration;

use futures_util::future::BoxFuture;

use super::{ChatRequest, Finish, Provider, ProviderError, Role, Sink, Usage};

/// Overrides the pause between tokens, in milliseconds (0 streams at once).
const DELAY_ENV: &str = "DUEL_DEMO_DELAY_MS";

/// How much of the prompt is quoted back.
const QUOTE_CHARS: usize = 60;

/// A demo model. Its answers never say its name, so blind mode stays blind; the two
/// styles differ in pace and length, and both stream reasoning first.
pub struct Demo {
    manner: Manner,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Manner {
    /// A line of reasoning, then a short and direct answer, a little faster.
    Brisk,
    /// More reasoning first, then a longer answer.
    Thoughtful,
}

impl Manner {
    /// The mean pause between tokens: ~50 and ~35 tokens per second.
    fn base_delay(self) -> Duration {
        match self {
            Manner::Brisk => Duration::from_millis(20),
            Manner::Thoughtful => Duration::from_millis(28),
        }
    }
}

impl Demo {
    pub fn new(name: &str) -> Self {
        let manner = if name.contains("thoughtful") {
            Manner::Thoughtful
        } else {
            Manner::Brisk
        };
        Self { manner }
    }

    fn base_delay(&self) -> Duration {
        std::env::var(DELAY_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map_or(self.manner.base_delay(), Duration::from_millis)
    }

    /// Streams the answer with `base` as the mean pause between tokens.
    async fn run(&self, req: &ChatRequest, sink: &mut Sink, base: Duration) -> Finish {
        let last = req.messages.iter().rev().find(|m| m.role == Role::User);
        let prompt = last.map_or("", |m| m.content.as_str());
        let mut script = Script::new(self.manner, prompt);
        if let Some(named) = last.and_then(|m| attached(&m.attachments)) {
            script.answer = format!("{named}\n\n{}", script.answer);
        }
        let mut pace = Pace::new(base, prompt);
        let mut output_tokens = 0u64;

        for token in tokens(&script.reasoning) {
            pace.wait().await;
            sink.reasoning(token);
            output_tokens += 1;
        }
        for token in tokens(&script.answer) {
            pace.wait().await;
            sink.text(token);
            output_tokens += 1;
        }
        let input: usize = req.messages.iter().map(|m| tokens(&m.content).len()).sum();
        sink.usage(Usage {
            input_tokens: Some(input as u64),
            output_tokens: Some(output_tokens),
            ..Usage::default()
        });
        Finish::Stop
    }
}

impl Provider for Demo {
    fn attempt<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: &'a mut Sink,
    ) -> BoxFuture<'a, Result<Finish, ProviderError>> {
        Box::pin(async move { Ok(self.run(req, sink, self.base_delay()).await) })
    }
}

/// The files a prompt came with, named: the demo reads none of them.
fn attached(attachments: &[duel_core::attachment::Attachment]) -> Option<String> {
    if attachments.is_empty() {
        return None;
    }
    let names: Vec<String> = attachments
        .iter()
        .map(|a| {
            format!(
                "**{}** ({}, {})",
                duel_core::text::sanitize(&a.name),
                a.media_type,
                duel_core::attachment::size(a.bytes)
            )
        })
        .collect();
    Some(format!(
        "You attached {}: the demo only names them; a real model reads them.",
        names.join(", ")
    ))
}

/// What a demo model says: its reasoning (possibly empty) and its answer.
struct Script {
    reasoning: String,
    answer: String,
}

impl Script {
    fn new(manner: Manner, prompt: &str) -> Self {
        if prompt.contains("[[A]]") && prompt.contains("[[B]]") {
            return Self::judge(manner, prompt);
        }
        let facts = Facts::of(prompt);
        if facts.chinese {
            Self::chinese(manner, &facts)
        } else {
            Self::english(manner, &facts)
        }
    }

    /// Asked to judge two answers (`duel judge`, whose prompt asks for `[[A]]` or
    /// `[[B]]`): brisk prefers the shorter answer, thoughtful the longer, as far as it
    /// finds them in the built-in template's `[Answer A]` … `[End of answer A]`.
    fn judge(manner: Manner, prompt: &str) -> Self {
        let between = |start: &str, end: &str| {
            let from = prompt.find(start)? + start.len();
            let to = prompt[from..].find(end)? + from;
            Some(prompt[from..to].trim().chars().count())
        };
        let lengths = (
            between("[Answer A]", "[End of answer A]"),
            between("[Answer B]", "[End of answer B]"),
        );
        let (verdict, why) = match (lengths, manner) {
            ((Some(a), Some(b)), _) if a == b => ("C", "both answers are as long"),
            ((Some(a), Some(b)), Manner::Brisk) if a < b => ("A", "answer A is shorter"),
            ((Some(_), Some(_)), Manner::Brisk) => ("B", "answer B is shorter"),
            ((Some(a), Some(b)), Manner::Thoughtful) if a > b => ("A", "answer A is longer"),
            ((Some(_), Some(_)), Manner::Thoughtful) => ("B", "answer B is longer"),
            _ => ("C", "it cannot find the two answers in this template"),
        };
        let taste = match manner {
            Manner::Brisk => "prefers the shorter answer",
            Manner::Thoughtful => "prefers the longer answer",
        };
        Self {
            reasoning: String::new(),
            answer: format!(
                "Offline demo judge: a stand-in that {taste}, not a real judgement. \
                 Here {why}.\n\n[[{verdict}]]"
            ),
        }
    }

    fn english(manner: Manner, f: &Facts) -> Self {
        let quote = &f.quote;
        let code = code_literal(quote);
        let reasoning = match manner {
            Manner::Brisk => format!("A short question deserves a short answer: \"{quote}\".\n"),
            Manner::Thoughtful => format!(
                "The user asked: \"{quote}\".\n\
                 This is the offline demo, so I cannot really think about it, \
                 but I can show what streamed reasoning looks like.\n\
                 Plan: restate the question, note a few facts about it, end with a small code sample.\n"
            ),
        };
        let intro = match manner {
            Manner::Brisk => "Quick take:",
            Manner::Thoughtful => "Looking at it step by step:",
        };
        let mut answer = format!(
            "**Offline demo** — a built-in stand-in, not a real model. \
             Nothing was sent over the network.\n\n\
             You asked: \"{quote}\"\n\n\
             {intro}\n\n\
             - Your prompt has **{}** {} and {}.\n\
             - Its longest word is \"{}\".\n\
             - A real model would answer here; set an API key and pick a model to compare two.\n",
            f.words,
            if f.words == 1 { "word" } else { "words" },
            if f.chars == 1 {
                "1 character".to_owned()
            } else {
                format!("{} characters", f.chars)
            },
            f.longest
        );
        if manner == Manner::Thoughtful {
            answer.push_str(
                "- Both sides stream at once, so you can judge speed as well as content.\n",
            );
        }
        answer.push_str(&format!(
            "\nHere is the prompt, counted in code:\n\n\
             ```python\nprompt = \"{code}\"\nprint(len(prompt.split()), \"words\")\n```\n\n\
             Vote for the side you prefer — in the demo, both answers are canned.\n"
        ));
        Self { reasoning, answer }
    }

    fn chinese(manner: Manner, f: &Facts) -> Self {
        let quote = &f.quote;
        let code = code_literal(quote);
        let reasoning = match manner {
            Manner::Brisk => format!("简短的问题，简短地回答：“{quote}”。\n"),
            Manner::Thoughtful => format!(
                "用户问的是：“{quote}”。\n\
                 这是离线演示，我并不会真正思考，但可以展示流式推理的样子。\n\
                 计划：复述问题，列出几点观察，最后给一小段代码。\n"
            ),
        };
        let intro = match manner {
            Manner::Brisk => "简短回答：",
            Manner::Thoughtful => "一步一步来看：",
        };
        let mut answer = format!(
            "**离线演示**——这是内置的替身，不是真正的模型，没有任何内容发送到网络。\n\n\
             你的问题是：“{quote}”\n\n\
             {intro}\n\n\
             - 你的问题共有 **{}** 个字符，其中汉字 {} 个。\n\
             - 真正的模型会在这里回答；设置 API 密钥并选择模型，就能比较两个回答。\n",
            f.chars, f.han
        );
        if manner == Manner::Thoughtful {
            answer.push_str("- 两边同时流式输出，你可以同时比较速度和内容。\n");
        }
        answer.push_str(&format!(
            "\n用代码数一数：\n\n\
             ```python\nprompt = \"{code}\"\nprint(len(prompt), \"个字符\")\n```\n\n\
             请投票选择你更喜欢的一边——演示中的两个回答都是预先写好的。\n"
        ));
        Self { reasoning, answer }
    }
}

/// What the answers say about the prompt.
struct Facts {
    quote: String,
    chars: usize,
    words: usize,
    han: usize,
    longest: String,
    chinese: bool,
}

impl Facts {
    fn of(prompt: &str) -> Self {
        let flat = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
        let quote = if flat.is_empty() {
            "(an empty prompt)".to_owned()
        } else {
            match flat.char_indices().nth(QUOTE_CHARS) {
                Some((end, _)) => format!("{}…", &flat[..end]),
                None => flat.clone(),
            }
        };
        let longest = flat
            .split(' ')
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
            .max_by_key(|w| w.chars().count())
            .unwrap_or("")
            .to_owned();
        Self {
            quote,
            chars: prompt.trim().chars().count(),
            words: flat.split(' ').filter(|w| !w.is_empty()).count(),
            han: prompt.chars().filter(|&c| is_han(c)).count(),
            longest,
            chinese: prompt.chars().any(is_cjk),
        }
    }
}

/// The quote as the inside of a Python string literal inside a fenced block.
fn code_literal(quote: &str) -> String {
    quote
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('`', "'")
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Han, kana and Hangul: a prompt with any of these gets the Chinese answer.
fn is_cjk(c: char) -> bool {
    is_han(c) || matches!(c, '\u{3040}'..='\u{30FF}' | '\u{AC00}'..='\u{D7AF}')
}

/// Splits text roughly the way a model's tokens arrive: a word with the space
/// before it, or a single CJK character.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if let Some(p) = prev {
            let word_starts = p.is_alphanumeric() != c.is_alphanumeric() && !c.is_whitespace();
            if is_cjk(c) || is_cjk(p) || word_starts || p == '\n' {
                out.push(&text[start..i]);
                start = i;
            }
        }
        prev = Some(c);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The pause between tokens: the base delay with a ±30 % jitter that is random-looking
/// but the same for the same prompt, so runs are reproducible.
struct Pace {
    base: Duration,
    state: u64,
}

impl Pace {
    fn new(base: Duration, prompt: &str) -> Self {
        // FNV-1a of the prompt seeds the jitter.
        let seed = prompt.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Self {
            base,
            state: seed | 1,
        }
    }

    fn next_delay(&mut self) -> Duration {
        // xorshift64: cheap, deterministic, good enough for jitter.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let percent = 70 + self.state % 61;
        self.base * percent as u32 / 100
    }

    async fn wait(&mut self) {
        let delay = self.next_delay();
        if delay.is_zero() {
            // Still let the other side's stream and the UI run between tokens.
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, StreamEvent};

    async fn answer(model: &str, prompt: &str, delay: Duration) -> Vec<StreamEvent> {
        let req = ChatRequest {
            model_id: model.to_owned(),
            system: None,
            messages: vec![Message::new(Role::User, prompt)],
            temperature: None,
            top_p: None,
            max_tokens: None,
            extra: serde_json::Map::new(),
            max_answer_bytes: usize::MAX,
            model_name: "test".into(),
            takes: vec![duel_core::attachment::Input::Text],
            files: None,
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut sink = Sink::new(tx);
        let finish = Demo::new(model).run(&req, &mut sink, delay).await;
        assert_eq!(finish, Finish::Stop);
        drop(sink);
        let mut events = Vec::new();
        while let Some(event) = rx.recv().await {
            events.push(event);
        }
        events
    }

    fn joined(events: &[StreamEvent], reasoning: bool) -> String {
        events
            .iter()
            .filter_map(|e| match (e, reasoning) {
                (StreamEvent::Text(t), false) | (StreamEvent::Reasoning(t), true) => {
                    Some(t.as_str())
                }
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn brisk_answers_from_the_prompt_with_a_list_and_code() {
        let events = answer("demo-brisk", "Why is the sky blue?", Duration::ZERO).await;
        let text = joined(&events, false);
        assert_eq!(
            joined(&events, true).lines().count(),
            1,
            "brisk reasons briefly"
        );
        assert!(text.contains("Offline demo"));
        assert!(text.contains("\"Why is the sky blue?\""));
        assert!(text.contains("\n- "));
        assert!(text.contains("```python\n") && text.trim_end().ends_with("canned."));
    }

    #[tokio::test]
    async fn no_answer_names_its_model() {
        for model in ["demo-brisk", "demo-thoughtful"] {
            for prompt in [
                "Why is the sky blue?",
                "天空为什么是蓝色的？",
                "[[A]] or [[B]]",
            ] {
                let events = answer(model, prompt, Duration::ZERO).await;
                let all = format!("{}{}", joined(&events, true), joined(&events, false));
                for word in ["demo-", "brisk", "thoughtful"] {
                    assert!(!all.contains(word), "{model} says {word}: {all}");
                }
            }
        }
    }

    #[tokio::test]
    async fn one_word_is_one_word() {
        let text = joined(&answer("demo-brisk", "Hi", Duration::ZERO).await, false);
        assert!(text.contains("**1** word and 2 characters."), "{text}");
        let text = joined(&answer("demo-brisk", "a", Duration::ZERO).await, false);
        assert!(text.contains("**1** word and 1 character."), "{text}");
    }

    #[tokio::test]
    async fn thoughtful_reasons_first() {
        let events = answer("demo-thoughtful", "Why is the sky blue?", Duration::ZERO).await;
        assert!(joined(&events, true).lines().count() >= 3);
        let first_text = events
            .iter()
            .position(|e| matches!(e, StreamEvent::Text(_)));
        let last_reasoning = events
            .iter()
            .rposition(|e| matches!(e, StreamEvent::Reasoning(_)));
        assert!(last_reasoning < first_text);
    }

    #[tokio::test]
    async fn answers_in_chinese_to_a_chinese_prompt() {
        let events = answer("demo-thoughtful", "天空为什么是蓝色的？", Duration::ZERO).await;
        let text = joined(&events, false);
        assert!(text.contains("离线演示"));
        assert!(text.contains("“天空为什么是蓝色的？”"));
        assert!(joined(&events, true).contains("用户问的是"));
    }

    #[tokio::test]
    async fn differs_with_the_prompt_and_quotes_safely() {
        let a = joined(&answer("demo-brisk", "one", Duration::ZERO).await, false);
        let b = joined(
            &answer("demo-brisk", "say \"```hi```\"", Duration::ZERO).await,
            false,
        );
        assert_ne!(a, b);
        let fences = b.lines().filter(|l| l.starts_with("```")).count();
        assert_eq!(fences, 2, "the prompt cannot break the fence");
        assert!(b.contains(r#"prompt = "say \"'''hi'''\"""#), "{b}");
    }

    #[tokio::test]
    async fn as_a_judge_brisk_prefers_the_shorter_answer_and_thoughtful_the_longer() {
        let prompt = "Verdict [[A]] or [[B]] or [[C]].\n[Answer A]\nshort\n[End of answer A]\n\
                      [Answer B]\na much longer answer\n[End of answer B]";
        let brisk = joined(&answer("demo-brisk", prompt, Duration::ZERO).await, false);
        let thoughtful = joined(
            &answer("demo-thoughtful", prompt, Duration::ZERO).await,
            false,
        );
        assert!(
            brisk.ends_with("[[A]]") && brisk.contains("Offline demo judge"),
            "{brisk}"
        );
        assert!(thoughtful.ends_with("[[B]]"), "{thoughtful}");
    }

    #[tokio::test]
    async fn reports_usage_at_the_end() {
        let events = answer("demo-brisk", "count me", Duration::ZERO).await;
        let Some(StreamEvent::Usage(usage)) = events.last() else {
            panic!("usage comes last: {events:?}");
        };
        assert_eq!(usage.input_tokens, Some(2));
        let streamed = events.len() as u64 - 1;
        assert_eq!(usage.output_tokens, Some(streamed));
    }

    #[tokio::test]
    async fn streams_at_a_visible_pace() {
        let started = std::time::Instant::now();
        let events = answer("demo-brisk", "hi", Duration::from_millis(2)).await;
        let tokens = events.len() as u32 - 1;
        // Sleeps only ever run long, so the pace is at most the configured one.
        assert!(started.elapsed() >= Duration::from_millis(2) * tokens * 7 / 10);
    }

    #[test]
    fn tokens_rebuild_the_text() {
        let text = "Hello, world! 你好世界\n- item `code`";
        assert_eq!(tokens(text).concat(), text);
        assert!(tokens("你好").len() == 2);
        assert!(tokens("Hello world").len() == 2);
    }

    #[test]
    fn pace_stays_within_thirty_percent_and_repeats() {
        let base = Duration::from_millis(20);
        let delays: Vec<_> = {
            let mut pace = Pace::new(base, "prompt");
            (0..200).map(|_| pace.next_delay()).collect()
        };
        assert!(
            delays
                .iter()
                .all(|d| *d >= base * 7 / 10 && *d <= base * 13 / 10)
        );
        assert!(delays.iter().any(|d| *d != delays[0]), "there is jitter");
        let mut again = Pace::new(base, "prompt");
        assert!(delays.iter().all(|d| *d == again.next_delay()));
    }

    #[test]
    fn default_pace_is_between_30_and_60_tokens_per_second() {
        for manner in [Manner::Brisk, Manner::Thoughtful] {
            let per_second = 1.0 / manner.base_delay().as_secs_f64();
            assert!(
                (30.0..=60.0).contains(&per_second),
                "{manner:?}: {per_second}"
            );
        }
    }
}
