#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import QPackBinary
import QPackCompression

/// Writes a `.qpack` file section by section, then the manifest, footer and header, through an
/// `OutputFile` (unpublished until `finish`; without `force` an existing target is refused).
public final class ContainerWriter {
    public let path: String
    /// The file being written; nil when writing to memory.
    private let output: OutputFile?
    private var offset = 0
    /// Bytes before this offset have been handed to the kernel for writeback.
    private var writebackStarted = 0
    private var sections: [SectionRecord] = []
    private var finished = false
    /// Set when writing to memory instead of a file.
    private let image: ContainerImage?

    /// A writer that builds the file in `image` (no file is created; `finish` does not publish).
    public init(image: ContainerImage, name: String) throws(ContainerError) {
        path = name
        output = nil
        self.image = image
        try writeAll([UInt8](repeating: 0, count: ContainerFormat.headerSize), what: "header")
    }

    public init(path: String, force: Bool) throws(ContainerError) {
        self.path = path
        image = nil
        do { output = try OutputFile(path: path, force: force) } catch { throw ContainerError(error) }
        try writeAll([UInt8](repeating: 0, count: ContainerFormat.headerSize), what: "header")
    }

    deinit {
        if !finished { abandon() }
    }

    /// Stops writing and removes every trace of the output.
    public func abandon() {
        guard !finished else { return }
        finished = true
        output?.abandon()
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
            guard let output else { preconditionFailure("a writer has a file or an image") }
            do { try output.overwrite(header, at: 0, what: "header") } catch { throw ContainerError(error) }
            if let acceptance, let refusal = acceptance(output.temporaryPath) {
                throw ContainerError(.malformed, file: name, subject: "model", refusal + "; nothing written")
            }
            do { try output.publish() } catch { throw ContainerError(error) }
            finished = true
            return SHA256.hex(digest)
        } catch {
            abandon()
            throw error
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
        guard let output else { preconditionFailure("a writer has a file or an image") }
        do { try output.append(bytes, what: what) } catch { throw ContainerError(error) }
        offset += bytes.count
        startWriteback()
    }

    /// Starts writing the last 64 MiB or more to disk while conversion goes on (POSIX_FADV_DONTNEED
    /// starts writeback of dirty pages without waiting, and lets the kernel drop them once clean),
    /// so the final fsync waits only for the tail and the output does not fill the page cache.
    private func startWriteback() {
        let chunk = 64 << 20
        guard offset - writebackStarted >= chunk else { return }
        guard let output else { return }
        _ = posix_fadvise(
            output.descriptor, off_t(writebackStarted), off_t(offset - writebackStarted), POSIX_FADV_DONTNEED)
        writebackStarted = offset
    }

    static func baseName(_ p: String) -> String { p.split(separator: "/").last.map(String.init) ?? p }

}

extension ContainerError {
    init(_ failure: OutputFile.Failure) {
        self.init(
            failure.kind == .usage ? .usage : .io, file: failure.file, subject: failure.subject, offset: failure.offset,
            failure.detail)
    }
}

func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
func le16(_ v: UInt16) -> [UInt8] { [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
