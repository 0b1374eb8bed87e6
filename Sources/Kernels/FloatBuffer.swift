#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An owned, fixed-size, zero-initialised block of Floats (parameters, gradients, activations).
///
/// A class so that the model can hand out raw pointers into it for the kernels without Swift
/// copy-on-write getting in the way; memory is 64-byte aligned for vector loads.
public final class FloatBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// With `onHugePages`, a buffer of 1 MB or more is placed on 2 MB pages (rounded up to whole
    /// pages, asking the kernel with `madvise`; where it declines, the buffer is an ordinary one).
    /// For data a core streams again and again from its L2 cache, like the generator's packed
    /// weights: on 4 KB pages the physical frames fall on the L2's sets at random, and a working
    /// set near the cache's size then keeps evicting itself from its most crowded sets; one
    /// contiguous 2 MB frame spreads it evenly over every set. Measured on the baby model,
    /// generating on two threads: 0.91–0.97 the time per token. Training's buffers gained nothing
    /// (1.01 and 1.00 the step time, baby and large config), so they stay on ordinary pages.
    public init(count: Int, onHugePages: Bool = false) {
        self.count = count
        let bytes = max(1, count) * MemoryLayout<Float>.stride
        let raw: UnsafeMutableRawPointer
        if onHugePages && bytes >= 1 << 20 {
            let page = 2 << 20, rounded = (bytes + page - 1) / page * page
            raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: page)
            #if os(Linux)
            _ = madvise(raw, rounded, MADV_HUGEPAGE)  // before the first touch, which places the pages
            #endif
        } else {
            raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        }
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func zero() { Buffers.zero(pointer, count: count) }

    public func copy(from other: FloatBuffer) {
        precondition(other.count == count)
        pointer.update(from: other.pointer, count: count)
    }
}
