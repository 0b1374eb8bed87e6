/// A terminal in memory: keeps what a real screen would show, records how many cells each
/// frame wrote, and replays queued keys. Tests drive the dashboard through it.
public final class MemoryBackend: TerminalBackend {
    public private(set) var screen: CellBuffer
    public private(set) var cellsWrittenLastFrame = 0
    public private(set) var framesPresented = 0
    /// Every frame presented, oldest first (when `keepsFrames`).
    public private(set) var frames: [CellBuffer] = []
    public var keepsFrames = true
    public let colorMode: ColorMode
    /// Deliver one key per frame, as a person typing does, so each key's effect is drawn.
    public var oneKeyPerFrame: Bool
    private var previous: CellBuffer?
    private enum Event { case key(Key), resize(width: Int, height: Int) }
    private var events: [Event] = []

    public init(width: Int, height: Int, colorMode: ColorMode = .truecolor, oneKeyPerFrame: Bool = true) {
        screen = CellBuffer(width: width, height: height)
        self.colorMode = colorMode
        self.oneKeyPerFrame = oneKeyPerFrame
    }

    public var size: (width: Int, height: Int) { (screen.width, screen.height) }

    /// Queues a size change: when the dashboard reads up to it, the size changes and it receives
    /// the resize key, as from a terminal emulator.
    public func resize(width: Int, height: Int) {
        events.append(.resize(width: width, height: height))
    }

    public func queue(_ keys: [Key]) { events += keys.map(Event.key) }

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
        if keepsFrames { frames.append(buffer) }
    }

    public func invalidate() { previous = nil }

    /// Never waits: with no key queued it returns nil at once.
    public func nextKey(timeoutMilliseconds: Int) -> Key? {
        if events.isEmpty || (oneKeyPerFrame && timeoutMilliseconds == 0) { return nil }
        switch events.removeFirst() {
        case .key(let key):
            return key
        case .resize(let width, let height):
            screen = CellBuffer(width: width, height: height)
            return .resize
        }
    }
}
