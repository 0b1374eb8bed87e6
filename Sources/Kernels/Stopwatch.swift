import Foundation

/// Wall-clock timing for the measurements that compare against a peak or a reference (`bench`,
/// `sample --bench`, `FMAPeak`, `ReadBandwidth`).
public enum Stopwatch {
    /// Wall-clock seconds `body` takes (the monotonic clock: no jumps when the time of day is set).
    @inline(__always)
    public static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
