import Dispatch
import Foundation

/// Computes `work(i)` for i in 0..<count on background threads, at most `window` ahead of the
/// consumer, and hands results out strictly in index order. A failure is reported at its index;
/// `cancel` stops scheduling new work.
final class OrderedPipeline<R: Sendable>: @unchecked Sendable {
    private let count: Int
    private let window: Int
    private let work: @Sendable (Int) throws(ConvertError) -> R
    private let condition = NSCondition()
    private var results: [Int: Result<R, ConvertError>] = [:]
    private var next = 0
    private var consumed = 0
    private var cancelled = false

    init(count: Int, window: Int, work: @escaping @Sendable (Int) throws(ConvertError) -> R) {
        self.count = count
        self.window = max(1, window)
        self.work = work
        condition.lock()
        scheduleLocked()
        condition.unlock()
    }

    /// Starts work until `window` items are in flight or waiting to be consumed.
    private func scheduleLocked() {
        while !cancelled && next < count && next < consumed + window {
            let i = next
            next += 1
            DispatchQueue.global().async { [self] in
                let r: Result<R, ConvertError>
                do throws(ConvertError) { r = .success(try work(i)) } catch { r = .failure(error) }
                condition.lock()
                results[i] = r
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// Waits for item `i` (consume in order) and returns it or throws its error.
    func result(_ i: Int) throws(ConvertError) -> R {
        condition.lock()
        while results[i] == nil { condition.wait() }
        let r = results.removeValue(forKey: i)!
        consumed = i + 1
        if case .failure = r { cancelled = true } else { scheduleLocked() }
        condition.unlock()
        return try r.get()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.unlock()
    }
}
