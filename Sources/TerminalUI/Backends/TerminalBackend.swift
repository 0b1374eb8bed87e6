/// Where frames go and keys come from: ncurses in the program, memory in tests.
public protocol TerminalBackend: AnyObject {
    /// Current size in cells.
    var size: (width: Int, height: Int) { get }
    /// The colours the backend can show; the renderer adapts monochrome styles to it.
    var colorMode: ColorMode { get }
    /// Shows `buffer`, writing only the cells that differ from the previous frame.
    func present(_ buffer: CellBuffer)
    /// Makes the next `present` write every cell (after a resize or a garbled screen).
    func invalidate()
    /// Waits up to `timeoutMilliseconds` for a key; nil when none arrived.
    func nextKey(timeoutMilliseconds: Int) -> Key?
}

extension CellBuffer {
    /// Calls `body` with the index of every cell that differs from `previous`; every cell when
    /// there is no previous frame or it had another size.
    @inline(__always)
    public func forEachChange(from previous: CellBuffer?, _ body: (Int) -> Void) {
        let cells = self.cells
        guard let previous, previous.width == width, previous.height == height else {
            for i in cells.indices { body(i) }
            return
        }
        let old = previous.cells
        cells.withUnsafeBufferPointer { new in
            old.withUnsafeBufferPointer { old in
                for i in 0..<new.count where new[i] != old[i] { body(i) }
            }
        }
    }
}
