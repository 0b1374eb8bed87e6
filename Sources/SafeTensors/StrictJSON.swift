/// A small, strict JSON reader and writer for file headers Nanoscope does not trust.
///
/// Foundation's `JSONSerialization` would do most of this, but a safetensors header needs three
/// things it cannot give: duplicate keys must be *seen* (it silently keeps the last one, hiding a
/// second tensor of the same name), numbers must stay exact text until we decide how to read them
/// (a shape of `1e3`, `2.5` or `99999999999999999999` is an error to report, not a value to round),
/// and nesting depth must be bounded so a hostile `[[[[…` cannot exhaust the stack.
public enum StrictJSON: Equatable, Sendable {
    /// Members in file order, duplicates kept, so the caller can reject them.
    case object([(key: String, value: StrictJSON)])
    case array([StrictJSON])
    case string(String)
    /// The number exactly as written (already checked against JSON's number grammar).
    case number(String)
    case bool(Bool)
    case null

    public static func == (lhs: StrictJSON, rhs: StrictJSON) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(a), .array(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.number(a), .number(b)): a == b
        case let (.bool(a), .bool(b)): a == b
        case (.null, .null): true
        default: false
        }
    }

    /// A short name for error messages ("an array", "a number", …).
    public var kindDescription: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    /// Parse error: what was expected and the byte offset where parsing stopped.
    public struct ParseError: Error, Equatable {
        let message: String
        let offset: Int
    }

    /// Parses one JSON value that fills `bytes` (surrounding whitespace allowed).
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 64) throws(ParseError) -> StrictJSON {
        var parser = Parser(bytes: Array(bytes), maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != parser.bytes.count {
            throw parser.error("unexpected data after the end of the JSON value")
        }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func error(_ message: String) -> ParseError { ParseError(message: message, offset: index) }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let b = current, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { index += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(ParseError) {
            guard current == byte else { throw error("expected \(what)") }
            index += 1
        }

        mutating func parseValue(depth: Int) throws(ParseError) -> StrictJSON {
            guard let b = current else { throw error("unexpected end of JSON") }
            switch b {
            case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try parseLiteral("null"); return .null
            default: throw error("unexpected character \(describe(b))")
            }
        }

        mutating func parseLiteral(_ word: String) throws(ParseError) {
            for expected in word.utf8 {
                guard current == expected else { throw error("invalid literal, expected '\(word)'") }
                index += 1
            }
        }

        mutating func parseObject(depth: Int) throws(ParseError) -> StrictJSON {
            guard depth <= maxDepth else { throw error("JSON nested deeper than \(maxDepth) levels") }
            index += 1  // {
            var members: [(key: String, value: StrictJSON)] = []
            skipWhitespace()
            if current == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                skipWhitespace()
                members.append((key, try parseValue(depth: depth)))
                skipWhitespace()
                if current == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "}"), "',' or '}' in an object")
                return .object(members)
            }
        }

        mutating func parseArray(depth: Int) throws(ParseError) -> StrictJSON {
            guard depth <= maxDepth else { throw error("JSON nested deeper than \(maxDepth) levels") }
            index += 1  // [
            var elements: [StrictJSON] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { index += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth))
                skipWhitespace()
                if current == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "]"), "',' or ']' in an array")
                return .array(elements)
            }
        }

        /// Reads a string literal; the bytes between escapes are copied as they are, so the result
        /// is valid UTF-8 only if the input was (the caller validates the whole header first).
        mutating func parseString() throws(ParseError) -> String {
            index += 1  // opening quote
            var utf8: [UInt8] = []
            while true {
                guard let b = current else { throw error("unterminated string") }
                index += 1
                switch b {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: utf8, as: UTF8.self) else {
                        throw error("string is not valid UTF-8")
                    }
                    return s
                case UInt8(ascii: "\\"):
                    try parseEscape(into: &utf8)
                case 0x00..<0x20:
                    index -= 1
                    throw error("control character \(describe(b)) inside a string must be escaped")
                default:
                    utf8.append(b)
                }
            }
        }

        mutating func parseEscape(into utf8: inout [UInt8]) throws(ParseError) {
            guard let e = current else { throw error("unterminated escape") }
            index += 1
            switch e {
            case UInt8(ascii: "\""): utf8.append(0x22)
            case UInt8(ascii: "\\"): utf8.append(0x5C)
            case UInt8(ascii: "/"): utf8.append(0x2F)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
                    else { throw error("unpaired UTF-16 surrogate in \\u escape") }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired UTF-16 surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("unpaired UTF-16 surrogate in \\u escape")
                }
                // Surrogates are excluded above, so this scalar always exists.
                let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                utf8.append(contentsOf: String(Character(unicode)).utf8)
            default:
                index -= 1
                throw error("invalid escape '\\\(describe(e))'")
            }
        }

        mutating func parseHex4() throws(ParseError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let b = current else { throw error("unterminated \\u escape") }
                let digit: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
                default: throw error("invalid hex digit in \\u escape")
                }
                value = value * 16 + digit
                index += 1
            }
            return value
        }

        /// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        mutating func parseNumber() throws(ParseError) -> String {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, isDigit(first) else { throw error("invalid number") }
            index += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            if current == UInt8(ascii: ".") {
                index += 1
                guard let d = current, isDigit(d) else { throw error("invalid number: digits must follow '.'") }
                skipDigits()
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard let d = current, isDigit(d) else { throw error("invalid number: digits must follow the exponent") }
                skipDigits()
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

        mutating func skipDigits() {
            while let b = current, isDigit(b) { index += 1 }
        }

        func describe(_ b: UInt8) -> String {
            b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "0x" + String(b, radix: 16)
        }
    }
}

