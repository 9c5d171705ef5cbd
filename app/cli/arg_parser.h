#pragma once
// ArgParser — a small, strict command-line parser for spyglass-cli subcommands: `--name value`
// and `--name=value` options, flags, positionals; unknown options are errors.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace spyglass::cli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ArgParser {
public:
    ArgParser(std::string command, std::string synopsis);
    void addOption(const std::string& name, const std::string& valueName, const std::string& help);
    void addFlag(const std::string& name, const std::string& help);
    // Throws UsageError. `--help` sets helpRequested().
    void parse(const std::vector<std::string>& args);

    [[nodiscard]] bool helpRequested() const { return m_help; }
    [[nodiscard]] std::string helpText() const;
    [[nodiscard]] bool has(const std::string& name) const;
    [[nodiscard]] std::optional<std::string> value(const std::string& name) const;  // the last one given
    [[nodiscard]] std::vector<std::string> values(const std::string& name) const;   // every one, in order
    [[nodiscard]] std::string required(const std::string& name) const;
    [[nodiscard]] int intValue(const std::string& name, int fallback) const;
    [[nodiscard]] double doubleValue(const std::string& name, double fallback) const;
    [[nodiscard]] const std::vector<std::string>& positionals() const { return m_positionals; }

private:
    struct Spec {
        std::string valueName;  // empty for flags
        std::string help;
    };
    std::string m_command;
    std::string m_synopsis;
    std::vector<std::string> m_order;
    std::map<std::string, Spec> m_specs;
    std::map<std::string, std::string> m_values;
    std::map<std::string, std::vector<std::string>> m_all;
    std::vector<std::string> m_positionals;
    bool m_help = false;
};

}  // namespace spyglass::cli
