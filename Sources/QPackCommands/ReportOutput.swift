import ArgumentParser
import Foundation

/// How the reporting commands print JSON and treat outputs that are not numbers.
enum ReportOutput {
    /// Pretty, sorted, snake_case JSON; NaN and infinities as the strings "nan", "inf", "-inf"
    /// (a report on a diverging model still prints).
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Fails (exit 1) when either model produced NaN or infinite outputs on some sample: no
    /// threshold can pass on numbers that are not there. `what` names the outputs ("logits").
    static func requireFinite(
        file: String, what: String, samples: [(text: String, float: Int, packed: Int)]
    ) throws(ExitCode) {
        guard let bad = samples.first(where: { $0.float > 0 || $0.packed > 0 }) else { return }
        let model = bad.float > 0 ? "float (source)" : "packed"
        let count = bad.float > 0 ? bad.float : bad.packed
        printError(
            "\(file): the \(model) model yields \(count) NaN or infinite \(what) on \"\(bad.text)\""
                + (bad.float > 0 ? " (the source itself diverges on this input)" : "")
                + "; nothing to compare, verification failed")
        throw QPackExit.verificationFailed
    }
}
