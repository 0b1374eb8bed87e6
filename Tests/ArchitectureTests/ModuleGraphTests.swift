import Foundation
import Testing

/// The module graph points one way, as the README's Architecture section draws it:
///
///     Kernels ← GPT ← Training ← Dashboard ← nanoscope
///     Tokenizers ← Training,  SafeTensors ← Training,  TerminalUI ← Dashboard
///
/// The compiler enforces only what `Package.swift` declares; this test reads every source file's
/// `import` lines, so a module that reaches further than the diagram (a widget importing
/// `Training`, the GPT importing a tokenizer) fails here even if someone widens Package.swift.
@Suite struct ModuleGraphTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// What each module may import, besides the system (Foundation, Glibc, Synchronization, …): the
    /// diagram's modules, and the third-party ones Package.swift gives it.
    static let allowed: [String: Set<String>] = [
        "Kernels": ["CCPUFeatures", "CBFloat16"],
        "Tokenizers": [],
        "SafeTensors": [],
        "GPT": ["Kernels"],
        "Training": ["GPT", "Kernels", "Tokenizers", "SafeTensors", "TOMLKit", "Subprocess"],
        "TerminalUI": ["CNcursesw"],
        "Dashboard": ["TerminalUI", "Training", "GPT", "Kernels", "Tokenizers", "SafeTensors"],
        "nanoscope": ["Dashboard", "TerminalUI", "Training", "GPT", "Kernels", "Tokenizers", "SafeTensors", "ArgumentParser", "CMPI"],
    ]

    static let system: Set<String> = ["Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "Synchronization", "Musl"]

    /// `import X` lines of every Swift file under `Sources/<module>/`.
    static func imports(of module: String) throws -> [(file: String, module: String)] {
        let folder = root.appendingPathComponent("Sources/\(module)")
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var found: [(String, String)] = []
        for case let file as String in walker where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: folder.appendingPathComponent(file).path, encoding: .utf8)
            // Only top-level lines: an `import` inside a string (the Python a command embeds) is not one.
            for line in text.split(separator: "\n") where !line.hasPrefix(" ") {
                let words = line.split(separator: " ").map(String.init)
                guard let at = words.firstIndex(of: "import"), at + 1 < words.count,
                      words[..<at].allSatisfy({ $0.hasPrefix("@") || $0 == "public" || $0 == "internal" }) else { continue }
                found.append(("\(module)/\(file)", words[at + 1]))
            }
        }
        return found
    }

    @Test(arguments: allowed.keys.sorted())
    func moduleImportsOnlyWhatTheDiagramAllows(_ module: String) throws {
        let imports = try Self.imports(of: module)
        #expect(!imports.isEmpty || module == "Kernels", "no Swift files found for \(module) — did it move?")
        for (file, imported) in imports where !Self.system.contains(imported) {
            #expect(Self.allowed[module]!.contains(imported), "\(file) imports \(imported), which \(module) must not depend on")
        }
    }

    @Test func everySourceModuleIsInTheDiagram() throws {
        let modules = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources").path)
            .filter { !$0.hasPrefix(".") && $0.first != "C" }
        #expect(Set(modules) == Set(Self.allowed.keys), "a module was added or renamed: add it to the diagram")
    }

    /// The check itself can fail: an import that breaks the graph is caught.
    @Test func aForbiddenImportIsCaught() {
        #expect(!Self.allowed["TerminalUI"]!.contains("Training"))
        #expect(!Self.allowed["GPT"]!.contains("Tokenizers"))
    }
}
