#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import CQPackFiles

/// One output file, written where nobody sees it and published in one step: the one home for
/// how qpack writes files (the container, `.qcal` statistics, verify's tensors).
///
/// The bytes go to an unnamed temporary file (`O_TMPFILE`) in the target's directory, so a
/// killed process leaves nothing behind. Without `force` the finished file is linked into place,
/// which fails if anything appeared at the path meanwhile (another run): never replaced silently.
/// With `force` it is linked under a temporary name and renamed over the target. Named
/// temporaries (that link, or a filesystem without O_TMPFILE) are removed on every error path and
/// on SIGINT/SIGTERM/SIGHUP/SIGQUIT. A directory, device node, FIFO or socket at the path is
/// refused even with `force`; a symlink there is replaced, never followed.
public final class OutputFile {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            /// The path is unusable or taken and --force was not given (exit 64).
            case usage
            /// Writing failed (exit 74).
            case io
        }
        public let kind: Kind
        /// The output's file name (last path component).
        public let file: String
        /// What failed: "output", "fsync" or the caller's name for the bytes.
        public let subject: String
        public let offset: Int?
        public let detail: String

        public var description: String {
            "\(file): \(subject)" + (offset.map { " at offset \($0)" } ?? "") + ": " + detail
        }
    }

    public let path: String
    /// The file's name without its directory, as messages show it.
    public let name: String
    private let directory: String
    private let force: Bool
    /// The open temporary file (-1 once published or abandoned).
    public private(set) var descriptor: Int32
    /// Set while a named temporary file exists (no O_TMPFILE); removed on failure and on signals.
    private var namedTemp: (path: String, slot: Int32)?
    public private(set) var length = 0
    private var done = false

    public convenience init(path: String, force: Bool) throws(Failure) {
        try self.init(path: path, force: force, namedTemporary: false)
    }

    /// `namedTemporary` takes the path of filesystems without O_TMPFILE (tests use it).
    init(path: String, force: Bool, namedTemporary: Bool) throws(Failure) {
        self.path = path
        self.force = force
        name = path.split(separator: "/").last.map(String.init) ?? path
        directory = Self.directory(of: path)
        descriptor = -1
        var st = stat()
        if lstat(path, &st) == 0 {
            let kind = st.st_mode & S_IFMT
            if kind == S_IFDIR {
                throw Failure(kind: .usage, file: name, subject: "output", offset: nil, detail: "is a directory")
            }
            if kind != S_IFREG && kind != S_IFLNK {
                throw Failure(kind: .usage, file: name, subject: "output", offset: nil, detail: "is not a regular file")
            }
            if !force {
                throw Failure(
                    kind: .usage, file: name, subject: "output", offset: nil,
                    detail: "already exists (use --force to replace it)")
            }
        }
        qp_tempfiles_install()
        descriptor = namedTemporary ? -1 : open(directory, oTmpFile | O_WRONLY | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            // Filesystems without O_TMPFILE: a named temporary file, removed on failure.
            var template = Array((directory + "/." + name + ".tmp-XXXXXX").utf8CString)
            let (fd, slot) = template.withUnsafeMutableBufferPointer { buffer -> (Int32, Int32) in
                guard let base = buffer.baseAddress else { return (-1, -1) }
                // Blocks the caught signals so no handler runs between the create and the record.
                return Self.withSignalsBlocked {
                    let fd = mkstemp(base)
                    return (fd, fd >= 0 ? qp_tempfiles_remember(base) : -1)
                }
            }
            guard fd >= 0 else {
                throw Failure(
                    kind: .io, file: name, subject: "output", offset: nil,
                    detail: "cannot create a file in '\(directory)': \(Self.errorText())")
            }
            descriptor = fd
            namedTemp = (String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self), slot)
            fchmod(fd, 0o644)
        }
    }

    deinit { abandon() }

    /// Writes a whole file: `bytes` appear at `path` completely or not at all.
    public static func write(_ bytes: [UInt8], to path: String, force: Bool) throws(Failure) {
        let file = try OutputFile(path: path, force: force)
        try file.append(bytes, what: "data")
        try file.publish()
    }

    /// Appends bytes at the end.
    public func append(_ bytes: [UInt8], what: String) throws(Failure) {
        let r: Result<Void, Failure> = bytes.withUnsafeBytes { raw in
            do throws(Failure) { try append(raw, what: what); return .success(()) } catch { return .failure(error) }
        }
        try r.get()
    }

    public func append(_ bytes: UnsafeRawBufferPointer, what: String) throws(Failure) {
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let n = systemWrite(descriptor, base + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw ioFailure(what)
            }
            written += n
        }
        length += bytes.count
    }

    /// Overwrites bytes already written (a header filled in last).
    public func overwrite(_ bytes: [UInt8], at offset: Int, what: String) throws(Failure) {
        let written = bytes.withUnsafeBytes { systemPwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard written == bytes.count else { throw ioFailure(what, at: offset) }
    }

    /// A path naming the finished, unpublished file (for a check before publishing).
    public var temporaryPath: String { namedTemp?.path ?? "/proc/self/fd/\(descriptor)" }

    /// Makes the file durable and puts it at `path`. On failure nothing is left behind.
    public func publish() throws(Failure) {
        precondition(!done, "output already published or abandoned")
        do throws(Failure) {
            guard fsync(descriptor) == 0 else { throw ioFailure("fsync") }
            if force { try replaceTarget() } else { try linkIntoPlace() }
            forgetTemp(unlinking: true)
            close(descriptor)
            descriptor = -1
            done = true
            syncDirectory()
        } catch {
            abandon()
            throw error
        }
    }

    /// Stops writing and removes every trace of the output.
    public func abandon() {
        guard !done else { return }
        done = true
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        forgetTemp(unlinking: true)
    }

    private func linkIntoPlace() throws(Failure) {
        let linked =
            namedTemp.map { link($0.path, path) }
            ?? linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, path, AT_SYMLINK_FOLLOW)
        guard linked == 0 else {
            let code = errno
            throw Failure(
                kind: code == EEXIST ? .usage : .io, file: name, subject: "output", offset: nil,
                detail: code == EEXIST
                    ? "appeared while this file was written (another run?); nothing replaced (use --force to replace it)"
                    : "cannot link the finished file: \(Self.errorText())")
        }
    }

    private func replaceTarget() throws(Failure) {
        if namedTemp == nil {
            // rename needs a name: link the unnamed file under one, registered for signal cleanup
            // from before it exists until after the rename.
            let temp = directory + "/." + name + ".tmp-\(getpid())"
            unlink(temp)
            let slot = temp.withCString { qp_tempfiles_remember($0) }
            namedTemp = (temp, slot)
            guard linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, temp, AT_SYMLINK_FOLLOW) == 0 else {
                let e = Self.errorText()
                forgetTemp(unlinking: false)
                throw Failure(
                    kind: .io, file: name, subject: "output", offset: nil, detail: "cannot link the finished file: \(e)"
                )
            }
        }
        guard let temp = namedTemp, rename(temp.path, path) == 0 else {
            throw Failure(
                kind: .io, file: name, subject: "output", offset: nil,
                detail: "cannot rename into place: \(Self.errorText())")
        }
        forgetTemp(unlinking: false)
    }

    private func forgetTemp(unlinking: Bool) {
        guard let temp = namedTemp else { return }
        if unlinking { unlink(temp.path) }
        qp_tempfiles_forget(temp.slot)
        namedTemp = nil
    }

    private func syncDirectory() {
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    private func ioFailure(_ what: String, at offset: Int? = nil) -> Failure {
        Failure(
            kind: .io, file: name, subject: what, offset: offset ?? length,
            detail: "write failed: \(Self.errorText())")
    }

    private static func withSignalsBlocked<T>(_ body: () -> T) -> T {
        var all = sigset_t()
        var old = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        return body()
    }

    static func errorText() -> String {
        let code = errno
        return String(cString: strerror(code)) + " (errno \(code))"
    }

    static func directory(of p: String) -> String {
        guard let i = p.lastIndex(of: "/") else { return "." }
        let d = String(p[..<i])
        return d.isEmpty ? "/" : d
    }
}

/// The libc calls by other names: inside `OutputFile` its static `write` hides libc's.
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
private func systemPwrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int, _ at: off_t) -> Int { pwrite(fd, p, n, at) }

/// Linux O_TMPFILE (`__O_TMPFILE | O_DIRECTORY`), which Glibc's Swift overlay does not export.
let oTmpFile: Int32 = 0o20_000_000 | O_DIRECTORY
