import Foundation
import Testing
@testable import TerminalUI

/// The repository's `Themes/` folder, found from this file's location.
private let repoThemes = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Themes")

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nanoscope-themes-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct ThemeParserTests {
    @Test func acceptsBtopColourSpellings() {
        #expect(ThemeParser.parseColor("#1a2b3c") == .hex(0x1A2B3C))
        #expect(ThemeParser.parseColor("#80") == .rgb(RGB(128, 128, 128)))
        #expect(ThemeParser.parseColor("10 20 30") == .rgb(RGB(10, 20, 30)))
        #expect(ThemeParser.parseColor("") == .terminalDefault)
    }

    @Test(arguments: ["#12345", "#gggggg", "300 0 0", "red", "#1234567", "1 2"])
    func rejectsBadColours(_ value: String) {
        #expect(ThemeParser.parseColor(value) == nil)
    }

    @Test func aBadColourWarnsAndKeepsTheDefault() {
        let (theme, warnings) = ThemeParser.parse("theme[main_fg]=\"#zz0000\"\ntheme[title]=\"#ff0000\"", name: "t", fallback: .builtInDefault)
        #expect(warnings.count == 1)
        #expect(warnings.first?.line == 1)
        #expect(warnings.first?.message.contains("main_fg") == true)
        #expect(theme[.mainForeground] == Theme.builtInDefault[.mainForeground])
        #expect(theme[.title] == .hex(0xFF0000))
    }

    @Test func anUnknownKeyWarnsAndIsIgnored() {
        let (theme, warnings) = ThemeParser.parse("theme[cpu_box]=\"#ff0000\"\ntheme[lr]=\"#00ff00\"", name: "t", fallback: .builtInDefault)
        #expect(warnings.map(\.message) == ["unknown key \"cpu_box\" ignored"])
        #expect(theme[.learningRate] == .hex(0x00FF00))
    }

    @Test func malformedLinesWarnWithTheirLineNumber() {
        let text = "# comment\n\ntheme[main_fg] #ffffff\ntheme[title]=\"#ffffff\"\ngarbage"
        let (_, warnings) = ThemeParser.parse(text, name: "t", fallback: .builtInDefault)
        #expect(warnings.map(\.line) == [3, 5])
    }

    @Test func aMissingGradientMiddleIsBlended() {
        let (theme, warnings) = ThemeParser.parse("theme[heat_start]=\"#000000\"\ntheme[heat_end]=\"#ffffff\"", name: "t", fallback: .builtInDefault)
        #expect(warnings.isEmpty)
        #expect(theme[.heatMid] == .hex(0x808080))
    }

    @Test func anEmptyGradientStopIsRejected() {
        let (theme, warnings) = ThemeParser.parse("theme[hist_start]=\"\"", name: "t", fallback: .builtInDefault)
        #expect(warnings.count == 1)
        #expect(theme[.histStart] == Theme.builtInDefault[.histStart])
    }

    @Test func colourScaleInterpolatesThroughTheMiddle() {
        let scale = ColorScale(start: RGB(0, 0, 0), mid: RGB(200, 0, 0), end: RGB(200, 200, 0))
        #expect(scale.color(at: 0) == RGB(0, 0, 0))
        #expect(scale.color(at: 0.5) == RGB(200, 0, 0))
        #expect(scale.color(at: 0.75) == RGB(200, 100, 0))
        #expect(scale.color(at: 7) == RGB(200, 200, 0))
        #expect(scale.color(at: .nan) == RGB(0, 0, 0))
    }
}

@Suite struct ShippedThemeTests {
    @Test func theCompiledInDefaultIsCompleteAndClean() {
        let (theme, warnings) = ThemeParser.parse(DefaultThemeSource.text, name: "dark", fallback: nil)
        #expect(warnings.isEmpty)
        for key in ThemeKey.allCases {
            #expect(theme[key] != .terminalDefault, "dark leaves \(key.rawValue) unset")
        }
    }

    @Test func theCompiledInDefaultMatchesThemesDarkTheme() throws {
        let file = try String(contentsOf: repoThemes.appendingPathComponent("dark.theme"), encoding: .utf8)
        #expect(file.trimmingCharacters(in: .newlines) == DefaultThemeSource.text.trimmingCharacters(in: .newlines))
    }

    @Test(arguments: ["dark", "light", "high-contrast", "monochrome"])
    func everyShippedThemeSetsEveryKeyWithoutWarnings(name: String) throws {
        let text = try String(contentsOf: repoThemes.appendingPathComponent("\(name).theme"), encoding: .utf8)
        let (_, warnings) = ThemeParser.parse(text, name: name, fallback: nil)
        #expect(warnings.isEmpty)
        for key in ThemeKey.allCases {
            #expect(text.contains("theme[\(key.rawValue)]="), "\(name) does not set \(key.rawValue)")
        }
    }

    @Test func theLibraryListsTheShippedThemesInOrder() {
        let library = ThemeLibrary.load(from: [repoThemes])
        #expect(library.themes.map(\.name) == ["dark", "light", "high-contrast", "monochrome"])
        #expect(library.warnings.isEmpty)
        #expect(library.themes[1][.mainBackground] != library.themes[0][.mainBackground])
    }
}

@Suite struct ThemeLibraryTests {
    @Test func withNoFoldersTheDefaultIsStillThere() {
        let library = ThemeLibrary.load(from: [URL(fileURLWithPath: "/nonexistent/nanoscope")])
        #expect(library.themes.map(\.name) == ["dark", "light", "high-contrast", "monochrome"])
        #expect(library.themes[0] == Theme.builtInDefault)
    }

