import QPackBinary
import QPackModel

extension ContainerFile.Tensor {
    /// The tensor's manifest object (Formats/qpack-container.md §4.5), members in the spec's
    /// order: the one encoder of a tensor entry (ManifestParser is the one decoder). Optional
    /// members appear only when set, so files without them keep their bytes.
    public var manifestJSON: JSONOut {
        var members: [(String, JSONOut)] = [
            ("name", .string(name)), ("role", .string(role)), ("layer", layer.map { .int($0) } ?? .null),
        ]
        if let slot { members.append(("slot", .string(slot))) }
        members += [
            ("source_type", .string(sourceType)), ("shape", .array(shape.map { .int($0) })),
            ("matrix", matrix.map { .array([.int($0.rows), .int($0.columns)]) } ?? .null),
            ("scheme", .string(scheme.name)), ("rule", .string(rule)), ("section", .string(section)),
            ("source_xxh64", .string(sourceXXH64)), ("source_bytes", .int(sourceBytes)),
            (
                "layout",
                layout.map { l in
                    .object(
                        [("id", .string(l.id)), ("nr", .int(l.nr)), ("kr", .int(l.kr)), ("sr", .int(l.sr))]
                            + (l.blockLength.map { [("bl", JSONOut.int($0))] } ?? []))
                } ?? .null
            ),
            (
                "quantization",
                quantization.map { q in
                    .object([
                        ("scale_dtype", .string(q.scaleType)), ("scale_rounding", .string(q.scaleRounding)),
                        ("search", .string(q.search)), ("nan", .string(q.nan.rawValue)),
                    ])
                } ?? .null
            ),
        ]
        if let referenceSection { members.append(("reference_section", .string(referenceSection))) }
        if let a = activation {
            var act: [(String, JSONOut)] = [
                ("mode", .string("static")), ("observer", .string(a.observer)), ("min", .float(a.min)),
                ("max", .float(a.max)),
            ]
            if let sm = a.smoothing {
                act.append(("smoothing", .object([("alpha", .double(sm.alpha)), ("section", .string(sm.section))])))
            }
            members.append(("activation", .object(act)))
        }
        if let p = promotion {
            members.append(
                (
                    "promotion",
                    .object([
                        ("from", .string(p.from)), ("to", .string(p.to)), ("step", .int(p.step)),
                        ("sensitivity", .double(p.sensitivity)), ("metric_after", .double(p.metricAfter)),
                    ])
                ))
        }
        return .object(members)
    }
}
