// The frames of `spyglass-cli serve --stdio` (#19 item 3): the input, fed to a FrameReader in
// pieces whose sizes come from its first bytes, as a client's or server's stream would arrive —
// malformed JSON, wrong types, "binary" lists announcing too much, lines over the limit. Only
// spyglass::core::Error may come out of next(), the reader must go on after it, every frame it
// returns must re-encode, and the bytes it holds must never exceed what was fed. Each frame is
// also read as the typed methods' answers and params are (an image result and a lab result with
// their payloads, each payload as a patching result, an A/B comparison and an analysis stage
// update; analysis, image, load and lab options): those may only throw Error too.
#include "fuzz_support.h"
#include "spyglass/analysis_options_json.h"
#include "spyglass/diffusion_remote.h"
#include "spyglass/error.h"
#include "spyglass/lab_remote.h"
#include "spyglass/patching.h"
#include "spyglass/prompt_comparison.h"
#include "spyglass/report_update_json.h"
#include "spyglass/serve_frames.h"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1) return 0;
    const size_t piece = 1 + data[0] % 64;
    const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    spyglass::core::FrameReader reader(4096, 8192);  // small limits so that the fuzzer reaches them
    size_t fed = 0;
    for (size_t at = 0; at < bytes.size(); at += piece) {
        const size_t n = std::min(piece, bytes.size() - at);
        reader.feed(bytes.data() + at, n);
        fed += n;
        for (;;) {
            try {
                auto frame = reader.next();
                if (!frame) break;
                const std::string again = spyglass::core::encodeFrame(frame->header, frame->payloads);
                if (again.empty()) std::abort();
                const auto& h = frame->header;
                spyglass::fuzz::expectOnlyErrors([&] { (void)spyglass::core::decodeDiffusionResult(*frame, "f"); });
                spyglass::fuzz::expectOnlyErrors([&] { (void)spyglass::core::analysisOptionsFromJson(h.dump(), "f"); });
                spyglass::fuzz::expectOnlyErrors([&] { (void)spyglass::core::diffusionOptionsFromJson(h, "f"); });
                spyglass::fuzz::expectOnlyErrors([&] { (void)spyglass::core::diffusionLoadFromJson(h, "f"); });
                spyglass::fuzz::expectOnlyErrors([&] { (void)spyglass::core::decodeLabAnswer(*frame, "f"); });
                spyglass::fuzz::expectOnlyErrors([&] { (void)spyglass::core::labOptionsFromJson(h, "f"); });
                for (const auto& payload : frame->payloads) {
                    spyglass::fuzz::expectOnlyErrors(
                        [&] { (void)spyglass::core::patchResultFromJson(payload.second, "f"); });
                    spyglass::fuzz::expectOnlyErrors(
                        [&] { (void)spyglass::core::comparisonFromWire(payload.second, "f"); });
                    spyglass::fuzz::expectOnlyErrors(
                        [&] { (void)spyglass::core::reportUpdateFromJson(payload.second, "f"); });
                }
            } catch (const spyglass::core::Error&) {
                // dropped: read on
            }
        }
        if (reader.pending() > fed) std::abort();
    }
    return 0;
}
