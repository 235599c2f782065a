#if canImport(Glibc)
    import Glibc
#endif

/// A one-line progress bar on standard error, shown only on a terminal and not with --quiet.
final class ProgressBar {
    private let enabled: Bool
    private let label: String
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
        emit("\r\u{1B}[2K\(label) [\(bar)] \(done)/\(total) \(name)")
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
