#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file replacement: readers see either the old file or the complete new one, never a
/// torn mix, even if the process is killed or the machine loses power halfway.
///
/// The recipe:
/// 1. write everything to a temporary file *in the same folder* (rename is only atomic within one
///    file system), named `.<name>.tmp.<pid>.<random>` so listings skip it;
/// 2. `fsync` it, so its bytes are on disk before its name is;
/// 3. `rename` it over the target (atomic on POSIX);
/// 4. `fsync` the folder, so the rename itself survives a power cut.
///
/// On any failure (full disk, unwritable folder, …) the temporary file is removed, the target is
/// left exactly as it was, and a `CheckpointError` carrying the C library's reason is thrown.
public enum AtomicFile {
    /// Writes `bytes` to `path`, replacing any file there.
    public static func write(_ bytes: some Collection<UInt8>, to path: String) throws(CheckpointError) {
        try write(to: path) { sink throws(CheckpointError) in
            try sink.write(Array(bytes))
        }
    }

    /// Writes a text file (UTF-8) to `path`, replacing any file there.
    public static func write(text: String, to path: String) throws(CheckpointError) {
        try write(Array(text.utf8), to: path)
    }

    /// Writes whatever `produce` sends to the sink, then installs the result at `path`.
    ///
    /// If `produce` throws, nothing is installed and the temporary file is removed.
    public static func write(
        to path: String, _ produce: (inout FileSink) throws(CheckpointError) -> Void
    ) throws(CheckpointError) {
        let (folder, name) = splitPath(path)
        let temporary = folder + "/" + temporaryPrefix(for: name) + String(getpid()) + "." + randomSuffix()

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CheckpointError.system(path, "cannot create a temporary file in \(folder)", errno: errno)
        }
        var sink = FileSink(fd: fd, path: path)
        do throws(CheckpointError) {
            try produce(&sink)
            try sink.flush()
            guard fsync(fd) == 0 else { throw CheckpointError.system(path, "cannot flush to disk", errno: errno) }
            // close can report deferred write errors (e.g. on network file systems).
            let closed = close(fd)
            sink.fd = -1
            guard closed == 0 else { throw CheckpointError.system(path, "cannot close the written file", errno: errno) }
            guard rename(temporary, path) == 0 else {
                throw CheckpointError.system(path, "cannot move the new file into place", errno: errno)
            }
        } catch {
            if sink.fd >= 0 { close(sink.fd) }
            unlink(temporary)
            throw error
        }
        try syncFolder(folder, installing: path)
    }

    /// Makes a completed rename durable. Some file systems cannot fsync a folder (EINVAL); there
    /// the rename is as durable as the system allows, so that is not an error.
    private static func syncFolder(_ folder: String, installing path: String) throws(CheckpointError) {
        let dfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else {
            throw CheckpointError.system(path, "written, but cannot open \(folder) to make the rename durable", errno: errno)
        }
        defer { close(dfd) }
        if fsync(dfd) != 0 && errno != EINVAL {
            throw CheckpointError.system(path, "written, but the folder could not be flushed to disk", errno: errno)
        }
    }

    /// Removes temporary files that a killed writer left behind in `folder`: ours are recognisable
    /// by name, and one whose writer process no longer exists can never be completed.
    /// Returns the paths removed.
    ///
    /// With `assumingNoOtherWriter` (the caller holds a lock that excludes other writers) every
    /// temporary not of this process is removed, even if its pid has been reused since.
    @discardableResult
    public static func removeAbandonedTemporaries(in folder: String, assumingNoOtherWriter: Bool = false) -> [String] {
        guard let names = try? FileSystem.list(folder) else { return [] }
        var removed: [String] = []
        for name in names {
            // `.<name>.tmp.<pid>.<random>`
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard name.hasPrefix("."), parts.count >= 5, parts[parts.count - 3] == "tmp",
                  let pid = pid_t(parts[parts.count - 2]) else { continue }
            // A temporary with our own pid may be a write in progress on another thread.
            let writerGone = pid != getpid() && (assumingNoOtherWriter || (kill(pid, 0) != 0 && errno == ESRCH))
            if writerGone {
                let full = folder + "/" + name
                if unlink(full) == 0 { removed.append(full) }
            }
        }
        return removed
    }

    public static func temporaryPrefix(for name: String) -> String { "." + name + ".tmp." }

    public static func splitPath(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    private static func randomSuffix() -> String {
        String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }
}

/// Buffered, short-write-safe output to an open file descriptor.
///
/// Small writes (headers, LayerNorm vectors) are gathered into one buffer; large ones (weight
/// matrices) go straight to the kernel without a copy.
public struct FileSink {
    fileprivate(set) var fd: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 16

    public init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(Self.bufferSize)
    }

    /// Total bytes accepted so far.
    public private(set) var bytesWritten = 0

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError) {
        bytesWritten += bytes.count
        if buffer.count + bytes.count <= Self.bufferSize {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count < Self.bufferSize {
            buffer.append(contentsOf: bytes)
        } else {
            try writeAll(bytes)
        }
    }

    public mutating func write(_ bytes: [UInt8]) throws(CheckpointError) {
        try bytes.withUnsafeBufferPointer { raw throws(CheckpointError) in try write(UnsafeRawBufferPointer(raw)) }
    }

    public mutating func flush() throws(CheckpointError) {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBufferPointer { raw throws(CheckpointError) in try writeAll(UnsafeRawBufferPointer(raw)) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// `write(2)` may write less than asked, or be interrupted by a signal; keep going until all is
    /// written or it reports a real error (ENOSPC, EFBIG, EIO, …).
    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError) {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = systemWrite(fd, next, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.system(path, "cannot write", errno: errno)
            }
            if n == 0 { throw CheckpointError.system(path, "cannot write (no progress)", errno: ENOSPC) }
            next += n
            remaining -= n
        }
    }
}

/// `write(2)`, named apart from `FileSink.write`.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, bytes, count)
    #else
    Darwin.write(fd, bytes, count)
    #endif
}
