#include "spyglass/lab_remote.h"

#include "io/json_members.h"

#include "spyglass/error.h"

#include <map>

namespace spyglass::core {

namespace {

using nlohmann::json;

const json& objectMember(const json& j, const char* key, const std::string& where)
{
    const auto it = j.find(key);
    if (it == j.end() || !it->is_object()) throw Error(where + "." + key + " must be an object");
    return *it;
}

}  // namespace

json labOptionsToJson(const LabOptions& o)
{
    return {{"base", o.base},
            {"chunks", o.chunks},
            {"negative", o.negative},
            {"seeds", o.seeds},
            {"steps", o.steps},
            {"guidance", o.guidance},
            {"scheduler", o.scheduler},
            {"width", o.width},
            {"height", o.height},
            {"add_one", o.addOne},
            {"change_threshold", o.changeThreshold}};
}

LabOptions labOptionsFromJson(const json& j, const std::string& source)
{
    if (!j.is_object()) throw Error(source + ": options must be a JSON object");
    const JsonMembers m(j, source + ": options");
    LabOptions o;
    m.read("base", o.base);
    m.readList("chunks", o.chunks);
    m.read("negative", o.negative);
    m.readList("seeds", o.seeds);
    m.read("steps", o.steps);
    m.read("guidance", o.guidance);
    m.read("scheduler", o.scheduler);
    m.read("width", o.width);
    m.read("height", o.height);
    m.read("add_one", o.addOne);
    m.read("change_threshold", o.changeThreshold);
    return o;
}

json labReportToJson(const LabReport& r)
{
    json scores = json::array();
    for (const ChunkScore& s : r.scores) {
        json j{{"index", s.index},
               {"chunk", s.chunk},
               {"inside", s.inside},
               {"outside", s.outside},
               {"inside_spread", s.insideSpread},
               {"outside_spread", s.outsideSpread},
               {"structure_inside", s.structureInside},
               {"structure_outside", s.structureOutside},
               {"heat_inside", s.heatInside},
               {"other_heat_change", s.otherHeatChange},
               {"added_inside", s.addedInside ? json(*s.addedInside) : json(nullptr)},
               {"added_outside", s.addedOutside ? json(*s.addedOutside) : json(nullptr)},
               {"verdict", nameString(s.verdict)}};
        scores.push_back(std::move(j));
    }
    return {{"full_prompt", r.fullPrompt},           {"base_prompt", r.basePrompt},
            {"shortened_prompt", r.shortenedPrompt}, {"region_area", r.regionArea},
            {"change_threshold", r.changeThreshold}, {"scores", std::move(scores)},
            {"shortened_inside", r.shortenedInside}, {"shortened_outside", r.shortenedOutside},
            {"shortened_run", r.shortenedRun}};
}

LabReport labReportFromJson(const json& j, const std::string& source)
{
    if (!j.is_object()) throw Error(source + ": the lab report must be a JSON object");
    const JsonMembers m(j, source + ": lab");
    LabReport r;
    m.read("full_prompt", r.fullPrompt);
    m.read("base_prompt", r.basePrompt);
    m.read("shortened_prompt", r.shortenedPrompt);
    m.read("region_area", r.regionArea);
    m.read("change_threshold", r.changeThreshold);
    m.read("shortened_inside", r.shortenedInside);
    m.read("shortened_outside", r.shortenedOutside);
    m.read("shortened_run", r.shortenedRun);
    if (const auto scores = j.find("scores"); scores != j.end()) {
        if (!scores->is_array()) throw Error(source + ": lab.scores must be a list");
        for (const json& item : *scores) {
            if (!item.is_object()) throw Error(source + ": lab.scores has an item that is not an object");
            const JsonMembers sm(item, source + ": lab.scores[]");
            ChunkScore s;
            sm.read("index", s.index);
            sm.read("chunk", s.chunk);
            sm.read("inside", s.inside);
            sm.read("outside", s.outside);
            sm.read("inside_spread", s.insideSpread);
            sm.read("outside_spread", s.outsideSpread);
            sm.read("structure_inside", s.structureInside);
            sm.read("structure_outside", s.structureOutside);
            sm.read("heat_inside", s.heatInside);
            sm.read("other_heat_change", s.otherHeatChange);
            sm.readOptional("added_inside", s.addedInside);
            sm.readOptional("added_outside", s.addedOutside);
            sm.readName("verdict", s.verdict);
            if (s.index < 0) throw Error(source + ": lab.scores[].index is negative");
            r.scores.push_back(std::move(s));
        }
    }
    return r;
}

void encodeLabAnswer(const LabReport& report, const LabImages& images, json& header,
                     std::vector<std::pair<std::string, std::string>>& payloads)
{
    auto put = [&](const std::string& name, const std::vector<uint8_t>& rgb) {
        payloads.emplace_back("lab/" + name, std::string(rgb.begin(), rgb.end()));
    };
    put("full", images.full);
    put("base", images.base);
    put("shortened", images.shortened);
    for (size_t c = 0; c < images.without.size(); ++c) put("without/" + std::to_string(c), images.without[c]);
    header["lab"] = {{"report", labReportToJson(report)},
                     {"width", images.width},
                     {"height", images.height},
                     {"without", images.without.size()}};
}

std::pair<LabReport, LabImages> decodeLabAnswer(const Frame& frame, const std::string& source)
{
    const auto lab = frame.header.find("lab");
    if (lab == frame.header.end() || !lab->is_object()) throw Error(source + ": the answer holds no lab result");
    const JsonMembers m(*lab, source + ": lab");
    LabImages images;
    size_t without = 0;
    m.read("width", images.width);
    m.read("height", images.height);
    m.read("without", without);
    if (images.width <= 0 || images.height <= 0 || images.width > 16384 || images.height > 16384)
        throw Error(source + ": the lab result has a bad image size");
    if (without > frame.payloads.size()) throw Error(source + ": the lab result announces more images than it carries");
    std::map<std::string, const std::string*> payloads;
    for (const auto& [name, bytes] : frame.payloads) payloads[name] = &bytes;
    const size_t size = static_cast<size_t>(images.width) * static_cast<size_t>(images.height) * 3;
    auto get = [&](const std::string& name) {
        const auto it = payloads.find("lab/" + name);
        if (it == payloads.end() || it->second->size() != size)
            throw Error(source + ": the lab result's image '" + name + "' is missing or of the wrong size");
        return std::vector<uint8_t>(it->second->begin(), it->second->end());
    };
    images.full = get("full");
    images.base = get("base");
    images.shortened = get("shortened");
    for (size_t c = 0; c < without; ++c) images.without.push_back(get("without/" + std::to_string(c)));
    LabReport report = labReportFromJson(objectMember(*lab, "report", source + ": lab"), source);
    for (const ChunkScore& s : report.scores)
        if (static_cast<size_t>(s.index) >= without)
            throw Error(source + ": the lab result scores chunk " + std::to_string(s.index) + " without its image");
    return {std::move(report), std::move(images)};
}

}  // namespace spyglass::core
