import Foundation

/// Reads a JSON fixture written by Scripts/make_bpe_fixtures.py.
func loadFixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
        throw FixtureMissing(name: name)
    }
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

struct FixtureMissing: Error, CustomStringConvertible {
    let name: String
    var description: String { "fixture \(name).json is missing: run python3 Scripts/make_bpe_fixtures.py" }
}
