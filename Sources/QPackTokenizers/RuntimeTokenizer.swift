import CQPackRuntime

/// One C tokenizer of the runtime (`qp_tokenizer.h`): the single implementation qpack and C apps
/// share. Immutable once made, so safe to use from several threads.
final class RuntimeTokenizer: @unchecked Sendable {
    let handle: OpaquePointer

    struct Failure: Error, Sendable, CustomStringConvertible {
        let description: String
    }

    private init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { qp_tokenizer_free(handle) }

    static func make(_ create: (UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<CChar>, Int) -> qp_status)
        throws(Failure) -> RuntimeTokenizer
    {
        var out: OpaquePointer?
        var message = [CChar](repeating: 0, count: 512)
        let status = message.withUnsafeMutableBufferPointer { create(&out, $0.baseAddress!, $0.count) }
        guard status == QP_OK, let out else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw Failure(description: text.isEmpty ? String(cString: qp_status_string(status)) : text)
        }
        return RuntimeTokenizer(out)
    }

    var vocabularySize: Int { qp_tokenizer_vocab_size(handle) }

    var textRefusal: String? { qp_tokenizer_text_unsupported(handle).map { String(cString: $0) } }

    /// Ids of `text`; empty when the tokenizer cannot encode text (`textRefusal`).
    func encode(_ text: String, special: Bool) -> [Int] {
        let length = text.utf8.count
        var ids = [Int32](repeating: 0, count: 4 * length + 2)
        var count = 0
        let flags = special ? UInt32(QP_ENCODE_SPECIAL) : 0
        let status = text.withCString { bytes in
            ids.withUnsafeMutableBufferPointer {
                qp_tokenizer_encode(handle, bytes, length, flags, $0.baseAddress, $0.count, &count, nil, 0)
            }
        }
        guard status == QP_OK else { return [] }
        return ids.prefix(count).map(Int.init)
    }

    /// The bytes of ids (out-of-range ids are left out).
    func decodeBytes(_ ids: [Int], skipSpecial: Bool) -> [UInt8] {
        let valid = ids.filter { $0 >= 0 && $0 < vocabularySize }.map(Int32.init)
        var length = 0
        let flags = skipSpecial ? UInt32(QP_DECODE_SKIP_SPECIAL) : 0
        _ = valid.withUnsafeBufferPointer {
            qp_tokenizer_decode(handle, $0.baseAddress, $0.count, flags, nil, 0, &length)
        }
        var bytes = [CChar](repeating: 0, count: max(length, 1))
        _ = valid.withUnsafeBufferPointer { ids in
            bytes.withUnsafeMutableBufferPointer { out in
                qp_tokenizer_decode(handle, ids.baseAddress, ids.count, flags, out.baseAddress, out.count, &length)
            }
        }
        return bytes.prefix(length).map { UInt8(bitPattern: $0) }
    }

    /// Strings in a container section's layout: u32 little-endian length, then the bytes.
    static func lengthPrefixed(_ strings: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for s in strings {
            let n = UInt32(s.utf8.count)
            out += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
            out += s.utf8
        }
        return out
    }
}
