// Session files (.spyglass: Qt JSON around a report), read as the app reads them on Open.
#include "fuzz_support.h"
#include "session_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto path = spyglass::fuzz::writeScratch("session.spyglass", data, size);
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto session = spyglass::ui::loadSession(QString::fromStdString(path.string()));
        if (session.report) (void)session.report->tokens.size();
    });
    return 0;
}
