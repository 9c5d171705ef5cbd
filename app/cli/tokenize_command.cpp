#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/error.h"
#include "spyglass/tokenizer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace spyglass::cli {

int runTokenize(const std::vector<std::string>& args)
{
    ArgParser parser("tokenize", "--model PATH (--text T | --text-file F)");
    parser.addOption("model", "PATH",
                     "model or tokenizer folder (tokenizer.json or vocab.json + merges.txt), or a llama2.c checkpoint");
    parser.addOption("tokenizer", "FILE", "llama2.c tokenizer.bin (default: one beside a .bin checkpoint)");
    parser.addOption("text", "T", "text to tokenize");
    parser.addOption("text-file", "F", "file to tokenize, read byte-exact");
    addRuntimeOptions(parser);  // accepted for symmetry: tokenizing runs on the CPU
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout
            << parser.helpText()
            << "\nPrints {\"ids\":[…], \"tokens\":[…], \"offsets\":[[b,e],…]} with byte offsets into the input.\n";
        return 0;
    }
    const std::string model = parser.required("model");
    (void)applyRuntimeOptions(parser);
    if (parser.has("text") == parser.has("text-file"))
        throw UsageError("'tokenize' needs exactly one of --text and --text-file");
    std::string text;
    if (auto t = parser.value("text")) {
        text = *t;
    } else {
        const std::string file = *parser.value("text-file");
        std::ifstream in(file, std::ios::binary);
        if (!in) throw core::Error(file + ": cannot open");
        std::ostringstream buffer;
        buffer << in.rdbuf();
        text = buffer.str();
    }
    std::unique_ptr<core::Tokenizer> tokenizer;
    if (auto file = parser.value("tokenizer")) {
        tokenizer = core::Tokenizer::fromLlama2cFile(*file);
    } else if (std::filesystem::is_regular_file(model)) {
        const auto beside = std::filesystem::path(model).parent_path() / "tokenizer.bin";
        if (!std::filesystem::exists(beside))
            throw core::Error(model + ": no tokenizer.bin beside the checkpoint (use --tokenizer FILE)");
        tokenizer = core::Tokenizer::fromLlama2cFile(beside);
    } else {
        tokenizer = core::Tokenizer::loadFromFolder(model);
    }
    if (!tokenizer) throw core::Error(model + ": no tokenizer files (tokenizer.json, or vocab.json + merges.txt)");
    const core::Encoding encoding = tokenizer->encode(text);
    nlohmann::json out;
    out["ids"] = encoding.ids;
    out["tokens"] = nlohmann::json::array();
    for (int id : encoding.ids) out["tokens"].push_back(tokenizer->tokenText(id));
    out["offsets"] = nlohmann::json::array();
    for (const auto& [b, e] : encoding.offsets) out["offsets"].push_back({b, e});
    std::cout << out.dump() << '\n';
    return 0;
}

}  // namespace spyglass::cli
