import Testing
@testable import QPackCompression

@Suite struct ZstdTests {
    let sample: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: ($0 * 7919) >> 3) }

    @Test func roundTripsWithTheDeclaredSize() throws {
        let frame = try Zstd.compress(sample)
        #expect(frame.count < sample.count)
        #expect(try Zstd.decompress(frame, declaredSize: sample.count) == sample)
    }

    @Test func rejectsAWrongDeclaredSize() throws {
        let frame = try Zstd.compress(sample)
        #expect(throws: Zstd.Failure.self) { try Zstd.decompress(frame, declaredSize: sample.count - 1) }
        #expect(throws: Zstd.Failure.self) { try Zstd.decompress(frame, declaredSize: sample.count + 1) }
    }

    @Test func rejectsABombBeforeAllocatingIt() throws {
        // 64 MiB of zeros compresses to a few KiB; declaring 4 KiB must fail on the header.
        let frame = try Zstd.compress([UInt8](repeating: 0, count: 64 << 20))
        #expect(frame.count < 64 << 10)
        #expect { try Zstd.decompress(frame, declaredSize: 4096) } throws: {
            ($0 as? Zstd.Failure)?.message.contains("expected 4096") == true
        }
    }

    /// The expansion bound holds for the libzstd's own best case (zeros at its strongest levels,
    /// compressed by the library, not by qpack's reasoning), and a claim beyond it is refused.
    @Test func noRealFrameExceedsTheExpansionBound() throws {
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        for level: Int32 in [1, 3, 19, 22] {
            let frame = try Zstd.compress(zeros, level: level)
            #expect(frame.count * Zstd.maxExpansion >= zeros.count, "level \(level): \(frame.count) bytes")
            #expect(try Zstd.decompress(frame, declaredSize: zeros.count).count == zeros.count)
        }
        let frame = try Zstd.compress([UInt8](repeating: 0, count: 1 << 20))
        #expect { try Zstd.decompress(frame, declaredSize: (frame.count + 1) * Zstd.maxExpansion) } throws: {
            ($0 as? Zstd.Failure)?.message.contains("more than zstd can expand to") == true
        }
    }

    @Test func rejectsTrailingBytesAndSecondFrames() throws {
        let frame = try Zstd.compress(sample)
        #expect(throws: Zstd.Failure.self) { try Zstd.decompress(frame + [0], declaredSize: sample.count) }
        #expect(throws: Zstd.Failure.self) { try Zstd.decompress(frame + frame, declaredSize: sample.count) }
        #expect(throws: Zstd.Failure.self) { try Zstd.decompress(Array(frame.dropLast()), declaredSize: sample.count) }
    }

    @Test func detectsEveryByteFlipInTheFrameBody() throws {
        let small: [UInt8] = Array("qpack packs weights for Arm CPUs. ".utf8) + (0..<200).map { UInt8($0) }
        let frame = try Zstd.compress(small)
        var undetected = 0
        for i in 0..<frame.count {
            var bad = frame
            bad[i] ^= 0x5A
            if let out = try? Zstd.decompress(bad, declaredSize: small.count), out != small { undetected += 1 }
        }
        #expect(undetected == 0)
    }
}
