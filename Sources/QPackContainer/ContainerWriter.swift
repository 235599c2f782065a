#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import QPackBinary
import QPackCompression

/// Writes a `.qpack` file section by section, then the manifest, footer and header.
///
/// The data goes to an unnamed temporary file (`O_TMPFILE`) in the target's directory, so a
/// killed process leaves nothing behind; `finish` fsyncs it, links it under a temporary name
/// and renames it over the target in one step. Without `force` an existing target is refused;
/// a symlink at the target is replaced, never followed.
public final class ContainerWriter {
    public let path: String
    private let directory: String
    private var fd: Int32
    /// Set when O_TMPFILE was unavailable and a named temporary file is used instead.
    private var namedTemp: String?
    private var offset = 0
    /// Bytes before this offset have been handed to the kernel for writeback.
    private var writebackStarted = 0
    private var sections: [SectionRecord] = []
    private var finished = false
    /// Replace an existing target (else the file is published only where nothing is).
    private let force: Bool
    /// Set when writing to memory instead of a file.
    private let image: ContainerImage?

    /// A writer that builds the file in `image` (no file is created; `finish` does not publish).
    public init(image: ContainerImage, name: String) throws(ContainerError) {
        path = name
        directory = "."
        fd = -1
        self.image = image
        force = true
        try writeAll([UInt8](repeating: 0, count: ContainerFormat.headerSize), what: "header")
    }

    public init(path: String, force: Bool) throws(ContainerError) {
        self.path = path
        image = nil
        self.force = force
        let name = Self.baseName(path)
        directory = Self.directory(of: path)
        var st = stat()
        if lstat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR {
                throw ContainerError(.usage, file: name, subject: "output", "is a directory")
            }
            // A device node, FIFO or socket is never replaced by a regular file, even with force.
            if (st.st_mode & S_IFMT) != S_IFREG && (st.st_mode & S_IFMT) != S_IFLNK {
                throw ContainerError(.usage, file: name, subject: "output", "is not a regular file")
            }
            if !force {
                throw ContainerError(
                    .usage, file: name, subject: "output", "already exists (use --force to replace it)")
            }
        }
        fd = open(directory, oTmpFile | O_WRONLY | O_CLOEXEC, 0o644)
        if fd < 0 {
            // Filesystems without O_TMPFILE: a named temporary file, removed on failure.
            var template = Array((directory + "/." + name + ".tmp-XXXXXX").utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else {
                throw ContainerError(
                    .io, file: name, subject: "output", "cannot create a file in '\(directory)': \(Self.errorText())")
            }
            namedTemp = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            fchmod(fd, 0o644)
        }
        try writeAll([UInt8](repeating: 0, count: ContainerFormat.headerSize), what: "header")
    }

    deinit {
        if !finished { abandon() }
    }

    /// Stops writing and removes every trace of the output.
    public func abandon() {
        guard !finished else { return }
        finished = true
        if fd >= 0 { close(fd) }
        fd = -1
        if let namedTemp { unlink(namedTemp) }
    }

    /// A section's bytes made ready to write: checksummed and, if asked and smaller, compressed.
    /// Pure, so worker threads prepare sections while the writer writes others.
    public struct PreparedSection: Sendable {
        public let stored: [UInt8]
        public let length: Int
        public let compression: String
        public let sha256: String

        public init(_ bytes: [UInt8], compress: Bool) throws(ContainerError) {
            sha256 = SHA256.hex(SHA256.hash(bytes))
            length = bytes.count
            if compress && !bytes.isEmpty {
                let frame: [UInt8]
                do { frame = try Zstd.compress(bytes) } catch {
                    throw ContainerError(.io, file: "", subject: "compression", error.description)
                }
                if frame.count < bytes.count {
                    stored = frame
                    compression = "zstd"
                    return
                }
            }
            stored = bytes
            compression = "none"
        }
    }

    /// Appends a prepared section at the next 64-byte boundary.
    @discardableResult
    public func addSection(name: String, prepared: PreparedSection) throws(ContainerError) -> SectionRecord {
        precondition(!finished, "writer already finished")
        precondition(!sections.contains { $0.name == name }, "duplicate section \(name)")
        try pad()
        let start = offset
        try writeAll(prepared.stored, what: "section '\(name)'")
        let record = SectionRecord(
            name: name, offset: start, storedLength: prepared.stored.count, length: prepared.length,
            compression: prepared.compression, sha256: prepared.sha256)
        sections.append(record)
        return record
    }

    /// Appends a section at the next 64-byte boundary. With `compress`, the bytes are stored as
    /// one checksummed zstd frame when that is smaller, else as they are.
    @discardableResult
    public func addSection(name: String, bytes: [UInt8], compress: Bool) throws(ContainerError) -> SectionRecord {
        let prepared: PreparedSection
        do { prepared = try PreparedSection(bytes, compress: compress) } catch {
            throw ContainerError(.io, file: Self.baseName(path), subject: "section '\(name)'", error.detail)
        }
        return try addSection(name: name, prepared: prepared)
    }

    public var writtenSections: [SectionRecord] { sections }

    /// The sections array of the manifest, in file order.
    public var sectionsJSON: JSONOut {
        .array(
            sections.map { s in
                .object([
                    ("name", .string(s.name)), ("offset", .int(s.offset)), ("stored_length", .int(s.storedLength)),
                    ("length", .int(s.length)), ("compression", .string(s.compression)), ("sha256", .string(s.sha256)),
                ])
            })
    }

