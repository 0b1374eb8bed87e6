import Foundation

/// A reader for the part of TOML that run configs use: `key = value` lines with strings,
/// integers, floats and booleans, `#` comments, and `[section]` headers (which only group keys:
/// nanoGPT's hyperparameter names are unique on their own).
///
/// Anything else (arrays, inline tables, dotted keys, dates) is rejected with the line number,
/// so a config never silently means something other than what it says.
public enum TOML {
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)

        public var description: String {
            switch self {
            case .string(let s): return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            case .integer(let i): return String(i)
            case .float(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
            case .bool(let b): return b ? "true" : "false"
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public let key: String
        public let value: Value
        public let line: Int
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> [Entry] {
        var entries: [Entry] = []
        var seen: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = index + 1
            let line = stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), !line.hasPrefix("[[") else {
                    throw ParseError(line: lineNo, message: "unsupported table header \(line)")
                }
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw ParseError(line: lineNo, message: "expected `key = value`, found \(line)")
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            let rawValue = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ParseError(line: lineNo, message: "invalid key \(key.isEmpty ? "(empty)" : key)")
            }
            if let first = seen[key] {
                throw ParseError(line: lineNo, message: "\(key) is already set on line \(first)")
            }
            seen[key] = lineNo
            entries.append(Entry(key: key, value: try value(rawValue, line: lineNo), line: lineNo))
        }
        return entries
    }

    /// Removes a `#` comment that is not inside a string.
    private static func stripComment(_ line: String) -> String {
        var inString = false, escaped = false
        for (i, ch) in zip(line.indices, line) {
            if escaped { escaped = false; continue }
            if ch == "\\" && inString { escaped = true; continue }
            if ch == "\"" { inString.toggle() }
            if ch == "#" && !inString { return String(line[..<i]) }
        }
        return line
    }

    private static func value(_ s: String, line: Int) throws(ParseError) -> Value {
        if s.isEmpty { throw ParseError(line: line, message: "missing value") }
        if s == "true" { return .bool(true) }
        if s == "false" { return .bool(false) }
        if s.hasPrefix("\"") {
            guard s.count >= 2, s.hasSuffix("\"") else { throw ParseError(line: line, message: "unterminated string \(s)") }
            var out = "", escaped = false
            for ch in s.dropFirst().dropLast() {
                if escaped {
                    switch ch {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\\": out.append("\\")
                    case "\"": out.append("\"")
                    default: throw ParseError(line: line, message: "unsupported escape \\\(ch)")
                    }
                    escaped = false
                } else if ch == "\\" {
                    escaped = true
                } else if ch == "\"" {
                    throw ParseError(line: line, message: "unexpected quote inside \(s)")
                } else {
                    out.append(ch)
                }
            }
            return .string(out)
        }
        if s.hasPrefix("'") && s.hasSuffix("'") && s.count >= 2 { return .string(String(s.dropFirst().dropLast())) }
        let digits = s.replacingOccurrences(of: "_", with: "")
        if let i = Int(digits) { return .integer(i) }
        if let d = Double(digits), d.isFinite || digits.contains("inf") || digits.contains("nan") { return .float(d) }
        throw ParseError(line: line, message: "cannot read value \(s) (strings need quotes)")
    }
}
