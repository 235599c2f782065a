import Foundation
import QPackBinary

/// Raw outputs of a verify run (pooled embeddings, or logits per position), for `--output`.
public struct OutputTensor: Sendable {
    public let name: String
    public let shape: [Int]
    public let values: [Float]
}

/// Writes F32 tensors as a safetensors file (the format's header: a JSON object of
/// `{dtype, shape, data_offsets}` by name, in the order given, then the data back to back).
public enum SafetensorsWriter {
    public static func data(_ tensors: [OutputTensor]) -> Data {
        var header = "{"
        var offset = 0
        for (i, t) in tensors.enumerated() {
            let bytes = 4 * t.values.count
            if i > 0 { header += "," }
            header +=
                "\"\(t.name)\":{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        while (header.utf8.count + 8) % 8 != 0 { header += " " }  // writers pad the header with spaces
        var out = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        for t in tensors { out.append(contentsOf: FloatBits.littleEndianBytes(t.values)) }
        return out
    }
}
