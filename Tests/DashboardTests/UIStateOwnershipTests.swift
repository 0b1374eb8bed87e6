import Foundation
import Testing

/// `UIState` says only the reducer changes it; this reads the app's source to keep that true.
@Suite struct UIStateOwnershipTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/Dashboard")

    @Test func theAppChangesTheUIStateOnlyThroughTheReducer() throws {
        let app = try String(contentsOf: Self.sources.appendingPathComponent("DashboardApp.swift"), encoding: .utf8)
        // Any `ui = …`, `ui.x = …`, `ui.x += …`, `ui.x.toggle()` and the like.
        let pattern = try Regex(#"\bui(\.\w+)*\s*([-+*/]?=(?!=)|\.(toggle|append|remove\w*|insert)\()"#)
        #expect("        ui.message = nil".contains(pattern) && "ui.loss.follow.toggle()".contains(pattern))
        #expect(!"if ui.message == nil".contains(pattern) && !"ui.themeIndex != before".contains(pattern))
        let writes = app.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.contains(pattern) }
            .map { "\($0.offset + 1): \($0.element.trimmingCharacters(in: .whitespaces))" }
        // The initial state, and dispatch's `ui = next` from `reduce`.
        #expect(writes.count == 2, "writes to ui outside dispatch:\n\(writes.joined(separator: "\n"))")
        #expect(writes.contains { $0.hasSuffix("ui = next") })
    }

    @Test func onlyTheReducerTakesTheUIStateInout() throws {
        let files = FileManager.default.enumerator(atPath: Self.sources.path)?.compactMap { $0 as? String } ?? []
        #expect(files.contains("Input/Reducer.swift"))
        for file in files where file.hasSuffix(".swift") && file != "Input/Reducer.swift" {
            let text = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("inout UIState"), "\(file) changes a UIState outside the reducer")
        }
    }
}
