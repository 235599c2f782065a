import Testing
import QPackTestSupport
@testable import QPackBinary

@Suite(.serialized) struct SHA256Tests {
    // FIPS 180-4 / NIST CAVP example vectors.
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ]

    @Test(arguments: [false, true])
    func nistVectors(_ portable: Bool) {
        SHA256.forcePortable(portable)
        defer { SHA256.forcePortable(false) }
        for (message, digest) in Self.vectors {
            #expect(SHA256.hex(SHA256.hash(Array(message.utf8))) == digest)
            #expect(SHA256.hex(SHA256Reference.hash(Array(message.utf8))) == digest)
        }
    }

    @Test(arguments: [false, true])
    func millionAsInUnevenChunks(_ portable: Bool) {
        SHA256.forcePortable(portable)
        defer { SHA256.forcePortable(false) }
        var h = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 999)
        var fed = 0
        while fed < 1_000_000 {
            let n = min(chunk.count, 1_000_000 - fed)
            h.update(Array(chunk.prefix(n)))
            fed += n
        }
        #expect(SHA256.hex(h.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The C implementation (hardware and portable paths) agrees with the plain Swift one on
    /// every length from 0 to 1,100 bytes and on a few large random inputs.
    @Test func bothPathsAgreeWithTheSwiftReference() {
        var g = SplitMix64(seed: 5)
        let data = (0..<300_000).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        var lengths = Array(0...1100)
        lengths += [4095, 4096, 65_537, 300_000]
        for n in lengths {
            let slice = Array(data.prefix(n))
            let want = SHA256Reference.hash(slice)
            SHA256.forcePortable(true)
            let portable = SHA256.hash(slice)
            SHA256.forcePortable(false)
            #expect(SHA256.hash(slice) == want, "length \(n)")
            #expect(portable == want, "length \(n) (portable)")
        }
    }
}
