import TerminalUI
/// The styles the panes draw with, derived from the theme. In monochrome the backend drops all
/// colour, so the styles that carry meaning (selection, focus, warnings) add attributes instead.
struct Palette {
    let theme: Theme
    let monochrome: Bool

    var background: Style { Style(fg: theme[.mainForeground], bg: theme[.mainBackground]) }
    var text: Style { theme.text(.mainForeground) }
    var title: Style { theme.text(.title, .bold) }
    var muted: Style { theme.text(.inactive, monochrome ? .dim : []) }
    var label: Style { theme.text(.graphText) }
    var border: Style { theme.text(.divider) }
    var focusedBorder: Style { theme.text(.highlight, .bold) }
    var highlight: Style { theme.text(.highlight, .bold) }
    var selected: Style {
        Style(fg: theme[.selectedForeground], bg: theme[.selectedBackground], attributes: monochrome ? [.reverse, .bold] : [.bold])
    }
    /// The focused pane's title: inverse (highlight background), unmistakable at a glance.
    var focusedTitle: Style {
        Style(fg: theme[.mainBackground] == .terminalDefault ? theme[.selectedForeground] : theme[.mainBackground],
              bg: theme[.highlight], attributes: monochrome ? [.reverse, .bold] : [.bold])
    }
    var status: Style { Style(fg: theme[.statusForeground], bg: theme[.statusBackground], attributes: monochrome ? .reverse : []) }
    var warning: Style { theme.text(.warning, .bold) }
    var error: Style { theme.text(.error, .bold) }

    func color(_ key: ThemeKey) -> Color { theme[key] }

    /// A series colour faded towards the background, for raw data drawn under its smoothed curve.
    func faded(_ key: ThemeKey) -> Color {
        guard case .rgb(let c) = theme[key] else { return theme[key] }
        let bg: RGB
        if case .rgb(let b) = theme[.mainBackground] { bg = b } else { bg = RGB(0, 0, 0) }
        return .rgb(c.mixed(with: bg, 0.55))
    }

    func pane(_ title: String, trailing: String = "", focused: Bool) -> Pane {
        Pane(title: title, trailingTitle: trailing, focused: focused, borderStyle: border,
             focusedBorderStyle: focusedBorder, titleStyle: theme.text(.title), background: background,
             focusedTitleStyle: focusedTitle)
    }
}
