import Foundation

/// One file a target mutates, with the structure its mutations know about.
public struct Seed: Sendable {
    /// Name of the mutated file inside the case directory.
    public var file: String
    public var bytes: [UInt8]
    /// Other files the case directory holds unchanged (a model directory's shards, say).
    public var companions: [String: [UInt8]] = [:]
    public var fields: [IntegerField] = []
    public var spans: [TextSpan] = []
    /// A `.qpack`: mutations also edit the manifest or a section and re-vouch for them.
    public var isContainer = false
}

/// A reader under test: its seeds and the qpack commands that read a mutated case. `{case}` in
/// an argument is the case directory, `{base}` the directory of unchanged material the fuzzer
/// prepared (a tiny Llama, its conversions, its calibration statistics), `{file}` the mutated file's name.
public struct Target: Sendable {
    public var name: String
    public var seeds: [Seed]
    public var commands: [[String]]
    /// Outputs a failed command must not leave behind (no partial output), relative to the case.
    public var outputs: [String] = ["out.qpack", "out.qcal"]
}

/// The targets, built from the repository's fixtures and the prepared base directory.
public enum Targets {
    public static let names = [
        "gguf", "safetensors", "safetensors-index", "config", "tokenizer", "qpack", "rules", "qcal", "calibration-data",
    ]

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FuzzSetupError("cannot read \(path)")
        }
        return [UInt8](data)
    }

    static func directory(_ path: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            out[name] = try read(path + "/" + name)
        }
        return out
    }

    static func jsonSeed(_ file: String, _ bytes: [UInt8], companions: [String: [UInt8]] = [:]) -> Seed {
        Seed(file: file, bytes: bytes, companions: companions, spans: FormatMaps.jsonSpans(bytes))
    }

    public static func build(name: String, fixtures: String, base: String) throws -> Target {
        let quiet = "--quiet"
        switch name {
        case "gguf":
            var seeds: [Seed] = []
            for f in ["aligned64", "metadata", "opaque-string", "types", "v2", "zero-dim"] {
                let b = try read("\(fixtures)/gguf/\(f).gguf")
                seeds.append(Seed(file: "m.gguf", bytes: b, fields: FormatMaps.ggufFields(b)))
            }
            let gemma = try read("\(fixtures)/architectures/gemma3.gguf")
            seeds.append(Seed(file: "m.gguf", bytes: gemma, fields: FormatMaps.ggufFields(gemma)))
            return Target(
                name: name, seeds: seeds,
                commands: [
                    ["inspect", "{case}/m.gguf"], ["inspect", "{case}/m.gguf", "--json", "--stats"],
                    ["plan", "{case}/m.gguf", "--allow-unsupported", "--rules", "{base}/rules.yaml"],
                    [
                        "convert", "{case}/m.gguf", "-o", "{case}/out.qpack", "--allow-unsupported", "--rules",
                        "{base}/rules.yaml", "--jobs", "1", quiet,
                    ],
                ])
        case "safetensors":
            var seeds: [Seed] = []
            for path in [
                "safetensors/dtypes.safetensors", "safetensors/zero-size-many.safetensors",
                "architectures/qwen2/model.safetensors",
            ] {
                let b = try read("\(fixtures)/\(path)")
                let (fields, spans) = FormatMaps.safetensors(b)
                seeds.append(Seed(file: "m.safetensors", bytes: b, fields: fields, spans: spans))
            }
            return Target(
                name: name, seeds: seeds,
                commands: [
                    ["inspect", "{case}/m.safetensors", "--stats"], ["inspect", "{case}/m.safetensors", "--json"],
                    ["plan", "{case}/m.safetensors", "--allow-unsupported"],
                    [
                        "convert", "{case}/m.safetensors", "-o", "{case}/out.qpack", "--allow-unsupported", "--jobs",
                        "1", quiet,
                    ],
                ])
        case "safetensors-index":
            var seeds: [Seed] = []
            for dir in ["safetensors/sharded", "architectures/bert-sharded"] {
                var files = try directory("\(fixtures)/\(dir)")
                let index = "model.safetensors.index.json"
                guard let b = files.removeValue(forKey: index) else { throw FuzzSetupError("\(dir): no index") }
                seeds.append(jsonSeed(index, b, companions: files))
                // The shards' headers too, beside an intact index.
                for (shard, bytes) in files where shard.hasSuffix(".safetensors") {
                    var rest = files
                    rest[shard] = nil
                    rest[index] = b
                    let (fields, spans) = FormatMaps.safetensors(bytes)
                    seeds.append(Seed(file: shard, bytes: bytes, companions: rest, fields: fields, spans: spans))
                }
            }
            return Target(
                name: name, seeds: seeds,
                commands: [
                    ["inspect", "{case}"], ["plan", "{case}", "--allow-unsupported"],
                    ["convert", "{case}", "-o", "{case}/out.qpack", "--allow-unsupported", "--jobs", "1", quiet],
                ])
        case "config":
            var seeds: [Seed] = []
            for dir in ["\(base)/tiny-llama", "\(fixtures)/architectures/bert-sharded"] {
                var files = try directory(dir)
                guard let b = files.removeValue(forKey: "config.json") else {
                    throw FuzzSetupError("\(dir): no config")
                }
                seeds.append(jsonSeed("config.json", b, companions: files))
            }
            return Target(
                name: name, seeds: seeds,
                commands: [
                    ["plan", "{case}"], ["convert", "{case}", "-o", "{case}/out.qpack", "--jobs", "1", quiet],
                    ["verify", "{case}/out.qpack", "--source", "{case}", "--ids", "1,2,3"],
                    ["calibrate", "{case}", "--calibration", "{base}/data.ids", "-o", "{case}/out.qcal", quiet],
                ])
        case "tokenizer":
            var files = try directory("\(base)/tiny-llama")
            guard let b = files.removeValue(forKey: "tokenizer.json") else { throw FuzzSetupError("no tokenizer.json") }
            var seeds = [jsonSeed("tokenizer.json", b, companions: files)]
            var withTokenizer = files
            withTokenizer["tokenizer.json"] = b
            if let c = withTokenizer.removeValue(forKey: "tokenizer_config.json") {
                seeds.append(jsonSeed("tokenizer_config.json", c, companions: withTokenizer))
            }
            return Target(
                name: name, seeds: seeds,
                commands: [
                    ["convert", "{case}", "-o", "{case}/out.qpack", "--jobs", "1", quiet],
                    ["run", "{case}/out.qpack", "--prompt", "ab ba a", "--max-tokens", "3", quiet],
                    ["calibrate", "{case}", "--calibration", "{base}/data.txt", "-o", "{case}/out.qcal", quiet],
                ])
        case "qpack":
            var seeds: [Seed] = []
            for path in [
                "\(fixtures)/qpack/tiny.qpack", "\(fixtures)/qpack/static.qpack", "\(fixtures)/qpack/types.qpack",
                "\(fixtures)/qpack/types-zstd.qpack", "\(base)/tl.qpack", "\(base)/tl-ref.qpack", "\(base)/bert.qpack",
            ] {
                let b = try read(path)
                var fields = [16, 24].map { IntegerField(offset: $0, width: 8) }
                fields += [8, 10].map { IntegerField(offset: $0, width: 2) }
                var seed = Seed(file: "m.qpack", bytes: b, fields: fields, isContainer: true)
                if let m = FormatMaps.containerManifest(b) { seed.spans = FormatMaps.jsonSpans(b[m]) }
                seeds.append(seed)
            }
            return Target(
                name: name, seeds: seeds,
                commands: [
                    ["inspect", "{case}/m.qpack"], ["inspect", "{case}/m.qpack", "--json", "--stats", "--dequant"],
                    ["verify", "{case}/m.qpack", "--ids", "1,2,3", "--json"],
                    ["eval", "{case}/m.qpack", "--dataset", "{base}/data.ids", quiet],
                    ["run", "{case}/m.qpack", "--prompt", "ab ba", "--max-tokens", "2", quiet],
                    ["embed", "{case}/m.qpack", "ab ba"],
                ],
                outputs: [])
        case "rules":
            var seeds: [Seed] = []
            let dir = "\(fixtures)/rules"
            for f in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where f.hasSuffix(".yaml") {
                seeds.append(jsonSeed("r.yaml", try read(dir + "/" + f)))
            }
            seeds.append(jsonSeed("r.yaml", try read("\(fixtures)/qpack/rules.yaml")))
            seeds.append(jsonSeed("r.yaml", Array(regexRules.utf8)))
            return Target(
                name: name, seeds: seeds,
                commands: [
                    ["plan", "{base}/tiny-llama", "--rules", "{case}/r.yaml"],
                    ["plan", "{base}/types.gguf", "--rules", "{case}/r.yaml", "--allow-unsupported", "--json"],
                    [
                        "convert", "{base}/tiny-llama", "--rules", "{case}/r.yaml", "-o", "{case}/out.qpack",
                        "--jobs", "1", "--calibration-stats", "{base}/tl.qcal", quiet,
                    ],
                ])
        case "qcal":
            let seeds = [
                jsonSeed("s.qcal", try read("\(fixtures)/calibration/types.qcal")),
                jsonSeed("s.qcal", try read("\(base)/tl.qcal")),
            ]
            return Target(
                name: name, seeds: seeds,
                commands: [
                    ["inspect", "{case}/s.qcal"],
                    [
                        "convert", "{base}/tiny-llama", "--calibration-stats", "{case}/s.qcal", "--mode", "static",
                        "-o", "{case}/out.qpack", "--jobs", "1", quiet,
                    ],
                    [
                        "convert", "{base}/types.gguf", "--rules", "{base}/rules.yaml", "--calibration-stats",
                        "{case}/s.qcal", "--mode", "static", "--allow-unsupported", "-o", "{case}/out.qpack", quiet,
                    ],
                    ["calibrate", "--merge", "{case}/s.qcal", "{base}/tl.qcal", "-o", "{case}/out.qcal", quiet],
                ])
        case "calibration-data":
            let seeds = [
                Seed(file: "d.ids", bytes: try read("\(base)/data.ids")),
                Seed(file: "d.txt", bytes: try read("\(base)/data.txt")),
                jsonSeed("d.jsonl", try read("\(base)/data.jsonl")),
            ]
            let commands = [
                ["calibrate", "{base}/tiny-llama", "--calibration", "{case}/{file}", "-o", "{case}/out.qcal", quiet],
                ["eval", "{base}/tl.qpack", "--source", "{base}/tiny-llama", "--dataset", "{case}/{file}", quiet],
            ]
            return Target(name: name, seeds: seeds, commands: commands)
        default:
            throw FuzzSetupError("unknown target '\(name)' (targets: \(names.joined(separator: ", ")))")
        }
    }

    /// Rules with double-quoted regexes, so that span edits reach the regex engine.
    static let regexRules = """
        version: 1
        rules:
          - {name: "q", match: {regex: "model\\\\.layers\\\\.[0-9]+\\\\.self_attn\\\\.q_proj\\\\.weight"}, scheme: "qsi8cx"}
          - {name: "norms", match: {role: "norm"}, scheme: "f32"}
          - {name: "mlp", match: {regex: "(.*)mlp(.*)", layers: "0-1"}, scheme: "qsi4c32"}
          - {name: "rest", scheme: "keep"}

        """

    /// A byte-level BPE tokenizer.json for the tiny Llama (48 ids: an end token, letters, a
    /// space, merges), written from the Hugging Face format so the tokenizer readers have a seed.
    public static func tinyTokenizer() -> (tokenizer: String, config: String) {
        var vocab: [String] = ["<|endoftext|>"]
        vocab += "abcdefghijklmnopqrstuvwxyz".map(String.init)
        vocab += ["\u{0120}", "ab", "ba", "\u{0120}a", "\u{0120}b", "aa"]
        vocab += "0123456789".map(String.init)
        let entries = vocab.enumerated().map { "\"\($0.element)\": \($0.offset)" }.joined(separator: ", ")
        let tokenizer = """
            {"version": "1.0", "added_tokens": [{"id": 0, "content": "<|endoftext|>", "special": true}],
             "normalizer": null,
             "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
               {"type": "Digits", "individual_digits": true},
               {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]},
             "model": {"type": "BPE", "vocab": {\(entries)},
               "merges": ["a b", "b a", "\u{0120} a", "\u{0120} b", "a a"]}}

            """
        let config = """
            {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_bos_token": false}

            """
        return (tokenizer, config)
    }
}

public struct FuzzSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
