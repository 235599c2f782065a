#if canImport(Glibc)
    import Glibc
#endif

/// A one-line progress bar on standard error, shown only on a terminal and not with --quiet,
/// with an estimate of the time left once an item is done.
final class ProgressBar {
    private let enabled: Bool
    private let label: String
    private let start = ContinuousClock.now
    private var lastDrawn = -1

    init(label: String, quiet: Bool) {
        self.label = label
        enabled = !quiet && isatty(STDERR_FILENO) == 1
    }

    func update(done: Int, total: Int, item: String) {
        guard enabled, total > 0 else { return }
        let percent = done * 100 / total
        guard percent != lastDrawn || done == total else { return }
        lastDrawn = percent
        let width = 24
        let filled = done * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var name = item
        if name.count > 30 { name = "…" + name.suffix(29) }
        let elapsed = start.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let left = Self.timeLeft(elapsed: seconds, done: done, total: total).map { ", \($0)" } ?? ""
        emit("\r\u{1B}[2K\(label) [\(bar)] \(done)/\(total)\(left) \(name)")
    }

    /// The time the remaining items take at the pace of the done ones ("42s left", "3m05s left",
    /// "1h02m left"); nil before the first item or after the last.
    static func timeLeft(elapsed: Double, done: Int, total: Int) -> String? {
        guard done > 0, done < total, elapsed.isFinite, elapsed >= 0 else { return nil }
        guard let left = Int(exactly: (elapsed * Double(total - done) / Double(done)).rounded()) else { return nil }
        if left < 60 { return "\(left)s left" }
        func twoDigits(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        if left < 3600 { return "\(left / 60)m\(twoDigits(left % 60))s left" }
        return "\(left / 3600)h\(twoDigits(left / 60 % 60))m left"
    }

    func finish() {
        guard enabled, lastDrawn >= 0 else { return }
        emit("\r\u{1B}[2K")
    }

    private func emit(_ s: String) {
        var text = s
        text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

/// The terminal text output goes to.
enum Terminal {
    /// Columns of the terminal on stdout; 80 when stdout is not a terminal.
    static var columns: Int {
        guard isatty(STDOUT_FILENO) == 1 else { return 80 }
        var size = winsize()
        // TIOCGWINSZ (Linux); a failed query keeps 80.
        if ioctl(STDOUT_FILENO, UInt(0x5413), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}
