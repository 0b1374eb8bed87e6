/// The default theme, compiled in so the dashboard has colours even when no `Themes/` folder can
/// be found (an installed binary, a different working directory). It must stay identical to
/// `Themes/dark.theme`; a test compares the two.
public enum DefaultThemeSource {
    public static let name = "dark"

    public static let text = """
# Nanoscope theme "dark": the default. btop's format: theme[key]="#rrggbb" (or "#gg" for a grey,
# "r g b" in decimal, "" for the terminal's own colour). Gradients are key_start/_mid/_end.

# Screen
theme[main_bg]="#10141c"
theme[main_fg]="#c8d0dc"
theme[title]="#e6edf3"
theme[hi_fg]="#f0a040"
theme[selected_bg]="#2a3a55"
theme[selected_fg]="#ffffff"
theme[inactive_fg]="#5c6675"
theme[graph_text]="#8a94a3"
theme[div_line]="#394150"
theme[status_bg]="#1c2433"
theme[status_fg]="#c8d0dc"

# Series
theme[train_loss]="#4fb3ff"
theme[val_loss]="#ff7a90"
theme[lr]="#b48cff"
theme[meter_bg]="#2b3340"

# Run state
theme[running]="#5fd08a"
theme[paused]="#f0c040"
theme[warning]="#f0a040"
theme[error]="#ff5555"

# Attention heatmap: low → high weight
theme[heat_start]="#10141c"
theme[heat_mid]="#7a3ea8"
theme[heat_end]="#ffd966"

# Gradient histogram: small → large magnitude
theme[hist_start]="#2f6fb0"
theme[hist_mid]="#4fc0a0"
theme[hist_end]="#f0e060"
"""
}
