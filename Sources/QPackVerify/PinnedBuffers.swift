/// Weight copies the C graphs point into: 64-byte aligned, alive as long as their model.
final class PinnedBuffers {
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    deinit { for b in buffers { b.deallocate() } }

    func keep(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer {
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if bytes.count > 0 { b.copyMemory(from: bytes) }
        buffers.append(b)
        return UnsafeRawPointer(b.baseAddress!)
    }

    func keep(_ floats: [Float]) -> UnsafePointer<Float> {
        floats.withUnsafeBytes { keep($0) }.assumingMemoryBound(to: Float.self)
    }
}