    /// Writes the manifest, footer and header, makes the file durable and puts it at `path`.
    /// Returns the content digest (the manifest's SHA-256). `acceptance` sees the complete file
    /// (by a path) before it is published; a message it returns refuses the file as malformed.
    public func finish(manifest: JSONOut, acceptance: ((String) -> String?)? = nil) throws(ContainerError) -> String {
        precondition(!finished)
        let name = Self.baseName(path)
        do throws(ContainerError) {
            try pad()
            let text = Array((manifest.text(indent: 1) + "\n").utf8)
            guard text.count <= ContainerFormat.maxManifestBytes else {
                throw ContainerError(
                    .io, file: name, subject: "manifest", "\(text.count) bytes exceed the 64 MiB limit")
            }
            let manifestOffset = offset
            let digest = SHA256.hash(text)
            try writeAll(text, what: "manifest")
            let fileLength = offset + ContainerFormat.footerSize
            var footer = ContainerFormat.footerMagic
            footer += le(UInt64(manifestOffset)) + le(UInt64(text.count)) + le(UInt64(fileLength)) + digest
            try writeAll(footer, what: "footer")
            var header = ContainerFormat.magic + le16(ContainerFormat.major) + le16(ContainerFormat.minor) + le32(0)
            header += le(UInt64(manifestOffset)) + le(UInt64(text.count)) + digest
            if let image {
                image.overwrite(at: 0, header)
                finished = true
                return SHA256.hex(digest)
            }
            let written = header.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            guard written == header.count else { throw ioError("header") }
            guard fsync(fd) == 0 else { throw ioError("fsync") }
            if let acceptance, let refusal = acceptance(namedTemp ?? "/proc/self/fd/\(fd)") {
                throw ContainerError(.malformed, file: name, subject: "model", refusal + "; nothing written")
            }
            try publish()
            finished = true
            return SHA256.hex(digest)
        } catch {
            abandon()
            throw error
        }
    }

    private func publish() throws(ContainerError) {
        let name = Self.baseName(path)
        // Without force the file is linked into place, which fails if anything appeared at the
        // path since the writer started (another run, say): never replaced silently.
        if !force {
            let linked =
                namedTemp.map { link($0, path) }
                ?? linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, path, AT_SYMLINK_FOLLOW)
            guard linked == 0 else {
                let code = errno
                throw ContainerError(
                    code == EEXIST ? .usage : .io, file: name, subject: "output",
                    code == EEXIST
                        ? "appeared while this file was written (another run?); nothing replaced (use --force to replace it)"
                        : "cannot link the finished file: \(Self.errorText())")
            }
            if let namedTemp { unlink(namedTemp) }
            self.namedTemp = nil
            close(fd)
            fd = -1
            syncDirectory()
            return
        }
        if let namedTemp {
            guard rename(namedTemp, path) == 0 else {
                throw ContainerError(
                    .io, file: name, subject: "output", "cannot rename into place: \(Self.errorText())")
            }
            self.namedTemp = nil
        } else {
            let temp = directory + "/." + name + ".tmp-\(getpid())"
            unlink(temp)
            guard linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, temp, AT_SYMLINK_FOLLOW) == 0 else {
                throw ContainerError(
                    .io, file: name, subject: "output", "cannot link the finished file: \(Self.errorText())")
            }
            guard rename(temp, path) == 0 else {
                let e = Self.errorText()
                unlink(temp)
                throw ContainerError(.io, file: name, subject: "output", "cannot rename into place: \(e)")
            }
        }
        close(fd)
        fd = -1
        syncDirectory()
    }

    private func syncDirectory() {
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    private func pad() throws(ContainerError) {
        let target = ContainerFormat.align(offset)
        if target > offset { try writeAll([UInt8](repeating: 0, count: target - offset), what: "padding") }
    }

    private func writeAll(_ bytes: [UInt8], what: String) throws(ContainerError) {
        let r: Result<Void, ContainerError> = bytes.withUnsafeBytes { raw in
            do throws(ContainerError) { try writeAll(raw, what: what); return .success(()) } catch {
                return .failure(error)
            }
        }
        try r.get()
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, what: String) throws(ContainerError) {
        if let image {
            guard image.append(bytes) else {
                throw ContainerError(.io, file: path, subject: what, offset: offset, "out of memory")
            }
            offset += bytes.count
            return
        }
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError(what)
            }
            done += n
        }
        offset += bytes.count
        startWriteback()
    }

    /// Starts writing the last 64 MiB or more to disk while conversion goes on (POSIX_FADV_DONTNEED
    /// starts writeback of dirty pages without waiting, and lets the kernel drop them once clean),
    /// so the final fsync waits only for the tail and the output does not fill the page cache.
    private func startWriteback() {
        let chunk = 64 << 20
        guard offset - writebackStarted >= chunk else { return }
        _ = posix_fadvise(fd, off_t(writebackStarted), off_t(offset - writebackStarted), POSIX_FADV_DONTNEED)
        writebackStarted = offset
    }

    private func ioError(_ what: String) -> ContainerError {
        ContainerError(
            .io, file: Self.baseName(path), subject: what, offset: offset, "write failed: \(Self.errorText())")
    }

    static func errorText() -> String {
        let code = errno
        return String(cString: strerror(code)) + " (errno \(code))"
    }

    static func baseName(_ p: String) -> String { p.split(separator: "/").last.map(String.init) ?? p }

    static func directory(of p: String) -> String {
        guard let i = p.lastIndex(of: "/") else { return "." }
        let d = String(p[..<i])
        return d.isEmpty ? "/" : d
    }
}

/// Linux O_TMPFILE (`__O_TMPFILE | O_DIRECTORY`), which Glibc's Swift overlay does not export.
let oTmpFile: Int32 = 0o20_000_000 | O_DIRECTORY

func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
func le16(_ v: UInt16) -> [UInt8] { [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
