// The spyglass.report/1 reader (reports and the report inside a session file).
#include "fuzz_support.h"
#include "spyglass/report_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto path = spyglass::fuzz::writeScratch("report.json", data, size);
    spyglass::fuzz::expectOnlyErrors([&] { (void)spyglass::core::readReport(path); });
    return 0;
}
