#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Shell-style name patterns (`*`, `?`, `[...]`), as fnmatch(3) without flags: `*` also
/// matches dots, so `blk.*.attn_q.weight` selects every layer.
public struct NameGlob: Sendable, Equatable {
    public let pattern: String

    public init(_ pattern: String) { self.pattern = pattern }

    public func matches(_ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }

    /// True when `name` matches any pattern, or when there are no patterns.
    public static func any(_ globs: [NameGlob], match name: String) -> Bool {
        globs.isEmpty || globs.contains { $0.matches(name) }
    }
}
