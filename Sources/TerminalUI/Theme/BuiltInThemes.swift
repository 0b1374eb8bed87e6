/// The themes shipped inside the program, so `t` works from an installed binary in any folder.
/// `Themes/*.theme` stay the editable source: a test requires these texts to equal those files
/// (after editing one, paste it here). A user folder overrides them by file name.
public enum BuiltInThemes {
    public static let sources: [(name: String, text: String)] = [
        ("dark", #"""
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
"""#),
        ("light", #"""
# Nanoscope theme "light": dark text on a paper-white background.

theme[main_bg]="#fafaf7"
theme[main_fg]="#2b2f36"
theme[title]="#101418"
theme[hi_fg]="#b35900"
theme[selected_bg]="#cfe0f5"
theme[selected_fg]="#101418"
theme[inactive_fg]="#9aa1ab"
theme[graph_text]="#5d6570"
theme[div_line]="#c4c8ce"
theme[status_bg]="#e6e9ee"
theme[status_fg]="#2b2f36"

theme[train_loss]="#1f6fc0"
theme[val_loss]="#c8284a"
theme[lr]="#7a3fc0"
theme[meter_bg]="#dde1e6"

theme[running]="#1e8a46"
theme[paused]="#a06800"
theme[warning]="#b35900"
theme[error]="#c01818"

theme[heat_start]="#fafaf7"
theme[heat_mid]="#e08a50"
theme[heat_end]="#6a1040"

theme[hist_start]="#9cc3e8"
theme[hist_mid]="#3f8fd0"
theme[hist_end]="#0b3a78"
"""#),
        ("high-contrast", #"""
# Nanoscope theme "high-contrast": pure black and white with saturated series colours,
# for projectors, bright rooms and low vision.

theme[main_bg]="#000000"
theme[main_fg]="#ffffff"
theme[title]="#ffffff"
theme[hi_fg]="#ffff00"
theme[selected_bg]="#ffff00"
theme[selected_fg]="#000000"
theme[inactive_fg]="#c0c0c0"
theme[graph_text]="#ffffff"
theme[div_line]="#ffffff"
theme[status_bg]="#ffffff"
theme[status_fg]="#000000"

theme[train_loss]="#00ffff"
theme[val_loss]="#ff00ff"
theme[lr]="#00ff00"
theme[meter_bg]="#606060"

theme[running]="#00ff00"
theme[paused]="#ffff00"
theme[warning]="#ffff00"
theme[error]="#ff0000"

theme[heat_start]="#000000"
theme[heat_mid]="#ff0000"
theme[heat_end]="#ffff00"

theme[hist_start]="#0000ff"
theme[hist_mid]="#00ffff"
theme[hist_end]="#ffffff"
"""#),
        ("monochrome", #"""
# Nanoscope theme "monochrome": greys only, on the terminal's own background. Emphasis comes
# from brightness; the dashboard adds bold and reverse video where it matters.

theme[main_bg]=""
theme[main_fg]="#c0"
theme[title]="#ff"
theme[hi_fg]="#ff"
theme[selected_bg]="#e0"
theme[selected_fg]="#00"
theme[inactive_fg]="#70"
theme[graph_text]="#a0"
theme[div_line]="#80"
theme[status_bg]="#30"
theme[status_fg]="#e0"

theme[train_loss]="#ff"
theme[val_loss]="#a0"
theme[lr]="#80"
theme[meter_bg]="#40"

theme[running]="#ff"
theme[paused]="#c0"
theme[warning]="#ff"
theme[error]="#ff"

theme[heat_start]="#00"
theme[heat_mid]="#80"
theme[heat_end]="#ff"

theme[hist_start]="#60"
theme[hist_mid]="#a0"
theme[hist_end]="#ff"
"""#),
    ]
}
