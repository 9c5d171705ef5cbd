// Session files (.spyglass: JSON around a report), read as the app reads them on Open.
#include "fuzz_support.h"

#include "spyglass/session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto path = spyglass::fuzz::writeScratch("session.spyglass", data, size);
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto session = spyglass::core::readSession(path);
        if (session.report) (void)session.report->tokens.size();
        (void)spyglass::core::sessionToJson(session);  // what was read can be written again
    });
    return 0;
}
