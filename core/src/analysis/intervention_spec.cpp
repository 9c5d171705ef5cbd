#include "spyglass/error.h"
#include "spyglass/intervention.h"
#include "spyglass/report_json.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

namespace spyglass::core {

namespace {

[[noreturn]] void badSpec(const std::string& spec, const std::string& reason)
{
    throw OptionError("intervention '" + spec + "'", reason);
}

int parseIndex(const std::string& spec, const std::string& text, const char* what)
{
    int value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < 0)
        badSpec(spec, std::string("bad ") + what + " '" + text + "' (a whole number ≥ 0)");
    return value;
}

float parseNumber(const std::string& spec, const std::string& text, const char* what)
{
    // strtof accepts what from_chars<float> does here and is available in GCC 12's library.
    char* end = nullptr;
    const float value = std::strtof(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
        badSpec(spec, std::string("bad ") + what + " '" + text + "' (a finite number)");
    return value;
}

std::vector<int> parseList(const std::string& spec, const std::string& text, const char* what)
{
    std::vector<int> out;
    std::set<int> seen;
    size_t begin = 0;
    while (true) {
        const size_t comma = text.find(',', begin);
        const int value = parseIndex(spec, text.substr(begin, comma - begin), what);
        if (!seen.insert(value).second) badSpec(spec, std::string(what) + " " + std::to_string(value) + " given twice");
        out.push_back(value);
        if (comma == std::string::npos) break;
        begin = comma + 1;
    }
    constexpr size_t kMaxEntries = 1u << 20;
    if (out.size() > kMaxEntries) badSpec(spec, "too many entries");
    return out;
}

std::string joinList(const std::vector<int>& values)
{
    std::string out;
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
    return out;
}

std::string numberText(float value)
{
    std::ostringstream s;
    s.imbue(std::locale::classic());
    s.precision(std::numeric_limits<float>::max_digits10);
    s << value;
    return s.str();
}

// Splits "BODY@P,P" into BODY and the positions; '@' counts only after the last ':'.
std::string takePositions(const std::string& spec, std::string body, Intervention& out)
{
    const size_t at = body.rfind('@');
    const size_t colon = body.rfind(':');
    if (at != std::string::npos && (colon == std::string::npos || at > colon)) {
        out.positions = parseList(spec, body.substr(at + 1), "position");
        body.erase(at);
    }
    return body;
}

// Splits "BODY=V" / "BODY*S" into BODY and the operation (the suffix comes after the positions).
std::string takeOperation(const std::string& spec, std::string body, Intervention& out)
{
    const size_t op = body.find_first_of("=*");
    if (op == std::string::npos) return body;
    out.operation = body[op] == '=' ? Intervention::Operation::Set : Intervention::Operation::Scale;
    out.value = parseNumber(spec, body.substr(op + 1), body[op] == '=' ? "value" : "scale");
    body.erase(op);
    if (out.operation == Intervention::Operation::Set && out.value == 0) out.operation = Intervention::Operation::Zero;
    return body;
}

}  // namespace

Intervention parseIntervention(const std::string& spec)
{
    Intervention out;
    const size_t colon = spec.find(':');
    if (colon == std::string::npos)
        badSpec(spec, "expected neuron:L:N[,N…], head:L:H[,H…], attn:L, mlp:L, factor:K or steer:L:FILE:ALPHA");
    const std::string kind = spec.substr(0, colon);
    std::string rest = spec.substr(colon + 1);
    if (kind == "attn" || kind == "mlp") {
        out.target = kind == "attn" ? Intervention::Target::AttnOut : Intervention::Target::MlpOut;
        rest = takePositions(spec, takeOperation(spec, rest, out), out);
        out.layer = parseIndex(spec, rest, "layer");
        return out;
    }
    if (kind == "neuron" || kind == "head") {
        out.target = kind == "neuron" ? Intervention::Target::Neuron : Intervention::Target::Head;
        rest = takePositions(spec, takeOperation(spec, rest, out), out);
        const size_t second = rest.find(':');
        if (second == std::string::npos)
            badSpec(spec, "expected " + kind + ":LAYER:" + (kind == "neuron" ? "NEURON" : "HEAD") + "[,…]");
        out.layer = parseIndex(spec, rest.substr(0, second), "layer");
        out.units = parseList(spec, rest.substr(second + 1), kind == "neuron" ? "neuron" : "head");
        return out;
    }
    if (kind == "factor") {
        out.target = Intervention::Target::Factor;
        rest = takePositions(spec, rest, out);
        const size_t file = rest.find(':');
        out.units = {parseIndex(spec, rest.substr(0, file), "factor")};
        if (file != std::string::npos) {
            out.source = rest.substr(file + 1);
            if (out.source.empty()) badSpec(spec, "no loadings file after 'factor:K:'");
        }
        return out;
    }
    if (kind == "steer") {
        out.target = Intervention::Target::Steer;
        rest = takePositions(spec, rest, out);
        const size_t first = rest.find(':');
        const size_t last = rest.rfind(':');
        if (first == std::string::npos || last == first) badSpec(spec, "expected steer:LAYER:FILE:ALPHA");
        out.layer = parseIndex(spec, rest.substr(0, first), "layer");
        out.source = rest.substr(first + 1, last - first - 1);
        if (out.source.empty()) badSpec(spec, "no vector file");
        out.alpha = parseNumber(spec, rest.substr(last + 1), "alpha");
        return out;
    }
    badSpec(spec, "unknown kind '" + kind + "' (neuron, head, attn, mlp, factor or steer)");
}

std::string formatIntervention(const Intervention& in)
{
    std::string out;
    switch (in.target) {
        case Intervention::Target::Neuron:
        case Intervention::Target::Head:
            out = (in.target == Intervention::Target::Neuron ? "neuron:" : "head:") + std::to_string(in.layer) + ":" +
                  joinList(in.units);
            break;
        case Intervention::Target::Factor:
            out = "factor:" + joinList(in.units) + (in.source.empty() ? "" : ":" + in.source);
            break;
        case Intervention::Target::Steer:
            out = "steer:" + std::to_string(in.layer) + ":" + in.source + ":" + numberText(in.alpha);
            break;
        case Intervention::Target::AttnOut:
        case Intervention::Target::MlpOut:
            out = (in.target == Intervention::Target::AttnOut ? "attn:" : "mlp:") + std::to_string(in.layer);
            break;
    }
    if (!in.positions.empty()) out += "@" + joinList(in.positions);
    if (in.target != Intervention::Target::Factor && in.target != Intervention::Target::Steer) {
        if (in.operation == Intervention::Operation::Set) out += "=" + numberText(in.value);
        if (in.operation == Intervention::Operation::Scale) out += "*" + numberText(in.value);
    }
    return out;
}

std::vector<Intervention> resolveFactor(const Intervention& factor, const FactorSection& factors)
{
    const int64_t columns = factors.loadings.shape.size() == 2 ? factors.loadings.shape[1] : 0;
    const int64_t layers = static_cast<int64_t>(factors.layers.size());
    return resolveFactor(factor, factors, layers > 0 && columns % layers == 0 ? static_cast<int>(columns / layers) : 0);
}

std::vector<Intervention> resolveFactor(const Intervention& factor, const FactorSection& factors, int neurons)
{
    const std::string spec = formatIntervention(factor);
    if (factor.target != Intervention::Target::Factor || factor.units.size() != 1)
        badSpec(spec, "not a factor intervention");
    const int k = factor.units.front();
    if (factors.loadings.shape.size() != 2 || factors.loadings.shape[0] != factors.k ||
        static_cast<int64_t>(factors.loadings.values.size()) != factors.loadings.numel())
        badSpec(spec, "the report's factors carry no loadings (write them with analyze --save-loadings)");
    if (k >= factors.k) badSpec(spec, "factor " + std::to_string(k) + " of " + std::to_string(factors.k));
    const int64_t columns = factors.loadings.shape[1];
    if (neurons <= 0 || columns != static_cast<int64_t>(neurons) * static_cast<int64_t>(factors.layers.size()))
        badSpec(spec, "the report's loadings (" + std::to_string(columns) + " columns) do not match " +
                          std::to_string(factors.layers.size()) + " layers of " + std::to_string(neurons) + " neurons");
    const std::vector<float>& row = factors.loadings.values;
    std::vector<Intervention> out;
    for (size_t l = 0; l < factors.layers.size(); ++l) {
        Intervention one = factor;
        one.layer = factors.layers[l];
        const size_t begin = static_cast<size_t>(k) * static_cast<size_t>(columns) + l * static_cast<size_t>(neurons);
        one.direction.assign(row.begin() + static_cast<std::ptrdiff_t>(begin),
                             row.begin() + static_cast<std::ptrdiff_t>(begin + static_cast<size_t>(neurons)));
        double norm = 0;
        for (float v : one.direction) norm += static_cast<double>(v) * v;
        norm = std::sqrt(norm);
        if (!(norm > 0) || !std::isfinite(norm)) continue;  // the factor does not load on this layer
        for (float& v : one.direction) v = static_cast<float>(v / norm);
        out.push_back(std::move(one));
    }
    if (out.empty()) badSpec(spec, "the factor's loadings are all zero");
    return out;
}

FactorSection readFactorLoadings(const std::string& path)
{
    if (std::filesystem::path(path).extension() == ".json") {
        Report report = readReport(path);
        if (!report.factors) throw Error(path + ": the report has no factors section");
        if (report.factors->loadings.values.empty())
            throw Error(path +
                        ": the report's factor loadings are not beside it (analyze --save-loadings writes them)");
        return std::move(*report.factors);
    }
    const auto file = SafetensorsFile::open(path);  // its errors name the file
    if (!file->find("loadings") || !file->find("layers"))
        throw Error(path + ": not a factor loadings file (tensors 'loadings' and 'layers')");
    FactorSection f;
    f.loadings = file->readFloat("loadings");
    for (int64_t layer : file->readInt64("layers")) {
        if (layer < 0 || layer > std::numeric_limits<int>::max()) throw Error(path + ": bad layer index in 'layers'");
        f.layers.push_back(static_cast<int>(layer));
    }
    if (f.loadings.shape.size() != 2 || f.layers.empty())
        throw Error(path + ": 'loadings' must be k × (layers · neurons) with at least one layer");
    f.k = static_cast<int>(f.loadings.shape[0]);
    return f;
}

void loadSteeringVector(Intervention& steer)
{
    const auto file = SafetensorsFile::open(steer.source);  // its errors name the file
    const auto fail = [&](const std::string& reason) { throw Error(steer.source + ": " + reason); };
    if (!file->find("vector")) fail("no tensor 'vector' (a [d_model] steering vector)");
    const HostTensor v = file->readFloat("vector");
    if (v.shape.size() != 1) fail("tensor 'vector' has " + std::to_string(v.shape.size()) + " dimensions, not 1");
    for (float x : v.values)
        if (!std::isfinite(x)) fail("tensor 'vector' holds a value that is not finite");
    steer.direction = v.values;
}

std::vector<Intervention> parseInterventions(const std::vector<std::string>& specs)
{
    std::vector<Intervention> out;
    for (const std::string& spec : specs) {
        Intervention in = parseIntervention(spec);
        if (in.target == Intervention::Target::Factor) {
            if (in.source.empty())
                throw OptionError("interventions", "'" + spec +
                                                       "': a factor ablation needs the factors' loadings "
                                                       "(factor:K:FILE, FILE a report or its .loadings.safetensors)");
            for (Intervention& one : resolveFactor(in, readFactorLoadings(in.source))) out.push_back(std::move(one));
            continue;
        }
        if (in.target == Intervention::Target::Steer) loadSteeringVector(in);
        out.push_back(std::move(in));
    }
    return out;
}

std::vector<std::string> recordedInterventions(const Report& report)
{
    std::vector<std::string> out;
    const auto settings = nlohmann::json::parse(report.settingsJson, nullptr, false);
    if (settings.is_object() && settings.contains("interventions") && settings["interventions"].is_array())
        for (const auto& spec : settings["interventions"])
            if (spec.is_string()) out.push_back(spec.get<std::string>());
    return out;
}

void validateInterventions(const std::vector<Intervention>& interventions, int layerCount, int headCount, int mlpWidth,
                           int modelWidth)
{
    for (const Intervention& in : interventions) {
        const std::string spec = formatIntervention(in);
        if (in.target != Intervention::Target::Factor && in.layer >= layerCount)
            badSpec(spec, "layer " + std::to_string(in.layer) + " out of range (the model has " +
                              std::to_string(layerCount) + " layers)");
        switch (in.target) {
            case Intervention::Target::Neuron:
            case Intervention::Target::Head: {
                const bool neuron = in.target == Intervention::Target::Neuron;
                const int count = neuron ? mlpWidth : headCount;
                if (in.units.empty()) badSpec(spec, neuron ? "no neuron" : "no head");
                for (int u : in.units)
                    if (u >= count)
                        badSpec(spec, std::string(neuron ? "neuron " : "head ") + std::to_string(u) +
                                          " out of range (layer " + std::to_string(in.layer) + " has " +
                                          std::to_string(count) + (neuron ? " neurons)" : " heads)"));
                break;
            }
            case Intervention::Target::Factor:
                if (in.layer >= layerCount)
                    badSpec(spec, "layer " + std::to_string(in.layer) + " out of range (the model has " +
                                      std::to_string(layerCount) + " layers)");
                if (static_cast<int>(in.direction.size()) != mlpWidth)
                    badSpec(spec, "the factor has " + std::to_string(in.direction.size()) +
                                      " loadings per layer; the model has " + std::to_string(mlpWidth) + " neurons");
                break;
            case Intervention::Target::AttnOut:
            case Intervention::Target::MlpOut:
                break;
            case Intervention::Target::Steer:
                if (static_cast<int>(in.direction.size()) != modelWidth)
                    badSpec(spec, "the vector has " + std::to_string(in.direction.size()) +
                                      " values; the model's residual stream has " + std::to_string(modelWidth));
                break;
        }
    }
}

}  // namespace spyglass::core
