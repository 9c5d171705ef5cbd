#include "cli/arg_parser.h"

#include <charconv>

namespace spyglass::cli {

ArgParser::ArgParser(std::string command, std::string synopsis)
    : m_command(std::move(command)), m_synopsis(std::move(synopsis))
{
}

void ArgParser::addOption(const std::string& name, const std::string& valueName, const std::string& help)
{
    m_order.push_back(name);
    m_specs[name] = {valueName, help};
}

void ArgParser::addFlag(const std::string& name, const std::string& help)
{
    m_order.push_back(name);
    m_specs[name] = {"", help};
}

void ArgParser::parse(const std::vector<std::string>& args)
{
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--help" || arg == "-h") {
            m_help = true;
            continue;
        }
        if (arg.rfind("--", 0) != 0 || arg == "--") {
            m_positionals.push_back(arg);
            continue;
        }
        std::string name = arg.substr(2);
        std::optional<std::string> inlineValue;
        if (const size_t eq = name.find('='); eq != std::string::npos) {
            inlineValue = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const auto spec = m_specs.find(name);
        if (spec == m_specs.end())
            throw UsageError("unknown option --" + name + " for '" + m_command + "' (see --help)");
        if (spec->second.valueName.empty()) {
            if (inlineValue) throw UsageError("--" + name + " takes no value");
            m_values[name] = "1";
        } else if (inlineValue) {
            m_values[name] = *inlineValue;
        } else {
            if (i + 1 >= args.size()) throw UsageError("--" + name + " needs a value (" + spec->second.valueName + ")");
            m_values[name] = args[++i];
        }
        m_all[name].push_back(m_values[name]);
    }
}

std::string ArgParser::helpText() const
{
    std::string text = "usage: spyglass-cli " + m_command + " " + m_synopsis + "\n\noptions:\n";
    for (const auto& name : m_order) {
        const Spec& s = m_specs.at(name);
        std::string left = "  --" + name + (s.valueName.empty() ? "" : " " + s.valueName);
        if (left.size() < 28)
            left.resize(28, ' ');
        else
            left += "\n" + std::string(28, ' ');
        text += left + s.help + "\n";
    }
    text += std::string(28, ' ').replace(0, 8, "  --help") + "show this help\n";
    return text;
}

bool ArgParser::has(const std::string& name) const
{
    return m_values.count(name) != 0;
}

std::vector<std::string> ArgParser::values(const std::string& name) const
{
    const auto it = m_all.find(name);
    return it == m_all.end() ? std::vector<std::string>{} : it->second;
}

std::optional<std::string> ArgParser::value(const std::string& name) const
{
    const auto it = m_values.find(name);
    if (it == m_values.end()) return std::nullopt;
    return it->second;
}

std::string ArgParser::required(const std::string& name) const
{
    auto v = value(name);
    if (!v) throw UsageError("'" + m_command + "' needs --" + name + " (see --help)");
    return *v;
}

int ArgParser::intValue(const std::string& name, int fallback) const
{
    const auto v = value(name);
    if (!v) return fallback;
    int out = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || end != v->data() + v->size())
        throw UsageError("--" + name + " expects an integer, got '" + *v + "'");
    return out;
}

double ArgParser::doubleValue(const std::string& name, double fallback) const
{
    const auto v = value(name);
    if (!v) return fallback;
    try {
        size_t used = 0;
        const double out = std::stod(*v, &used);
        if (used != v->size()) throw std::invalid_argument("trailing characters");
        return out;
    } catch (const std::exception&) {
        throw UsageError("--" + name + " expects a number, got '" + *v + "'");
    }
}

}  // namespace spyglass::cli
