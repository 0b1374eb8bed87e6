import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file-system operations the run folder needs, with errors that carry the C library's
/// reason (Foundation's `FileManager` errors are vaguer about *why*).
public enum FileSystem {
    /// Names in `folder` (without `.` and `..`), sorted.
    public static func list(_ folder: String) throws(CheckpointError) -> [String] {
        guard let dir = opendir(folder) else { throw CheckpointError.system(folder, "cannot list the folder", errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    public static func isDirectory(_ path: String) -> Bool {
        guard let info = status(path) else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool { status(path) != nil }

    /// Why `path` cannot be read as a regular file (missing, a folder, a FIFO, a device, not
    /// readable), in words that end a sentence starting with the path; nil when it can.
    public static func readProblem(_ path: String) -> String? {
        guard let info = status(path) else {
            return errno == EACCES ? "cannot be reached (permission denied on a folder above it)" : "does not exist"
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return "is a folder, not a file"
        case S_IFIFO: return "is a named pipe (FIFO), not a regular file"
        case S_IFCHR, S_IFBLK: return "is a device, not a regular file"
        default: return "is not a regular file"
        }
        if access(path, R_OK) != 0 { return "cannot be read: permission denied (see `ls -l \(path)`)" }
        return nil
    }

    public static func size(_ path: String) -> Int? { status(path).map { Int($0.st_size) } }

    public static func modificationDate(_ path: String) -> Date? {
        guard let info = status(path) else { return nil }
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        return Date(timeIntervalSince1970: Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
    }

    /// `mkdir -p`.
    public static func makeDirectories(_ path: String) throws(CheckpointError) {
        if isDirectory(path) { return }
        let (parent, _) = AtomicFile.splitPath(path)
        if parent != path && parent != "." && parent != "/" { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw CheckpointError.system(path, "cannot create the folder", errno: errno)
        }
        guard isDirectory(path) else { throw CheckpointError(path, "exists but is not a folder") }
    }

    public static func remove(_ path: String) throws(CheckpointError) {
        if unlink(path) != 0 && errno != ENOENT {
            throw CheckpointError.system(path, "cannot delete", errno: errno)
        }
    }
}
