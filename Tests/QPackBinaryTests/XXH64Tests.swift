import Testing
import QPackTestSupport
@testable import QPackBinary

@Suite struct XXH64Tests {
    @Test func knownVector() {
        #expect(XXH64.hash([UInt8]()) == 0xEF46_DB37_51D8_E999)  // xxHash's documented empty-input value
    }

    /// Every length up to 69 and a few larger ones, three seeds, against the PyPI xxhash package.
    @Test func matchesTheReferenceImplementation() throws {
        let doc = try TestPaths.json(TestPaths.fixture("hash/xxh64.json"))
        let data = (0..<4096).map { UInt8(($0 * 131 + 7) % 251) }
        var checked = 0
        for c in doc["cases"]!.items {
            let n = c["length"]!.int!, seed = UInt64(c["seed"]!.string!)!
            #expect(
                XXH64.hex(XXH64.hash(Array(data.prefix(n)), seed: seed)) == c["xxh64"]!.string!,
                "length \(n) seed \(seed)")
            checked += 1
        }
        #expect(checked == 225)
    }

    /// Pieces of every size (including empty ones and pieces that leave 1..31 bytes buffered)
    /// give the one-shot hash, which the reference vectors above pin.
    @Test func streamingEqualsOneShot() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let n = Int(rng.next() % 700)
            let data = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let seed = rng.next() % 3 == 0 ? rng.next() : 0
            var h = XXH64.Streaming(seed: seed)
            var at = 0
            while at < n {
                let piece = min(n - at, Int(rng.next() % 70))
                data.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[at..<(at + piece)])) }
                at += piece
            }
            #expect(h.digest() == XXH64.hash(data, seed: seed), "length \(n)")
        }
    }

    /// Two streams updated together give what each gives alone, whatever their buffered
    /// phases and lengths (including empty pieces and one stream running out first).
    @Test func pairedUpdatesEqualSeparateOnes() {
        var rng = SplitMix64(seed: 9)
        let data = (0..<5000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for _ in 0..<300 {
            var a = XXH64.Streaming(), b = XXH64.Streaming(seed: 5)
            var refA = XXH64.Streaming(), refB = XXH64.Streaming(seed: 5)
            for _ in 0..<Int(rng.next() % 6) {
                let (oa, na) = (Int(rng.next() % 2000), Int(rng.next() % 600))
                let (ob, nb) = (Int(rng.next() % 2000), rng.next() % 2 == 0 ? na : Int(rng.next() % 600))
                data.withUnsafeBytes { raw in
                    let pa = UnsafeRawBufferPointer(rebasing: raw[oa..<(oa + na)]),
                        pb = UnsafeRawBufferPointer(rebasing: raw[ob..<(ob + nb)])
                    a.update(pa, alongside: &b, pb)
                    refA.update(pa)
                    refB.update(pb)
                }
            }
            #expect(a.digest() == refA.digest() && b.digest() == refB.digest())
        }
    }
}
