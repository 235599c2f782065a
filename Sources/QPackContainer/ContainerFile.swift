import QPackBinary
import QPackCompression
import QPackModel
import QPackPacking

/// A `.qpack` file opened for reading and validated as Formats/qpack-container.md §6 says:
/// header, footer, manifest digest, manifest JSON, section table, tensor table and sizes.
/// Section checksums are verified when a section is read.
public final class ContainerFile: Sendable {
    public struct Section: Sendable, Hashable {
        public let name: String
        public let offset: Int
        public let storedLength: Int
        public let length: Int
        public let compression: String
        public let sha256: String
    }

    public struct Layout: Sendable, Hashable {
        public let id: String
        public let nr: Int, kr: Int, sr: Int
        public let blockLength: Int?
        public init(id: String, nr: Int, kr: Int, sr: Int, blockLength: Int?) {
            (self.id, self.nr, self.kr, self.sr, self.blockLength) = (id, nr, kr, sr, blockLength)
        }
    }

    /// How a packed tensor was quantized (spec §4.5 `quantization`).
    public struct Quantization: Sendable, Hashable {
        public let scaleType: String
        public let scaleRounding: String
        /// `absmax`, `mse`, `importance`, or `none` for a lossless repack.
        public let search: String
        public let nan: NonFinitePolicy
        public init(scaleType: String, scaleRounding: String = "nearest-even", search: String, nan: NonFinitePolicy) {
            (self.scaleType, self.scaleRounding, self.search, self.nan) = (scaleType, scaleRounding, search, nan)
        }
    }

    /// A budget search's promotion of one tensor (QPackModel's `Promotion`, as planned).
    public typealias Promotion = QPackModel.Promotion

    /// A static int8 activation range chosen by calibration (§4.5.1).

    public struct StaticActivation: Sendable, Hashable {
        public let observer: String
        public let min: Float
        public let max: Float
        /// Smoothing (spec §4.5.2): the strength it was chosen with and the section of K
        /// float32 divisors; the range is then of the divided inputs.
        public var smoothing: Smoothing?
        public init(observer: String, min: Float, max: Float, smoothing: Smoothing? = nil) {
            self.observer = observer
            self.min = min
            self.max = max
            self.smoothing = smoothing
        }
    }

    public struct Smoothing: Sendable, Hashable {
        public let alpha: Double
        public let section: String
        public init(alpha: Double, section: String) {
            self.alpha = alpha
            self.section = section
        }
    }

    public struct Tensor: Sendable, Hashable {
        public let name: String
        public let role: String
        public let layer: Int?
        public let sourceType: String
        public let shape: [Int]
        public let matrix: (rows: Int, columns: Int)?
        public let scheme: WeightScheme
        public let rule: String
        public let section: String
        public let sourceXXH64: String
        public let sourceBytes: Int
        public let layout: Layout?
        /// How a packed tensor was quantized; nil for float and kept tensors.
        public var quantization: Quantization? = nil
        /// The canonical slot of the tensor in its architecture's graph (1.1 files; nil when absent).
        public var slot: String? = nil
        /// Section holding the source's float values (F32, source order), written by
        /// `qpack convert --with-reference` for tensors stored in any scheme but f32 and keep.
        public var referenceSection: String? = nil
        /// Static activation quantization (nil: dynamic, per row at run time).
        public var activation: StaticActivation? = nil
        /// Set when a budget search changed the scheme the rules gave (spec §4.5 `promotion`).
        public var promotion: Promotion? = nil

        public init(
            name: String, role: String, layer: Int?, sourceType: String, shape: [Int],
            matrix: (rows: Int, columns: Int)?,
            scheme: WeightScheme, rule: String, section: String, sourceXXH64: String, sourceBytes: Int, layout: Layout?
        ) {
            (self.name, self.role, self.layer, self.sourceType, self.shape, self.matrix) =
                (name, role, layer, sourceType, shape, matrix)
            (self.scheme, self.rule, self.section, self.sourceXXH64, self.sourceBytes, self.layout) =
                (scheme, rule, section, sourceXXH64, sourceBytes, layout)
        }

        public static func == (a: Self, b: Self) -> Bool { a.name == b.name && a.section == b.section }
        public func hash(into h: inout Hasher) { h.combine(name) }

        public var elementCount: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let fileName: String
    public let fileSize: Int
    public let major: UInt16
    public let minor: UInt16
    /// SHA-256 of the manifest: the content digest.
    public let contentDigest: String
    public let manifestOffset: Int
    public let manifestLength: Int
    public let manifest: JSONNode
    public let sections: [Section]
    public let tensors: [Tensor]
    private let sectionIndex: [String: Int]
    private let file: MappedFile

