import CZstd
import QPackModel

/// zstd compression for container sections, with the safety rules of qpack's bad-input
/// checklist: frames carry a content checksum, decompression is sized only by the size the
/// caller declares (never by the frame header), the window is capped, and the input must be
/// exactly one frame with nothing after it.
public enum Zstd {
    public static let maxWindowLog: Int32 = 27
    /// The most a zstd frame can expand: every block holds at most 128 KiB and takes at least
    /// 4 bytes (a 3-byte header and one RLE byte). A size declared beyond `stored x 32768` is a lie.
    public static let maxExpansion = 32768

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// One frame with the content size and a content checksum.
    public static func compress(_ input: [UInt8], level: Int32 = 3) throws(Failure) -> [UInt8] {
        guard let cctx = ZSTD_createCCtx() else {
            throw Failure(message: "zstd: cannot allocate a compression context")
        }
        defer { ZSTD_freeCCtx(cctx) }
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, min(maxWindowLog, 23))
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = out.withUnsafeMutableBytes { o in
            input.withUnsafeBytes { i in ZSTD_compress2(cctx, o.baseAddress, o.count, i.baseAddress, i.count) }
        }
        if ZSTD_isError(n) != 0 { throw Failure(message: "zstd: " + String(cString: ZSTD_getErrorName(n))) }
        out.removeSubrange(n...)
        return out
    }

    /// Decompresses exactly one frame into exactly `declaredSize` bytes.
    public static func decompress(_ frame: UnsafeRawBufferPointer, declaredSize: Int) throws(Failure) -> [UInt8] {
        guard declaredSize >= 0 else { throw Failure(message: "negative declared size") }
        guard declaredSize / maxExpansion <= frame.count else {
            throw Failure(
                message: "zstd: \(declaredSize) bytes declared from a \(frame.count)-byte frame, "
                    + "more than zstd can expand to (\(maxExpansion) x)")
        }
        let frameSize = ZSTD_findFrameCompressedSize(frame.baseAddress, frame.count)
        if ZSTD_isError(frameSize) != 0 {
            throw Failure(message: "zstd: not a complete frame: " + String(cString: ZSTD_getErrorName(frameSize)))
        }
        guard frameSize == frame.count else {
            throw Failure(message: "zstd: \(frame.count - frameSize) bytes follow the frame")
        }
        let contentSize = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        // ZSTD_CONTENTSIZE_UNKNOWN / ZSTD_CONTENTSIZE_ERROR are the two largest UInt64 values.
        guard contentSize < UInt64.max - 1 else {
            throw Failure(message: "zstd: frame does not declare its content size")
        }
        guard contentSize == UInt64(declaredSize) else {
            throw Failure(message: "zstd: frame declares \(contentSize) bytes, expected \(declaredSize)")
        }
        guard let dctx = ZSTD_createDCtx() else {
            throw Failure(message: "zstd: cannot allocate a decompression context")
        }
        defer { ZSTD_freeDCtx(dctx) }
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, maxWindowLog)
        // The output grows as the frame really decodes (never allocated up front from the
        // declaration): a frame that fails early costs what it produced.
        var out: [UInt8] = []
        out.reserveCapacity(min(declaredSize, 1 << 24))
        var chunk = [UInt8](repeating: 0, count: 1 << 17)
        var inBuf = ZSTD_inBuffer(src: frame.baseAddress, size: frame.count, pos: 0)
        var result = 0
        while true {
            let (r, produced) = chunk.withUnsafeMutableBytes { c -> (Int, Int) in
                var outBuf = ZSTD_outBuffer(dst: c.baseAddress, size: c.count, pos: 0)
                let r = ZSTD_decompressStream(dctx, &outBuf, &inBuf)
                return (r, outBuf.pos)
            }
            if ZSTD_isError(r) != 0 {
                result = r
                break
            }
            guard out.count + produced <= declaredSize else {
                result = -1
                break
            }
            out.append(contentsOf: chunk[0..<produced])
            if r == 0 {
                result = out.count == declaredSize ? 0 : -1
                break
            }
            // The frame wants more input than there is: truncated.
            if produced == 0 && inBuf.pos == inBuf.size {
                result = -1
                break
            }
        }
        if result == -1 {
            throw Failure(message: "zstd: decompressed size differs from the declared \(declaredSize) bytes")
        }
        if result != 0 { throw Failure(message: "zstd: " + String(cString: ZSTD_getErrorName(result))) }
        return out
    }

    public static func decompress(_ frame: [UInt8], declaredSize: Int) throws(Failure) -> [UInt8] {
        let r: Result<[UInt8], Failure> = frame.withUnsafeBytes { raw in
            do throws(Failure) { return .success(try decompress(raw, declaredSize: declaredSize)) } catch {
                return .failure(error)
            }
        }
        return try r.get()
    }
}

extension Zstd.Failure: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
