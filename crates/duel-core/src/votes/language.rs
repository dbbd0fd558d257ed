//! The language of a prompt, named as FastChat's battle records name it (polyglot's
//! English names: "Chinese", "English", "Japanese", …, or "unknown"), so its
//! `--category chinese|english` filters work on our exports.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, Mutex};

/// The language category `duel stats --category` knows a prompt by: `chinese`,
/// `english` or `other`.
pub fn category(prompt: &str) -> &'static str {
    match detect(prompt) {
        "Chinese" => "chinese",
        "English" => "english",
        _ => "other",
    }
}

/// Prompts already told, at most this many (by a 64-bit hash of the prompt: 24 bytes
/// each, about 30 MB at most with the table's room): a log repeats its prompts (a
/// suite's items voted on by several people and pairs and judged by models, regenerated
/// turns), and telling a language is the costliest step of reading a vote (tens of
/// microseconds, most of `duel stats` on a large log).
const REMEMBERED: usize = 1 << 20;

/// What `whatlang` is shown of a prompt at most: its scoring takes time in proportion
/// to the text, and a prompt's language shows in its first thousand characters (a
/// pasted document of 50,000 would cost fifty times a question).
const SAMPLE_CHARS: usize = 1_000;

/// The language `prompt` is written in ([`tell`]), each distinct prompt told once.
pub(crate) fn detect(prompt: &str) -> &'static str {
    static TOLD: LazyLock<Mutex<HashMap<u64, &'static str>>> = LazyLock::new(Default::default);
    let key = {
        let mut hasher = std::hash::DefaultHasher::new();
        prompt.hash(&mut hasher);
        hasher.finish()
    };
    if let Some(language) = TOLD.lock().ok().and_then(|told| told.get(&key).copied()) {
        return language;
    }
    let language = tell(prompt);
    if let Ok(mut told) = TOLD.lock() {
        if told.len() >= REMEMBERED {
            told.clear();
        }
        told.insert(key, language);
    }
    language
}

/// The language `prompt` is written in. Code (fenced blocks and inline spans) is left
/// out first, so a question about code is judged by its words.
///
/// Han, kana and Hangul characters count a word each; unless the other words
/// outnumber them two to one, kana make it Japanese (Chinese never uses them), mostly
/// Hangul Korean, else Chinese. Other text goes to `whatlang`; when it is not sure, text
/// whose letters are all ASCII is English, since short prompts ("hi", "fix this")
/// are where guessing is hard and English is by far the likeliest. Anything else it
/// cannot tell is "unknown".
fn tell(prompt: &str) -> &'static str {
    let text = without_code(prompt);
    let count = Count::of(&text);
    let cjk = count.han + count.kana + count.hangul;
    if cjk > 0 && cjk * 2 > count.other_words {
        return if count.kana > 0 {
            "Japanese"
        } else if count.hangul > count.han {
            "Korean"
        } else {
            "Chinese"
        };
    }
    // The few CJK characters left would only pull whatlang towards the wrong script.
    let rest: String = text
        .chars()
        .filter(|&c| script(c) == Script::Other)
        .take(SAMPLE_CHARS)
        .collect();
    let plain_ascii = count.other_words > 0
        && rest
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(|c| c.is_ascii());
    match whatlang::detect(&rest) {
        Some(info) if info.is_reliable() => name(info.lang()),
        _ if plain_ascii => "English",
        _ => "unknown",
    }
}

/// A character's script, as far as telling CJK languages apart needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Script {
    Han,
    Kana,
    Hangul,
    Other,
}

/// The script of `c`: ideographs (CJK Unified, extensions, compatibility), kana
/// (with half-width), Hangul (syllables and jamo), or anything else.
pub(crate) fn script(c: char) -> Script {
    match c {
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}' => Script::Han,
        '\u{3040}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' | '\u{FF66}'..='\u{FF9F}' => Script::Kana,
        '\u{AC00}'..='\u{D7AF}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' => {
            Script::Hangul
        }
        _ => Script::Other,
    }
}

#[derive(Debug, Default)]
struct Count {
    han: usize,
    kana: usize,
    hangul: usize,
    /// Runs of letters in any other script.
    other_words: usize,
}

