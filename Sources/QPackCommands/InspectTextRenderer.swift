import QPackInspect

/// Renders an inspect report as aligned text that fits `width` columns.
struct InspectTextRenderer {
    var width: Int
    var showMetadata: Bool

    func render(_ r: InspectReport) -> String {
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        func field(_ label: String, _ value: String) { line(fit("  " + label.padding(14) + value)) }

        line(r.path)
        field("format", r.format + (r.version.map { " v\($0)" } ?? ""))
        if r.files.count > 1 { field("files", "\(r.files.count) (\(r.files.joined(separator: ", ")))") }
        field("file size", Units.bytes(r.fileBytes))
        field("tensors", "\(r.tensorCount)")
        field("parameters", "\(Units.count(r.parameterCount)) (\(r.parameterCount))")
        field("tensor bytes", Units.bytes(r.tensorBytes))
        for (i, t) in r.types.enumerated() {
            field(
                i == 0 ? "types" : "",
                "\(t.type.padding(6)) \(String(t.tensors).leftPad(5)) tensors  \(Units.count(t.parameters).leftPad(8)) params  \(Units.bytes(t.bytes, exact: false))"
            )
        }
        if let m = r.model {
            field("architecture", (m.architecture ?? "unknown") + (m.name.map { " (\($0))" } ?? "") + "  [\(m.source)]")
            if let v = m.blockCount { field("layers", "\(v)") }
            if let v = m.embeddingLength { field("hidden size", "\(v)") }
            if let v = m.feedForwardLength { field("ffn size", "\(v)") }
            if let v = m.headCount { field("heads", "\(v)" + (m.headCountKV.map { " (kv \($0))" } ?? "")) }
            if let v = m.contextLength { field("context", "\(v)") }
            if let v = m.vocabSize { field("vocab size", "\(v)") }
        }
        if let t = r.tokenizer {
            var parts: [String] = []
            if let m = t.model { parts.append(m) }
            if let n = t.tokens { parts.append("\(n) tokens") }
            if let n = t.merges { parts.append("\(n) merges") }
            field("tokenizer", parts.joined(separator: ", "))
            if let n = t.chatTemplateBytes, let h = t.chatTemplateSHA256 {
                field("chat template", "\(n) bytes, sha256 \(h.prefix(16))… (not rendered)")
            }
        }
        for w in r.warnings { line("  warning: " + w) }

        if showMetadata && !r.metadata.isEmpty {
            line()
            line("Metadata (\(r.metadata.count)):")
            let keyWidth = min(r.metadata.map(\.key.count).max() ?? 0, 40)
            for m in r.metadata {
                line(fit("  " + m.key.padding(keyWidth) + "  " + m.type.padding(14) + " " + m.value))
            }
        }

        line()
        let filtered = r.tensors.count == r.tensorCount ? "" : " of \(r.tensorCount)"
        line("Tensors (\(r.tensors.count)\(filtered)):")
        out += tensorTable(r.tensors)
        for t in r.tensors {
            guard let s = t.stats else { continue }
            line()
            out += statsBlock(t.name, s)
        }
        return out
    }

    private func fit(_ s: String) -> String {
        guard s.count > width else { return s }
        return String(s.prefix(max(width - 1, 0))) + "…"
    }

    private func tensorTable(_ tensors: [InspectReport.Tensor]) -> String {
        let rows = tensors.map { t in
            [
                t.name, t.type, "[" + t.shape.map(String.init).joined(separator: ", ") + "]", String(t.bytes),
                String(t.offset),
            ]
        }
        let header = ["NAME", "TYPE", "SHAPE", "BYTES", "OFFSET"]
        var widths = header.map(\.count)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        let others = widths[1...].reduce(0, +) + 2 * 4 + 2
        if width != Int.max { widths[0] = min(widths[0], max(width - others, 16)) }
        var out = ""
        func emit(_ row: [String]) {
            let name = Units.elide(row[0], to: widths[0])
            out +=
                "  " + name.padding(widths[0]) + "  " + row[1].padding(widths[1]) + "  " + row[2].padding(widths[2])
                + "  " + row[3].leftPad(widths[3]) + "  " + row[4].leftPad(widths[4]) + "\n"
        }
        emit(header)
        rows.forEach(emit)
        return out
    }

