#pragma once
// Writing files so that a crash, a kill or a full disk never leaves a half-written one: the bytes
// go to "<path>.tmp.<pid>", are flushed to disk, and are renamed over <path> only when complete.
//
//   spyglass::core::writeFileAtomically("report.json", text);   // throws Error naming the path
//
// Thread safety: independent calls on different paths are safe.
#include <filesystem>
#include <string>

namespace spyglass::core {

void writeFileAtomically(const std::filesystem::path& path, const std::string& text);

// Fault injection for the kill-during-save tests: when SPYGLASS_TEST_PAUSE_MID_WRITE_MS is set,
// writers call this after writing part of a file; it says so on stderr ("spyglass: paused
// mid-write for a test") and sleeps that long. Without the variable it returns at once.
void pauseMidWriteForTests();

}  // namespace spyglass::core
