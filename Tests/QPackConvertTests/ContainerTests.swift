import Foundation
import Testing
import QPackBinary
import QPackTestSupport
@testable import QPackContainer

func temporaryDirectory(_ label: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "qpack-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
    ).path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct ContainerTests {
    static func manifest(_ w: ContainerWriter) -> JSONOut {
        .object([
            ("format", .string("qpack")), ("version", .object([("major", .int(1)), ("minor", .int(0))])),
            ("sections", w.sectionsJSON), ("tensors", .array([])),
        ])
    }

    static func smallContainer(at path: String, compress: Bool = false) throws -> [String: [UInt8]] {
        let w = try ContainerWriter(path: path, force: true)
        let payload: [String: [UInt8]] = [
            "a": Array("hello, qpack".utf8),
            "b": (0..<5000).map { UInt8($0 % 7) },
            "c": [],
        ]
        for name in ["a", "b", "c"] { try w.addSection(name: name, bytes: payload[name]!, compress: compress) }
        _ = try w.finish(manifest: manifest(w))
        return payload
    }

    @Test(arguments: [false, true])
    func writesAndReadsBack(_ compress: Bool) throws {
        let dir = try temporaryDirectory("container")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/x.qpack"
        let payload = try Self.smallContainer(at: path, compress: compress)
        let file = try ContainerFile(path: path)
        #expect(file.sections.map(\.name) == ["a", "b", "c"])
        #expect(file.sections.allSatisfy { $0.offset % 64 == 0 })
        for (name, bytes) in payload { #expect(try file.sectionBytes(name) == bytes) }
        #expect(file.section(named: "b")?.compression == (compress ? "zstd" : "none"))
        // The content digest is the manifest's SHA-256, independently recomputed here.
        let raw = try TestPaths.read(path)
        #expect(
            file.contentDigest
                == SHA256.hex(
                    SHA256.hash(Array(raw[file.manifestOffset..<(file.manifestOffset + file.manifestLength)]))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["x.qpack"])
    }

    /// `reference_section` must name an unused section of exactly 4 bytes per element.
    @Test(
        arguments: [
            ("r", nil), ("nope", "must name an existing section"), ("short", "12 F32 values need 48"),
            ("t", "shares section 't'"),
        ] as [(String, String?)])
    func referenceSectionIsChecked(_ reference: String, _ message: String?) throws {
        let dir = try temporaryDirectory("reference")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try ContainerWriter(path: dir + "/x.qpack", force: true)
        try w.addSection(name: "t", bytes: [UInt8](repeating: 1, count: 48), compress: false)
        try w.addSection(name: "r", bytes: [UInt8](repeating: 2, count: 48), compress: false)
        try w.addSection(name: "short", bytes: [UInt8](repeating: 3, count: 8), compress: false)
        let tensor = JSONOut.object([
            ("name", .string("w")), ("role", .string("linear")), ("layer", .null), ("source_type", .string("F32")),
            ("shape", .array([.int(12)])), ("scheme", .string("keep")), ("rule", .string("x")),
            ("section", .string("t")), ("source_xxh64", .string("0000000000000000")), ("source_bytes", .int(48)),
            ("reference_section", .string(reference)),
        ])
        _ = try w.finish(
            manifest: .object([
                ("format", .string("qpack")), ("version", .object([("major", .int(1)), ("minor", .int(0))])),
                ("sections", w.sectionsJSON), ("tensors", .array([tensor])),
            ]))
        if let message {
            #expect { try ContainerFile(path: dir + "/x.qpack") } throws: { e in
                let d = (e as? ContainerError)?.description ?? ""
                return d.contains("tensor 'w'") && d.contains(message)
            }
        } else {
            #expect(try ContainerFile(path: dir + "/x.qpack").tensor(named: "w")?.referenceSection == "r")
        }
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let dir = try temporaryDirectory("force")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/x.qpack"
        try Data("previous".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try ContainerWriter(path: path, force: false) } throws: { ($0 as? ContainerError)?.kind == .usage }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "previous")
    }

    /// Without force, a file that appears at the target while the writer works (another run) is
    /// never replaced: publishing fails (usage), the other file stays, no temporary file is left.
    /// With force it is replaced.
    @Test func aTargetThatAppearsMeanwhileIsNotReplacedWithoutForce() throws {
        let dir = try temporaryDirectory("appeared")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/x.qpack"
        for force in [false, true] {
            try? FileManager.default.removeItem(atPath: path)
            let w = try ContainerWriter(path: path, force: force)
            try w.addSection(name: "a", bytes: Array("payload".utf8), compress: false)
            try Data("the other run's file".utf8).write(to: URL(fileURLWithPath: path))
            if force {
                _ = try w.finish(manifest: Self.manifest(w))
                #expect(try ContainerFile(path: path).sections.count == 1)
            } else {
                #expect { _ = try w.finish(manifest: Self.manifest(w)) } throws: {
                    ($0 as? ContainerError)?.kind == .usage && "\($0)".contains("appeared while")
                }
                #expect(try String(contentsOfFile: path, encoding: .utf8) == "the other run's file")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["x.qpack"])
        }
    }

    @Test func abandonedWritesLeaveNothing() throws {
        let dir = try temporaryDirectory("abandon")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try ContainerWriter(path: dir + "/x.qpack", force: false)
        try w.addSection(name: "a", bytes: [1, 2, 3], compress: false)
        w.abandon()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func replacesASymlinkInsteadOfFollowingIt() throws {
        let dir = try temporaryDirectory("symlink")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("victim".utf8).write(to: URL(fileURLWithPath: dir + "/victim"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/x.qpack", withDestinationPath: "victim")
        _ = try Self.smallContainer(at: dir + "/x.qpack")
        #expect(try String(contentsOfFile: dir + "/victim", encoding: .utf8) == "victim")
        var st = stat()
        #expect(lstat(dir + "/x.qpack", &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG)
        #expect(try ContainerFile(path: dir + "/x.qpack").sections.count == 3)
    }

    /// Every truncation and every single-byte flip gives a typed error or a file whose sections
    /// all read back exactly: damage is never silently accepted.
    @Test(arguments: [false, true])
    func everyTruncationAndFlipIsCaught(_ compress: Bool) throws {
        let dir = try temporaryDirectory("walk")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/x.qpack"
        let payload = try Self.smallContainer(at: path, compress: compress)
        let bytes = try TestPaths.read(path)
        func survives(_ b: [UInt8]) -> Bool {
            guard let f = try? ContainerFile(mapped: MappedFile(copying: b, path: "x.qpack")) else { return false }
            for (name, want) in payload {
                guard let got = try? f.sectionBytes(name) else { return false }
                #expect(got == want, "a damaged section read back without an error")
            }
            return true
        }
        for n in 0..<bytes.count { #expect(!survives(Array(bytes[..<n])), "truncation to \(n) bytes accepted") }
        // A flip inside a zstd frame may leave the decoded bytes unchanged (an encoding
        // freedom the frame checksum cannot see); survives() then checked the content is exact.
        let frames = try ContainerFile(path: path).sections.filter { $0.compression == "zstd" }.map {
            $0.offset..<($0.offset + $0.storedLength)
        }
        var undetected = 0
        for i in 0..<bytes.count {
            var m = bytes
            m[i] ^= 0x01
            // The minor version (bytes 10-11) is ignored by design: readers accept any minor.
            if survives(m) && !(10...11).contains(i) && !frames.contains(where: { $0.contains(i) }) { undetected += 1 }
        }
        #expect(undetected == 0)
    }
}
