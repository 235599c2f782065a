/// Which tensor names qpack accepts. Names become identifiers, log lines and maybe paths, so
/// the rules are stricter than either format's (BAD-INPUTS S29, G13, G16).
public enum TensorNameRules {
    public static let maxBytes = 512

    /// Returns why `name` is not acceptable, or nil if it is.
    public static func problem(with name: String, maxBytes: Int = maxBytes) -> String? {
        if name.isEmpty { return "empty tensor name" }
        let count = name.utf8.count
        if count > maxBytes { return "tensor name of \(count) bytes exceeds the limit of \(maxBytes)" }
        for s in name.unicodeScalars {
            if s.value < 0x20 || s.value == 0x7F || (0x80...0x9F).contains(s.value) {
                return
                    "tensor name contains control character U+\(String(s.value, radix: 16, uppercase: true).leftPad4)"
            }
            if s == "/" || s == "\\" { return "tensor name contains a path separator '\(s)'" }
        }
        if name == "__metadata__" { return "'__metadata__' is reserved and cannot name a tensor" }
        return nil
    }
}

extension String {
    var leftPad4: String { count >= 4 ? self : String(repeating: "0", count: 4 - count) + self }
}