impl Count {
    fn of(text: &str) -> Self {
        let mut count = Self::default();
        let mut in_word = false;
        for c in text.chars() {
            let other_letter = match script(c) {
                Script::Han => {
                    count.han += 1;
                    false
                }
                Script::Kana => {
                    count.kana += 1;
                    false
                }
                Script::Hangul => {
                    count.hangul += 1;
                    false
                }
                Script::Other => c.is_alphabetic(),
            };
            if other_letter && !in_word {
                count.other_words += 1;
            }
            in_word = other_letter;
        }
        count
    }
}

/// `text` without fenced code blocks and inline code spans (an unclosed fence runs
/// to the end).
fn without_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let fence = &rest[start..start + ticks];
        let after = &rest[start + ticks..];
        match after.find(fence) {
            Some(end) => rest = &after[end + ticks..],
            None if ticks >= 3 => rest = "",
            // An unmatched backtick is just a character.
            None => {
                out.push_str(fence);
                rest = after;
                continue;
            }
        }
        out.push(' ');
    }
    out.push_str(rest);
    out
}

/// whatlang's language, by the name polyglot (ICU) gives it.
fn name(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang;
    match lang {
        Lang::Cmn => "Chinese",
        Lang::Nob => "Norwegian",
        Lang::Slv => "Slovenian",
        Lang::Sin => "Sinhala",
        other => other.eng_name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_prompt_is_told_by_its_beginning_and_a_prompt_told_again_the_same() {
        let english = "Please summarise the following report for the board, keeping every figure. "
            .repeat(20);
        let french = "Le rapport annuel montre une croissance régulière des ventes dans toutes les régions. "
            .repeat(600);
        assert_eq!(detect(&french), "French");
        let long = english + &french;
        assert_eq!(detect(&long), "English", "told by its first 1,000 letters");
        assert_eq!(detect(&long), "English", "and the same when told again");
    }

    #[test]
    fn chinese() {
        assert_eq!(detect("请用三句话介绍一下长城的历史。"), "Chinese");
        assert_eq!(detect("帮我翻译 hello world"), "Chinese");
        // Traditional characters are Chinese too.
        assert_eq!(detect("請問台北今天天氣如何？"), "Chinese");
    }

    #[test]
    fn english() {
        assert_eq!(
            detect("Explain the difference between a process and a thread."),
            "English"
        );
        // One Chinese word in an English question does not make it Chinese.
        assert_eq!(detect("What does 猫 mean in English?"), "English");
    }

    #[test]
    fn short_english_is_english() {
        for prompt in ["hi", "ok", "fix this", "why?", "2+2 = ? explain"] {
            assert_eq!(detect(prompt), "English", "{prompt}");
        }
    }

    #[test]
    fn japanese_and_korean() {
        assert_eq!(detect("東京の天気はどうですか？"), "Japanese");
        assert_eq!(detect("カタカナ"), "Japanese");
        assert_eq!(detect("안녕하세요, 오늘 날씨 어때요?"), "Korean");
    }

    #[test]
    fn other_languages_by_their_english_name() {
        assert_eq!(
            detect("Pourquoi le ciel est-il bleu pendant la journée et rouge le soir ?"),
            "French"
        );
        assert_eq!(
            detect("Почему небо голубое днём, а вечером становится красным?"),
            "Russian"
        );
    }

    #[test]
    fn chinese_with_code_is_chinese() {
        let fenced = "这段代码为什么编译不过？\n```rust\nfn main() {\n    let x: i32 = \"hello\";\n    println!(\"{x}\");\n}\n```";
        assert_eq!(detect(fenced), "Chinese");
        assert_eq!(
            detect("为什么 `let v: Vec<String> = Vec::new();` 会报错"),
            "Chinese"
        );
        // Unfenced code still leaves enough Chinese words.
        assert_eq!(detect("解释一下 map.get(&key).unwrap() 的作用"), "Chinese");
    }

    #[test]
    fn nothing_to_tell_is_unknown() {
        for prompt in ["", "   \n", "12345", "🙂🙂", "```\nls -la\n```"] {
            assert_eq!(detect(prompt), "unknown", "{prompt:?}");
        }
    }

    #[test]
    fn code_is_cut_out() {
        assert_eq!(without_code("a `b` c"), "a   c");
        assert_eq!(without_code("x\n```py\nprint(1)\n```\ny"), "x\n \ny");
        assert_eq!(without_code("open ```py\nno end"), "open  ");
        assert_eq!(without_code("it`s"), "it`s");
    }
}
