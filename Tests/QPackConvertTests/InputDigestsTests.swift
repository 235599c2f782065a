import Foundation
import Testing
import QPackBinary
import QPackTestSupport
@testable import QPackConvert

/// The one-pass reader of input files: file digests and tensor checksums equal the one-shot
/// hashes of the same bytes, across mapping windows and hashing slices (made small here so a
/// small file crosses many of both), for tensors at any offset, touching, nested or empty.
@Suite struct InputDigestsTests {
    @Test(arguments: [InputDigest.xxh64, .sha256])
    func matchesOneShotHashes(digest: InputDigest) throws {
        var rng = SplitMix64(seed: 77)
        let bytes = (0..<100_003).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "qpack-digests-\(getpid())-\(digest.rawValue).bin"
        ).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var ranges: [InputDigests.TensorRange] = [
            .init(name: "empty", offset: 500, count: 0), .init(name: "all", offset: 0, count: bytes.count),
        ]
        var at = 37
        for i in 0..<40 {
            let n = Int(rng.next() % 5000)
            guard at + n <= bytes.count else { break }
            ranges.append(.init(name: "t\(i)", offset: at, count: n))
            at += n + (i % 3 == 0 ? 0 : Int(rng.next() % 300))
        }
        ranges.append(.init(name: "nested", offset: ranges[5].offset + 3, count: 4000))
        for (window, slice) in [(8192, 100), (4096, 4096), (16384, 7777)] {
            let d = InputDigests(
                paths: [path], digest: digest, tensors: [path.split(separator: "/").last.map(String.init)!: ranges],
                window: window, slice: slice)
            let (inputs, checksums) = try d.wait()
            let expected = digest == .xxh64 ? XXH64.hex(XXH64.hash(bytes)) : SHA256.hex(SHA256.hash(bytes))
            #expect(inputs.count == 1)
            #expect(
                inputs[0].text().contains("\"\(digest.rawValue)\":\"\(expected)\""), "window \(window) slice \(slice)")
            for r in ranges {
                #expect(
                    checksums[r.name] == XXH64.hex(XXH64.hash(Array(bytes[r.offset..<(r.offset + r.count)]))),
                    "\(r.name) window \(window) slice \(slice)")
            }
        }
    }
}
