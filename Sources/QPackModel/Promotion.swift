/// One step of a budget search: what the rules gave, what the search chose, and the numbers.
public struct Promotion: Sendable, Hashable, Codable {
    public let from: String
    public let to: String
    /// The step (1-based) at which the search promoted this tensor.
    public let step: Int
    /// The measured harm that ranked it: the end-to-end metric with only this tensor quantized
    /// by its rule's scheme (KL or 1 − cosine) on the calibration data.
    public let sensitivity: Double
    /// The end-to-end metric of the whole model after this step.
    public let metricAfter: Double

    public init(from: String, to: String, step: Int, sensitivity: Double, metricAfter: Double) {
        self.from = from
        self.to = to
        self.step = step
        self.sensitivity = sensitivity
        self.metricAfter = metricAfter
    }
}
