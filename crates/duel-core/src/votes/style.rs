//! The style of an answer as LMArena's style control measures it: its length in
//! tokens and its Markdown headers, list items and bold spans. The counts follow
//! FastChat's `add_markdown_info.py` (line-start patterns after fenced code is cut
//! out), not CommonMark, so our figures match the ones its scripts compute.

use serde::Serialize;

use super::SideRecord;
use super::language::{Script, script};

/// `h1`..`h6`: lines starting with exactly that many `#` and a space, tab or break.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeaderCount {
    pub h1: u32,
    pub h2: u32,
    pub h3: u32,
    pub h4: u32,
    pub h5: u32,
    pub h6: u32,
}

/// List items: `1. ` and `- `/`* `/`+ ` at a line's start, indented or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ListCount {
    pub ordered: u32,
    pub unordered: u32,
}

/// Bold spans on one line: `**…**` and `__…__`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BoldCount {
    #[serde(rename = "**")]
    pub stars: u32,
    #[serde(rename = "__")]
    pub underscores: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkdownCounts {
    pub headers: HeaderCount,
    pub lists: ListCount,
    pub bold: BoldCount,
}

/// Counts `answer`'s Markdown elements outside fenced code blocks.
pub(crate) fn markdown_counts(answer: &str) -> MarkdownCounts {
    let text = without_fenced_code(answer);
    let mut counts = MarkdownCounts::default();
    for line in line_starts(&text).map(|at| &text[at..]) {
        let level = line.len() - line.trim_start_matches('#').len();
        let spaced = line[level..].starts_with(char::is_whitespace);
        let header = &mut counts.headers;
        match (level, spaced) {
            (1, true) => header.h1 += 1,
            (2, true) => header.h2 += 1,
            (3, true) => header.h3 += 1,
            (4, true) => header.h4 += 1,
            (5, true) => header.h5 += 1,
            (6, true) => header.h6 += 1,
            _ => {}
        }
    }
    for item in list_items(&text) {
        let marker = item.trim_start_matches(|c: char| c.is_ascii_digit());
        let digits = item.len() - marker.len();
        let spaced = |s: &str| s.starts_with(char::is_whitespace);
        if digits > 0 {
            if marker.strip_prefix('.').is_some_and(spaced) {
                counts.lists.ordered += 1;
            }
        } else if item.starts_with(['-', '*', '+']) && spaced(&item[1..]) {
            counts.lists.unordered += 1;
        }
    }
    counts.bold.stars = spans(&text, '*');
    counts.bold.underscores = spans(&text, '_');
    counts
}

/// Byte offsets where lines start: 0 and after every `\n`.
fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1))
}

/// The text from each line's first non-blank character on, once per such character.
/// FastChat's `^\s*` can run over blank lines, which finds the same item from each
/// of them but counts it once.
fn list_items(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut last = None;
    line_starts(text).filter_map(move |at| {
        let item = text[at..].trim_start();
        let first = text.len() - item.len();
        (!item.is_empty() && last.replace(first) != Some(first)).then_some(item)
    })
}

/// Non-overlapping `XX…XX` spans on one line, with at least one character between
/// and no `X` inside, found left to right (`***a***` is one).
fn spans(text: &str, mark: char) -> u32 {
    let pair = format!("{mark}{mark}");
    let mut count = 0;
    let mut at = 0;
    while let Some(found) = text[at..].find(&pair) {
        let open = at + found;
        let inside = &text[open + 2..];
        let len = inside.find([mark, '\n']).unwrap_or(inside.len());
        if len > 0 && inside[len..].starts_with(&pair) {
            count += 1;
            at = open + 2 + len + 2;
        } else {
            at = open + mark.len_utf8();
        }
    }
    count
}

/// FastChat finds every ```…``` (no backtick inside), then deletes each one's inside
/// wherever that text occurs in the answer, keeping the fences, so a line with a fence
/// never counts. Done the same way here, odd cases included, for the same counts.
fn without_fenced_code(text: &str) -> String {
    let mut insides = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find("```") {
        let open = at + found + 3;
        let len = text[open..].find('`').unwrap_or(text.len() - open);
        if text[open + len..].starts_with("```") {
            insides.push(&text[open..open + len]);
            at = open + len + 3;
        } else {
            at = open - 2;
        }
    }
    let mut out = text.to_owned();
    for inside in insides.into_iter().filter(|i| !i.is_empty()) {
        out = out.replace(inside, "");
    }
    out
}

/// The tokens of this side's answer: what the provider reported, else duel's count
/// of the streamed chunks, else an estimate from the text (older records).
pub(crate) fn answer_tokens(side: &SideRecord) -> u64 {
    side.output_tokens
        .or(side.output_tokens_estimate.as_ref().map(|e| e.tokens))
        .unwrap_or_else(|| estimate_tokens(&side.answer))
}

