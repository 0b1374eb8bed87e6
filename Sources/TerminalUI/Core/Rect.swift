/// A rectangle of cells. Widths and heights are never negative: arithmetic that would shrink a
/// rectangle below zero yields an empty one, so layout code at tiny terminal sizes cannot trap.
public struct Rect: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public init(width: Int, height: Int) {
        self.init(x: 0, y: 0, width: width, height: height)
    }

    public var isEmpty: Bool { width == 0 || height == 0 }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var description: String { "(\(x),\(y) \(width)×\(height))" }

    /// The rectangle shrunk by `dx` columns on each side and `dy` rows on top and bottom.
    public func inset(dx: Int, dy: Int) -> Rect {
        Rect(x: x + dx, y: y + dy, width: width - 2 * dx, height: height - 2 * dy)
    }

    public func intersection(_ other: Rect) -> Rect {
        let x0 = max(x, other.x), y0 = max(y, other.y)
        let x1 = min(maxX, other.maxX), y1 = min(maxY, other.maxY)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    public func row(_ offset: Int) -> Rect {
        Rect(x: x, y: y + offset, width: width, height: offset < height && offset >= 0 ? 1 : 0)
    }

    /// A rectangle of the given size centred in this one (clamped to fit).
    public func centered(width w: Int, height h: Int) -> Rect {
        let w = min(w, width), h = min(h, height)
        return Rect(x: x + (width - w) / 2, y: y + (height - h) / 2, width: w, height: h)
    }

    /// Splits off `count` rows from the top: (top, rest).
    public func splitTop(_ count: Int) -> (Rect, Rect) {
        let n = min(max(0, count), height)
        return (Rect(x: x, y: y, width: width, height: n), Rect(x: x, y: y + n, width: width, height: height - n))
    }

    /// Splits off `count` rows from the bottom: (rest, bottom).
    public func splitBottom(_ count: Int) -> (Rect, Rect) {
        let n = min(max(0, count), height)
        return (Rect(x: x, y: y, width: width, height: height - n), Rect(x: x, y: maxY - n, width: width, height: n))
    }

    /// Splits off `count` columns from the left: (left, rest).
    public func splitLeft(_ count: Int) -> (Rect, Rect) {
        let n = min(max(0, count), width)
        return (Rect(x: x, y: y, width: n, height: height), Rect(x: x + n, y: y, width: width - n, height: height))
    }

    /// Divides the height into `weights.count` bands proportional to the weights; rounding
    /// leftovers go to the last band so the bands always tile the rectangle exactly.
    public func rows(weights: [Int]) -> [Rect] {
        Rect.divide(height, weights).map { Rect(x: x, y: y + $0.start, width: width, height: $0.length) }
    }

    /// Divides the width into `weights.count` columns proportional to the weights.
    public func columns(weights: [Int]) -> [Rect] {
        Rect.divide(width, weights).map { Rect(x: x + $0.start, y: y, width: $0.length, height: height) }
    }

    private static func divide(_ total: Int, _ weights: [Int]) -> [(start: Int, length: Int)] {
        let sum = max(1, weights.reduce(0, +))
        var result: [(Int, Int)] = []
        var start = 0
        for (i, w) in weights.enumerated() {
            let length = i == weights.count - 1 ? total - start : total * w / sum
            result.append((start, max(0, length)))
            start += max(0, length)
        }
        return result
    }
}