// MARK: - Reading numbers

extension StrictJSON {
    /// How a JSON value fails to be a non-negative whole number, for error messages.
    public enum CountProblem: Error, Equatable {
        case notANumber(String)
        case negative(String)
        case notWhole(String)
        case tooLarge(String)

        var description: String {
            switch self {
            case .notANumber(let kind): "\(kind), not a number"
            case .negative(let text): "\(text), a negative number"
            case .notWhole(let text): "\(text), not a whole number"
            case .tooLarge(let text): "\(text), too large"
            }
        }
    }

    /// The value as a count or offset: a non-negative integer written without fraction or exponent
    /// (as the Rust safetensors library requires), small enough for `Int`.
    public func nonNegativeInt() throws(CountProblem) -> Int {
        guard case .number(let text) = self else { throw .notANumber(kindDescription) }
        if text.hasPrefix("-") { throw .negative(text) }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .notWhole(text)
        }
        guard let value = Int(text) else { throw .tooLarge(text) }
        return value
    }
}

// MARK: - Writing

extension StrictJSON {
    /// Compact JSON text (no spaces), members in the order given, as serde_json writes it.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        switch self {
        case .object(let members):
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                StrictJSON.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .string(let s): StrictJSON.writeString(s, to: &out)
        case .number(let text): out += text
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        }
    }

    /// Escapes only what JSON requires (quote, backslash, control characters); other characters,
    /// non-ASCII included, are written as UTF-8.
    public static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// A finite number as JSON (Swift's shortest round-trip digits), or `null` for NaN and ±∞,
    /// which JSON cannot express.
    public static func number(_ value: Double) -> StrictJSON {
        guard value.isFinite else { return .null }
        if value == value.rounded(), abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number("\(value)")
    }

    public static func number(_ value: Float) -> StrictJSON {
        guard value.isFinite else { return .null }
        if value == value.rounded(), abs(value) < 1e7 { return .number(String(Int64(value))) }
        return .number("\(value)")
    }

    public static func number(_ value: Int) -> StrictJSON { .number(String(value)) }
}
