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
        let c = try JSONDecoder().decode(Case.self, from: data)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-fuzz-\(name)-\(getpid())")
            .path
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let args = c.command.map {
            $0.replacingOccurrences(of: "{case}", with: dir).replacingOccurrences(
                of: "{fixtures}", with: TestPaths.fixtures
            )
            .replacingOccurrences(of: "{scratch}", with: scratch)
        }
        let r = try CLI.run(args)
        #expect(r.status == c.exit, "\(name) (\(c.why)): exit \(r.status), stderr: \(r.stderr.prefix(500))")
        if let s = c.stdout { #expect(r.stdout.contains(s), "\(name): stdout lacks '\(s)'") }
        if let s = c.stderr { #expect(r.stderr.contains(s), "\(name): stderr lacks '\(s)': \(r.stderr.prefix(500))") }
    }
}
