#include "spyglass/report_json.h"

#include "io/atomic_file.h"
#include "io/json_file.h"
#include "report/factors_json.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"
#include "spyglass/tokenizer.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <type_traits>

namespace spyglass::core {

using nlohmann::json;

namespace {

json optionalJson(const auto& v)
{
    return v ? json(*v) : json(nullptr);
}

json lensJson(const LensSection& lens)
{
    json cells = json::array();
    for (const auto& layer : lens.cells) {
        json row = json::array();
        for (const auto& c : layer)
            row.push_back({{"top_ids", c.topIds},
                           {"top_probs", c.topProbs},
                           {"next_rank", optionalJson(c.nextRank)},
                           {"next_prob", optionalJson(c.nextProb)},
                           {"entropy", c.entropy}});
        cells.push_back(std::move(row));
    }
    return {{"mode", name(lens.mode)},
            {"layers", lens.layers},
            {"top_k", lens.topK},
            {"cells", std::move(cells)},
            {"self_check_max_abs_diff", lens.selfCheckMaxAbsDiff}};
}

// An integer that fits T (nlohmann's get<int>() of 4e76 would be undefined behaviour).
template <typename T>
T integer(const json& v, const std::string& where)
{
    if (!v.is_number_integer()) throw Error(where + ": expected an integer, got " + v.dump().substr(0, 40));
    if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())
                               : (v.get<int64_t>() < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
                                  v.get<int64_t>() > static_cast<int64_t>(std::numeric_limits<T>::max())))
        throw Error(where + ": integer " + v.dump() + " is out of range");
    return static_cast<T>(v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>()) : v.get<int64_t>());
}

// Every floating-point number of the document must fit a float (the report stores floats).
void checkFloats(const json& j, const std::string& where)
{
    if (j.is_number_float()) {
        const double x = j.get<double>();
        if (!(std::abs(x) <= std::numeric_limits<float>::max()))
            throw Error(where + ": number " + j.dump() + " is out of range for a float");
    } else if (j.is_structured()) {
        for (const auto& child : j) checkFloats(child, where);
    }
}

template <typename T>
struct IsIntVector : std::false_type {
};
template <>
struct IsIntVector<std::vector<int>> : std::true_type {
};

template <typename T>
T field(const json& j, const char* key, const std::string& where)
{
    if (!j.contains(key)) throw Error(where + ": missing field \"" + key + "\"");
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
        return integer<T>(j.at(key), where + ": field \"" + key + "\"");
    if constexpr (IsIntVector<T>::value) {
        if (!j.at(key).is_array()) throw Error(where + ": field \"" + key + "\" is not a list");
        std::vector<int> out;
        for (const auto& v : j.at(key)) out.push_back(integer<int>(v, where + ": field \"" + key + "\""));
        return out;
    }
    try {
        return j.at(key).get<T>();
    } catch (const json::exception& e) {
        throw Error(where + ": field \"" + key + "\" has the wrong type");
    }
}

// A name of the one name table (names.h), or an Error naming the field and the choices.
template <typename E>
E parseNamed(const std::string& text, const std::string& where)
{
    if (auto value = parseName<E>(text)) return *value;
    throw Error(where + ": unknown " + std::string(Names<E>::what) + " '" + sanitizeUtf8(text) + "' (" +
                nameChoices<E>() + ")");
}

template <typename E>
E named(const json& j, const char* key, const std::string& where)
{
    return parseNamed<E>(field<std::string>(j, key, where), where + ": field \"" + key + "\"");
}

}  // namespace

json factorsToJson(const FactorSection& f)
{
    json j = {{"source", f.source},        {"layers", f.layers},       {"k", f.k},
              {"positions", f.positions},  {"strengths", f.strengths}, {"reconstruction_error", f.reconstructionError},
              {"input_norm", f.inputNorm}, {"stability", f.stability}, {"iterations", f.iterations},
              {"top_tokens", f.topTokens}};
    if (f.loadingsFile) j["loadings_file"] = *f.loadingsFile;
    return j;
}

FactorSection factorsFromJson(const json& f, const std::string& source)
{
    FactorSection factors;
    factors.source = f.value("source", "mlp_act");
    factors.layers = field<std::vector<int>>(f, "layers", source + ": factors");
    factors.k = field<int>(f, "k", source + ": factors");
    factors.positions = field<std::vector<int>>(f, "positions", source + ": factors");
    factors.strengths = field<std::vector<std::vector<float>>>(f, "strengths", source + ": factors");
    factors.reconstructionError = field<double>(f, "reconstruction_error", source + ": factors");
    factors.inputNorm = f.value("input_norm", 0.0);
    factors.stability = f.value("stability", 0.0);
    if (f.contains("iterations")) factors.iterations = integer<int>(f["iterations"], source + ": factors iterations");
    if (f.contains("top_tokens"))
        for (const auto& factor : f["top_tokens"]) {
            auto& layers = factors.topTokens.emplace_back();
            for (const auto& layer : factor) {
                auto& ids = layers.emplace_back();
                for (const auto& id : layer) ids.push_back(integer<int>(id, source + ": factors top_tokens"));
            }
        }
    if (f.contains("loadings_file") && f["loadings_file"].is_string())
        factors.loadingsFile = f["loadings_file"].get<std::string>();
    return factors;
}

