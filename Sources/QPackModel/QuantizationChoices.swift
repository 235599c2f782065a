/// How a tensor's scales are searched, as rules, plans and manifests name it; QPackQuant's
/// `ScaleSearch` carries the grids.
public enum SearchMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// scale = absmax / qmax (KleidiAI's reference rule).
    case absmax
    /// The clip search minimising the squared error.
    case mse
    /// The clip search weighted by calibration's mean x² per input channel.
    case importance
}

/// What to do with NaN or ±Inf in a weight.
public enum NonFinitePolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Refuse the tensor, naming the index (the default).
    case error
    /// Replace the value by 0 and go on.
    case zero
}
