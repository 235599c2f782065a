import QPackBinary
import QPackCompression
import QPackModel
import QPackPacking

/// Reads the section and tensor tables of a manifest with the checks of the spec's §6.
struct ManifestParser {
    let manifest: JSONNode
    let fail: (String, Int?, String) -> ContainerError

    func member(_ node: JSONNode, _ key: String, _ subject: String) throws(ContainerError) -> JSONNode {
        guard case let .object(members) = node.value else { throw fail(subject, node.offset, "must be an object") }
        guard let m = members.first(where: { $0.key == key }) else {
            throw fail(subject, node.offset, "missing member '\(key)'")
        }
        return m.node
    }

    func optional(_ node: JSONNode, _ key: String) -> JSONNode? {
        guard case let .object(members) = node.value else { return nil }
        return members.first { $0.key == key }?.node
    }

    func string(_ node: JSONNode, _ key: String, _ subject: String) throws(ContainerError) -> String {
        let v = try member(node, key, subject)
        guard case let .string(s) = v.value, !s.contains("\u{0}") else {
            throw fail("\(subject) '\(key)'", v.offset, "must be a string")
        }
        return s
    }

    func int(_ node: JSONNode, _ key: String, _ subject: String) throws(ContainerError) -> Int {
        let v = try member(node, key, subject)
        guard let u = v.value.exactUInt64, let i = Checked.int(u) else {
            throw fail("\(subject) '\(key)'", v.offset, "must be a non-negative integer below 2^63")
        }
        return i
    }

