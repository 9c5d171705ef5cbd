#pragma once
// spyglass::core::Error — the one exception type the core throws.
//
//   try { auto model = LanguageModel::load("models/gpt2"); }
//   catch (const spyglass::core::Error& e) { std::cerr << e.what(); }
//
// Each layer adds context in front ("loading model 'DIR': model.safetensors: tensor 'x': reason"),
// so a message names the input, the reason and, where useful, what to do next.
// Thread safety: a value type; safe to copy across threads.
#include <stdexcept>
#include <string>
#include <utility>

namespace spyglass::core {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}

    // A new error whose message is `context + ": " + what()`.
    [[nodiscard]] Error withContext(const std::string& context) const { return Error(context + ": " + what()); }
};

// A bad option value. `field()` names the option as the options struct does (e.g. "lensTopK"), so
// that each front end can name it its own way (the CLI: "--top-k"; the app: "Lens top-k"); what()
// is "field: reason".
class OptionError : public Error {
public:
    OptionError(std::string field, const std::string& reason)
        : Error(field + ": " + reason), m_field(std::move(field)), m_reason(reason)
    {
    }
    [[nodiscard]] const std::string& field() const { return m_field; }
    [[nodiscard]] const std::string& reason() const { return m_reason; }

private:
    std::string m_field;
    std::string m_reason;
};

// Raised when a tensor allocation on the host failed or would pass setMemoryLimit()'s cap. What
// the run held is freed as the exception unwinds, so the process can go on.
class OutOfMemory : public Error {
public:
    explicit OutOfMemory(const std::string& message) : Error(message) {}
};

// Raised when a progress callback returned false.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

}  // namespace spyglass::core
