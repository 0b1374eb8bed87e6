/// A terminal in memory: keeps what a real screen would show, records how many cells each
/// frame wrote, and replays queued keys. Tests drive the dashboard through it.
public final class MemoryBackend: TerminalBackend {
    public private(set) var screen: CellBuffer
    public private(set) var cellsWrittenLastFrame = 0
    public private(set) var framesPresented = 0
    public let colorMode: ColorMode
    private var previous: CellBuffer?
    private var keys: [Key] = []

    public init(width: Int, height: Int, colorMode: ColorMode = .truecolor) {
        screen = CellBuffer(width: width, height: height)
        self.colorMode = colorMode
    }

    public var size: (width: Int, height: Int) { (screen.width, screen.height) }

    /// Changes the size and queues the resize key, as a terminal emulator would.
    public func resize(width: Int, height: Int) {
        screen = CellBuffer(width: width, height: height)
        keys.append(.resize)
    }

    public func queue(_ newKeys: [Key]) { keys += newKeys }

    public func present(_ buffer: CellBuffer) {
        var written = 0
        if buffer.width != screen.width || buffer.height != screen.height {
            screen = CellBuffer(width: buffer.width, height: buffer.height)
        }
        buffer.forEachChange(from: previous) { i in
            screen[i % buffer.width, i / buffer.width] = buffer.cells[i]
            written += 1
        }
        previous = buffer
        cellsWrittenLastFrame = written
        framesPresented += 1
    }

    public func invalidate() { previous = nil }

    public func nextKey(timeoutMilliseconds: Int) -> Key? {
        keys.isEmpty ? nil : keys.removeFirst()
    }
}
