import ArgumentParser
import QPackCalibrate
import QPackCalibration
import QPackConvert
import QPackModel
import QPackQuant

// Closed option sets: ArgumentParser checks the value, lists the choices in --help and in its
// usage error (exit 64); the commands never compare option strings.

extension KernelTarget: ExpressibleByArgument {}
extension NonFinitePolicy: ExpressibleByArgument {}
extension InputDigest: ExpressibleByArgument {}
extension BudgetSearch.Sensitivity: ExpressibleByArgument {}
extension CalibrationData.Format: ExpressibleByArgument {}

/// `--compress`: how sections are stored.
enum SectionCompression: String, CaseIterable, ExpressibleByArgument {
    case none, zstd
}

/// `--mode`: activation quantization of quantized linears whose rule does not say.
enum ActivationMode: String, CaseIterable, ExpressibleByArgument {
    case dynamic
    case `static`
}

/// `--observer`: the static range observer for rules without one.
enum ObserverChoice: String, CaseIterable, ExpressibleByArgument {
    case minmax, percentile, entropy, mse
}

/// `--search`: overrides every rule's scale search.
enum SearchChoice: String, CaseIterable, ExpressibleByArgument {
    case absmax, mse, importance

    var scaleSearch: ScaleSearch {
        switch self {
        case .absmax: return .absmax
        case .mse: return .default
        case .importance: return .importance(ratios: ScaleSearch.importanceRatios)
        }
    }
}
