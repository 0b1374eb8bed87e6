import Testing
@testable import TerminalUI

@Suite struct CellBufferTests {
    @Test func textIsClippedAtTheRightEdge() {
        var b = CellBuffer(width: 5, height: 1)
        let written = b.write("hello world", x: 2, y: 0, .plain)
        #expect(b.lines == ["  hel"])
        #expect(written == 3)
    }

    @Test func textStartingLeftOfTheBufferShowsItsTail() {
        var b = CellBuffer(width: 5, height: 1)
        b.write("abcd", x: -2, y: 0, .plain)
        #expect(b.lines == ["cd   "])
    }

    @Test func controlCharactersAreDrawnVisibly() {
        var b = CellBuffer(width: 4, height: 1)
        b.write("a\nb\u{1B}", x: 0, y: 0, .plain)
        #expect(b.lines == ["a·b·"])
    }

    @Test func writesOutsideTheBufferAreDropped() {
        var b = CellBuffer(width: 3, height: 2)
        b.write("xyz", x: 0, y: 5, .plain)
        b.write("xyz", x: 0, y: -1, .plain)
        b.set(3, 0, "q", .plain)
        b.fill(Rect(x: 2, y: 1, width: 10, height: 10), "#", .plain)
        #expect(b.lines == ["   ", "  #"])
        #expect(b[7, 7] == .blank)
    }

    @Test func emptyBuffersAcceptDrawing() {
        var b = CellBuffer(width: 0, height: 0)
        b.write("x", x: 0, y: 0, .plain)
        b.fill(Rect(width: 3, height: 3), "#", .plain)
        #expect(b.lines.isEmpty)
    }

    @Test func alignedWritesStayInsideTheirRectangle() {
        var b = CellBuffer(width: 9, height: 3)
        let r = Rect(x: 1, y: 0, width: 7, height: 3)
        b.write("ab", in: r, row: 0, alignment: .left, .plain)
        b.write("cd", in: r, row: 1, alignment: .center, .plain)
        b.write("ef", in: r, row: 2, alignment: .right, .plain)
        b.write("too long for it", in: r, row: 3, .plain)
        #expect(b.lines == [" ab      ", "   cd    ", "      ef "])
    }

    @Test func styleKeepsColoursItLeavesUnset() {
        var b = CellBuffer(width: 1, height: 1, fill: Cell(" ", fg: .hex(0x111111), bg: .hex(0x222222)))
        b.set(0, 0, "x", Style(fg: .hex(0xFF0000), attributes: .bold))
        #expect(b[0, 0] == Cell("x", fg: .hex(0xFF0000), bg: .hex(0x222222), attributes: .bold))
    }

    @Test func rectanglesDivideWithoutGapsOrOverlap() {
        let r = Rect(x: 3, y: 2, width: 17, height: 11)
        let rows = r.rows(weights: [3, 2])
        #expect(rows.map(\.height).reduce(0, +) == 11)
        #expect(rows[0].maxY == rows[1].y)
        let cols = r.columns(weights: [1, 1, 1])
        #expect(cols.map(\.width) == [5, 5, 7])
        #expect(cols.last!.maxX == r.maxX)
        #expect(Rect(width: 1, height: 1).inset(dx: 1, dy: 1).isEmpty)
    }
}
