#pragma once
// RunSettings — where every run goes: the device ("cpu", "cuda" or "remote": a spyglass-cli serve
// over SSH) and the number of threads. The one value from which RunController fills the common part
// of every request (analysis, recompute, image, lab).
#include "worker/remote_target.h"

#include <QString>

#include "spyglass/runtime.h"

namespace spyglass::ui {

struct RunSettings {
    QString device = QStringLiteral("cpu");
    int threads = core::kDefaultThreadCount;
    RemoteTarget remote;  // used when device is "remote"

    friend bool operator==(const RunSettings&, const RunSettings&) = default;
};

}  // namespace spyglass::ui
