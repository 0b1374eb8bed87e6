import Foundation

/// The themes `t` cycles through, read once at start.
///
/// Folders are read lowest priority first and a later file of the same name replaces an earlier
/// one, so the user's `~/.config/nanoscope/themes/dark.theme` overrides the project's, which
/// overrides the compiled-in default.
public struct ThemeLibrary: Sendable {
    public private(set) var themes: [Theme]
    public private(set) var warnings: [ThemeWarning]

    /// Themes in this order first (the ones the project ships), then any others by name.
    public static let preferredOrder = ["dark", "light", "high-contrast", "monochrome"]

    public init(themes: [Theme], warnings: [ThemeWarning] = []) {
        self.themes = themes.isEmpty ? [Theme.builtInDefault] : themes
        self.warnings = warnings
    }

    /// Reads every `*.theme` file in `directories` (missing folders are skipped).
    public static func load(from directories: [URL]) -> ThemeLibrary {
        // The shipped themes first (compiled in), then files: the project's Themes/ when run from
        // a checkout, the user's folder last, each replacing a theme of the same name.
        var sources = Dictionary(BuiltInThemes.sources, uniquingKeysWith: { _, last in last })
        var warnings: [ThemeWarning] = []
        let files = FileManager.default
        for directory in directories {
            guard let names = try? files.contentsOfDirectory(atPath: directory.path) else { continue }
            for file in names.sorted() where file.hasSuffix(".theme") {
                let url = directory.appendingPathComponent(file)
                let name = String(file.dropLast(".theme".count))
                do {
                    sources[name] = try String(contentsOf: url, encoding: .utf8)
                } catch {
                    warnings.append(ThemeWarning(theme: name, line: 0, message: "cannot read \(url.path): \(error.localizedDescription)"))
                }
            }
        }
        let fallback = Theme.builtInDefault
        let names = sources.keys.sorted { a, b in
            let ia = preferredOrder.firstIndex(of: a) ?? Int.max, ib = preferredOrder.firstIndex(of: b) ?? Int.max
            return ia != ib ? ia < ib : a < b
        }
        var themes: [Theme] = []
        for name in names {
            let parsed = ThemeParser.parse(sources[name]!, name: name, fallback: fallback)
            themes.append(parsed.theme)
            warnings += parsed.warnings
        }
        return ThemeLibrary(themes: themes, warnings: warnings)
    }

    /// Where themes live: `Themes/` beside the package the executable was built in (found by
    /// walking up from the binary, e.g. `.build/release/nanoscope`), `Themes/` in the current
    /// directory, then the user's folder (`$XDG_CONFIG_HOME/nanoscope/themes`, else
    /// `~/.config/nanoscope/themes`).
    public static func standardDirectories(environment: [String: String] = ProcessInfo.processInfo.environment,
                                           currentDirectory: String = FileManager.default.currentDirectoryPath,
                                           executablePath: String? = Bundle.main.executablePath) -> [URL] {
        var result: [URL] = []
        if let executablePath {
            var dir = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
            while dir.path != "/" && !dir.path.isEmpty {
                let candidate = dir.appendingPathComponent("Themes")
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                    result.append(candidate)
                    break
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        let local = URL(fileURLWithPath: currentDirectory).appendingPathComponent("Themes")
        if !result.contains(local) { result.append(local) }
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty {
            result.append(URL(fileURLWithPath: config).appendingPathComponent("nanoscope/themes"))
        } else if let home = environment["HOME"], !home.isEmpty {
            result.append(URL(fileURLWithPath: home).appendingPathComponent(".config/nanoscope/themes"))
        }
        return result
    }

    public func index(named name: String) -> Int? {
        themes.firstIndex { $0.name == name }
    }
}
