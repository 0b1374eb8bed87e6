/// The default theme: the built-in "dark" (see `BuiltInThemes`), so the dashboard has colours
/// even when no `Themes/` folder can be found. A test keeps it equal to `Themes/dark.theme`.
public enum DefaultThemeSource {
    public static let name = "dark"

    public static let text = BuiltInThemes.sources.first { $0.name == name }!.text
}
