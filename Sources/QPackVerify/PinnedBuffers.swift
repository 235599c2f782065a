import CQPackRuntime
import QPackContainer
import QPackConvert

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

extension qp_linear {
    /// Static activation range (and smoothing divisors) from the container, when the tensor
    /// has them; the divisors are kept alive by `pinned`.
    mutating func applyActivation(_ t: ContainerFile.Tensor, in file: ContainerFile, pinned: PinnedBuffers)
        throws(ContainerError)
    {
        guard let a = t.activation else { return }
        activation = QP_ACTIVATION_STATIC
        activation_min = a.min
        activation_max = a.max
        if let d = try ContainerTensorDecoder.divisors(t, in: file) {
            guard d.count == k else {
                throw ContainerError(
                    .malformed, file: file.fileName, subject: "tensor '\(t.name)'",
                    "\(d.count) smoothing divisors for K = \(k)")
            }
            activation_divisor = pinned.keep(d)
        }
    }
}