    func statsBlock(_ name: String, _ s: TensorStatistics) -> String {
        var out = "Statistics of \(name):\n"
        func f(_ v: Double?) -> String { v.map { Units.number($0) } ?? "n/a" }
        out += "  count \(s.count)   zeros \(s.zeros)   NaN \(s.nans)   Inf \(s.infinities)\n"
        out += "  min \(f(s.min))   max \(f(s.max))   absmax \(f(s.absmax))\n"
        out += "  mean \(f(s.mean))   std \(f(s.std))\n"
        let peak = s.histogram.map(\.count).max() ?? 0
        for b in s.histogram {
            let bar = peak == 0 ? 0 : Int((Double(b.count) / Double(peak) * 30).rounded(.up))
            out +=
                "  " + Units.number(b.lower).leftPad(11) + " .. " + Units.number(b.upper).leftPad(11) + " "
                + String(b.count).leftPad(10) + " " + String(repeating: "#", count: bar) + "\n"
        }
        return out
    }
}

enum Units {
    static func bytes(_ n: Int, exact: Bool = true) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        let human = u == 0 ? "\(n) B" : "\(oneDecimal(v)) \(units[u])"
        return exact && u > 0 ? "\(human) (\(n) bytes)" : human
    }

    static func count(_ n: Int) -> String {
        if n >= 1_000_000_000 { return oneDecimal(Double(n) / 1e9) + " B" }
        if n >= 1_000_000 { return oneDecimal(Double(n) / 1e6) + " M" }
        if n >= 1_000 { return oneDecimal(Double(n) / 1e3) + " K" }
        return "\(n)"
    }

    static func oneDecimal(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? "\(Int(r)).0" : "\(r)"
    }

    /// A compact decimal rendering with 6 significant digits.
    static func number(_ v: Double) -> String {
        if v == 0 { return "0" }
        // An infinite relative error (a zero source) or a NaN must print, not loop or trap.
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        let mag = abs(v)
        if mag >= 1e-4 && mag < 1e6 {
            let digits = max(0, 5 - Int(mag.log10Floor))
            return fixed(v, digits)
        }
        let e = Int(mag.log10Floor)
        let m = v / pow10(e)
        return fixed(m, 5) + "e" + (e < 0 ? "-" : "+") + String(abs(e))
    }

    private static func pow10(_ e: Int) -> Double {
        var r = 1.0
        if e >= 0 { for _ in 0..<e { r *= 10 } } else { for _ in 0..<(-e) { r /= 10 } }
        return r
    }

    private static func fixed(_ v: Double, _ digits: Int) -> String {
        let scale = pow10(digits)
        let scaled = (abs(v) * scale).rounded()
        let intPart = Int(scaled / scale)
        var frac = String(Int(scaled - Double(intPart) * scale))
        frac = String(repeating: "0", count: max(0, digits - frac.count)) + frac
        while frac.hasSuffix("0") { frac.removeLast() }
        let sign = v < 0 && scaled != 0 ? "-" : ""
        return sign + String(intPart) + (frac.isEmpty ? "" : "." + frac)
    }

    /// Shortens `s` to `n` characters by replacing its middle with "…".
    static func elide(_ s: String, to n: Int) -> String {
        guard s.count > n, n >= 5 else { return s }
        let keep = n - 1
        let head = keep / 2, tail = keep - head
        return String(s.prefix(head)) + "…" + String(s.suffix(tail))
    }
}

