import ArgumentParser
import Foundation
import Training

/// The options every command that builds a run shares: a config file, a corpus, and
/// nanoGPT-style overrides (`--max_iters=100`, `--batch_size 8`, `--set key=value`).
struct ConfigOptions: ParsableArguments {
    @Option(help: "The corpus to train on (overrides `data` in the config).")
    var data: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key, e.g. --set max_iters=100.", valueName: "key=value"))
    var sets: [String] = []

    /// The config path and the nanoGPT-style flags, in one list. (A separate optional `config`
    /// argument in front of this one makes ArgumentParser 1.8 reject `--max_iters=…` whenever no
    /// config is given, so the path is picked out of this list instead.)
    @Argument(parsing: .allUnrecognized,
              help: ArgumentHelp("A run config (TOML with nanoGPT's names; default \(defaultConfig)), and overrides as --key=value or --key value.",
                                 valueName: "config.toml | --key=value"))
    var configAndFlags: [String] = []

    /// The options as given, for a command that starts `train` with the same run (`bench --ranks`).
    var passedOn: [String] {
        (data.map { ["--data", $0] } ?? []) + sets.flatMap { ["--set", $0] } + configAndFlags
    }

    /// The config file named on the command line, if any: the one word not taken as a flag's value.
    var config: String? { try? split().config }

    /// Separates the config path from `--key=value` / `--key value` overrides.
    private func split() throws -> (config: String?, overrides: [String]) {
        var config: String?
        var overrides: [String] = []
        var i = 0
        while i < configAndFlags.count {
            let word = configAndFlags[i]
            i += 1
            guard word.hasPrefix("--") else {
                if let config { throw UserError("two config files given (\(config) and \(word)); pass one, and override keys with --key=value") }
                config = word
                continue
            }
            let body = String(word.dropFirst(2))
            // An unknown key is named as such, whether or not a value follows.
            let key = String(body.prefix { $0 != "=" }).replacingOccurrences(of: "-", with: "_")
            if !TrainConfig.keys.contains(where: { $0.name == key }) {
                var probe = TrainConfig()
                do { try probe.set(key, .bool(true)) } catch { throw UserError(error.message) }
            }
            if body.contains("=") {
                overrides.append(body)
            } else if i < configAndFlags.count {
                overrides.append(body + "=" + configAndFlags[i])
                i += 1
            } else {
                throw UserError("\(word) needs a value, e.g. \(word)=100")
            }
        }
        return (config, overrides)
    }

    static let defaultConfig = "Samples/shakespeare-char.toml"

    /// The config file (`baseConfig` if given, e.g. a resumed run's config.toml), the overrides
    /// applied, validated.
    func resolve(baseConfig: String? = nil) throws -> (TrainConfig, String) {
        let (named, flags) = try split()
        let path = try baseConfig ?? named ?? Self.locateDefaultConfig()
        var cfg: TrainConfig
        do { cfg = try TrainConfig.load(path: path) } catch { throw UserError(error.message) }
        for o in sets + flags { try Self.apply(o, to: &cfg, flag: "--set") }
        if let data { cfg.data = data }
        do { try cfg.validate() } catch { throw UserError(error.message) }
        if cfg.runName.isEmpty {
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let f = DateFormatter()
            f.dateFormat = "yyyyMMdd-HHmmss"
            // Only safe characters from the file name; a suffix makes it unique when the run starts.
            let safe = String(stem.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" }.prefix(60))
            cfg.runName = "\(safe.isEmpty || safe.first == "-" ? "run" : safe)-\(f.string(from: Date()))"
            cfg.runNameIsDefault = true
        }
        return (cfg, path)
    }

    /// Sets one `key=value` override (the command line's spelling: `-` may stand for `_`, bare
    /// words are strings). Returns the key's name.
    @discardableResult
    static func apply(_ override: String, to cfg: inout TrainConfig, flag: String) throws(UserError) -> String {
        guard let eq = override.firstIndex(of: "=") else { throw UserError("\(flag) takes key=value, got \(override)") }
        let key = String(override[..<eq]).replacingOccurrences(of: "-", with: "_")
        let raw = String(override[override.index(after: eq)...])
        let value = TOML.value(literal: raw) ?? .string(raw)
        do { try cfg.set(key, value) } catch { throw UserError(error.message) }
        return key
    }

    /// The default sample config: in the current folder, else in the Nanoscope folder the binary
    /// was built in (`<checkout>/.build/…/nanoscope`), else an error that says how to get one.
    static func locateDefaultConfig() throws -> String {
        if FileManager.default.fileExists(atPath: defaultConfig) { return defaultConfig }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent(defaultConfig).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        throw UserError("no config given, and the default \(defaultConfig) is neither here nor beside the nanoscope binary — pass a config file, e.g. `nanoscope train <Nanoscope folder>/\(defaultConfig)`, or run from the Nanoscope folder")
    }

    static var keysHelp: String {
        "Config keys (set in the TOML file, with --set key=value, or as --key=value):\n"
            + TrainConfig.keys.map { keyLine(($0.name, $0.help)) }.joined(separator: "\n")
    }

    /// One key's help line; a description too long for 80 columns continues under itself (an
    /// unbroken line would wrap to column 0 in the terminal and hide the key column).
    static func keyLine(_ key: (name: String, help: String)) -> String {
        let indent = String(repeating: " ", count: 31)
        var lines: [String] = [], line = ""
        for word in key.help.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > 78 - 31 { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        lines.append(line)
        return "  " + key.name.padding(toLength: 28, withPad: " ", startingAt: 0) + " " + lines.joined(separator: "\n" + indent)
    }
}
