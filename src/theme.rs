//! Themes (SPEC §7). (Filled in by the config work.)
use ratatui::style::Color;

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
    /// The syntax-highlighting theme name for code blocks.
    pub syntax: String,
}

/// Placeholder until the theme work lands.
pub fn load(_name: &str, _config_dir: Option<&std::path::Path>) -> Result<Theme, String> {
    unimplemented!()
}
