import ArgumentParser
import Foundation
import Training

/// The options every command that builds a run shares: a config file, a corpus, and
/// nanoGPT-style overrides (`--max_iters=100`, `--batch_size 8`, `--set key=value`).
struct ConfigOptions: ParsableArguments {
    @Argument(help: "A run config (TOML with nanoGPT's names). Default: Samples/shakespeare-char.toml.")
    var config: String?

    @Option(help: "The corpus to train on (overrides `data` in the config).")
    var data: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key, e.g. --set max_iters=100.", valueName: "key=value"))
    var sets: [String] = []

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var nanoGPTFlags: [String] = []

    static let defaultConfig = "Samples/shakespeare-char.toml"

    /// The config file, the overrides applied, validated.
    func resolve() throws -> (TrainConfig, String) {
        let path = config ?? Self.defaultConfig
        var cfg: TrainConfig
        do { cfg = try TrainConfig.load(path: path) } catch { throw UserError(error.message) }
        var overrides = sets
        // nanoGPT's configurator style: --key=value or --key value.
        var i = 0
        while i < nanoGPTFlags.count {
            let flag = nanoGPTFlags[i]
            guard flag.hasPrefix("--") else { throw UserError("unexpected argument \(flag)") }
            let body = String(flag.dropFirst(2))
            if body.contains("=") {
                overrides.append(body)
            } else if i + 1 < nanoGPTFlags.count {
                overrides.append(body + "=" + nanoGPTFlags[i + 1])
                i += 1
            } else {
                throw UserError("\(flag) needs a value, e.g. \(flag)=100")
            }
            i += 1
        }
        for o in overrides {
            guard let eq = o.firstIndex(of: "=") else { throw UserError("--set takes key=value, got \(o)") }
            let key = String(o[..<eq]).replacingOccurrences(of: "-", with: "_")
            let raw = String(o[o.index(after: eq)...])
            let value: TOML.Value
            do {
                value = try TOML.parse("v = \(raw)").first?.value ?? .string(raw)
            } catch {
                value = .string(raw)  // bare words are strings on the command line
            }
            do { try cfg.set(key, value) } catch { throw UserError(error.message) }
        }
        if let data { cfg.data = data }
        do { try cfg.validate() } catch { throw UserError(error.message) }
        if cfg.runName.isEmpty {
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let f = DateFormatter()
            f.dateFormat = "yyyyMMdd-HHmmss"
            cfg.runName = "\(stem)-\(f.string(from: Date()))"
        }
        return (cfg, path)
    }

    static var keysHelp: String {
        "Config keys (set in the TOML file, with --set key=value, or as --key=value):\n"
            + TrainConfig.keys.map { "  \($0.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \($0.help)" }.joined(separator: "\n")
    }
}
