#include "spyglass/prompt_lab.h"

#include "image/clip_tokenizer.h"
#include "image/heatmap_words.h"
#include "io/atomic_file.h"
#include "spyglass/error.h"
#include "spyglass/heatmap_overlay.h"
#include "spyglass/prompt_weights.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace spyglass::core {

namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s)
{
    const size_t a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return {};
    return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

bool onlyLoraTags(const std::string& chunk)
{
    if (chunk.find("<lora:") == std::string::npos) return false;
    try {
        return trim(extractLoraTags(chunk).prompt).empty();
    } catch (const Error&) {
        return false;  // said when the run takes the tags out
    }
}

// The base and chunks joined by ", "; chunks that are only LoRA tags go last, after a space, so
// that taking the tags out leaves exactly the words of the other chunks (no stray comma).
std::string joined(const std::string& base, const std::vector<std::string>& chunks)
{
    std::string p = trim(base), tags;
    for (const auto& c : chunks) {
        if (onlyLoraTags(c))
            tags += " " + c;
        else
            p += (p.empty() ? "" : ", ") + c;
    }
    return p + tags;
}

// A run's prompt without its LoRA tags, and the tags.
LoraTags splitRunPrompt(const std::string& prompt)
{
    LoraTags t = extractLoraTags(prompt);
    t.prompt = trim(t.prompt);
    return t;
}

std::string tagsKey(const std::vector<LoraTag>& tags)
{
    std::string k;
    for (const auto& t : tags) k += t.name + ":" + std::to_string(t.weight) + "\x1f";
    return k;
}

cv::Mat toMat(const DiffusionResult& r)
{
    return cv::Mat(r.height, r.width, CV_8UC3, const_cast<uint8_t*>(r.rgb.data()));
}

// RMS of the per-pixel colour difference (0 … 1) inside and outside the mask.
std::pair<double, double> rmsChange(const DiffusionResult& a, const DiffusionResult& b,
                                    const std::vector<uint8_t>& mask)
{
    double in = 0, out = 0;
    size_t nIn = 0, nOut = 0;
    for (size_t p = 0; p < mask.size(); ++p) {
        double d = 0;
        for (size_t c = 0; c < 3; ++c) d += std::pow((a.rgb[p * 3 + c] - b.rgb[p * 3 + c]) / 255.0, 2);
        d /= 3;
        (mask[p] ? in : out) += d;
        ++(mask[p] ? nIn : nOut);
    }
    return {nIn ? std::sqrt(in / static_cast<double>(nIn)) : 0.0,
            nOut ? std::sqrt(out / static_cast<double>(nOut)) : 0.0};
}

// Per-pixel SSIM (Wang et al.: 11×11 Gaussian, σ 1.5, C1 = (0.01·255)², C2 = (0.03·255)²), mean over colours.
cv::Mat ssimMap(const cv::Mat& a8, const cv::Mat& b8)
{
    const double c1 = 6.5025, c2 = 58.5225;
    auto blur = [](const cv::Mat& m) {
        cv::Mat out;
        cv::GaussianBlur(m, out, cv::Size(11, 11), 1.5);
        return out;
    };
    std::vector<cv::Mat> as, bs;
    cv::split(a8, as);
    cv::split(b8, bs);
    cv::Mat mean = cv::Mat::zeros(a8.rows, a8.cols, CV_32F);
    for (size_t c = 0; c < as.size(); ++c) {  // one channel at a time: MatExpr scalars apply to channel 0 only
        cv::Mat a, b;
        as[c].convertTo(a, CV_32F);
        bs[c].convertTo(b, CV_32F);
        const cv::Mat muA = blur(a), muB = blur(b);
        const cv::Mat muA2 = muA.mul(muA), muB2 = muB.mul(muB), muAB = muA.mul(muB);
        const cv::Mat sA = blur(a.mul(a)) - muA2, sB = blur(b.mul(b)) - muB2, sAB = blur(a.mul(b)) - muAB;
        const cv::Mat num = (2 * muAB + c1).mul(2 * sAB + c2);
        const cv::Mat den = (muA2 + muB2 + c1).mul(sA + sB + c2);
        cv::Mat ssim;
        cv::divide(num, den, ssim);
        mean += ssim / static_cast<double>(as.size());
    }
    return mean;
}

std::pair<double, double> structureChange(const DiffusionResult& a, const DiffusionResult& b,
                                          const std::vector<uint8_t>& mask)
{
    const cv::Mat s = ssimMap(toMat(a), toMat(b));
    double in = 0, out = 0;
    size_t nIn = 0, nOut = 0;
    for (size_t p = 0; p < mask.size(); ++p) {
        const double v = 1.0 - s.at<float>(static_cast<int>(p));
        (mask[p] ? in : out) += v;
        ++(mask[p] ? nIn : nOut);
    }
    return {nIn ? in / static_cast<double>(nIn) : 0.0, nOut ? out / static_cast<double>(nOut) : 0.0};
}

// The words of a prompt piece as the heatmaps name them.
std::vector<std::string> wordsOf(const std::string& text)
{
    std::string plain;
    for (const auto& piece : parsePromptWeights(splitRunPrompt(text).prompt)) plain += piece.text;
    const std::string cleaned = ClipTokenizer::clean(plain);
    std::vector<std::string> out;
    for (const auto& [b, e] : heatmapWordSpans(cleaned)) out.push_back(cleaned.substr(b, e - b));
    return out;
}

// Image-size map (not normalised) of the given words, averaged; empty when none is found.
// `image`: the run's word maps resized to the image (resizeMaps, not min–max).
std::vector<float> heatOf(const DiffusionResult& r, const HostTensor& image, const std::vector<std::string>& words)
{
    const Heatmaps& h = r.heatmaps;
    const auto pixels = static_cast<size_t>(r.width) * static_cast<size_t>(r.height);
    std::vector<float> sum(pixels, 0.0F);
    int count = 0;
    for (size_t i = 0; i < h.words.size(); ++i)
        if (std::find(words.begin(), words.end(), h.words[i].word) != words.end()) {
            for (size_t p = 0; p < pixels; ++p) sum[p] += std::max(0.0F, image.values[i * pixels + p]);
            ++count;
        }
    if (count == 0) return {};
    for (auto& v : sum) v /= static_cast<float>(count);
    return sum;
}

// One run of the experiment: the lab's settings, emphasis read the common way.
DiffusionOptions runOptions(const LabOptions& o, const std::string& prompt, uint64_t seed)
{
    DiffusionOptions d;
    d.prompt = prompt;
    d.negativePrompt = o.negative;
    d.seed = seed;
    d.steps = o.steps;
    d.guidance = o.guidance;
    d.scheduler = o.scheduler;
    d.width = o.width;
    d.height = o.height;
    d.promptWeights = true;
    return d;
}

double meanOf(const std::vector<double>& v)
{
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double spreadOf(const std::vector<double>& v)
{
    if (v.size() < 2) return 0;
    const double m = meanOf(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace

std::vector<std::string> splitChunks(const std::string& appended, const std::string& separator)
{
    if (separator.empty()) throw OptionError("separator", "the separator is empty");
    std::vector<std::string> chunks;
    std::string current;
    int depth = 0;
    for (size_t i = 0; i < appended.size();) {
        const char c = appended[i];
        if (c == '(' || c == '[') ++depth;
        if ((c == ')' || c == ']') && depth > 0) --depth;
        if (depth == 0 && appended.compare(i, separator.size(), separator) == 0) {
            if (!trim(current).empty()) chunks.push_back(trim(current));
            current.clear();
            i += separator.size();
            continue;
        }
        current += c;
        ++i;
    }
    if (!trim(current).empty()) chunks.push_back(trim(current));
    return chunks;
}

std::vector<uint8_t> rectangleMask(int x, int y, int w, int h, int width, int height)
{
    std::vector<uint8_t> mask(static_cast<size_t>(width) * static_cast<size_t>(height), 0);
    for (int yy = std::max(0, y); yy < std::min(height, y + h); ++yy)
        for (int xx = std::max(0, x); xx < std::min(width, x + w); ++xx) mask[static_cast<size_t>(yy * width + xx)] = 1;
    return mask;
}

std::string PromptLab::fullPrompt(const LabOptions& o)
{
    return joined(o.base, o.chunks);
}

std::string PromptLab::promptWithout(const LabOptions& o, size_t chunk)
{
    std::vector<std::string> rest = o.chunks;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(chunk));
    return joined(o.base, rest);
}

std::string PromptLab::promptWith(const LabOptions& o, size_t chunk)
{
    return joined(o.base, {o.chunks.at(chunk)});
}

std::vector<std::string> PromptLab::prompts(const LabOptions& o)
{
    std::vector<std::string> p{fullPrompt(o), joined(o.base, {})};
    for (size_t c = 0; c < o.chunks.size(); ++c) p.push_back(promptWithout(o, c));
    if (o.addOne)
        for (size_t c = 0; c < o.chunks.size(); ++c) p.push_back(promptWith(o, c));
    std::vector<std::string> unique;  // with two chunks, "without A" is "with B"
    for (auto& prompt : p)
        if (std::find(unique.begin(), unique.end(), prompt) == unique.end()) unique.push_back(std::move(prompt));
    return unique;
}

std::string PromptLab::key(const LabOptions& o, const std::string& prompt, uint64_t seed)
{
    return prompt + "\x1f" + o.negative + "\x1f" + std::to_string(seed) + "\x1f" + std::to_string(o.steps) + "\x1f" +
           std::to_string(o.guidance) + "\x1f" + o.scheduler + "\x1f" + std::to_string(o.width) + "x" +
           std::to_string(o.height);
}

std::shared_ptr<const DiffusionResult> PromptLab::cached(const LabOptions& o, const std::string& prompt,
                                                         uint64_t seed) const
{
    const auto it = m_cache.find(key(o, prompt, seed));
    return it == m_cache.end() ? nullptr : it->second;
}

void PromptLab::run(const LabOptions& o, const ProgressCallback& progress)
{
    if (trim(o.base).empty()) throw OptionError("base", "the base prompt is empty");
    if (o.chunks.empty()) throw OptionError("chunks", "no chunks to compare (split by the separator)");
    if (o.seeds.empty()) throw OptionError("seeds", "at least one seed");
    const std::vector<std::string> all = prompts(o);
    std::vector<std::pair<std::string, uint64_t>> todo;
    for (uint64_t seed : o.seeds)
        for (const auto& p : all)
            if (!cached(o, p, seed)) todo.emplace_back(p, seed);
    // Runs sharing LoRA tags together: each set of LoRAs is merged once.
    std::stable_sort(todo.begin(), todo.end(), [](const auto& a, const auto& b) {
        return tagsKey(splitRunPrompt(a.first).loras) < tagsKey(splitRunPrompt(b.first).loras);
    });
    const int total = static_cast<int>(todo.size());
    for (int i = 0; i < total; ++i) {
        const std::string stage = "run " + std::to_string(i + 1) + "/" + std::to_string(total);
        if (progress && !progress({stage, i, total})) throw Cancelled();
        generateRun(o, todo[static_cast<size_t>(i)].first, todo[static_cast<size_t>(i)].second, [&](const Progress&) {
            return !progress || progress({stage, i, total});
        });
    }
    if (progress && !progress({"runs", total, total})) throw Cancelled();
}

LabReport PromptLab::score(const LabOptions& o, const std::vector<uint8_t>& mask) const
{
    LabReport r;
    r.fullPrompt = fullPrompt(o);
    r.basePrompt = joined(o.base, {});
    r.changeThreshold = o.changeThreshold;
    const auto first = cached(o, r.fullPrompt, o.seeds.at(0));
    if (!first) throw Error("the prompt lab has not run these settings yet");
    if (mask.size() != static_cast<size_t>(first->width) * static_cast<size_t>(first->height))
        throw Error("the region mask is not " + std::to_string(first->width) + "x" + std::to_string(first->height));
    size_t inside = 0;
    for (uint8_t m : mask) inside += m ? 1 : 0;
    if (inside == 0) throw Error("the region is empty");
    r.regionArea = static_cast<double>(inside) / static_cast<double>(mask.size());
    const auto need = [&](const std::string& p, uint64_t seed) {
        auto c = cached(o, p, seed);
        if (!c) throw Error("the prompt lab has not run '" + p + "' with seed " + std::to_string(seed) + " yet");
        return c;
    };
    const std::vector<std::string> baseWords = wordsOf(o.base);
    std::map<uint64_t, HostTensor> fullImageMaps;  // per seed: the full run's word maps at image size, resized once
    std::vector<std::string> kept;
    for (size_t c = 0; c < o.chunks.size(); ++c) {
        ChunkScore s;
        s.index = static_cast<int>(c);
        s.chunk = o.chunks[c];
        std::vector<double> in, out, sin, sout, heat, other, addIn, addOut;
        const std::vector<std::string> chunkWords = wordsOf(o.chunks[c]);
        for (uint64_t seed : o.seeds) {
            const auto full = need(r.fullPrompt, seed);
            const auto without = need(promptWithout(o, c), seed);
            const auto [i, e] = rmsChange(*full, *without, mask);
            in.push_back(i);
            out.push_back(e);
            const auto [si, se] = structureChange(*full, *without, mask);
            sin.push_back(si);
            sout.push_back(se);
            auto& image = fullImageMaps[seed];
            if (image.values.empty()) image = resizeMaps(full->heatmaps.wordMaps, full->height, full->width, false);
            const std::vector<float> h = heatOf(*full, image, chunkWords);
            if (!h.empty()) {
                double hi = 0, ht = 0;
                for (size_t p = 0; p < h.size(); ++p) {
                    ht += h[p];
                    hi += mask[p] ? h[p] : 0.0F;
                }
                heat.push_back(ht > 0 ? hi / ht : 0.0);
            }
            // The other (base) words' normalised maps inside the region, full vs without.
            double change = 0;
            int words = 0;
            const auto pixels = mask.size();
            for (size_t a = 0; a < full->heatmaps.words.size(); ++a) {
                const std::string& w = full->heatmaps.words[a].word;
                if (std::find(baseWords.begin(), baseWords.end(), w) == baseWords.end()) continue;
                if (std::find(chunkWords.begin(), chunkWords.end(), w) != chunkWords.end()) continue;
                for (size_t b = 0; b < without->heatmaps.words.size(); ++b) {
                    if (without->heatmaps.words[b].word != w) continue;
                    double d = 0;
                    for (size_t p = 0; p < pixels; ++p)
                        if (mask[p])
                            d += std::abs(full->heatmaps.wordMapsImage.values[a * pixels + p] -
                                          without->heatmaps.wordMapsImage.values[b * pixels + p]);
                    change += d / static_cast<double>(inside);
                    ++words;
                }
            }
            other.push_back(words ? change / words : 0.0);
            if (o.addOne) {
                const auto [ai, ae] = rmsChange(*need(promptWith(o, c), seed), *need(r.basePrompt, seed), mask);
                addIn.push_back(ai);
                addOut.push_back(ae);
            }
        }
        s.inside = meanOf(in);
        s.outside = meanOf(out);
        s.insideSpread = spreadOf(in);
        s.outsideSpread = spreadOf(out);
        s.structureInside = meanOf(sin);
        s.structureOutside = meanOf(sout);
        s.heatInside = meanOf(heat);
        s.otherHeatChange = meanOf(other);
        if (o.addOne) {
            s.addedInside = meanOf(addIn);
            s.addedOutside = meanOf(addOut);
        }
        if (s.inside > o.changeThreshold)
            s.verdict = Verdict::ChangesRegion;
        else if (s.outside > o.changeThreshold)
            s.verdict = Verdict::ChangesElsewhere;
        else
            s.verdict = Verdict::NoEffect;
        if (s.inside > o.changeThreshold || s.outside > o.changeThreshold) kept.push_back(s.chunk);
        r.scores.push_back(std::move(s));
    }
    std::stable_sort(r.scores.begin(), r.scores.end(),
                     [](const ChunkScore& a, const ChunkScore& b) { return a.inside > b.inside; });
    r.shortenedPrompt = joined(o.base, kept);
    if (const auto shortened = cached(o, r.shortenedPrompt, o.seeds.front())) {
        const auto [i, e] = rmsChange(*shortened, *first, mask);
        r.shortenedInside = i;
        r.shortenedOutside = e;
        r.shortenedRun = true;
    }
    return r;
}

void PromptLab::runShortened(const LabOptions& o, const std::vector<uint8_t>& mask, LabReport& report,
                             const ProgressCallback& progress)
{
    if (!cached(o, report.shortenedPrompt, o.seeds.front()))
        generateRun(o, report.shortenedPrompt, o.seeds.front(), [&](const Progress& p) {
            return !progress || progress({"shortened prompt", p.done, p.total});
        });
    report = score(o, mask);
}

LabReport PromptLab::experiment(const LabOptions& o, std::vector<uint8_t>& mask, const ProgressCallback& progress)
{
    run(o, progress);
    const auto full = cached(o, fullPrompt(o), o.seeds.front());
    if (mask.empty()) mask.assign(static_cast<size_t>(full->width) * static_cast<size_t>(full->height), 1);
    LabReport report = score(o, mask);
    runShortened(o, mask, report, progress);
    return report;
}

LabImages PromptLab::images(const LabOptions& o, const LabReport& report) const
{
    const uint64_t seed = o.seeds.front();
    auto rgb = [&](const std::string& prompt) {
        const auto r = cached(o, prompt, seed);
        if (!r) throw Error("the prompt lab has not run '" + prompt + "' yet");
        return r;
    };
    const auto full = rgb(report.fullPrompt);
    LabImages out;
    out.width = full->width;
    out.height = full->height;
    out.full = full->rgb;
    out.base = rgb(report.basePrompt)->rgb;
    out.shortened = rgb(report.shortenedPrompt)->rgb;
    for (size_t c = 0; c < o.chunks.size(); ++c) out.without.push_back(rgb(promptWithout(o, c))->rgb);
    return out;
}

void PromptLab::generateRun(const LabOptions& o, const std::string& prompt, uint64_t seed,
                            const ProgressCallback& progress)
{
    const LoraTags tags = splitRunPrompt(prompt);
    if (!tags.loras.empty() && !m_source)
        throw OptionError("chunks",
                          "'" + prompt + "' holds <lora:…> tags: LoRA chunks need the LoRA files (a LoRA folder)");
    DiffusionModel& model = m_source ? m_source(tags.loras) : *m_model;
    auto result = model.generate(runOptions(o, tags.prompt, seed), progress);
    m_cache[key(o, prompt, seed)] = std::make_shared<const DiffusionResult>(std::move(result));
}

std::vector<uint8_t> differenceImage(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, int width,
                                     int height)
{
    std::vector<float> diff(static_cast<size_t>(width) * static_cast<size_t>(height));
    if (a.size() != diff.size() * 3 || b.size() != diff.size() * 3)
        throw Error("difference image: the images are not width·height·3 bytes");
    for (size_t p = 0; p < diff.size(); ++p) {
        double d = 0;
        for (size_t c = 0; c < 3; ++c) d += std::abs(a[p * 3 + c] - b[p * 3 + c]) / 255.0;
        diff[p] = static_cast<float>(std::min(1.0, d / 3 * 4));
    }
    return colorizeHeatmap(width, height, diff.data(), "inferno");
}

void writeLabReport(const PromptLab& lab, const LabOptions& o, const LabReport& report,
                    const std::vector<uint8_t>& mask, const fs::path& dir)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(dir.string() + ": cannot create the folder (" + ec.message() + ")");
    const uint64_t seed = o.seeds.front();
    const auto full = lab.cached(o, report.fullPrompt, seed);
    const auto base = lab.cached(o, report.basePrompt, seed);
    if (!full || !base) throw Error("the prompt lab has not run these settings yet");
    const int w = full->width, h = full->height;
    writeRgbPng(full->rgb, w, h, dir / "full.png");
    writeRgbPng(base->rgb, w, h, dir / "base.png");
    // Grid: per chunk [full | without | |difference|], region outlined; thumbnails at least 128 px.
    const int cell = std::max(128, w);
    const double scale = static_cast<double>(cell) / w;
    const int cellH = static_cast<int>(h * scale);
    auto thumb = [&](const std::vector<uint8_t>& rgb) {
        cv::Mat m(h, w, CV_8UC3, const_cast<uint8_t*>(rgb.data()));
        cv::Mat big;
        cv::resize(m, big, cv::Size(cell, cellH), 0, 0, scale >= 2 ? cv::INTER_NEAREST : cv::INTER_AREA);
        cv::Mat outlined = big.clone();
        cv::Mat region(h, w, CV_8UC1, const_cast<uint8_t*>(mask.data()));
        cv::Mat regionBig;
        cv::resize(region * 255, regionBig, cv::Size(cell, cellH), 0, 0, cv::INTER_NEAREST);
        std::vector<std::vector<cv::Point>> contours;
        cv::findContours(regionBig, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
        cv::drawContours(outlined, contours, -1, cv::Scalar(255, 255, 255), 2);
        cv::drawContours(outlined, contours, -1, cv::Scalar(0, 0, 0), 1);
        return outlined;
    };
    std::vector<cv::Mat> rows;
    nlohmann::json chunks = nlohmann::json::array();
    for (const auto& s : report.scores) {
        const auto without = lab.cached(o, PromptLab::promptWithout(o, static_cast<size_t>(s.index)), seed);
        if (!without) continue;
        char name[32];
        std::snprintf(name, sizeof name, "%02d", s.index);
        writeRgbPng(without->rgb, w, h, dir / ("without-" + std::string(name) + ".png"));
        const std::vector<uint8_t> diffRgb = differenceImage(full->rgb, without->rgb, w, h);
        writeRgbPng(diffRgb, w, h, dir / ("diff-" + std::string(name) + ".png"));
        cv::Mat row;
        cv::hconcat(std::vector<cv::Mat>{thumb(full->rgb), thumb(without->rgb), thumb(diffRgb)}, row);
        cv::Mat labelled(row.rows + 22, row.cols, CV_8UC3, cv::Scalar(255, 255, 255));
        row.copyTo(labelled(cv::Rect(0, 22, row.cols, row.rows)));
        // Hershey fonts are ASCII: a short verdict.
        const std::string shortVerdict = s.verdict == Verdict::NoEffect ? "no effect" : nameString(s.verdict);
        cv::putText(labelled, "without \"" + s.chunk + "\": " + shortVerdict, cv::Point(4, 16),
                    cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
        rows.push_back(labelled);
        nlohmann::json j{{"index", s.index},
                         {"chunk", s.chunk},
                         {"verdict", nameString(s.verdict)},
                         {"change_inside", s.inside},
                         {"change_outside", s.outside},
                         {"change_inside_spread", s.insideSpread},
                         {"change_outside_spread", s.outsideSpread},
                         {"structure_change_inside", s.structureInside},
                         {"structure_change_outside", s.structureOutside},
                         {"heat_share_inside", s.heatInside},
                         {"other_words_heat_change_inside", s.otherHeatChange},
                         {"without_image", "without-" + std::string(name) + ".png"},
                         {"difference_image", "diff-" + std::string(name) + ".png"},
                         {"prompt_without", PromptLab::promptWithout(o, static_cast<size_t>(s.index))}};
        if (s.addedInside) {
            j["added_change_inside"] = *s.addedInside;
            j["added_change_outside"] = *s.addedOutside;
        }
        chunks.push_back(j);
    }
    if (!rows.empty()) {
        cv::Mat grid;
        cv::vconcat(rows, grid);
        cv::cvtColor(grid, grid, cv::COLOR_RGB2BGR);
        std::vector<uint8_t> bytes;
        cv::imencode(".png", grid, bytes);
        writeFileAtomically(dir / "grid.png", std::string(bytes.begin(), bytes.end()));
    }
    if (const auto shortened = lab.cached(o, report.shortenedPrompt, seed))
        writeRgbPng(shortened->rgb, w, h, dir / "shortened.png");
    nlohmann::json index{
        {"base", o.base},
        {"chunks", o.chunks},
        {"negative", o.negative},
        {"seeds", o.seeds},
        {"steps", o.steps},
        {"guidance", o.guidance},
        {"scheduler", full->scheduler},
        {"size", {w, h}},
        {"region_area", report.regionArea},
        {"thresholds",
         {{"change", o.changeThreshold},
          {"meaning",
           "RMS colour change (0…1) of the image when the chunk is removed; above it inside the region: "
           "'changes the region'; only outside: 'changes only elsewhere'; neither: 'no measurable effect — can be "
           "deleted'"}}},
        {"full_prompt", report.fullPrompt},
        {"base_prompt", report.basePrompt},
        {"shortened_prompt", report.shortenedPrompt},
        {"ranking", chunks}};
    if (report.shortenedRun)
        index["shortened_vs_full"] = {{"change_inside", report.shortenedInside},
                                      {"change_outside", report.shortenedOutside}};
    writeFileAtomically(dir / "index.json", index.dump(2) + "\n");
    // A self-contained HTML summary for a report.
    auto esc = [](const std::string& s) {
        std::string o2;
        for (char c : s)
            o2 += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '"' ? "&quot;" : std::string(1, c);
        return o2;
    };
    std::string html =
        "<!doctype html><meta charset=utf-8><title>Spyglass prompt "
        "lab</title><style>body{font-family:sans-serif;max-width:960px;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px "
        "8px;text-align:right}td:nth-child(2),td:nth-child(3){text-align:left}"
        "img{image-rendering:pixelated}</style><h1>Which chunks change the region?</h1>";
    html += "<p>Base: <b>" + esc(report.basePrompt) + "</b><br>Full: " + esc(report.fullPrompt) +
            "<br>Seeds: " + std::to_string(o.seeds.size()) + ", " + std::to_string(o.steps) + " steps, " +
            esc(full->scheduler) + ", region " + std::to_string(static_cast<int>(report.regionArea * 100 + 0.5)) +
            "% of the image. Threshold: RMS change &gt; " + std::to_string(o.changeThreshold) + ".</p>";
    html +=
        "<p><img src=full.png width=192> <img src=base.png width=192> <img src=shortened.png width=192><br>full · base "
        "· shortened: <b>" +
        esc(report.shortenedPrompt) + "</b></p>";
    html +=
        "<table><tr><th>#</th><th>chunk</th><th>verdict</th><th>change inside</th><th>outside</th><th>1−SSIM "
        "inside</th><th>heat in region</th><th>other words' heat Δ</th></tr>";
    int rank = 1;
    for (const auto& s : report.scores) {
        char line[512];
        std::snprintf(line, sizeof line, "<td>%.4f ± %.4f</td><td>%.4f</td><td>%.3f</td><td>%.1f%%</td><td>%.3f</td>",
                      s.inside, s.insideSpread, s.outside, s.structureInside, 100 * s.heatInside, s.otherHeatChange);
        html += "<tr><td>" + std::to_string(rank++) + "</td><td>" + esc(s.chunk) + "</td><td>" +
                esc(nameString(s.verdict)) + "</td>" + line + "</tr>";
    }
    html += "</table><h2>Each variant beside the full prompt, with its difference</h2><img src=grid.png>";
    writeFileAtomically(dir / "report.html", html);
}

}  // namespace spyglass::core
