//! Themes (SPEC §7): built-ins compiled in from `themes/`, user files in
//! `<config dir>/themes/NAME.toml` that add or shadow one, and `NO_COLOR`.

use std::fs;
use std::path::{Path, PathBuf};

use ratatui::style::Color;
use toml::de::{DeTable, DeValue};

use duel_core::config::{did_you_mean, line_col};

/// The built-in themes; adding one is one line here plus its file.
const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../../themes/default.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "catppuccin-mocha",
        include_str!("../../../themes/catppuccin-mocha.toml"),
    ),
    (
        "gruvbox-dark",
        include_str!("../../../themes/gruvbox-dark.toml"),
    ),
    ("nord", include_str!("../../../themes/nord.toml")),
    (
        "solarized-light",
        include_str!("../../../themes/solarized-light.toml"),
    ),
];

/// The theme every missing role falls back to.
const DEFAULT_THEME: &str = "default";

/// Every colour role of SPEC §7, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub name: String,
    pub dark: bool,
    pub bg: Color,
    pub fg: Color,
    pub dim: Color,
    pub border: Color,
    pub border_focused: Color,
    pub pane_a: Color,
    pub pane_b: Color,
    pub user: Color,
    pub reasoning: Color,
    pub error: Color,
    pub success: Color,
    pub warning: Color,
    pub status_bg: Color,
    pub status_fg: Color,
    pub code_bg: Color,
    pub heading: Color,
    pub link: Color,
    pub vote: Color,
    /// The syntax-highlighting theme name for code blocks; `"none"` means plain code
    /// (also what `NO_COLOR` sets).
    pub syntax: String,
}

/// Declares the colour roles once: their names, and setting or mapping them by name.
macro_rules! roles {
    ($($role:ident),* $(,)?) => {
        /// The colour keys of a theme file, in the order of SPEC §7.
        const ROLES: &[&str] = &[$(stringify!($role)),*];

        impl Theme {
            /// Sets a role by its name; false when there is no such role.
            fn set_role(&mut self, role: &str, color: Color) -> bool {
                match role {
                    $(stringify!($role) => self.$role = color,)*
                    _ => return false,
                }
                true
            }

            fn map_colors(&mut self, f: impl Fn(Color) -> Color) {
                $(self.$role = f(self.$role);)*
            }
        }
    };
}

roles!(
    bg,
    fg,
    dim,
    border,
    border_focused,
    pane_a,
    pane_b,
    user,
    reasoning,
    error,
    success,
    warning,
    status_bg,
    status_fg,
    code_bg,
    heading,
    link,
    vote,
);

impl Theme {
    /// The terminal's own colours for every role: what `NO_COLOR` asks for.
    pub fn plain(name: &str) -> Self {
        Theme {
            name: name.to_owned(),
            dark: true,
            bg: Color::Reset,
            fg: Color::Reset,
            dim: Color::Reset,
            border: Color::Reset,
            border_focused: Color::Reset,
            pane_a: Color::Reset,
            pane_b: Color::Reset,
            user: Color::Reset,
            reasoning: Color::Reset,
            error: Color::Reset,
            success: Color::Reset,
            warning: Color::Reset,
            status_bg: Color::Reset,
            status_fg: Color::Reset,
            code_bg: Color::Reset,
            heading: Color::Reset,
            link: Color::Reset,
            vote: Color::Reset,
            syntax: "none".into(),
        }
    }

    fn without_color(mut self) -> Self {
        self.map_colors(|_| Color::Reset);
        self.syntax = "none".into();
        self
    }
}

impl Default for Theme {
    /// The built-in default theme (never fails: the built-ins are tested to parse).
    fn default() -> Self {
        builtin(DEFAULT_THEME)
            .and_then(Result::ok)
            .unwrap_or_else(|| Theme::plain(DEFAULT_THEME))
    }
}

/// A theme `duel themes` can show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThemeInfo {
    /// What `--theme` and `[ui] theme` take.
    pub name: String,
    /// Compiled in and not shadowed by a user file.
    pub builtin: bool,
    pub dark: bool,
    /// The user file, for user themes.
    pub path: Option<PathBuf>,
    /// Why the user file cannot be used, if it cannot.
    pub problem: Option<String>,
}

/// A theme that cannot be used: which, where, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme \"{name}\" (available: {})", .available.join(", "))]
    Unknown {
        name: String,
        available: Vec<String>,
    },
    #[error("{}:{line}:{column}: {message}", .path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: cannot read: {message}", .path.display())]
    Unreadable { path: PathBuf, message: String },
}

