import CQPackRuntime

/// A model the C runtime opened from a `.qpack` (`qp_model_open`): the packed graphs verify,
/// eval, calibration and the budget search run are the ones a C application gets, built by the
/// same loader from the container alone. Closed when the last graph using it goes.
final class RuntimeModelHandle {
    let pointer: OpaquePointer

    init(path: String) throws(BERTModel.LoadError) {
        var model: OpaquePointer?
        var message = [CChar](repeating: 0, count: 1024)
        guard qp_model_open(path, nil, &model, &message, message.count) == QP_OK, let model else {
            throw BERTModel.LoadError(
                description: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        pointer = model
    }

    deinit { qp_model_close(pointer) }

    var description: qp_model_description {
        var d = qp_model_description()
        _ = qp_model_describe(pointer, &d)
        return d
    }
}
