//! "Did you mean …?": the known name nearest to a misspelt one, for the config's
//! keys and provider names and the theme files' keys alike.

/// The known name nearest to a misspelt one, if it is close enough to be a typo.
fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.min(k.len() / 3 + 1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// "did you mean KEY?" when a known name is close enough to `name` to be a typo;
/// every place that suggests a name words it this way.
pub fn did_you_mean(name: &str, known: &[&str]) -> Option<String> {
    closest(name, known).map(|k| format!("did you mean {k}?"))
}

/// `did_you_mean` with the name in quotes, for names written as TOML strings.
pub(crate) fn did_you_mean_quoted(name: &str, known: &[&str]) -> Option<String> {
    closest(name, known).map(|k| format!(r#"did you mean "{k}"?"#))
}