/// The theme `name`: a user file in `<config_dir>/themes/` first, then a built-in;
/// every colour is the terminal's own when `NO_COLOR` is set and not empty.
pub fn load(name: &str, config_dir: Option<&Path>) -> Result<Theme, ThemeError> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    load_with(name, config_dir, no_color)
}

/// `load` with `NO_COLOR` given, so nothing depends on the environment.
pub fn load_with(
    name: &str,
    config_dir: Option<&Path>,
    no_color: bool,
) -> Result<Theme, ThemeError> {
    let theme = match user_file(name, config_dir) {
        Some(path) => {
            let text = fs::read_to_string(&path).map_err(|e| ThemeError::Unreadable {
                path: path.clone(),
                message: e.to_string(),
            })?;
            // A file named like a built-in overlays that one; a new name, the default.
            let base = match builtin(name) {
                Some(theme) => theme?,
                None => Theme::default(),
            };
            overlay(base, &text, &path)?
        }
        None => builtin(name).unwrap_or_else(|| {
            Err(ThemeError::Unknown {
                name: name.to_owned(),
                available: list(config_dir).into_iter().map(|t| t.name).collect(),
            })
        })?,
    };
    let theme = Theme {
        name: name.to_owned(),
        ..theme
    };
    Ok(if no_color {
        theme.without_color()
    } else {
        theme
    })
}

/// Built-in and user themes, sorted by name; a user file shadowing a built-in is
/// listed once, as the user's.
pub fn list(config_dir: Option<&Path>) -> Vec<ThemeInfo> {
    let mut out: Vec<ThemeInfo> = BUILTIN
        .iter()
        .map(|(name, _)| ThemeInfo {
            name: (*name).to_owned(),
            builtin: true,
            dark: builtin(name).and_then(Result::ok).is_none_or(|t| t.dark),
            path: None,
            problem: None,
        })
        .collect();
    for name in user_theme_names(config_dir) {
        let path = user_file(&name, config_dir);
        let (dark, problem) = match load_with(&name, config_dir, false) {
            Ok(theme) => (theme.dark, None),
            Err(e) => (true, Some(e.to_string())),
        };
        let info = ThemeInfo {
            name,
            builtin: false,
            dark,
            path,
            problem,
        };
        match out.iter_mut().find(|t| t.name == info.name) {
            Some(shadowed) => *shadowed = info,
            None => out.push(info),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Parses a colour: `#rrggbb` (or `#rgb`), an ANSI name, an index 0–255, or `reset`.
fn parse_color(s: &str) -> Option<Color> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix('#') {
        let digits: Vec<u8> = hex
            .chars()
            .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
            .collect::<Option<_>>()?;
        return match digits[..] {
            [r, g, b] => Some(Color::Rgb(r * 17, g * 17, b * 17)),
            [r1, r2, g1, g2, b1, b2] => Some(Color::Rgb(r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2)),
            _ => None,
        };
    }
    if let Ok(index) = s.parse::<u8>() {
        return Some(Color::Indexed(index));
    }
    let name: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match name.replace("grey", "gray").as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "lightgray" => Color::Gray,
        "darkgray" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return None,
    })
}

/// A built-in theme by name, parsed; `None` when there is no such built-in.
fn builtin(name: &str) -> Option<Result<Theme, ThemeError>> {
    let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
    let path = PathBuf::from(format!("themes/{name}.toml"));
    let base = if name == DEFAULT_THEME {
        Theme::plain(name)
    } else {
        match builtin(DEFAULT_THEME)? {
            Ok(theme) => theme,
            Err(e) => return Some(Err(e)),
        }
    };
    Some(overlay(base, text, &path))
}

/// `<config_dir>/themes/NAME.toml` when it exists and `name` is a plain file name.
fn user_file(name: &str, config_dir: Option<&Path>) -> Option<PathBuf> {
    let plain =
        !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']) && name != "..";
    let path = config_dir?.join("themes").join(format!("{name}.toml"));
    (plain && path.is_file()).then_some(path)
}

fn user_theme_names(config_dir: Option<&Path>) -> Vec<String> {
    let Some(dir) = config_dir.map(|d| d.join("themes")) else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_owned()))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// The keys of a theme file set over `base`.