    func parse(fileLimit: Int, bytes: UnsafeRawBufferPointer) throws(ContainerError) -> (
        sections: [ContainerFile.Section], tensors: [ContainerFile.Tensor]
    ) {
        guard try string(manifest, "format", "manifest") == "qpack" else {
            throw fail("manifest 'format'", manifest.offset, "must be \"qpack\"")
        }
        let sectionsNode = try member(manifest, "sections", "manifest")
        guard case let .array(items) = sectionsNode.value else {
            throw fail("manifest 'sections'", sectionsNode.offset, "must be an array")
        }
        guard items.count <= ContainerFormat.maxSections else {
            throw fail(
                "manifest 'sections'", sectionsNode.offset,
                "\(items.count) sections exceed the limit of \(ContainerFormat.maxSections)")
        }
        var sections: [ContainerFile.Section] = []
        var names: Set<String> = []
        var expectedMin = ContainerFormat.headerSize
        var paddingStart = ContainerFormat.headerSize
        for item in items {
            let name = try string(item, "name", "section")
            let subject = "section '\(name)'"
            guard !name.isEmpty, name.utf8.count <= 256,
                name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F })
            else {
                throw fail(subject, item.offset, "name must be 1-256 printable ASCII characters")
            }
            guard names.insert(name).inserted else { throw fail(subject, item.offset, "duplicate section name") }
            let offset = try int(item, "offset", subject)
            let stored = try int(item, "stored_length", subject)
            let length = try int(item, "length", subject)
            let compression = try string(item, "compression", subject)
            let sha = try string(item, "sha256", subject)
            guard offset % ContainerFormat.alignment == 0, offset >= expectedMin else {
                throw fail(
                    subject, item.offset, "offset \(offset) is unaligned, out of order or overlaps the previous section"
                )
            }
            guard let end = Checked.add(offset, stored), end <= fileLimit else {
                throw fail(subject, item.offset, "range [\(offset), +\(stored)) runs past the manifest at \(fileLimit)")
            }
            // Padding between sections must be zero.
            if let gap = bytes[paddingStart..<offset].firstIndex(where: { $0 != 0 }) {
                throw fail(subject, gap, "non-zero padding before the section")
            }
            switch compression {
            case "none":
                guard stored == length else {
                    throw fail(
                        subject, item.offset,
                        "stored_length \(stored) differs from length \(length) without compression")
                }
            case "zstd":
                guard length <= 64 << 30 else {
                    throw fail(subject, item.offset, "declared length \(length) exceeds 64 GiB")
                }
                guard length / Zstd.maxExpansion <= stored else {
                    throw fail(
                        subject, item.offset, "declared length \(length) exceeds what \(stored) zstd bytes can hold")
                }
            default: throw fail(subject, item.offset, "unknown compression '\(compression)'")
            }
            guard sha.count == 64, sha.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else {
                throw fail(subject, item.offset, "sha256 must be 64 lower-case hex digits")
            }
            sections.append(
                ContainerFile.Section(
                    name: name, offset: offset, storedLength: stored, length: length, compression: compression,
                    sha256: sha))
            expectedMin = ContainerFormat.align(end)
            paddingStart = end
        }
        if paddingStart < fileLimit, let gap = bytes[paddingStart..<fileLimit].firstIndex(where: { $0 != 0 }) {
            throw fail("manifest", gap, "non-zero bytes between the last section and the manifest")
        }
        let byName = Dictionary(uniqueKeysWithValues: sections.map { ($0.name, $0) })

        let tensorsNode = try member(manifest, "tensors", "manifest")
        guard case let .array(tItems) = tensorsNode.value else {
            throw fail("manifest 'tensors'", tensorsNode.offset, "must be an array")
        }
        guard tItems.count <= ContainerFormat.maxTensors else {
            throw fail(
                "manifest 'tensors'", tensorsNode.offset,
                "\(tItems.count) tensors exceed the limit of \(ContainerFormat.maxTensors)")
        }
        var tensors: [ContainerFile.Tensor] = []
        var usedSections: Set<String> = []
        var tensorNames: Set<String> = []
        for item in tItems {
            let name = try string(item, "name", "tensor")
            let subject = "tensor '\(name)'"
            guard tensorNames.insert(name).inserted else { throw fail(subject, item.offset, "duplicate tensor") }
            let schemeName = try string(item, "scheme", subject)
            guard let scheme = WeightScheme(name: schemeName) else {
                throw fail(subject, item.offset, "unknown scheme '\(schemeName)'")
            }
            let sectionName = try string(item, "section", subject)
            guard let section = byName[sectionName] else {
                throw fail(subject, item.offset, "names a section '\(sectionName)' that does not exist")
            }
            guard usedSections.insert(sectionName).inserted else {
                throw fail(subject, item.offset, "shares section '\(sectionName)' with another tensor")
            }
            let shapeNode = try member(item, "shape", subject)
            guard case let .array(dims) = shapeNode.value, dims.count <= 8 else {
                throw fail(subject, shapeNode.offset, "shape must be an array of at most 8 integers")
            }
            var shape: [Int] = []
            for d in dims {
                guard let u = d.value.exactUInt64, let v = Checked.int(u) else {
                    throw fail(subject, d.offset, "shape elements must be non-negative integers")
                }
                shape.append(v)
            }
            // Every scheme stores at least a bit per element in its section (at most 64 GiB): a
            // larger count is a lie, refused before any size arithmetic can overflow.
            guard let elements = Checked.product(shape), elements / 8 <= section.length else {
                throw fail(
                    subject, shapeNode.offset,
                    "shape \(shape) holds more elements than its \(section.length)-byte section can store")
            }
            var matrix: (Int, Int)?
            if let m = optional(item, "matrix"), m.value != .null {
                guard case let .array(mm) = m.value, mm.count == 2,
                    let r = mm[0].value.exactUInt64.flatMap(Checked.int),
                    let c = mm[1].value.exactUInt64.flatMap(Checked.int), Checked.mul(r, c) == elements
                else { throw fail(subject, m.offset, "matrix must be [N, K] with N x K equal to the element count") }
                matrix = (r, c)
            }
            var layout: ContainerFile.Layout?
            if let l = optional(item, "layout"), l.value != .null {
                let nr = try int(l, "nr", subject), kr = try int(l, "kr", subject), sr = try int(l, "sr", subject)
                guard nr >= 1, nr <= 64, kr >= 1, kr <= 64, sr >= 1, kr % sr == 0 else {
                    throw fail(subject, l.offset, "invalid tile nr \(nr) kr \(kr) sr \(sr)")
                }
                var bl: Int?
                if let b = optional(l, "bl") { bl = b.value.exactUInt64.flatMap(Checked.int) }
                layout = ContainerFile.Layout(id: try string(l, "id", subject), nr: nr, kr: kr, sr: sr, blockLength: bl)
            }
            let sourceBytes = try int(item, "source_bytes", subject)
            var layer: Int?
            if let l = optional(item, "layer"), let u = l.value.exactUInt64 { layer = Checked.int(u) }
            let slot = try optional(item, "slot").map { n throws(ContainerError) in
                guard let v = n.string else { throw fail(subject, n.offset, "slot must be a string") }
                return v
            }
            var t = ContainerFile.Tensor(
                name: name, role: try string(item, "role", subject), layer: layer,
                sourceType: try string(item, "source_type", subject),
                shape: shape, matrix: matrix, scheme: scheme, rule: try string(item, "rule", subject),
                section: sectionName,
                sourceXXH64: try string(item, "source_xxh64", subject), sourceBytes: sourceBytes, layout: layout)
            t.slot = slot
            let expected = try Self.expectedLength(
                t, elements: elements, subject: subject, offset: item.offset, fail: fail)
            guard expected == section.length else {
                throw fail(
                    subject, item.offset,
                    "section '\(sectionName)' holds \(section.length) bytes, the scheme \(scheme.name) needs \(expected)"
                )
            }
            if let q = optional(item, "quantization"), q.value != .null {
                guard case .object = q.value, let nan = NonFinitePolicy(rawValue: try string(q, "nan", subject)) else {
                    throw fail(subject, q.offset, "quantization must be an object with nan 'error' or 'zero'")
                }
                t.quantization = ContainerFile.Quantization(
                    scaleType: try string(q, "scale_dtype", subject),
                    scaleRounding: try string(q, "scale_rounding", subject),
                    search: try string(q, "search", subject), nan: nan)
            }
            if let p = optional(item, "promotion") {
                guard case .object = p.value, let s = optional(p, "sensitivity")?.double, s.isFinite,
                    let after = optional(p, "metric_after")?.double, after.isFinite
                else {
                    throw fail(
                        subject, p.offset, "promotion must be an object with finite sensitivity and metric_after")
                }
                t.promotion = ContainerFile.Promotion(
                    from: try string(p, "from", subject), to: try string(p, "to", subject),
                    step: try int(p, "step", subject),
                    sensitivity: s, metricAfter: after)
            }
            if let r = optional(item, "reference_section") {
                guard case let .string(refName) = r.value, let ref = byName[refName] else {
                    throw fail(subject, r.offset, "reference_section must name an existing section")
                }
                guard usedSections.insert(refName).inserted else {
                    throw fail(subject, r.offset, "shares section '\(refName)' with another tensor")
                }
                guard Checked.mul(elements, 4) == ref.length else {
                    throw fail(
                        subject, r.offset,
                        "reference section '\(refName)' holds \(ref.length) bytes, \(elements) F32 values need \(elements * 4)"
                    )
                }
                t.referenceSection = refName
            }
            if let a = optional(item, "activation"), a.value != .null {
                guard case .object = a.value else { throw fail(subject, a.offset, "activation must be an object") }
                let mode = try string(a, "mode", subject)
                if mode == "static" {
                    guard layout != nil else {
                        throw fail(subject, a.offset, "static activations need a packed (quantized) tensor")
                    }
                    func bound(_ key: String) throws(ContainerError) -> Float {
                        guard let n = optional(a, key), case let .number(lexeme) = n.value, let d = Double(lexeme),
                            case let f = Float(d), f.isFinite
                        else {
                            throw fail(subject, a.offset, "activation.\(key) must be a finite number")
                        }
                        return f
                    }
                    let lo = try bound("min"), hi = try bound("max")
                    guard lo <= 0, hi >= 0 else {
                        throw fail(subject, a.offset, "activation range [\(lo), \(hi)] must contain 0")
                    }
                    t.activation = ContainerFile.StaticActivation(
                        observer: try string(a, "observer", subject), min: lo, max: hi)
                    if let sm = optional(a, "smoothing"), sm.value != .null {
                        guard case .object = sm.value, let an = optional(sm, "alpha"),
                            case let .number(lexeme) = an.value,
                            let alpha = Double(lexeme), alpha > 0, alpha <= 1
                        else {
                            throw fail(
                                subject, sm.offset, "activation.smoothing must be an object with alpha in (0, 1]")
                        }
                        let divisors = try string(sm, "section", subject)
                        guard let d = byName[divisors], let k = matrix?.1, Checked.mul(k, 4) == d.length else {
                            throw fail(
                                subject, sm.offset,
                                "activation.smoothing.section must name a section of K float32 divisors")
                        }
                        guard usedSections.insert(divisors).inserted else {
                            throw fail(subject, sm.offset, "shares section '\(divisors)' with another tensor")
                        }
                        t.activation?.smoothing = ContainerFile.Smoothing(alpha: alpha, section: divisors)
                    }
                } else if mode != "dynamic" {
                    throw fail(subject, a.offset, "activation.mode must be 'dynamic' or 'static', not '\(mode)'")
                }
            }
            tensors.append(t)
        }
        return (sections, tensors)
    }

    static func expectedLength(
        _ t: ContainerFile.Tensor, elements: Int, subject: String, offset: Int,
        fail: (String, Int?, String) -> ContainerError
    ) throws(ContainerError) -> Int {
        func need<T>(_ v: T?, _ what: String) throws(ContainerError) -> T {
            guard let v else { throw fail(subject, offset, "scheme \(t.scheme.name) needs \(what)") }
            return v
        }
        if let bytes = t.scheme.storedBytes(elements: elements, sourceBytes: t.sourceBytes, matrix: nil, tile: nil) {
            return bytes
        }
        // A packed scheme: its family's layout, tile and size formula.
        let family = try need(t.scheme.family, "a layout family")
        let m = try need(t.matrix, "a matrix"), l = try need(t.layout, "a layout")
        let bl = t.scheme.blockLength ?? 0
        guard l.id == family.id, l.blockLength == t.scheme.blockLength else {
            throw fail(
                subject, offset,
                "layout \(l.id) bl \(l.blockLength ?? 0) does not match \(t.scheme.name) (\(family.id))")
        }
        let tile = KleidiAITile(nr: l.nr, kr: l.kr, sr: l.sr)
        if let problem = family.tileProblem(m.columns, bl, tile) { throw fail(subject, offset, problem) }
        return family.packedSize(m.rows, m.columns, bl, tile)
    }
}
