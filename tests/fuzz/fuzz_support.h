#pragma once
// Shared by the fuzz targets: the input written to a private scratch file (the loaders read
// files: mmap, ifstream), and a guard that lets only spyglass::core::Error through — any other
// exception, crash, leak or UB report is a finding.
#include "spyglass/error.h"

#include <unistd.h>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace spyglass::fuzz {

inline std::filesystem::path scratch(const std::string& name)
{
    static const std::filesystem::path dir = [] {
        auto d = std::filesystem::temp_directory_path() / ("spyglass-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir / name;
}

inline std::filesystem::path writeScratch(const std::string& name, const uint8_t* data, size_t size)
{
    const auto path = scratch(name);
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path;
}

template <typename Body>
void expectOnlyErrors(Body&& body)
{
    try {
        body();
    } catch (const spyglass::core::Error&) {
        // a clear rejection is the right answer to a bad file
    }
}

}  // namespace spyglass::fuzz