/// A rough count for answers without a reported one: a token per CJK character
/// (ideographs, kana, Hangul and CJK punctuation), and one per four other
/// characters, rounded up.
fn estimate_tokens(text: &str) -> u64 {
    let (mut cjk, mut other) = (0u64, 0u64);
    for c in text.chars() {
        let wide_punctuation = matches!(c, '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FFEF}');
        if script(c) != Script::Other || wide_punctuation {
            cjk += 1;
        } else {
            other += 1;
        }
    }
    cjk + other.div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = "\
# Title
## Part one
### Detail
#### Four
##### Five
###### Six
####### seven is not a header
#no space is not one
  # indented is not one

1. first
2. second
   10. nested
3.no space

- dash
* star
+ plus
    - indented dash
-not an item
**bold only** is not an item

Some **bold** and __also bold__ and ***more*** on a line.
Not **bold
across** lines.

```python
# a comment
- x
1. y
**not bold**
```
Text after the fence.
";

    #[test]
    fn counts_headers_lists_and_bold_as_fastchat_does() {
        let counts = markdown_counts(ANSWER);
        assert_eq!(
            counts.headers,
            HeaderCount {
                h1: 1,
                h2: 1,
                h3: 1,
                h4: 1,
                h5: 1,
                h6: 1,
            }
        );
        assert_eq!(
            counts.lists,
            ListCount {
                ordered: 3,
                unordered: 4,
            }
        );
        // "**bold only**", "**bold**", "***more***"; "__also bold__".
        assert_eq!(
            counts.bold,
            BoldCount {
                stars: 3,
                underscores: 1,
            }
        );
    }

    #[test]
    fn fenced_code_does_not_count() {
        let code = "```\n# comment\n- x\n1. y\n**b**\n```";
        assert_eq!(markdown_counts(code), MarkdownCounts::default());
        assert_eq!(without_fenced_code(code), "``````");
        // Two blocks: the prose between them still counts.
        let two = "```sh\n# a\n```\n# Header\n```\n- b\n```";
        let counts = markdown_counts(two);
        assert_eq!(counts.headers.h1, 1);
        assert_eq!(counts.lists.unordered, 0);
        // A block holding a backtick is not cut (FastChat's pattern has none inside).
        assert_eq!(markdown_counts("```\n# a `b`\n```").headers.h1, 1);
    }

    #[test]
    fn items_after_blank_lines_count_once() {
        let counts = markdown_counts("intro\n\n\n- a\n\n  - b\n1.\n2. c");
        assert_eq!(counts.lists.unordered, 2);
        // "1." at a line's end counts: FastChat's `\s` takes the line break.
        assert_eq!(counts.lists.ordered, 2);
        assert_eq!(markdown_counts("#\n# a").headers.h1, 2);
    }

    #[test]
    fn bold_spans() {
        assert_eq!(spans("**a** **b**", '*'), 2);
        assert_eq!(spans("****", '*'), 0);
        assert_eq!(spans("**a\nb**", '*'), 0);
        assert_eq!(spans("***a***", '*'), 1);
        assert_eq!(spans("__init__ and __main__", '_'), 2);
        assert_eq!(spans("加粗**重点**内容", '*'), 1);
        // As FastChat's pattern does: the end of one span can open the next.
        assert_eq!(spans("a** b **c **d", '*'), 1);
    }

    fn side(answer: &str, output_tokens: Option<u64>) -> SideRecord {
        SideRecord {
            model: "m".into(),
            provider: "p".into(),
            model_id: "m".into(),
            history: None,
            answer: answer.into(),
            reasoning: None,
            finish: crate::domain::Finish::Stop,
            error: None,
            ttft_ms: None,
            total_ms: None,
            input_tokens: None,
            output_tokens,
            output_tokens_estimate: None,
            cached_input_tokens: None,
            reasoning_tokens: None,
        }
    }

    #[test]
    fn tokens_are_the_reported_ones_else_an_estimate() {
        assert_eq!(answer_tokens(&side("whatever", Some(512))), 512);
        // Four ideographs and two CJK punctuation marks: 6; "ok!": 1.
        assert_eq!(answer_tokens(&side("你好，世界。ok!", None)), 7);
        // 9 characters: 3 tokens.
        assert_eq!(answer_tokens(&side("hello you", None)), 3);
        assert_eq!(answer_tokens(&side("", None)), 0);
        // duel's own count of the streamed chunks comes before a guess from the text.
        let mut counted = side("hello you", None);
        counted.output_tokens_estimate = Some(crate::votes::TokenEstimate::from_chunks(2));
        assert_eq!(answer_tokens(&counted), 2);
    }
}
