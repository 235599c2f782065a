/// Reads little-endian values from a byte buffer, checking bounds before every load.
/// Offsets are absolute within the buffer so errors can report where they happened.
public struct ByteCursor {
    public let buffer: UnsafeRawBufferPointer
    public private(set) var offset: Int

    public struct OutOfBounds: Error, Sendable, Equatable {
        /// Where the read started.
        public let offset: Int
        /// How many bytes it needed.
        public let needed: Int
        /// How many were left.
        public let available: Int
    }

    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    public var remaining: Int { buffer.count - offset }

    public mutating func require(_ count: Int) throws(OutOfBounds) {
        guard count >= 0, count <= remaining else {
            throw OutOfBounds(offset: offset, needed: count, available: remaining)
        }
    }

    public mutating func readLE<T: FixedWidthInteger>(_: T.Type = T.self) throws(OutOfBounds) -> T {
        try require(MemoryLayout<T>.size)
        let v = buffer.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    public mutating func readFloat32() throws(OutOfBounds) -> Float {
        Float(bitPattern: try readLE(UInt32.self))
    }

    public mutating func readFloat64() throws(OutOfBounds) -> Double {
        Double(bitPattern: try readLE(UInt64.self))
    }

    /// Returns a view of the next `count` bytes and advances past them.
    public mutating func readBytes(_ count: Int) throws(OutOfBounds) -> UnsafeRawBufferPointer {
        try require(count)
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
        offset += count
        return slice
    }

    public mutating func skip(_ count: Int) throws(OutOfBounds) {
        try require(count)
        offset += count
    }
}