std::string reportToJson(const Report& r)
{
    json j;
    j["schema"] = kReportSchema;
    j["model"] = {{"path", r.model.path},          {"architecture", r.model.architecture},
                  {"n_layer", r.model.layerCount}, {"n_head", r.model.headCount},
                  {"d_model", r.model.modelWidth}, {"vocab_size", r.model.vocabSize},
                  {"sha256", r.model.sha256}};
    j["settings"] = json::parse(r.settingsJson);
    j["tokens"] = json::array();
    for (const auto& t : r.tokens) {
        json offset = t.offset ? json({t.offset->first, t.offset->second}) : json(nullptr);
        json token = {{"id", t.id}, {"text", optionalJson(t.text)}, {"offset", offset}, {"generated", t.generated}};
        if (t.logProb) token["logprob"] = *t.logProb;
        j["tokens"].push_back(std::move(token));
    }
    j["saliency"] = json::array();
    for (const auto& s : r.saliency) {
        json rows = json::array();
        for (const auto& row : s.rows) {
            json jr = {{"position", row.position}, {"token_id", row.tokenId}, {"scores", row.scores}};
            if (!row.raw.empty()) jr["raw"] = row.raw;
            if (row.completenessGap) jr["completeness_gap"] = *row.completenessGap;
            if (!row.wordScores.empty()) jr["word_scores"] = row.wordScores;
            rows.push_back(std::move(jr));
        }
        j["saliency"].push_back({{"method", name(s.method)}, {"target", name(s.target)}, {"rows", std::move(rows)}});
    }
    j["words"] = json::array();
    for (const auto& w : r.words) j["words"].push_back({{"tokens", {w.firstToken, w.endToken}}, {"text", w.text}});
    if (r.lens) j["lens"] = lensJson(*r.lens);
    if (r.factors) j["factors"] = factorsToJson(*r.factors);
    if (r.projection) {
        const auto& p = *r.projection;
        json points = json::array();
        for (const auto& pt : p.points) points.push_back({pt[0], pt[1]});
        j["projection"] = {{"layer", p.layer},
                           {"source", name(p.source)},
                           {"method", name(p.method)},
                           {"points", points},
                           {"clusters", p.clusters},
                           {"cluster_method", name(p.clusterMethod)},
                           {"explained_variance", {p.explainedVariance[0], p.explainedVariance[1]}}};
    }
    j["token_texts"] = json::object();
    for (const auto& [id, text] : r.tokenTexts) j["token_texts"][std::to_string(id)] = text;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

Report parseReport(const std::string& text, const std::string& source)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Error(source + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(source + ": not a JSON object");
    checkFloats(j, source);
    const std::string schema = field<std::string>(j, "schema", source);
    if (schema != kReportSchema) throw Error(source + ": schema '" + schema + "' is not " + kReportSchema);
    Report r;
    const json& m = j.at("model");
    r.model = {
        field<std::string>(m, "path", source + ": model"),   field<std::string>(m, "architecture", source + ": model"),
        field<std::string>(m, "sha256", source + ": model"), field<int>(m, "n_layer", source + ": model"),
        field<int>(m, "n_head", source + ": model"),         field<int>(m, "d_model", source + ": model"),
        field<int>(m, "vocab_size", source + ": model")};
    r.settingsJson = j.value("settings", json::object()).dump();
    for (const auto& t : field<json>(j, "tokens", source)) {
        ReportToken token;
        token.id = field<int>(t, "id", source + ": tokens");
        if (t.contains("text") && t["text"].is_string()) token.text = t["text"].get<std::string>();
        if (t.contains("offset") && t["offset"].is_array())
            token.offset = std::make_pair(integer<size_t>(t["offset"].at(0), source + ": offset"),
                                          integer<size_t>(t["offset"].at(1), source + ": offset"));
        token.generated = field<bool>(t, "generated", source + ": tokens");
        if (t.contains("logprob") && t["logprob"].is_number()) token.logProb = t["logprob"].get<float>();
        r.tokens.push_back(std::move(token));
    }
    for (const auto& s : j.value("saliency", json::array())) {
        SaliencySection section{named<SaliencyMethod>(s, "method", source + ": saliency"),
                                named<SaliencyTarget>(s, "target", source + ": saliency"),
                                {}};
        for (const auto& row : field<json>(s, "rows", source + ": saliency")) {
            SaliencyRow out;
            out.position = field<int>(row, "position", source + ": saliency row");
            out.tokenId = field<int>(row, "token_id", source + ": saliency row");
            out.scores = field<std::vector<float>>(row, "scores", source + ": saliency row");
            if (row.contains("raw")) out.raw = row["raw"].get<std::vector<float>>();
            if (row.contains("completeness_gap")) out.completenessGap = row["completeness_gap"].get<double>();
            if (row.contains("word_scores")) out.wordScores = row["word_scores"].get<std::vector<float>>();
            section.rows.push_back(std::move(out));
        }
        r.saliency.push_back(std::move(section));
    }
    for (const auto& w : j.value("words", json::array()))
        r.words.push_back({integer<int>(w.at("tokens").at(0), source + ": words"),
                           integer<int>(w.at("tokens").at(1), source + ": words"), w.value("text", "")});
    if (j.contains("lens") && j["lens"].is_object()) {
        const json& l = j["lens"];
        LensSection lens;
        lens.mode = named<LensMode>(l, "mode", source + ": lens");
        lens.layers = field<std::vector<std::string>>(l, "layers", source + ": lens");
        lens.topK = field<int>(l, "top_k", source + ": lens");
        lens.selfCheckMaxAbsDiff = l.value("self_check_max_abs_diff", 0.0);
        for (const auto& layer : field<json>(l, "cells", source + ": lens")) {
            std::vector<LensCell> row;
            for (const auto& c : layer) {
                LensCell cell;
                cell.topIds = field<std::vector<int>>(c, "top_ids", source + ": lens cell");
                cell.topProbs = field<std::vector<float>>(c, "top_probs", source + ": lens cell");
                if (c.contains("next_rank") && !c["next_rank"].is_null())
                    cell.nextRank = integer<int>(c["next_rank"], source + ": lens next_rank");
                if (c.contains("next_prob") && !c["next_prob"].is_null()) cell.nextProb = c["next_prob"].get<float>();
                cell.entropy = c.value("entropy", 0.0F);
                row.push_back(std::move(cell));
            }
            lens.cells.push_back(std::move(row));
        }
        r.lens = std::move(lens);
    }
    if (j.contains("factors") && j["factors"].is_object()) r.factors = factorsFromJson(j["factors"], source);
    if (j.contains("projection") && j["projection"].is_object()) {
        const json& p = j["projection"];
        ProjectionSection projection;
        projection.layer = field<int>(p, "layer", source + ": projection");
        projection.source = parseNamed<ProjectionSource>(p.value("source", "mlp_act"), source + ": projection source");
        projection.method = named<ProjectionMethod>(p, "method", source + ": projection");
        for (const auto& pt : field<json>(p, "points", source + ": projection"))
            projection.points.push_back({pt.at(0).get<float>(), pt.at(1).get<float>()});
        projection.clusters = field<std::vector<int>>(p, "clusters", source + ": projection");
        projection.clusterMethod =
            parseNamed<ClusterMethod>(p.value("cluster_method", "kmeans"), source + ": projection cluster_method");
        if (p.contains("explained_variance") && p["explained_variance"].is_array() &&
            p["explained_variance"].size() == 2)
            projection.explainedVariance = {p["explained_variance"][0].get<float>(),
                                            p["explained_variance"][1].get<float>()};
        r.projection = std::move(projection);
    }
    if (j.contains("token_texts") && j["token_texts"].is_object())
        for (auto it = j["token_texts"].begin(); it != j["token_texts"].end(); ++it)
            if (it->is_string()) {
                int id = 0;
                const std::string& key = it.key();
                const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
                if (ec != std::errc() || end != key.data() + key.size())
                    throw Error(source + ": token_texts key '" + sanitizeUtf8(key) + "' is not a token id");
                r.tokenTexts[id] = it->get<std::string>();
            }
    return r;
}

}  // namespace

