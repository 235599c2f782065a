import Foundation
import QPackTestSupport
import Testing

/// Every input the mutation fuzzer (scripts/fuzz.sh) found to crash, hang or mislead qpack,
/// minimised, with the command that failed on it and what qpack must do instead
/// (`Fixtures/fuzz/<case>/case.json`).
@Suite struct FuzzRegressionTests {
    struct Case: Decodable {
        var why: String
        var command: [String]
        var exit: Int32
        var stdout: String?
        var stderr: String?
        /// A file the command must not leave behind (no partial output).
        var absent: String?
        /// Commands run first, each expected to succeed (making the input from fixtures).
        var setup: [[String]]?
        var stderrMaxBytes: Int?
    }

    static var cases: [String] {
        let dir = TestPaths.fixture("fuzz")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    @Test func corpusIsThere() {
        #expect(Self.cases.count >= 3)
    }

    @Test(arguments: cases) func findingStaysFixed(_ name: String) throws {
        let dir = TestPaths.fixture("fuzz/" + name)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/case.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let c = try decoder.decode(Case.self, from: data)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-fuzz-\(name)-\(getpid())")
            .path
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func expand(_ s: String) -> String {
            s.replacingOccurrences(of: "{case}", with: dir).replacingOccurrences(of: "{scratch}", with: scratch)
                .replacingOccurrences(of: "{fixtures}", with: TestPaths.fixtures)
        }
        for step in c.setup ?? [] {
            let r = try CLI.run(step.map(expand))
            #expect(r.status == 0, "\(name): setup \(step.joined(separator: " ")): \(r.stderr.prefix(300))")
        }
        let args = c.command.map(expand)
        let r = try CLI.run(args)
        #expect(r.status == c.exit, "\(name) (\(c.why)): exit \(r.status), stderr: \(r.stderr.prefix(500))")
        if let s = c.stdout { #expect(r.stdout.contains(s), "\(name): stdout lacks '\(s)'") }
        if let s = c.stderr { #expect(r.stderr.contains(s), "\(name): stderr lacks '\(s)': \(r.stderr.prefix(500))") }
        if let m = c.stderrMaxBytes {
            #expect(r.stderr.utf8.count <= m, "\(name): \(r.stderr.utf8.count) bytes of stderr")
        }
        if let a = c.absent { #expect(!FileManager.default.fileExists(atPath: expand(a)), "\(name): left \(a) behind") }
    }
}
