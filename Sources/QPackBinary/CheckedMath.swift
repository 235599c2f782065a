/// Overflow-checked arithmetic for values that come from files. Each returns nil on overflow
/// so callers turn it into a format error that names the field.
public enum Checked {
    public static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    public static func mul(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    /// Product of non-negative factors, checked at every step (never the whole product first).
    public static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0, let next = mul(p, f) else { return nil }
            p = next
        }
        return p
    }

    /// Rounds `value` up to a multiple of the power of two `alignment`, or nil if that wraps.
    public static func alignUp(_ value: Int, to alignment: Int) -> Int? {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        guard let v = add(value, alignment - 1) else { return nil }
        return v & ~(alignment - 1)
    }

    /// Converts a UInt64 read from a file into an Int, or nil if it does not fit.
    public static func int(_ v: UInt64) -> Int? {
        v <= UInt64(Int.max) ? Int(v) : nil
    }
}