fn overlay(mut theme: Theme, text: &str, path: &Path) -> Result<Theme, ThemeError> {
    let invalid = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = line_col(text, span.start);
        ThemeError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    };
    let root = DeTable::parse(text)
        .map_err(|e| invalid(e.span().unwrap_or(0..0), e.message().to_owned()))?;
    for (key, value) in root.get_ref().iter() {
        let name = key.get_ref().as_ref();
        match name {
            "name" | "syntax" => {
                let s = value.get_ref().as_str().ok_or_else(|| {
                    invalid(
                        value.span(),
                        format!(r#"expected a string for {name}, like "default""#),
                    )
                })?;
                if name == "syntax" {
                    theme.syntax = s.to_owned();
                }
            }
            "dark" => {
                theme.dark = value.get_ref().as_bool().ok_or_else(|| {
                    invalid(value.span(), "expected true or false for dark".into())
                })?;
            }
            role if ROLES.contains(&role) => {
                let color = match value.get_ref() {
                    DeValue::String(s) => parse_color(s),
                    DeValue::Integer(i) => u8::from_str_radix(i.as_str(), i.radix())
                        .ok()
                        .map(Color::Indexed),
                    _ => None,
                };
                let color = color.ok_or_else(|| {
                    invalid(
                        value.span(),
                        format!(
                            r##"expected a colour for {role}, like "#7aa2f7", "blue", 75 or "reset""##
                        ),
                    )
                })?;
                theme.set_role(role, color);
            }
            other => {
                let mut known = vec!["name", "dark", "syntax"];
                known.extend(ROLES);
                let hint = did_you_mean(other, &known)
                    .map(|h| format!("{h} "))
                    .unwrap_or_default();
                return Err(invalid(
                    key.span(),
                    format!(
                        "unknown key {other} ({hint}a theme has name, dark, syntax and the colours {})",
                        ROLES.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(theme)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_theme(dir: &Path, name: &str, text: &str) -> PathBuf {
        let themes = dir.join("themes");
        fs::create_dir_all(&themes).unwrap();
        let path = themes.join(format!("{name}.toml"));
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn every_built_in_parses_and_sets_every_role() {
        for (name, text) in BUILTIN {
            let theme = load_with(name, None, false).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(theme.name, *name);
            let root = DeTable::parse(text).unwrap();
            for key in ["name", "dark", "syntax"].iter().chain(ROLES) {
                assert!(root.get_ref().contains_key(*key), "{name} lacks {key}");
            }
            assert_eq!(
                root.get_ref()["name"].get_ref().as_str(),
                Some(*name),
                "file name and name key agree"
            );
        }
        assert!(load_with("default", None, false).unwrap().dark);
        assert!(!load_with("light", None, false).unwrap().dark);
        assert_eq!(Theme::default(), load_with("default", None, false).unwrap());
        assert_ne!(Theme::default().pane_a, Theme::default().pane_b);
    }

    #[test]
    fn colour_formats() {
        assert_eq!(parse_color("#7aa2f7"), Some(Color::Rgb(0x7a, 0xa2, 0xf7)));
        assert_eq!(parse_color("#FFF"), Some(Color::Rgb(255, 255, 255)));
        assert_eq!(parse_color("reset"), Some(Color::Reset));
        assert_eq!(parse_color("Blue"), Some(Color::Blue));
        assert_eq!(parse_color("grey"), Some(Color::Gray));
        assert_eq!(parse_color("dark_grey"), Some(Color::DarkGray));
        assert_eq!(parse_color("darkgray"), Some(Color::DarkGray));
        assert_eq!(parse_color("light-red"), Some(Color::LightRed));
        assert_eq!(parse_color("lightmagenta"), Some(Color::LightMagenta));
        assert_eq!(parse_color("white"), Some(Color::White));
        assert_eq!(parse_color("244"), Some(Color::Indexed(244)));
        assert_eq!(parse_color("0"), Some(Color::Indexed(0)));
        for bad in ["256", "-1", "#12345", "#gggggg", "#", "purple", "", "#ééé"] {
            assert_eq!(parse_color(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_user_theme_with_missing_roles_falls_back_to_the_default() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(
            dir.path(),
            "mine",
            "name = \"mine\"\ndark = false\nfg = \"#101010\"\ndim = 244\nborder = \"darkgray\"\n",
        );
        let theme = load_with("mine", Some(dir.path()), false).unwrap();
        let default = Theme::default();
        assert_eq!(theme.name, "mine");
        assert!(!theme.dark);
        assert_eq!(theme.fg, Color::Rgb(0x10, 0x10, 0x10));
        assert_eq!(theme.dim, Color::Indexed(244));
        assert_eq!(theme.border, Color::DarkGray);
        assert_eq!(theme.pane_a, default.pane_a);
        assert_eq!(theme.vote, default.vote);
        assert_eq!(theme.syntax, default.syntax);
    }

    #[test]
    fn a_user_file_shadows_a_built_in_of_the_same_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = user_theme(dir.path(), "light", "pane_a = \"red\"\n");
        let theme = load_with("light", Some(dir.path()), false).unwrap();
        let builtin = load_with("light", None, false).unwrap();
        assert_eq!(theme.pane_a, Color::Red);
        // The rest comes from the built-in it shadows.
        assert_eq!(theme.pane_b, builtin.pane_b);
        assert!(!theme.dark);

        let listed = list(Some(dir.path()));
        let light: Vec<_> = listed.iter().filter(|t| t.name == "light").collect();
        assert_eq!(light.len(), 1);
        assert!(!light[0].builtin);
        assert_eq!(light[0].path.as_deref(), Some(path.as_path()));
    }

    #[test]
    fn list_shows_built_ins_and_user_themes_sorted() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(dir.path(), "zebra", "dark = false\n");
        user_theme(dir.path(), "broken", "fg = \"purple\"\n");
        fs::write(dir.path().join("themes/notes.txt"), "not a theme").unwrap();
        let listed = list(Some(dir.path()));
        let names: Vec<&str> = listed.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "broken",
                "catppuccin-mocha",
                "default",
                "gruvbox-dark",
                "light",
                "nord",
                "solarized-light",
                "zebra"
            ]
        );
        assert!(listed[2].builtin && listed[2].dark && listed[2].problem.is_none());
        assert!(listed[6].builtin && !listed[6].dark);
        assert!(!listed[7].builtin && !listed[7].dark);
        let problem = listed[0].problem.as_deref().unwrap();
        assert!(problem.contains("broken.toml:1:6:"), "{problem}");
        assert_eq!(
            list(None)
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            [
                "catppuccin-mocha",
                "default",
                "gruvbox-dark",
                "light",
                "nord",
                "solarized-light"
            ]
        );
    }

    #[test]
    fn a_bad_theme_file_names_the_place_and_the_form() {
        let dir = tempfile::tempdir().unwrap();
        let path = user_theme(dir.path(), "bad", "name = \"bad\"\nborder = \"#12345\"\n");
        let e = load_with("bad", Some(dir.path()), false).unwrap_err();
        assert_eq!(
            e,
            ThemeError::Invalid {
                path: path.clone(),
                line: 2,
                column: 10,
                message: r##"expected a colour for border, like "#7aa2f7", "blue", 75 or "reset""##
                    .into()
            }
        );
        assert!(
            e.to_string()
                .starts_with(&format!("{}:2:10: ", path.display()))
        );

        user_theme(dir.path(), "bad", "dim = 300\n");
        let e = load_with("bad", Some(dir.path()), false).unwrap_err();
        assert!(
            matches!(
                e,
                ThemeError::Invalid {
                    line: 1,
                    column: 7,
                    ..
                }
            ),
            "{e}"
        );

        user_theme(dir.path(), "bad", "dark = \"yes\"\n");
        let e = load_with("bad", Some(dir.path()), false).unwrap_err();
        assert!(
            matches!(
                e,
                ThemeError::Invalid {
                    line: 1,
                    column: 8,
                    ..
                }
            ),
            "{e}"
        );

        user_theme(dir.path(), "bad", "\n  boder = \"red\"\n");
        let e = load_with("bad", Some(dir.path()), false).unwrap_err();
        assert!(
            matches!(
                e,
                ThemeError::Invalid {
                    line: 2,
                    column: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("did you mean border?"), "{e}");

        user_theme(dir.path(), "bad", "fg = \"red\nbg = 1\n");
        let e = load_with("bad", Some(dir.path()), false).unwrap_err();
        assert!(matches!(e, ThemeError::Invalid { line: 1, .. }), "{e}");
    }

    #[test]
    fn an_unknown_name_lists_the_available_themes() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(dir.path(), "mine", "");
        let e = load_with("nrod", Some(dir.path()), false).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"unknown theme "nrod" (available: catppuccin-mocha, default, gruvbox-dark, light, mine, nord, solarized-light)"#
        );
        for sneaky in ["../themes/mine", "", ".hidden", "themes/mine"] {
            assert!(
                matches!(
                    load_with(sneaky, Some(dir.path()), false),
                    Err(ThemeError::Unknown { .. })
                ),
                "{sneaky}"
            );
        }
    }

    #[test]
    fn no_color_resets_every_colour() {
        let dir = tempfile::tempdir().unwrap();
        user_theme(dir.path(), "loud", "fg = \"red\"\nbg = \"#ff00ff\"\n");
        for name in ["default", "light", "loud"] {
            let theme = load_with(name, Some(dir.path()), true).unwrap();
            let plain = Theme::plain(name);
            assert_eq!(
                theme,
                Theme {
                    dark: theme.dark,
                    ..plain
                },
                "{name}"
            );
        }
    }
}
