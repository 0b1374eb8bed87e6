import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SafeTensors

/// An advisory lock on a run folder (`flock` on `<run>/.lock`, which holds the trainer's pid)
/// while a process trains in it: a second trainer on the same run is refused instead of
/// overwriting the first one's checkpoints and interleaving its metrics. The kernel releases the
/// lock when the descriptor closes — on `release`, at exit, or when the process is killed.
public final class RunLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32

    public static func fileName() -> String { ".lock" }

    /// Takes the lock of the run folder `run` (created if needed), or throws naming the holder.
    public init(run: RunDirectory) throws(CheckpointError) {
        try FileSystem.makeDirectories(run.path)
        path = run.path + "/" + Self.fileName()
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError.system(path, "cannot open the run's lock file", errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            fd = -1
            if code == EWOULDBLOCK {
                let holder = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                let who = holder == String(getpid()) ? "this process (pid \(holder))" : "another trainer (pid \(holder.isEmpty ? "unknown" : holder))"
                throw CheckpointError(run.path, "\(who) is training in this run folder — wait for it to finish, stop it, or choose another run_name")
            }
            throw CheckpointError.system(path, "cannot lock the run folder", errno: code)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
    }

    /// Gives the lock up (also done when the value goes away).
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
