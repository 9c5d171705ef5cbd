#pragma once
// JsonMembers — reads the members of one JSON object into typed fields, keeping a field's value
// when its member is missing and throwing Error "<context>.<member> <reason>" for a member of the
// wrong type, out of range, or not one of an enum's names (spyglass/names.h).
//
//   const JsonMembers m(object, "request 3: options");
//   m.read("max_new_tokens", o.maxNewTokens);  m.readName("lens_mode", o.lensMode);
//
// Thread safety: reads only.
#include "spyglass/error.h"
#include "spyglass/names.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace spyglass::core {

template <typename E>
std::vector<std::string> namesOf(const std::vector<E>& values)
{
    std::vector<std::string> out;
    for (E v : values) out.push_back(nameString(v));
    return out;
}

class JsonMembers {
public:
    JsonMembers(const nlohmann::json& object, std::string context) : m_object(object), m_context(std::move(context)) {}

    template <typename T>
    void read(const char* key, T& out) const
    {
        const nlohmann::json* v = find(key);
        if (!v) return;
        const bool ok = [&] {
            if constexpr (std::is_same_v<T, bool>)
                return v->is_boolean();
            else if constexpr (std::is_integral_v<T>)
                return v->is_number_integer();
            else if constexpr (std::is_floating_point_v<T>)
                return v->is_number();
            else
                return v->is_string();
        }();
        if (!ok) fail(key, "has the wrong type");
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
            const bool fits = v->is_number_unsigned()
                                  ? v->get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                                  : std::in_range<T>(v->get<int64_t>());
            if (!fits) fail(key, "is out of range");
        }
        out = v->get<T>();
    }
    template <typename T>
    void readOptional(const char* key, std::optional<T>& out) const
    {
        const nlohmann::json* v = find(key);
        if (!v) return;
        if (v->is_null()) {
            out.reset();
            return;
        }
        T value{};
        read(key, value);
        out = value;
    }
    template <typename E>
    void readName(const char* key, E& out) const
    {
        std::string text = nameString(out);
        read(key, text);
        const auto value = parseName<E>(text);
        if (!value) fail(key, "'" + text + "' is not a " + std::string(Names<E>::what) + " (" + nameChoices<E>() + ")");
        out = *value;
    }
    template <typename T>
    void readList(const char* key, std::vector<T>& out) const
    {
        const nlohmann::json* v = find(key);
        if (!v) return;
        if (!v->is_array()) fail(key, "must be a list");
        std::vector<T> values;
        for (const nlohmann::json& item : *v) {
            bool ok = false;
            if constexpr (std::is_same_v<T, std::string>)
                ok = item.is_string();
            else if constexpr (std::is_floating_point_v<T>)
                ok = item.is_number();
            else
                ok = item.is_number_integer();
            if (!ok) fail(key, "has an item of the wrong type");
            values.push_back(item.get<T>());
        }
        out = std::move(values);
    }
    template <typename E>
    void readNames(const char* key, std::vector<E>& out) const
    {
        std::vector<std::string> texts = namesOf(out);
        readList(key, texts);
        std::vector<E> values;
        for (const std::string& t : texts) {
            const auto value = parseName<E>(t);
            if (!value)
                fail(key, "'" + t + "' is not a " + std::string(Names<E>::what) + " (" + nameChoices<E>() + ")");
            values.push_back(*value);
        }
        out = std::move(values);
    }

private:
    const nlohmann::json* find(const char* key) const
    {
        const auto it = m_object.find(key);
        return it == m_object.end() ? nullptr : &*it;
    }
    [[noreturn]] void fail(const char* key, const std::string& reason) const
    {
        throw Error(m_context + "." + key + " " + reason);
    }

    const nlohmann::json& m_object;
    std::string m_context;
};

}  // namespace spyglass::core
