#pragma once
// CachedModel — the one model a serve method keeps loaded between requests: get() gives the cached
// one while its key (path, device, load options) is the same, else frees it first (its memory goes
// back before the next loads) and loads anew. Thread safety: one caller at a time.
#include <memory>
#include <string>
#include <utility>

namespace spyglass::cli {

template <typename Model>
class CachedModel {
public:
    template <typename Load>
    Model& get(const std::string& key, Load&& load)
    {
        if (!m_model || key != m_key) {
            m_model.reset();
            m_key.clear();
            m_model = std::forward<Load>(load)();
            m_key = key;
        }
        return *m_model;
    }

private:
    std::unique_ptr<Model> m_model;
    std::string m_key;
};

}  // namespace spyglass::cli
