/// The packing tile of a KleidiAI micro-kernel family: `nr` rows per panel, `kr` values loaded
/// per inner step, `sr` splits of `kr`; `L = kr / sr` values of one row are stored together.
public struct KleidiAITile: Sendable, Hashable, Codable, CustomStringConvertible {
    public let nr: Int
    public let kr: Int
    public let sr: Int

    public init(nr: Int, kr: Int, sr: Int) {
        self.nr = nr
        self.kr = kr
        self.sr = sr
    }

    /// Block depth: consecutive K values of one row stored contiguously.
    public var depth: Int { kr / sr }

    public var description: String { "nr=\(nr) kr=\(kr) sr=\(sr)" }
}

@inline(__always) func roundUp(_ v: Int, _ m: Int) -> Int { (v + m - 1) / m * m }
@inline(__always) func ceilDiv(_ v: Int, _ m: Int) -> Int { (v + m - 1) / m }
