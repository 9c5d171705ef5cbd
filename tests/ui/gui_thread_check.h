#pragma once
// Every UI test marks the GUI thread as one that must never run torch (issue #14: the GUI thread
// never runs torch) and fails at the end if any libtorch operator was entered on it.
#include "spyglass/runtime.h"

#include <QString>

namespace spyglass::test {

inline void forbidTorchOnGuiThread()
{
    core::forbidTorchOnThisThread();
}

// "" when the GUI thread ran no torch, else what it ran.
inline QString torchOnGuiThread()
{
    const core::ForbiddenTorchCalls calls = core::forbiddenTorchCalls();
    if (calls.count == 0) return {};
    return QStringLiteral("the GUI thread entered %1 libtorch operators, first %2")
        .arg(calls.count)
        .arg(QString::fromStdString(calls.firstOperator));
}

}  // namespace spyglass::test

// In initTestCase and cleanupTestCase of every UI test.
#define SPYGLASS_FORBID_TORCH_ON_GUI_THREAD() spyglass::test::forbidTorchOnGuiThread()
#define SPYGLASS_VERIFY_NO_TORCH_ON_GUI_THREAD()                  \
    do {                                                          \
        const QString torch = spyglass::test::torchOnGuiThread(); \
        QVERIFY2(torch.isEmpty(), qPrintable(torch));             \
    } while (false)