    @Test func laterFoldersOverrideEarlierOnes() throws {
        let project = try temporaryDirectory(), user = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: project); try? FileManager.default.removeItem(at: user) }
        try "theme[title]=\"#111111\"\n".write(to: project.appendingPathComponent("dark.theme"), atomically: true, encoding: .utf8)
        try "theme[title]=\"#222222\"\n".write(to: project.appendingPathComponent("zeta.theme"), atomically: true, encoding: .utf8)
        try "theme[title]=\"#333333\"\ntheme[bogus]=\"#000000\"\n".write(to: user.appendingPathComponent("dark.theme"), atomically: true, encoding: .utf8)
        try "not a theme".write(to: user.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)

        let library = ThemeLibrary.load(from: [project, user])
        #expect(library.themes.map(\.name) == ["dark", "light", "high-contrast", "monochrome", "zeta"])
        #expect(library.themes[0][.title] == .hex(0x333333))
        // Keys a user file leaves out come from the built-in default, not from nothing.
        #expect(library.themes[0][.valLoss] == Theme.builtInDefault[.valLoss])
        #expect(library.warnings.map(\.theme) == ["dark"])
    }

    @Test func standardFoldersStartAtTheExecutablesPackage() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try "// package".write(to: root.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        let binary = root.appendingPathComponent(".build/release/nanoscope").path
        let dirs = ThemeLibrary.standardDirectories(environment: ["XDG_CONFIG_HOME": "/cfg", "HOME": "/home/u"],
                                                    currentDirectory: "/work/elsewhere", executablePath: binary)
        #expect(dirs.map(\.path) == [root.appendingPathComponent("Themes").path, "/work/elsewhere/Themes", "/cfg/nanoscope/themes"])
        let fallback = ThemeLibrary.standardDirectories(environment: ["HOME": "/home/u"], currentDirectory: "/w", executablePath: nil)
        #expect(fallback.map(\.path) == ["/w/Themes", "/home/u/.config/nanoscope/themes"])
    }
}

@Suite struct ColorModeTests {
    @Test func noColorForcesMonochrome() {
        #expect(ColorMode.detect(colors: 1 << 24, hasColors: true, environment: ["NO_COLOR": "1"]).mode == .monochrome)
        #expect(ColorMode.detect(colors: 256, hasColors: true, environment: ["NO_COLOR": ""]).mode == .palette256)
    }

    @Test func modeFollowsTheColourCount() {
        #expect(ColorMode.detect(colors: 1 << 24, hasColors: true, environment: [:]).mode == .truecolor)
        #expect(ColorMode.detect(colors: 256, hasColors: true, environment: [:]).mode == .palette256)
        #expect(ColorMode.detect(colors: 16, hasColors: true, environment: [:]).mode == .palette16)
        #expect(ColorMode.detect(colors: 8, hasColors: true, environment: [:]).mode == .palette16)
        #expect(ColorMode.detect(colors: 2, hasColors: true, environment: [:]).mode == .monochrome)
        #expect(ColorMode.detect(colors: 256, hasColors: false, environment: [:]).mode == .monochrome)
    }

    @Test func colortermWithoutADirectTerminfoGivesAHint() {
        let result = ColorMode.detect(colors: 256, hasColors: true, environment: ["COLORTERM": "truecolor", "TERM": "tmux-256color"])
        #expect(result.mode == .palette256)
        #expect(result.hint?.contains("tmux-direct") == true)
        #expect(ColorMode.detect(colors: 256, hasColors: true, environment: ["TERM": "xterm-256color"]).hint == nil)
    }

    @Test func quantizerPicksTheNearestPaletteEntry() {
        #expect(ColorQuantizer.xterm256(RGB(255, 0, 0)) == 196)
        #expect(ColorQuantizer.xterm256(RGB(0, 0, 0)) == 16)
        #expect(ColorQuantizer.xterm256(RGB(255, 255, 255)) == 231)
        #expect(ColorQuantizer.xterm256(RGB(128, 128, 128)) == 244)
        #expect(ColorQuantizer.xterm256(RGB(0x5f, 0x87, 0xaf)) == 67)
        #expect(ColorQuantizer.ansi(RGB(250, 10, 10)) == 9)
        #expect(ColorQuantizer.ansi(RGB(250, 10, 10), count: 8) == 1)
        #expect(ColorQuantizer.ansi(RGB(20, 20, 20)) == 0)
    }
}

@Suite struct BuiltInThemeTests {
    static let themesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Themes")

    /// Themes/ is the editable source; the compiled-in copies must say the same.
    @Test func theCompiledInThemesEqualTheFilesInThemes() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.themesFolder.path).filter { $0.hasSuffix(".theme") }
        #expect(Set(files.map { String($0.dropLast(6)) }) == Set(BuiltInThemes.sources.map(\.name)))
        for (name, text) in BuiltInThemes.sources {
            let file = try String(contentsOf: Self.themesFolder.appendingPathComponent("\(name).theme"), encoding: .utf8)
            #expect(file.trimmingCharacters(in: .newlines) == text.trimmingCharacters(in: .newlines), "Themes/\(name).theme differs from BuiltInThemes (paste it there)")
        }
    }

    /// An installed binary in another folder finds no Themes/ at all and still has every theme.
    @Test func withNoThemeFolderAllShippedThemesAreThere() {
        let library = ThemeLibrary.load(from: [URL(fileURLWithPath: "/nonexistent/themes")])
        #expect(library.themes.map(\.name) == ["dark", "light", "high-contrast", "monochrome"])
        #expect(library.warnings.isEmpty)
    }
}
