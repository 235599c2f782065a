import Foundation

/// The unchanged material the targets read beside a mutated file, made with qpack itself from
/// the repository's fixtures: a tiny Llama directory with a tokenizer, its conversions (with and
/// without float copies), a BERT conversion, calibration statistics and data.
public enum Setup {
    public static func prepare(base: String, fixtures: String) throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: base)
        try fm.createDirectory(atPath: base + "/tiny-llama", withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try fm.copyItem(
                atPath: "\(fixtures)/architectures/tiny-llama/\(name)", toPath: "\(base)/tiny-llama/\(name)")
        }
        let (tokenizer, config) = Targets.tinyTokenizer()
        try write(tokenizer, to: base + "/tiny-llama/tokenizer.json")
        try write(config, to: base + "/tiny-llama/tokenizer_config.json")
        try fm.copyItem(atPath: "\(fixtures)/qpack/rules.yaml", toPath: base + "/rules.yaml")
        try fm.copyItem(atPath: "\(fixtures)/gguf/types.gguf", toPath: base + "/types.gguf")
        try write("1 2 3 4 5 6 7 8\n9 10 11 12 13\n14,15,16\n", to: base + "/data.ids")
        try write("ab ba a\nbab 12 aab\n", to: base + "/data.txt")
        try write("{\"text\": \"ab ba a\"}\n{\"text\": \"b 7 a\"}\n", to: base + "/data.jsonl")
        let steps: [[String]] = [
            ["convert", base + "/tiny-llama", "-o", base + "/tl.qpack", "--quiet"],
            ["convert", base + "/tiny-llama", "-o", base + "/tl-ref.qpack", "--with-reference", "--quiet"],
            ["convert", fixtures + "/architectures/bert-sharded", "-o", base + "/bert.qpack", "--quiet"],
            [
                "calibrate", base + "/tiny-llama", "--calibration", base + "/data.ids", "-o", base + "/tl.qcal",
                "--quiet",
            ],
        ]
        for step in steps {
            let code = CommandRunner.run(step)
            guard code == 0 else {
                throw FuzzSetupError("setting up: qpack \(step.joined(separator: " ")) exited \(code)")
            }
        }
    }

    static func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw FuzzSetupError("cannot write \(path)")
        }
    }
}