// Every structural surprise (a missing key, a wrong type) becomes an Error naming the source:
// reports come from files people send each other, and sessions carry one inside.
Report reportFromJson(const std::string& text, const std::string& source)
{
    try {
        return parseReport(text, source);
    } catch (const json::exception& e) {
        throw Error(source + ": unexpected structure: " + e.what());
    }
}

void writeReport(const Report& report, const std::filesystem::path& path)
{
    const std::string text = reportToJson(report);
    AtomicFile out(path);
    out.write(text.data(), text.size());
    out.write("\n", 1);
    out.commit();
}

Report readReport(const std::filesystem::path& path)
{
    Report r = reportFromJson(readTextFile(path), path.string());
    // The factor loadings live beside the report (analyze --save-loadings): read them when present.
    if (r.factors && r.factors->loadingsFile) {
        const std::filesystem::path file = path.parent_path() / *r.factors->loadingsFile;
        std::error_code ec;
        if (std::filesystem::exists(file, ec)) {
            const auto loadings = SafetensorsFile::open(file);
            if (!loadings->find("loadings")) throw Error(file.string() + ": no tensor 'loadings'");
            r.factors->loadings = loadings->readFloat("loadings");
        }
    }
    return r;
}

void writeFactorLoadings(const Report& report, const std::filesystem::path& path)
{
    if (!report.factors) throw Error("the report has no factors to write");
    SafetensorsWriter w;
    w.addFloat("loadings", report.factors->loadings);
    std::vector<int64_t> layers(report.factors->layers.begin(), report.factors->layers.end());
    w.addInt64("layers", layers);
    w.write(path);
}

}  // namespace spyglass::core