    public convenience init(path: String) throws(ContainerError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            throw ContainerError(.io, file: ContainerWriter.baseName(path), subject: "file", error.description)
        }
        try self.init(mapped: file)
    }

    public init(mapped file: MappedFile) throws(ContainerError) {
        let name = ContainerWriter.baseName(file.path)
        func fail(_ subject: String, _ offset: Int?, _ detail: String) -> ContainerError {
            ContainerError(.malformed, file: name, subject: subject, offset: offset, detail)
        }
        self.file = file
        path = file.path
        fileName = name
        fileSize = file.size
        let bytes = file.bytes
        guard file.size >= ContainerFormat.headerSize + ContainerFormat.footerSize else {
            throw fail("header", 0, "file of \(file.size) bytes is too small for a header and footer")
        }
        guard Array(bytes[0..<8]) == ContainerFormat.magic else {
            throw fail("magic", 0, "not a .qpack file (bad magic)")
        }
        func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        major = u16(8)
        minor = u16(10)
        guard major == ContainerFormat.major else {
            throw fail(
                "version", 8, "major version \(major) is not supported (this reader reads \(ContainerFormat.major).x)")
        }
        let features = u32(12)
        guard features & ~ContainerFormat.knownFeatures == 0 else {
            throw fail("required_features", 12, "unknown required feature bits 0x\(String(features, radix: 16))")
        }
        let footer = file.size - ContainerFormat.footerSize
        guard Array(bytes[footer..<(footer + 8)]) == ContainerFormat.footerMagic else {
            throw fail("footer", footer, "missing commit record: the file is incomplete (interrupted write?)")
        }
        guard u64(16) == u64(footer + 8), u64(24) == u64(footer + 16),
            Array(bytes[32..<64]) == Array(bytes[(footer + 32)..<(footer + 64)])
        else {
            throw fail("footer", footer, "header and footer disagree")
        }
        guard u64(footer + 24) == UInt64(file.size) else {
            throw fail(
                "footer", footer + 24,
                "records a file length of \(u64(footer + 24)) but the file has \(file.size) bytes")
        }
        guard let mOffset = Checked.int(u64(16)), let mLength = Checked.int(u64(24)),
            mOffset >= ContainerFormat.headerSize, mOffset % ContainerFormat.alignment == 0,
            mLength >= 1, mLength <= ContainerFormat.maxManifestBytes, Checked.add(mOffset, mLength) == footer
        else {
            throw fail(
                "manifest_offset", 16, "manifest range [\(u64(16)), +\(u64(24))) does not end at the footer (\(footer))"
            )
        }
        manifestOffset = mOffset
        manifestLength = mLength
        let manifestBytes = file.bytes(offset: mOffset, count: mLength)
        let digest = SHA256.hash(manifestBytes)
        guard digest == Array(bytes[32..<64]) else { throw fail("manifest_sha256", 32, "manifest checksum mismatch") }
        contentDigest = SHA256.hex(digest)
        do { manifest = try StrictJSONParser.parse(manifestBytes, baseOffset: mOffset) } catch {
            throw fail("manifest", error.offset, error.message)
        }
        let parsed = try ManifestParser(manifest: manifest, fail: fail).parse(fileLimit: mOffset, bytes: bytes)
        sections = parsed.sections
        tensors = parsed.tensors
        var index: [String: Int] = [:]
        for (i, s) in sections.enumerated() { index[s.name] = i }
        sectionIndex = index
    }

    public func section(named name: String) -> Section? { sectionIndex[name].map { sections[$0] } }

    /// The section's uncompressed bytes, checksum verified.
    public func sectionBytes(_ name: String) throws(ContainerError) -> [UInt8] {
        guard let s = section(named: name) else {
            throw ContainerError(.malformed, file: fileName, subject: "section '\(name)'", "no such section")
        }
        let stored = file.bytes(offset: s.offset, count: s.storedLength)
        var out: [UInt8]
        if s.compression == "zstd" {
            do { out = try Zstd.decompress(stored, declaredSize: s.length) } catch {
                throw ContainerError(
                    .malformed, file: fileName, subject: "section '\(name)'", offset: s.offset, error.description)
            }
        } else {
            out = Array(stored)
        }
        guard SHA256.hex(SHA256.hash(out)) == s.sha256 else {
            throw ContainerError(
                .malformed, file: fileName, subject: "section '\(name)'", offset: s.offset, "checksum mismatch")
        }
        return out
    }

    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }
}
