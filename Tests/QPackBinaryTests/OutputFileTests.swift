#if canImport(Glibc)
    import Glibc
#endif
import CQPackFiles
import Foundation
import Testing
@testable import QPackBinary

/// How every qpack output is written: complete or absent, never replacing what it must not.
@Suite(.serialized) struct OutputFileTests {
    func scratch(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.path + "/qpack-output-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func listing(_ dir: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    @Test(arguments: [false, true]) func writesReplacesOnlyWithForceAndLeavesNoTemporary(named: Bool) throws {
        let dir = try scratch("write-\(named)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.bin"
        let first = try OutputFile(path: path, force: false, namedTemporary: named)
        try first.append([1, 2, 3], what: "data")
        #expect(try listing(dir) == (named ? [try #require(listing(dir).first)] : []))
        #expect(try listing(dir).allSatisfy { $0.hasPrefix(".out.bin.tmp-") })
        try first.publish()
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))

        #expect(throws: OutputFile.Failure.self) { try OutputFile(path: path, force: false, namedTemporary: named) }
        let second = try OutputFile(path: path, force: true, namedTemporary: named)
        try second.append([9, 9], what: "data")
        try second.overwrite([7], at: 0, what: "header")
        try second.publish()
        #expect(FileManager.default.contents(atPath: path) == Data([7, 9]))
        #expect(try listing(dir) == ["out.bin"])
        #expect(qp_tempfiles_count() == 0)
    }

    @Test(arguments: [false, true]) func aFileThatAppearsMeanwhileIsKeptWithoutForce(named: Bool) throws {
        let dir = try scratch("race-\(named)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.bin"
        let w = try OutputFile(path: path, force: false, namedTemporary: named)
        try w.append([1], what: "data")
        try Data("other".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try w.publish() } throws: { ($0 as? OutputFile.Failure)?.kind == .usage }
        #expect(FileManager.default.contents(atPath: path) == Data("other".utf8))
        #expect(try listing(dir) == ["out.bin"])
        #expect(qp_tempfiles_count() == 0)
    }

    @Test func directoriesFifosAndDevicesAreRefusedEvenWithForce() throws {
        let dir = try scratch("kinds")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        for path in [dir, dir + "/fifo", "/dev/null"] {
            #expect { try OutputFile(path: path, force: true) } throws: { ($0 as? OutputFile.Failure)?.kind == .usage }
        }
        #expect(try listing(dir) == ["fifo"])
    }

    @Test func abandoningRemovesTheNamedTemporary() throws {
        let dir = try scratch("abandon")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try OutputFile(path: dir + "/out.bin", force: false, namedTemporary: true)
        try w.append([1, 2], what: "data")
        #expect(try listing(dir).count == 1)
        #expect(qp_tempfiles_count() == 1)
        w.abandon()
        #expect(try listing(dir).isEmpty)
        #expect(qp_tempfiles_count() == 0)
    }

    /// A process stopped by SIGTERM or SIGINT while writing removes its named temporary file and
    /// still dies of that signal. The child process only raises the signal (async-signal-safe).
    @Test(arguments: [SIGTERM, SIGINT]) func aSignalRemovesTheTemporaryAndStillKills(signal: Int32) throws {
        let dir = try scratch("signal-\(signal)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try OutputFile(path: dir + "/out.bin", force: false, namedTemporary: true)
        try w.append([1, 2], what: "data")
        #expect(try listing(dir).count == 1)
        let child = fork()
        if child == 0 {
            // Test threads block these signals; a qpack process does not.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, signal)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            raise(signal)
            _exit(0)  // reached only if the signal did not kill
        }
        #expect(child > 0)
        var status: Int32 = 0
        #expect(waitpid(child, &status, 0) == child)
        #expect(status & 0x7f == signal)  // WIFSIGNALED with that signal
        #expect(try listing(dir).isEmpty)
        w.abandon()
    }
}
