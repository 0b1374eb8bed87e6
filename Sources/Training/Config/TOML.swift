import Foundation
import TOMLKit

/// Run configs as TOML, read by TOMLKit (toml++), with the project's own rules on top.
///
/// The syntax — comments, basic and literal strings, escapes, `1_000`, `6e-4` — is the library's:
/// a hand-written reader got `name = 'a#b'` wrong. What the library cannot know is what a *config*
/// may hold: only flat `key = value` pairs of strings, numbers and booleans (nanoGPT's names are
/// unique on their own, so a `[section]` could only hide a typo), each one line of error text that
/// names the file's line. TOMLKit reports lines only for syntax errors, so for the semantic ones
/// the line of a key is found in the text (`line(of:in:)`).
public enum TOML {
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)

        /// The value as TOML source (for `config.toml` and for error messages).
        public var description: String {
            switch self {
            case .string(let s): return Self.quoted(s)
            case .integer(let i): return String(i)
            case .float(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
            case .bool(let b): return b ? "true" : "false"
            }
        }

        /// A TOML basic string. Control characters are escaped too: a raw newline in a run name
        /// would otherwise write a `config.toml` that cannot be read back.
        static func quoted(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                case "\u{00}"..."\u{1F}", "\u{7F}": out += String(format: "\\u%04X", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
    }

    /// One top-level `key = value` of a document, with the line it is on (nil if not found).
    public struct Entry: Sendable, Equatable {
        public let key: String
        public let value: Value
        public let line: Int?
    }

    /// A problem in a document: the line it is on (when known) and what to do about it.
    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int?
        public let message: String
        public var description: String { line.map { "line \($0): \(message)" } ?? message }
    }

    /// The document's entries in the order they appear in the text.
    public static func parse(_ text: String) throws(ParseError) -> [Entry] {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw syntaxError(error, in: text)
        } catch {
            throw ParseError(line: nil, message: "\(error)")
        }
        var entries: [Entry] = []
        for key in table.keys {
            guard let raw = table[key] else { continue }
            let line = Self.line(of: key, in: text)
            guard let value = Self.value(raw) else {
                if raw.type == .table {
                    let isHeader = line.map { text.split(separator: "\n", omittingEmptySubsequences: false)[$0 - 1]
                        .trimmingCharacters(in: .whitespaces).hasPrefix("[") } ?? true
                    throw ParseError(line: line, message: isHeader
                        ? "[\(key)] is a table, which a config does not use: put its keys at the top level, without the [\(key)] header (nanoGPT's names are unique on their own)"
                        : "\(key) is a table (a dotted key or { … }), which a config does not use: set each key at the top level by its own name")
                }
                throw ParseError(line: line, message: "\(key) is \(describe(raw.type)): config values are one quoted string, number or true/false")
            }
            entries.append(Entry(key: key, value: value, line: line))
        }
        // toml++ keeps keys sorted; file order makes the first error reported the first in the file.
        return entries.sorted { ($0.line ?? .max, $0.key) < ($1.line ?? .max, $1.key) }
    }

    /// A command-line value (`--max_iters=1_000`, `--lr 6e-4`, `--bias=true`) read as TOML would
    /// read it, so the file and the flags agree; nil if it is not one TOML value (a bare word, which
    /// the command line takes as a string).
    public static func value(literal: String) -> Value? {
        guard !literal.contains(where: \.isNewline),
              let table = try? TOMLTable(string: "v = " + literal), table.count == 1, let raw = table["v"] else { return nil }
        return value(raw)
    }

    private static func value(_ raw: any TOMLValueConvertible) -> Value? {
        switch raw.type {
        case .string: raw.string.map(Value.string)
        case .int: raw.int.map(Value.integer)
        case .double: raw.double.map(Value.float)
        case .bool: raw.bool.map(Value.bool)
        default: nil
        }
    }

    private static func describe(_ type: TOMLType) -> String {
        switch type {
        case .array: "an array"
        case .table: "a table"
        case .date: "a date"
        case .time: "a time"
        case .dateTime: "a date-time"
        default: "a \(type)"
        }
    }

    /// TOMLKit's message, with its line; a key set twice is said the way a person would fix it.
    private static func syntaxError(_ error: TOMLParseError, in text: String) -> ParseError {
        let line = error.source.begin.line > 0 ? error.source.begin.line : nil
        if error.description.contains("redefin"), let line, let key = keyDefined(onLine: line, in: text),
           let first = Self.line(of: key, in: text), first < line {
            return ParseError(line: line, message: "\(key) is already set on line \(first): remove one of the two")
        }
        let column = error.source.begin.column > 0 ? " (column \(error.source.begin.column))" : ""
        // Name the key the broken line sets, when it is one: "n_embd: not valid TOML: …".
        let subject = line.flatMap { keyDefined(onLine: $0, in: text) }.map { "\($0): " } ?? ""
        return ParseError(line: line, message: "\(subject)not valid TOML: \(error.description)\(column)")
    }

    /// The key a `key = value` line sets, if the line is one.
    private static func keyDefined(onLine number: Int, in text: String) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard number >= 1, number <= lines.count, let eq = lines[number - 1].firstIndex(of: "=") else { return nil }
        let key = lines[number - 1][..<eq].trimmingCharacters(in: .whitespaces)
        let unquoted = key.count >= 2 && (key.first == "\"" || key.first == "'") && key.last == key.first
            ? String(key.dropFirst().dropLast()) : key
        return unquoted.isEmpty ? nil : unquoted
    }

    /// The first line that defines top-level `key` (bare or quoted, as a key, a dotted key, or a
    /// `[key]` header): TOMLKit gives positions only with syntax errors.
    static func line(of key: String, in text: String) -> Int? {
        let spellings = [key, "\"\(key)\"", "'\(key)'"]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw.trimmingCharacters(in: .whitespaces))
            while let first = line.first, first == "[" { line = line.dropFirst().drop(while: { $0 == " " || $0 == "\t" }) }
            for spelling in spellings where line.hasPrefix(spelling) {
                let rest = line.dropFirst(spelling.count).drop(while: { $0 == " " || $0 == "\t" })
                if let next = rest.first, next == "=" || next == "." || next == "]" { return index + 1 }
            }
        }
        return nil
    }
}
