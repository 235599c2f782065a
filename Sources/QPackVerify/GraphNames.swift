import QPackModel

extension ModelArchitecture {
    /// The source name of the tensor in `slot` (in `layer`) under `naming`: the graphs ask the
    /// descriptor, so tensor names live in one place. A slot the naming lacks gives "" (no tensor
    /// has that name).
    func tensorName(_ slot: String, layer: Int? = nil, naming: TensorNaming) -> String {
        guard let s = slots.first(where: { $0.name == slot }) else { return "" }
        return sourceName(of: s, layer: layer, naming: naming) ?? ""
    }

    /// A linear's name without `.weight`, the stem its `.bias` shares.
    func linearStem(_ slot: String, layer: Int? = nil, naming: TensorNaming) -> String {
        String(tensorName(slot + ".weight", layer: layer, naming: naming).dropLast(".weight".count))
    }
}