extension Double {
    var log10Floor: Double {
        var e = 0.0, v = self
        while v >= 10 { v /= 10; e += 1 }
        while v < 1 { v *= 10; e -= 1 }
        return e
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

extension InspectTextRenderer {
    func render(_ r: ContainerReport) -> String {
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        func field(_ label: String, _ value: String) {
            let s = "  " + label.padding(14) + value
            line(s.count > width ? String(s.prefix(width - 1)) + "…" : s)
        }
        line(r.path)
        field("format", "qpack v\(r.version), \(r.producer), target \(r.target)")
        field("file size", Units.bytes(r.fileBytes))
        field("digest", r.contentDigest)
        field("tensors", "\(r.tensorCount), \(Units.count(r.parameterCount)) parameters")
        field(
            "sections",
            "\(r.sections), \(Units.bytes(r.sectionBytes, exact: false)), every SHA-256 checked"
                + (r.storedSectionBytes != r.sectionBytes
                    ? String(format: ", stored %.1f%%", r.compressionRatio * 100) : ""))
        for (i, s) in r.schemes.enumerated() {
            let bits = s.parameters > 0 ? Double(s.bytes * 8) / Double(s.parameters) : 0
            field(
                i == 0 ? "schemes" : "",
                "\(s.type.padding(11)) \(String(s.tensors).leftPad(4)) tensors \(Units.count(s.parameters).leftPad(8)) params "
                    + String(format: "%6.2f bits/w", bits))
        }
        if let a = r.architecture {
            field("architecture", a + (r.runnable ? "" : "  (not runnable: converted with --allow-unsupported)"))
        }
        for key in r.hyperparameters.keys.sorted() {
            let s = "    \(key) = \(r.hyperparameters[key]!)"
            line(s.count > width ? String(s.prefix(width - 1)) + "…" : s)
        }
        if !r.config.isEmpty {
            // Wrapped to the width: every value matters.
            let indent = String(repeating: " ", count: 16)
            var current = "  " + "config".padding(14), itemsOnLine = 0
            for key in r.config.keys.sorted() {
                let item = "\(key) \(r.config[key]!)"
                if itemsOnLine > 0 && current.count + item.count + 2 > width {
                    line(current + ",")
                    (current, itemsOnLine) = (indent, 0)
                } else if itemsOnLine > 0 {
                    current += ", "
                }
                current += item
                itemsOnLine += 1
            }
            line(current)
        }
        if let t = r.tokenizer { field("tokenizer", t) }
        line()
        line("Tensors (\(r.tensors.count)\(r.tensors.count == r.tensorCount ? "" : " of \(r.tensorCount)")):")
        let rows = r.tensors.map { t in
            [
                t.name, t.scheme + (t.activation != nil ? "/static" : ""),
                t.matrix.map { "\($0[0])x\($0[1])" } ?? "[" + t.shape.map(String.init).joined(separator: ",") + "]",
                String(t.bytes),
            ]
        }
        let header = ["NAME", "SCHEME", "SHAPE", "BYTES"]
        var widths = header.map(\.count)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        if width != Int.max { widths[0] = min(widths[0], max(width - (widths[1...].reduce(0, +) + 2 * 3 + 2), 16)) }
        for row in [header] + rows {
            line(
                "  " + Units.elide(row[0], to: widths[0]).padding(widths[0]) + "  " + row[1].padding(widths[1]) + "  "
                    + row[2].padding(widths[2]) + "  " + row[3].leftPad(widths[3]))
        }
        for t in r.tensors {
            if let l = t.layout, t.stats != nil { line(); line("\(t.name): \(t.scheme), \(l), rule \(t.rule)") }
            if let a = t.activation, t.stats != nil {
                line(
                    "  static activations: \(a.observer) range [\(a.min), \(a.max)]"
                        + (a.smoothing.map { ", smoothed (alpha \($0))" } ?? ""))
            }
            if let e = t.error {
                line(
                    "  vs source: rmse \(Units.number(e.rmse))   max error \(Units.number(e.maxAbsError))   relative rmse \(Units.number(e.relativeRMSE))"
                )
                line(
                    "             SNR \(e.snrDB.isFinite ? String(format: "%.2f dB", e.snrDB) : "exact")   cosine \(String(format: "%.6f", e.cosine))"
                )
            }
            if let s = t.stats {
                if t.layout == nil { line(); line("\(t.name): \(t.scheme)") }
                out += statsBlock(t.name, s).split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
                    .joined(separator: "\n")
            }
        }
        return out
    }
}
