/// Little-endian IEEE float storage that decodes to Float exactly, element by element: what a
/// quantizer can read straight from a checkpoint's bytes.
public enum PlainFloatEncoding: Sendable, Hashable {
    case f32
    case f16
    case bf16

    public var byteWidth: Int { self == .f32 ? 4 : 2 }
}
